"""``PaymentAttempt.has_order``: which payments an order already accounts for, kept by lifecycle.

Finding the unmatched payments (the dashboard's count, the daily notification, the Cart Filter)
was an anti-join of every payment ever taken against every order, so it grew with the shop's
history. The flag and a partial index over the few money-held payments without an order make it
look only at those. Existing payments are marked in batches of ``BATCH`` ids, each in its own
transaction (as in 0007); the fill can run again and gives the same result.
"""

import importlib

from django.db import migrations, models

stored_total_migration = importlib.import_module("wagtail_lockedcarts.migrations.0007_cart_stored_total")

BATCH = 5000


def mark_payments_with_an_order(apps, schema_editor):
    PaymentAttempt = apps.get_model("wagtail_lockedcarts", "PaymentAttempt")
    db = schema_editor.connection.alias
    paid = PaymentAttempt.objects.using(db).filter(order__isnull=False, has_order=False)
    stored_total_migration.update_in_batches(paid, db, batch=BATCH, has_order=True)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_lockedcarts", "0007_cart_stored_total"),
    ]

    operations = [
        migrations.AddField(
            model_name="paymentattempt",
            name="has_order",
            field=models.BooleanField(default=False, editable=False, verbose_name="has an order"),
        ),
        migrations.RunPython(mark_payments_with_an_order, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="paymentattempt",
            index=models.Index(
                condition=models.Q(
                    ("capture_status__in", ("COMPLETED", "PENDING")), ("has_order", False), ("resolution", "")
                ),
                fields=["id"],
                name="lockedcarts_attempt_no_order",
            ),
        ),
    ]
