"""Real threads race real PostgreSQL transactions: one cart never becomes two orders."""

import threading
import time

import pytest
from django.db import connections

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.exceptions import InvalidTransition
from wagtail_lockedcarts.lifecycle import PaymentOutcome, PaymentResult
from wagtail_lockedcarts.models import Cart, CartStatus, Order

# serialized_rollback restores the pages, site and locale that the flush between tests removes.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]

THREADS = 8


def race(*functions):
    """Start every function at the same instant on its own thread and connection."""
    barrier = threading.Barrier(len(functions))
    results, errors = [None] * len(functions), []

    def target(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except InvalidTransition as refused:
            results[index] = refused
        except Exception as error:  # pragma: no cover - reported by the assertions below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def completed(cart):
    return PaymentResult(
        outcome=PaymentOutcome.COMPLETED,
        paypal_order_id=cart.paypal_order_id,
        amount=cart.amount,
        currency=cart.currency,
    )


def test_control_naive_read_then_write_lets_several_threads_win(postgres, make_cart):
    """Proves the harness really races: without locks, many threads 'confirm' the same cart."""
    cart = make_cart(status=CartStatus.LOCKED)

    def naive_confirm():
        status = Cart.objects.get(pk=cart.pk).status
        time.sleep(0.05)
        if status == CartStatus.LOCKED:
            Cart.objects.filter(pk=cart.pk).update(status=CartStatus.ORDERED)
            return True
        return False

    results, errors = race(*[naive_confirm] * THREADS)
    assert not errors
    assert results.count(True) > 1


def test_eight_concurrent_confirms_create_exactly_one_order(postgres, make_cart):
    cart = make_cart(status=CartStatus.LOCKED)
    results, errors = race(*[lambda: lifecycle.confirm_order(cart.pk)] * THREADS)
    assert not errors
    assert [r.changed for r in results].count(True) == 1
    assert Order.objects.filter(cart_reference=cart.pk).count() == 1
    assert {r.order.pk for r in results} == {Order.objects.get().pk}
    cart.refresh_from_db()
    assert cart.status == CartStatus.ORDERED


def test_confirm_racing_delete_ends_in_exactly_one_outcome(postgres, make_cart):
    cart = make_cart(status=CartStatus.LOCKED)
    functions = [lambda: lifecycle.confirm_order(cart.pk)] * 4 + [lambda: lifecycle.delete_cart(cart.pk)] * 4
    results, errors = race(*functions)
    assert not errors
    orders = Order.objects.filter(cart_reference=cart.pk).count()
    still_there = Cart.objects.filter(pk=cart.pk).first()
    if still_there is None:
        assert orders == 0
        assert all(isinstance(r, InvalidTransition) for r in results[:4])
    else:
        assert still_there.status == CartStatus.ORDERED and orders == 1
        assert all(isinstance(r, InvalidTransition) for r in results[4:])


def test_payment_completion_racing_admin_unlock_is_consistent(postgres, make_cart):
    cart = make_cart(status=CartStatus.LOCKED)
    result = completed(cart)
    functions = [lambda: lifecycle.apply_payment_result(cart.pk, result)] * 4 + [
        lambda: lifecycle.unlock_cart(cart.pk)
    ] * 4
    results, errors = race(*functions)
    assert not errors
    cart.refresh_from_db()
    orders = Order.objects.filter(cart_reference=cart.pk).count()
    if cart.status == CartStatus.ORDERED:
        assert orders == 1
    else:
        # An unlock came first: the money then belongs to a checkout the cart has left, so it is
        # locked for an admin ("superseded_payment") — or unlocked again by a later admin click.
        assert orders == 0
        assert (cart.status, cart.lock_reason) in {(CartStatus.LOCKED, "superseded_payment"), (CartStatus.OPEN, "")}


def test_replayed_completion_from_eight_threads_creates_one_order(postgres, make_cart):
    cart = make_cart(status=CartStatus.AWAITING_PAYMENT)
    result = completed(cart)
    results, errors = race(*[lambda: lifecycle.apply_payment_result(cart.pk, result)] * THREADS)
    assert not errors
    assert [r.changed for r in results].count(True) == 1
    assert Order.objects.filter(cart_reference=cart.pk).count() == 1


def test_edit_racing_checkout_never_changes_the_frozen_amount(postgres, make_cart, shop):
    cart = make_cart(lines=[(0, 1)])
    functions = [lambda: lifecycle.begin_checkout(cart.pk)] + [
        lambda: lifecycle.add_line(cart.pk, shop[1].cart_key, 1)
    ] * 7
    results, errors = race(*functions)
    assert not [e for e in errors if "CartNotEditable" not in e]
    cart.refresh_from_db()
    assert cart.status == CartStatus.AWAITING_PAYMENT
    assert cart.amount == cart.compute_total()
