"""B-tree indexes for looking up a whole e-mail address (``CartQuerySet.search``).

A pasted address shares its common trigrams ("@example.com") with nearly every customer, so the
trigram GIN indexes of 0005 read posting lists as long as the shop's history to find one row.
These index the ``UPPER(...)`` expression Django's ``iexact`` compiles to on PostgreSQL (compiled
by Django, as in 0005), the user table's e-mail included. Other databases look it up unindexed.
"""

import importlib

from django.conf import settings
from django.db import migrations

trigram_migration = importlib.import_module("wagtail_lockedcarts.migrations.0005_listing_and_search_indexes")


def _email_indexes(apps):
    from django.contrib.auth import get_user_model
    from django.db.models.functions import Upper

    from wagtail_lockedcarts.models.carts import user_name_fields

    Cart = apps.get_model("wagtail_lockedcarts", "Cart")
    Order = apps.get_model("wagtail_lockedcarts", "Order")
    User = get_user_model()
    wanted = [
        (Cart, "lockedcarts_email_customer", Upper("customer_email")),
        (Cart, "lockedcarts_email_payer", Upper("payer_email")),
        (Order, "lockedcarts_email_order", Upper("email")),
    ]
    email = User.get_email_field_name()
    if email in user_name_fields():
        wanted.append((User, "lockedcarts_email_user", Upper(email)))
    return wanted


def add_email_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        trigram_migration.create_expression_indexes(schema_editor, _email_indexes(apps))


def remove_email_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        trigram_migration.drop_indexes(schema_editor, _email_indexes(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_lockedcarts", "0008_payment_has_order"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(add_email_indexes, remove_email_indexes, elidable=False),
    ]
