"""The stored cart total (``Cart.stored_total``): what Cart Management lists and sorts by.

It must equal the cart's real total after every kind of change: the sum of the lines while the
cart is open, the frozen checkout amount once checkout began. ``lifecycle`` is its only writer;
migration 0007 fills it for carts that existed before it."""

import importlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import F, Sum

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.models import Cart, CartLine, CartStatus, LockReason

pytestmark = pytest.mark.django_db


def line_sum(cart):
    total = CartLine.objects.filter(cart_id=cart.pk).aggregate(t=Sum(F("unit_price") * F("quantity")))["t"]
    return total or Decimal("0")


def stored(cart):
    return Cart.objects.values_list("stored_total", flat=True).get(pk=cart.pk)


def assert_open_total(cart, expected):
    assert line_sum(cart) == expected
    assert stored(cart) == expected


def test_a_new_cart_totals_zero(site):
    cart = Cart.objects.create(site=site)
    assert stored(cart) == Decimal("0")


def test_adding_a_product_adds_its_price(make_cart, shop):
    cart = make_cart(lines=[])
    lifecycle.add_line(cart, shop[0].cart_key, 2)  # 2 × 12.50
    assert_open_total(cart, Decimal("25.00"))
    lifecycle.add_line(cart, shop[1].cart_key, 1)  # + 25.00
    assert_open_total(cart, Decimal("50.00"))


def test_adding_a_product_already_in_the_cart_raises_its_quantity(make_cart, shop):
    cart = make_cart(lines=[(0, 1)])
    lifecycle.add_line(cart, shop[0].cart_key, 3)
    assert_open_total(cart, Decimal("50.00"))  # 4 × 12.50


def test_adding_again_after_a_price_change_totals_the_new_price(make_cart, shop):
    cart = make_cart(lines=[(0, 1)])
    shop[0].price = Decimal("20.00")
    shop[0].save_revision().publish()
    lifecycle.add_line(cart, shop[0].cart_key, 1)
    assert_open_total(cart, Decimal("40.00"))  # the line takes the current price: 2 × 20.00


def test_changing_a_quantity_changes_the_total(make_cart):
    cart = make_cart(lines=[(0, 1), (2, 1)])
    line = cart.lines.get(sku="MUG")
    lifecycle.update_line(cart, line.pk, 3)
    assert_open_total(cart, Decimal("47.49"))  # 3 × 12.50 + 9.99


def test_removing_a_line_takes_it_off_the_total(make_cart):
    cart = make_cart(lines=[(0, 1), (2, 1)])
    lifecycle.remove_line(cart, cart.lines.get(sku="MUG").pk)
    assert_open_total(cart, Decimal("9.99"))
    lifecycle.update_line(cart, cart.lines.get().pk, 0)
    assert_open_total(cart, Decimal("0"))


def test_merging_a_guest_cart_totals_both_carts_lines(make_cart):
    guest = make_cart(lines=[(0, 1), (2, 1)])
    mine = make_cart(lines=[(0, 2)])
    lifecycle.merge_carts(guest, mine)
    assert_open_total(mine, Decimal("47.49"))  # 3 × 12.50 + 9.99


def test_checkout_freezes_the_total_at_the_amount_sent_to_paypal(make_cart):
    cart = make_cart(lines=[(0, 2)])
    lifecycle.begin_checkout(cart)
    cart.refresh_from_db()
    assert cart.status == CartStatus.AWAITING_PAYMENT
    assert stored(cart) == cart.amount == Decimal("25.00")
    assert cart.stored_total == cart.total  # the in-memory cart reads the new value too


def test_locking_and_ordering_keep_the_frozen_amount(make_cart):
    locked = make_cart(status=CartStatus.LOCKED, lines=[(1, 2)])
    ordered = make_cart(status=CartStatus.ORDERED, lines=[(1, 1)])
    assert stored(locked) == locked.amount == Decimal("50.00")
    assert stored(ordered) == ordered.amount == Decimal("25.00")


def test_checkout_writes_the_frozen_amount_whatever_was_stored_before(make_cart):
    cart = make_cart(lines=[(0, 1)])
    CartLine.objects.filter(cart=cart).update(quantity=3)  # behind lifecycle's back: stored is stale
    lifecycle.begin_checkout(cart)
    assert stored(cart) == Decimal("37.50")


def test_a_frozen_total_is_the_amount_even_when_the_lines_differ(make_cart):
    cart = make_cart(lines=[(0, 1)])
    lifecycle.begin_checkout(cart)
    CartLine.objects.filter(cart=cart).update(quantity=5)  # not through lifecycle: the snapshot rules
    lifecycle.lock_cart(cart, LockReason.NO_RETURN)
    assert stored(cart) == Decimal("12.50")


def test_reopening_totals_the_lines_as_they_are_now(make_cart, superuser):
    cart = make_cart(status=CartStatus.LOCKED, lines=[(0, 1)])
    CartLine.objects.filter(cart=cart).update(quantity=2)  # the lines no longer match the amount
    lifecycle.unlock_cart(cart, superuser)
    assert_open_total(cart, Decimal("25.00"))


def test_unlocking_reopens_the_cart_at_its_line_total(make_cart, superuser):
    cart = make_cart(status=CartStatus.LOCKED, lines=[(0, 1), (2, 2)])
    lifecycle.unlock_cart(cart, superuser)
    cart.refresh_from_db()
    assert cart.status == CartStatus.OPEN and cart.amount is None
    assert_open_total(cart, Decimal("32.48"))  # 12.50 + 2 × 9.99


def test_an_aborted_checkout_goes_back_to_the_line_total(make_cart):
    cart = make_cart(lines=[(2, 3)])
    lifecycle.begin_checkout(cart)
    lifecycle.abort_checkout(cart, "PayPal refused")
    lifecycle.update_line(cart, cart.lines.get().pk, 1)
    assert_open_total(cart, Decimal("9.99"))


def test_the_migration_fills_every_existing_cart_in_batches(make_cart, monkeypatch):
    migration = importlib.import_module("wagtail_lockedcarts.migrations.0007_cart_stored_total")
    open_cart = make_cart(lines=[(0, 2), (1, 1)])
    empty = make_cart(lines=[])
    locked = make_cart(status=CartStatus.LOCKED, lines=[(1, 1)])
    ordered = make_cart(status=CartStatus.ORDERED, lines=[(0, 1)])
    Cart.objects.update(stored_total=Decimal("-1"))  # as if the column had just been added
    monkeypatch.setattr(migration, "BATCH", 2)
    migration.fill_stored_totals(apps, SimpleNamespace(connection=connection))
    assert stored(open_cart) == Decimal("50.00")
    assert stored(empty) == Decimal("0")
    assert stored(locked) == locked.amount == Decimal("25.00")
    assert stored(ordered) == ordered.amount == Decimal("12.50")
