"""The checkout sweep: checkouts nobody came back from are settled by PayPal or locked for an admin."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import ModelLogEntry

from tests.fixtures_background import run_concurrently
from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.background import sweeps, tasks
from wagtail_lockedcarts.background.sweeps import sweep_checkouts
from wagtail_lockedcarts.models import Cart, CartStatus, LockReason, Order, OrderStatus


@pytest.fixture
def no_paypal_reconcile(cart_settings):
    cart_settings.reconcile_with_paypal = False
    cart_settings.save()
    return cart_settings


def statuses(*carts):
    return [Cart.objects.get(pk=cart.pk).status for cart in carts]


def test_locks_exactly_the_checkouts_past_the_timeout(no_paypal_reconcile, stale_checkout, make_cart):
    stale = [stale_checkout(minutes_ago=61), stale_checkout(minutes_ago=600)]
    fresh = stale_checkout(minutes_ago=59)
    open_cart = make_cart()
    locked = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.PENDING_PAYMENT)

    report = sweep_checkouts()

    assert report.locked == 2
    assert statuses(*stale) == [CartStatus.LOCKED, CartStatus.LOCKED]
    assert {Cart.objects.get(pk=c.pk).lock_reason for c in stale} == {LockReason.NO_RETURN}
    assert statuses(fresh, open_cart, locked) == [CartStatus.AWAITING_PAYMENT, CartStatus.OPEN, CartStatus.LOCKED]
    assert Cart.objects.get(pk=locked.pk).lock_reason == LockReason.PENDING_PAYMENT
    lock_entries = ModelLogEntry.objects.filter(action=lifecycle.LOG_LOCK, data__reason=LockReason.NO_RETURN)
    assert sorted(int(e.object_id) for e in lock_entries) == sorted(c.pk for c in stale)
    assert sweep_checkouts().locked == 0


def test_each_site_uses_its_own_timeout(no_paypal_reconcile, other_site, stale_checkout):
    from wagtail_lockedcarts.models import LockedCartSettings

    other = LockedCartSettings.for_site(other_site)
    other.checkout_timeout_minutes, other.reconcile_with_paypal = 10, False
    other.save()
    here = stale_checkout(minutes_ago=30)  # default site: 60 minutes
    there = stale_checkout(minutes_ago=30, site=other_site)

    sweep_checkouts()

    assert statuses(here, there) == [CartStatus.AWAITING_PAYMENT, CartStatus.LOCKED]


def test_works_through_the_backlog_in_batches(no_paypal_reconcile, stale_checkout):
    carts = [stale_checkout() for _ in range(7)]

    report = sweep_checkouts(batch_size=3)

    assert report.batches == 3
    assert report.examined == report.locked == 7
    assert set(statuses(*carts)) == {CartStatus.LOCKED}


def _sweep_query_profile(site, count, user=None):
    """(queries other than the audit INSERTs, audit INSERT statements) for one full batch."""
    from wagtail_lockedcarts.models import CartLine

    Cart.objects.filter(status=CartStatus.AWAITING_PAYMENT).delete()
    started = timezone.now() - timedelta(hours=3)
    carts = Cart.objects.bulk_create(
        [
            Cart(site=site, user=user, status=CartStatus.AWAITING_PAYMENT, amount="12.50", checkout_started_at=started)
            for _ in range(count)
        ]
    )
    CartLine.objects.bulk_create(
        [CartLine(cart=c, product_key="mug", title="Mug", unit_price="12.50", quantity=1) for c in carts]
    )
    with CaptureQueriesContext(connection) as queries:
        report = sweep_checkouts(batch_size=count, requeue_exports=False)
    assert report.locked == count and report.batches == 1
    sql = [query["sql"] for query in queries.captured_queries]
    inserts = [q for q in sql if q.startswith('INSERT INTO "wagtailcore_modellogentry"')]
    return len(sql) - len(inserts), len(inserts)


def test_queries_per_batch_do_not_grow_with_the_batch_size(no_paypal_reconcile, site):
    """A full batch of 10 and one of 100 cost the same queries (one audit INSERT per batch).

    SQLite caps a statement at 999 parameters, so Django splits the audit bulk INSERT into
    ~90-row statements there: one more statement per 90 carts, not per cart.
    """
    ten, hundred = _sweep_query_profile(site, 10), _sweep_query_profile(site, 100)
    print(f"sweep queries (other, audit inserts): batch of 10 -> {ten}, batch of 100 -> {hundred}")

    assert ten[0] == hundred[0]
    assert ten[1] == 1
    assert hundred[1] == (1 if connection.vendor == "postgresql" else 2)


def test_queries_per_batch_do_not_grow_for_carts_of_registered_shoppers(no_paypal_reconcile, site, django_user_model):
    shopper = django_user_model.objects.create_user("shopper", "s@example.com", "x")
    ten, hundred = _sweep_query_profile(site, 10, shopper), _sweep_query_profile(site, 100, shopper)
    print(f"sweep queries with registered shoppers: batch of 10 -> {ten}, batch of 100 -> {hundred}")

    assert ten[0] == hundred[0]


# --------------------------------------------------------------------------------------------
# PayPal first, when the site asks for it


def test_without_the_reconcile_function_stale_checkouts_are_locked(cart_settings, stale_checkout, monkeypatch):
    """PayPal integration missing (e.g. not installed): nothing definitive, so lock."""
    assert cart_settings.reconcile_with_paypal
    monkeypatch.setattr(sweeps, "_reconcile_function", lambda: None)
    cart = stale_checkout()

    assert sweep_checkouts().locked == 1
    assert statuses(cart) == [CartStatus.LOCKED]


def test_a_cart_whose_reconcile_raises_is_locked_and_the_sweep_goes_on(cart_settings, stale_checkout, monkeypatch):
    def broken(cart, user=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(sweeps, "_reconcile_function", lambda: broken)
    carts = [stale_checkout(), stale_checkout()]

    report = sweep_checkouts()

    assert report.locked == 2 and report.paypal_unavailable == 2
    assert report.errors == [f"cart {carts[0].pk}: RuntimeError: boom", f"cart {carts[1].pk}: RuntimeError: boom"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_paypal_settles_what_it_can_and_the_rest_is_locked(paypal_sandbox, shop, cart_settings):
    """End to end over HTTP: one shopper paid and closed the window, one never approved, and for
    a third PayPal is unreachable at sweep time: only the paid one becomes an order."""
    paid = paypal_sandbox.shopper_at_paypal(shop)
    response = paypal_sandbox.approve(paid.approve_url, "Pay and close the window (never return)", session=paid.session)
    assert response.status_code in (200, 302)
    abandoned = paypal_sandbox.shopper_at_paypal(shop, lines=((1, 1),))
    paid_cart, abandoned_cart = paid.cart(), abandoned.cart()
    assert statuses(paid_cart, abandoned_cart) == [CartStatus.AWAITING_PAYMENT, CartStatus.AWAITING_PAYMENT]
    Cart.objects.filter(pk__in=[paid_cart.pk, abandoned_cart.pk]).update(
        checkout_started_at=timezone.now() - timedelta(hours=2)
    )

    report = sweep_checkouts()
    paypal_sandbox.wait_idle()

    assert statuses(paid_cart, abandoned_cart) == [CartStatus.ORDERED, CartStatus.LOCKED]
    assert Cart.objects.get(pk=abandoned_cart.pk).lock_reason == LockReason.NO_RETURN
    assert Order.objects.get(cart=paid_cart).status in (OrderStatus.SUBMITTED, OrderStatus.EXPORTED)
    assert (report.examined, report.reconciled, report.locked) == (2, 1, 1)

    late = paypal_sandbox.shopper_at_paypal(shop)
    Cart.objects.filter(pk=late.cart().pk).update(checkout_started_at=timezone.now() - timedelta(hours=2))
    paypal_sandbox.make_unreachable()
    report = sweep_checkouts()

    assert report.paypal_unavailable == 1 and report.locked == 1
    assert statuses(late.cart()) == [CartStatus.LOCKED]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sweeps_racing_on_postgres_lock_each_cart_once(postgres, no_paypal_reconcile, stale_checkout):
    carts = [stale_checkout() for _ in range(40)]

    results, errors = run_concurrently(lambda: sweep_checkouts(batch_size=7).locked, count=4)

    assert errors == []
    assert sum(results) == 40
    assert set(statuses(*carts)) == {CartStatus.LOCKED}
    assert ModelLogEntry.objects.filter(action=lifecycle.LOG_LOCK, data__reason=LockReason.NO_RETURN).count() == 40


# --------------------------------------------------------------------------------------------
# lost exports


def test_orders_whose_export_never_started_are_queued_again_once(
    no_paypal_reconcile, aged_order, django_capture_on_commit_callbacks
):
    lost = aged_order("submitted")  # its on_commit enqueue never ran: the test transaction never commits
    recent = aged_order("submitted")
    Order.objects.filter(pk=lost.pk).update(submitted_at=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        report = sweep_checkouts()

    assert report.exports_requeued == 1
    assert Order.objects.get(pk=lost.pk).status == OrderStatus.EXPORTED
    assert Order.objects.get(pk=recent.pk).status == OrderStatus.SUBMITTED
    assert sweep_checkouts().exports_requeued == 0


def test_an_export_queued_again_is_not_queued_again_within_the_window(no_paypal_reconcile, aged_order):
    lost = aged_order("submitted")
    Order.objects.filter(pk=lost.pk).update(submitted_at=timezone.now() - timedelta(hours=1))

    assert sweep_checkouts().exports_requeued == 1  # callbacks not run: still export_attempts == 0
    assert sweep_checkouts().exports_requeued == 0
    assert sweep_checkouts(now=timezone.now() + timedelta(minutes=31)).exports_requeued == 1


def test_the_task_runs_the_sweep(no_paypal_reconcile, stale_checkout):
    cart = stale_checkout()

    summary = tasks.checkout_sweep()

    assert "locked 1" in summary
    assert statuses(cart) == [CartStatus.LOCKED]


def test_sweep_audit_entries_are_what_log_would_write(no_paypal_reconcile, stale_checkout):
    """The sweep bulk-inserts its lock entries; they carry what Wagtail's ``log()`` would take
    from the active log context (user and UUID), and the cart's label."""
    from wagtail.log_actions import LogContext

    carts = [stale_checkout(minutes_ago=90), stale_checkout(minutes_ago=95)]
    with LogContext() as context:
        sweep_checkouts()

    entries = ModelLogEntry.objects.filter(action=lifecycle.LOG_LOCK).order_by("object_id")
    assert [entry.uuid for entry in entries] == [context.uuid, context.uuid]
    assert [entry.label for entry in entries] == [str(Cart.objects.get(pk=cart.pk)) for cart in carts]
    assert {entry.user for entry in entries} == {None}


def _locked_no_return(paypal_sandbox, shop):
    """A shopper who never approved at PayPal, locked by the sweep an hour later."""
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    cart = shopper.cart()
    Cart.objects.filter(pk=cart.pk).update(checkout_started_at=timezone.now() - timedelta(hours=2))
    sweep_checkouts()
    paypal_sandbox.wait_idle()
    assert statuses(cart) == [CartStatus.LOCKED]
    return Cart.objects.get(pk=cart.pk)


def _created_hours_ago(cart, hours):
    from wagtail_lockedcarts.models import PaymentAttempt

    PaymentAttempt.objects.filter(paypal_order_id=cart.paypal_order_id).update(
        created_at=timezone.now() - timedelta(hours=hours)
    )


def test_a_404_soon_after_the_order_was_made_is_not_taken_for_expiry(paypal_sandbox, shop, cart_settings):
    cart = _locked_no_return(paypal_sandbox, shop)
    paypal_sandbox.expire(cart.paypal_order_id)

    sweep_checkouts(now=timezone.now() + timedelta(hours=2))

    assert statuses(cart) == [CartStatus.LOCKED]


def test_a_locked_cart_whose_unapproved_order_expired_at_paypal_reopens_at_a_later_sweep(
    paypal_sandbox, shop, cart_settings
):
    cart = _locked_no_return(paypal_sandbox, shop)
    paypal_sandbox.expire(cart.paypal_order_id)
    _created_hours_ago(cart, 4)

    soon = sweep_checkouts(now=timezone.now() + timedelta(minutes=10))
    assert soon.rechecked == 0 and statuses(cart) == [CartStatus.LOCKED]

    later = sweep_checkouts(now=timezone.now() + timedelta(hours=2))
    paypal_sandbox.wait_idle()

    assert later.rechecked == 1
    assert statuses(cart) == [CartStatus.OPEN]
    assert ModelLogEntry.objects.filter(object_id=str(cart.pk), action=lifecycle.LOG_UNLOCK, user=None).exists()


def test_a_lost_settlement_webhook_still_makes_the_order_at_a_later_sweep(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(shopper, "Pay – pending (eCheck)")
    cart = shopper.cart()
    assert (cart.status, cart.lock_reason) == (CartStatus.LOCKED, LockReason.PENDING_PAYMENT)
    paypal_sandbox.settle(cart.paypal_order_id)  # its PAYMENT.CAPTURE.COMPLETED is never delivered

    sweep_checkouts(now=timezone.now() + timedelta(hours=2))
    paypal_sandbox.wait_idle()

    assert statuses(cart) == [CartStatus.ORDERED]


def test_an_expired_order_we_saw_approved_is_not_taken_for_unpaid(paypal_sandbox, shop, cart_settings):
    """Only an order we never saw approved may be read as "expired, never paid" from a 404."""
    from wagtail_lockedcarts.models import PaymentAttempt, PaymentAttemptStatus

    cart = _locked_no_return(paypal_sandbox, shop)
    PaymentAttempt.objects.filter(paypal_order_id=cart.paypal_order_id).update(status=PaymentAttemptStatus.APPROVED)
    paypal_sandbox.expire(cart.paypal_order_id)
    _created_hours_ago(cart, 4)

    sweep_checkouts(now=timezone.now() + timedelta(hours=2))

    assert statuses(cart) == [CartStatus.LOCKED]


def test_paypal_unreachable_at_the_recheck_changes_nothing(paypal_sandbox, shop, cart_settings):
    cart = _locked_no_return(paypal_sandbox, shop)
    paypal_sandbox.make_unreachable()

    report = sweep_checkouts(now=timezone.now() + timedelta(hours=2))

    assert report.rechecked == 1 and report.paypal_unavailable == 1
    assert statuses(cart) == [CartStatus.LOCKED]
