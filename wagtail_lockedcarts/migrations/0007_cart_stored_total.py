"""``Cart.stored_total``: the total Cart Management lists and sorts by, stored and indexed.

Sorting by a live sum of the lines made every cart's total be computed before the first page
could be cut (17.7 s at 1M carts). Existing carts are filled in batches of ``BATCH`` ids, each in
its own transaction (the migration is not atomic), so a large shop never holds one long
transaction; the fill can run again and gives the same result. The index comes last, built once
over the filled column.
"""

from decimal import Decimal

from django.db import migrations, models, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

BATCH = 5000


def fill_stored_totals(apps, schema_editor):
    Cart = apps.get_model("wagtail_lockedcarts", "Cart")
    CartLine = apps.get_model("wagtail_lockedcarts", "CartLine")
    db = schema_editor.connection.alias
    money = models.DecimalField(max_digits=14, decimal_places=2)
    line_sum = (
        CartLine.objects.using(db)
        .filter(cart=models.OuterRef("pk"))
        .order_by()
        .values("cart")
        .annotate(sum=Sum(F("unit_price") * F("quantity"), output_field=money))
        .values("sum")
    )
    total = models.Case(
        models.When(~Q(status="open") & Q(amount__isnull=False), then=F("amount")),
        default=Coalesce(models.Subquery(line_sum, output_field=money), models.Value(Decimal("0")), output_field=money),
        output_field=money,
    )
    update_in_batches(Cart.objects.using(db), db, stored_total=total)


def update_in_batches(queryset, db, batch=None, **changes):
    """``queryset.update(**changes)`` over ``batch`` ids at a time, each batch its own transaction,
    so a large shop never holds one long one; also used by later migrations."""
    rows = queryset.order_by("pk")
    last = 0
    while True:
        ids = list(rows.filter(pk__gt=last).values_list("pk", flat=True)[: batch or BATCH])
        if not ids:
            break
        with transaction.atomic(using=db):
            queryset.model.objects.using(db).filter(pk__in=ids).update(**changes)
        last = ids[-1]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_lockedcarts", "0006_payments_outlive_carts"),
    ]

    operations = [
        migrations.AddField(
            model_name="cart",
            name="stored_total",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0"),
                editable=False,
                max_digits=14,
                verbose_name="total",
            ),
        ),
        migrations.RunPython(fill_stored_totals, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="cart",
            index=models.Index(fields=["stored_total", "id"], name="lockedcarts_list_total"),
        ),
    ]
