"""Shared fixtures. Area-specific fixtures live in ``tests/fixtures_<area>.py`` (plugins below)."""

import os
import shutil
from decimal import Decimal

import pytest
from django.db import connection

pytest_plugins = [
    "tests.fixtures_paypal",
    "tests.fixtures_admin",
    "tests.fixtures_background",
    "tests.fixtures_browser",
]

REQUIRE_ALL = os.environ.get("LOCKEDCARTS_REQUIRE_ALL") == "1"


def pytest_collection_modifyitems(config, items):
    """A test that asks for the ``postgres`` fixture carries the ``postgres`` marker, so the
    SQLite run can deselect it (``-m "not postgres"``) instead of skipping it."""
    for item in items:
        if "postgres" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
    unserialized = [
        item.nodeid
        for item in items
        if "live_server" in getattr(item, "fixturenames", ())
        and "django_db_serialized_rollback" not in item.fixturenames
    ]
    if unserialized:
        # A plain transactional teardown re-creates content types (post_migrate), and the next
        # serialized test then fails restoring them: every live-server test restores, or none.
        raise pytest.UsageError("live_server tests must use django_db_serialized_rollback: " + ", ".join(unserialized))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """With ``LOCKEDCARTS_SQLITE_TEMPLATE`` (scripts/mutants.sh), each test session starts from its
    own copy of an already migrated SQLite database: mutation testing runs a session per mutant,
    in parallel, and must neither migrate each time nor share a database file."""
    from django.conf import settings

    template = os.environ.get("LOCKEDCARTS_SQLITE_TEMPLATE")
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    if not template or "sqlite" not in settings.DATABASES["default"]["ENGINE"]:
        yield
        return
    previous, copy = test_settings.get("NAME"), f"{template}.{os.getpid()}"
    shutil.copyfile(template, copy)
    test_settings["NAME"] = copy
    yield
    test_settings["NAME"] = previous
    if os.path.exists(copy):
        os.remove(copy)


@pytest.fixture
def postgres(db):
    """Use in tests that need real row locks. Skips on SQLite, except where everything must run."""
    if connection.vendor != "postgresql":
        if REQUIRE_ALL and os.environ.get("LOCKEDCARTS_PG_PORT"):
            pytest.fail("LOCKEDCARTS_REQUIRE_ALL=1 but the database is not PostgreSQL")
        pytest.skip("needs PostgreSQL (scripts/test.sh runs this on a throwaway server)")
    return connection


@pytest.fixture
def site(db):
    from wagtail.models import Site

    return Site.objects.get(is_default_site=True)


@pytest.fixture
def cart_settings(site):
    from wagtail_lockedcarts.models import LockedCartSettings

    return LockedCartSettings.for_site(site)


@pytest.fixture
def shop(site):
    """A shop index under the root page with three live products."""
    from shop.models import ProductPage, ShopIndexPage

    root = site.root_page
    index = ShopIndexPage(title="Shop", slug="shop")
    root.add_child(instance=index)
    products = []
    for sku, title, price in [("MUG", "Mug", "12.50"), ("TEE", "T-shirt", "25.00"), ("CAP", "Cap", "9.99")]:
        product = ProductPage(title=title, slug=sku.lower(), sku=sku, price=Decimal(price))
        index.add_child(instance=product)
        products.append(product)
    return products


@pytest.fixture
def make_cart(site, shop):
    """make_cart(status="open", lines=[(product_index, qty)], **fields) → Cart built through lifecycle."""
    from wagtail_lockedcarts import lifecycle
    from wagtail_lockedcarts.models import Cart, CartStatus, LockReason

    def factory(status=CartStatus.OPEN, lines=((0, 1),), lock_reason=LockReason.PENDING_PAYMENT, **fields):
        cart = Cart.objects.create(site=site, currency="EUR", **fields)
        for index, quantity in lines:
            lifecycle.add_line(cart, shop[index].cart_key, quantity)
        if status == CartStatus.OPEN:
            return cart
        attempt = lifecycle.begin_checkout(cart)
        lifecycle.attach_paypal_order(attempt, f"PAYPAL-{cart.pk}-{attempt.pk}", "")
        if status == CartStatus.LOCKED:
            lifecycle.lock_cart(cart, lock_reason)
        elif status == CartStatus.ORDERED:
            lifecycle.lock_cart(cart, lock_reason)
            lifecycle.confirm_order(cart)
        cart.refresh_from_db()
        return cart

    return factory


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "password")
