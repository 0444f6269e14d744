"""Real threads race real PostgreSQL transactions: one cart never becomes two orders."""

import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.exceptions import CartNotEditable, InvalidTransition
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


class PauseAfter:
    """A database execute-wrapper that holds a thread right after its first query matching
    ``fragment`` until ``release`` is set (or ``timeout`` passes): it forces the interleaving a
    race test is about, instead of hoping the scheduler produces it."""

    def __init__(self, fragment, release, timeout=3.0, reached=None):
        self.fragment, self.release, self.timeout, self.reached = fragment, release, timeout, reached
        self.done = False

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not self.done and self.fragment in sql:
            self.done = True
            if self.reached is not None:
                self.reached.set()
            self.release.wait(self.timeout)
        return result


def test_a_line_added_while_checkout_freezes_the_amount_waits_for_it_every_time(postgres, make_cart, shop):
    """Checkout has read the cart and summed its lines; an edit arrives before it writes. The row
    lock makes the edit wait and then fail (the cart is frozen), so the amount PayPal is asked for
    is always the sum of the lines. The pause makes this interleaving happen on every run."""
    cart = make_cart(lines=[(0, 1)])
    summed, edited = threading.Event(), threading.Event()

    def checkout():
        with connection.execute_wrapper(PauseAfter('FROM "wagtail_lockedcarts_cartline"', edited, reached=summed)):
            return lifecycle.begin_checkout(cart.pk)

    def edit():
        assert summed.wait(10), "checkout never read the lines"
        try:
            return lifecycle.add_line(cart.pk, shop[1].cart_key, 1)
        except CartNotEditable as refused:
            return refused
        finally:
            edited.set()

    results, errors = race(checkout, edit)

    assert not errors
    cart.refresh_from_db()
    assert cart.status == CartStatus.AWAITING_PAYMENT
    assert cart.amount == cart.compute_total() == results[0].amount
    assert isinstance(results[1], CartNotEditable)
    assert list(cart.lines.values_list("quantity", flat=True)) == [1]


def test_two_runs_past_the_already_sent_check_still_send_the_daily_email_once(postgres, notify_settings, make_cart):
    """Both runs have looked and seen no claim for today; only the unique ``(site, date)`` insert
    decides who sends. The pause holds each run after its first look until both have looked."""
    from django.core import mail

    from wagtail_lockedcarts.background.notifications import DeliveryStatus, send_daily_notification
    from wagtail_lockedcarts.models import DailyNotificationRun

    make_cart(status=CartStatus.LOCKED)
    site = notify_settings.site
    now = timezone.now()
    mail.outbox.clear()
    looked = threading.Barrier(2)

    class BothLook:
        def __init__(self):
            self.done = False

        def __call__(self, execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            if not self.done and 'FROM "wagtail_lockedcarts_dailynotificationrun"' in sql:
                self.done = True
                try:
                    looked.wait(3)
                except threading.BrokenBarrierError:
                    pass
            return result

    def run():
        with connection.execute_wrapper(BothLook()):
            return send_daily_notification(site, now=now).status

    results, errors = race(run, run)

    assert not errors
    assert sorted(results) == sorted([DeliveryStatus.SENT, DeliveryStatus.ALREADY_CLAIMED])
    assert len(mail.outbox) == 1
    assert DailyNotificationRun.objects.filter(site=site).count() == 1
