"""reconcile_paypal_order: when PayPal is down, slow or failing, the cart stays frozen and nothing
is lost; a later reconcile finishes the job. It is idempotent, and safe to run concurrently."""

import threading
import uuid

import pytest
from django.db import connections
from wagtail.models import ModelLogEntry

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.models import CartStatus, LockReason, Order
from wagtail_lockedcarts.paypal.client import PayPalClient
from wagtail_lockedcarts.paypal.reconcile import check_paypal_now, reconcile_cart, reconcile_paypal_order


@pytest.fixture
def returned_shopper(paypal_sandbox, shop, cart_settings):
    """Approved "Pay" at PayPal; the redirect back to the shop is still to be followed."""
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    shopper.return_url = paypal_sandbox.pay(shopper, "Pay", follow=False).headers["Location"]
    return shopper


def assert_frozen(cart):
    cart.refresh_from_db()
    assert cart.status == CartStatus.AWAITING_PAYMENT
    assert not Order.objects.exists()


def test_paypal_unreachable_leaves_the_cart_frozen_and_a_later_reconcile_finishes(paypal_sandbox, returned_shopper):
    cart = returned_shopper.cart()
    paypal_sandbox.make_unreachable()

    page = returned_shopper.get(returned_shopper.return_url)
    report = reconcile_cart(cart)

    assert page.status_code == 200 and "We are waiting for PayPal" in page.text
    assert not report.reachable and report.error == "connection" and report.outcome is None
    assert_frozen(cart)

    paypal_sandbox.make_reachable()
    report = reconcile_cart(cart)

    cart.refresh_from_db()
    assert report.reachable and report.changed and cart.status == CartStatus.ORDERED


def test_paypal_answering_500_leaves_the_cart_frozen_and_a_later_reconcile_finishes(paypal_sandbox, returned_shopper):
    cart = returned_shopper.cart()
    paypal_sandbox.set_faults(fail_next=100)

    page = returned_shopper.get(returned_shopper.return_url)
    report = reconcile_paypal_order(cart.paypal_order_id)

    assert page.status_code == 200 and "We are waiting for PayPal" in page.text
    assert not report.reachable
    assert_frozen(cart)

    paypal_sandbox.set_faults()
    reconcile_paypal_order(cart.paypal_order_id)

    assert returned_shopper.cart().status == CartStatus.ORDERED


def test_a_capture_that_timed_out_is_found_by_the_next_reconcile(paypal_sandbox, returned_shopper):
    """The slow capture happened at PayPal although the client gave up: never capture twice."""
    cart = returned_shopper.cart()
    paypal_sandbox.configure_client(READ_TIMEOUT=0.3)
    paypal_sandbox.set_faults(delay_next=1, delay_seconds=0.8, path_contains="/capture")

    report = reconcile_paypal_order(cart.paypal_order_id)
    paypal_sandbox.wait_idle()

    assert not report.reachable and report.error == "timeout"
    assert_frozen(cart)
    assert paypal_sandbox.order(cart.paypal_order_id).capture_status == "COMPLETED"

    report = reconcile_paypal_order(cart.paypal_order_id)

    cart.refresh_from_db()
    assert report.changed and cart.status == CartStatus.ORDERED
    assert Order.objects.get(cart=cart).paypal_capture_id == paypal_sandbox.order(cart.paypal_order_id).capture_id


def test_reconciling_again_and_again_changes_nothing_more(paypal_sandbox, returned_shopper):
    cart = returned_shopper.cart()

    reports = [reconcile_paypal_order(cart.paypal_order_id) for _ in range(5)]

    assert [report.changed for report in reports] == [True, False, False, False, False]
    assert Order.objects.filter(cart=cart).count() == 1
    assert {report.capture_status for report in reports} == {"COMPLETED"}


def test_check_paypal_now_logs_what_paypal_said_when_nothing_changed(paypal_sandbox, shop, cart_settings, superuser):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    cart = shopper.cart()

    report = check_paypal_now(cart, superuser)

    entry = ModelLogEntry.objects.filter(object_id=str(cart.pk), action="wagtail_lockedcarts.reconcile").get()
    assert report.order_status == "PAYER_ACTION_REQUIRED" and not report.changed
    assert entry.user == superuser and entry.data == {"summary": report.summary}
    assert "PAYER_ACTION_REQUIRED" in report.summary


def test_check_paypal_now_reports_an_unreachable_paypal(paypal_sandbox, returned_shopper, superuser):
    cart = returned_shopper.cart()
    paypal_sandbox.make_unreachable()

    report = check_paypal_now(cart, superuser)

    assert not report.reachable and "could not be reached" in report.summary
    assert ModelLogEntry.objects.filter(object_id=str(cart.pk), action="wagtail_lockedcarts.reconcile").count() == 1
    assert_frozen(cart)


def test_check_paypal_now_orders_a_paid_cart_and_lifecycle_logs_it(paypal_sandbox, returned_shopper, superuser):
    cart = returned_shopper.cart()

    report = check_paypal_now(cart, superuser)

    entries = ModelLogEntry.objects.filter(object_id=str(cart.pk), action="wagtail_lockedcarts.reconcile")
    assert report.changed and report.capture_status == "COMPLETED"
    assert [entry.data.get("order") for entry in entries] == [Order.objects.get().pk]


def test_reconcile_of_an_order_no_cart_uses_reports_it_and_calls_nobody(paypal_sandbox, shop, cart_settings):
    paypal_sandbox.make_unreachable()

    report = reconcile_paypal_order("5O190127TN364715T")

    assert not report.found and report.reachable and report.outcome is None


def test_concurrent_reconciles_capture_once_and_make_one_order(postgres, paypal_sandbox, returned_shopper):
    cart = returned_shopper.cart()
    barrier = threading.Barrier(6)
    reports, errors = [], []

    def reconcile():
        try:
            barrier.wait()
            reports.append(reconcile_paypal_order(cart.paypal_order_id))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reconcile) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(report.changed for report in reports) == 1
    assert Order.objects.filter(cart=cart).count() == 1
    assert paypal_sandbox.webhooks(event_type="PAYMENT.CAPTURE.COMPLETED").__len__() == 1


def test_an_approved_order_of_a_checkout_the_cart_has_left_is_never_captured(paypal_sandbox, shop, cart_settings):
    """The shopper approved, an admin unlocked the cart, the shopper checked out again: the late
    news about the first PayPal order must not take that money for the cart's new checkout."""
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(shopper, "Pay", follow=False)
    cart = shopper.cart()
    first = cart.paypal_order_id
    lifecycle.lock_cart(cart, LockReason.NO_RETURN)
    lifecycle.unlock_cart(cart)
    assert shopper.checkout().status_code == 302
    cart.refresh_from_db()
    assert cart.status == CartStatus.AWAITING_PAYMENT and cart.paypal_order_id != first
    current = cart.paypal_order_id

    report = reconcile_paypal_order(first)

    assert paypal_sandbox.order(first).capture_id == ""
    assert paypal_sandbox.order(first).status == "APPROVED"
    cart.refresh_from_db()
    assert (cart.status, cart.paypal_order_id) == (CartStatus.AWAITING_PAYMENT, current)
    assert not report.changed and not Order.objects.exists()


class CapturedByOthersMeanwhile(PayPalClient):
    """A client whose order look-up is followed, before it can capture, by a capture made
    elsewhere with another request id (PayPal's dashboard, an older deployment)."""

    def get_order(self, order_id):
        order = super().get_order(order_id)
        if order.get("status") == "APPROVED" and not getattr(self, "interfered", False):
            self.interfered = True
            PayPalClient().capture_order(order_id, str(uuid.uuid4()))
        return order


def test_an_order_captured_elsewhere_meanwhile_is_ordered_not_declined(paypal_sandbox, returned_shopper):
    cart = returned_shopper.cart()

    report = reconcile_paypal_order(cart.paypal_order_id, client=CapturedByOthersMeanwhile())

    cart.refresh_from_db()
    assert report.capture_status == "COMPLETED" and report.changed
    assert cart.status == CartStatus.ORDERED
    order = Order.objects.get(cart=cart)
    assert order.paypal_capture_id == paypal_sandbox.order(cart.paypal_order_id).capture_id
