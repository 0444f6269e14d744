"""reconcile_paypal_order: when PayPal is down, slow or failing, the cart stays frozen and nothing
is lost; a later reconcile finishes the job. It is idempotent, and safe to run concurrently."""

import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connections
from django.utils import timezone
from wagtail.models import ModelLogEntry

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.lifecycle import PaymentOutcome
from wagtail_lockedcarts.models import CartStatus, LockReason, Order, PaymentAttempt, PaymentAttemptStatus
from wagtail_lockedcarts.paypal.client import PayPalClient, PayPalError
from wagtail_lockedcarts.paypal.reconcile import (
    UNAPPROVED_ORDER_LIFETIME,
    ReconcileReport,
    _summary,
    check_paypal_now,
    expired_unpaid,
    payment_result_from_order,
    reconcile_cart,
    reconcile_paypal_order,
)


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
    assert [entry.user for entry in entries] == [superuser]
    assert ModelLogEntry.objects.get(action="wagtail_lockedcarts.order").user == superuser


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


# ------------------------------------------------------------------------------------------
# What we keep of PayPal's answer (payment_result_from_order, one function: plain dicts in)


def order_with(*captures, status="COMPLETED", **extra):
    return {"id": "ORDER-1", "status": status, "purchase_units": [{"payments": {"captures": list(captures)}}], **extra}


def capture(status, capture_id="CAP", value="10.00", currency="EUR", reason=""):
    found = {"id": capture_id, "status": status, "amount": {"value": value, "currency_code": currency}}
    if reason:
        found["status_details"] = {"reason": reason}
    return found


def test_of_several_captures_the_completed_one_is_the_payment_whatever_their_order():
    for captures in (
        [capture("DECLINED", "C-1"), capture("COMPLETED", "C-2", "12.50")],
        [capture("COMPLETED", "C-2", "12.50"), capture("DECLINED", "C-1")],
        [capture("SOMETHING_NEW", "C-0"), capture("FAILED", "C-1"), capture("COMPLETED", "C-2", "12.50")],
    ):
        result = payment_result_from_order(order_with(*captures))

        assert result.outcome == PaymentOutcome.COMPLETED
        assert (result.capture_id, result.capture_status, result.amount) == ("C-2", "COMPLETED", Decimal("12.50"))


def test_a_pending_capture_ranks_above_a_refunded_and_a_declined_one():
    result = payment_result_from_order(order_with(capture("DECLINED", "C-1"), capture("PENDING", "C-2")))

    assert (result.outcome, result.capture_id) == (PaymentOutcome.PENDING, "C-2")
    result = payment_result_from_order(order_with(capture("REFUNDED", "C-1"), capture("DECLINED", "C-2")))
    assert (result.outcome, result.capture_id) == (PaymentOutcome.REVERSED, "C-1")


@pytest.mark.parametrize(
    ("capture_status", "outcome"),
    [
        ("COMPLETED", PaymentOutcome.COMPLETED),
        ("PENDING", PaymentOutcome.PENDING),
        ("DECLINED", PaymentOutcome.DECLINED),
        ("FAILED", PaymentOutcome.DECLINED),
        ("REFUNDED", PaymentOutcome.REVERSED),
        ("REVERSED", PaymentOutcome.REVERSED),
        ("PARTIALLY_REFUNDED", PaymentOutcome.UNKNOWN),
    ],
)
def test_each_capture_status_means_one_outcome(capture_status, outcome):
    result = payment_result_from_order(order_with(capture(capture_status, reason="WHY")))

    assert result.outcome == outcome
    assert (result.capture_status, result.status_reason, result.paypal_status) == (capture_status, "WHY", "COMPLETED")


def test_the_captured_amount_and_currency_are_kept_as_paypal_states_them():
    result = payment_result_from_order(order_with(capture("COMPLETED", value="0.10", currency="eur")))

    assert result.amount == Decimal("0.10") and result.currency == "EUR"
    assert payment_result_from_order(order_with(capture("COMPLETED", value="ten"))).amount is None
    assert payment_result_from_order(order_with(capture("COMPLETED", value=None))).amount is None


def test_a_paypal_decline_of_the_capture_is_a_decline_with_paypals_issue_as_the_reason():
    result = payment_result_from_order({"id": "ORDER-1", "status": "APPROVED"}, "ORDER-1", "INSTRUMENT_DECLINED")

    assert (result.outcome, result.status_reason) == (PaymentOutcome.DECLINED, "INSTRUMENT_DECLINED")


def test_a_voided_order_is_a_decline_and_an_uncaptured_one_no_answer():
    voided = payment_result_from_order({"id": "ORDER-1", "status": "VOIDED"})
    approved = payment_result_from_order({"id": "ORDER-1", "status": "APPROVED"})

    assert (voided.outcome, voided.paypal_status) == (PaymentOutcome.DECLINED, "VOIDED")
    assert (approved.outcome, approved.amount, approved.currency, approved.capture_id) == (
        PaymentOutcome.UNKNOWN,
        None,
        "",
        "",
    )


def test_the_order_id_falls_back_to_the_one_asked_about():
    assert payment_result_from_order({"status": "APPROVED"}, "ORDER-2").paypal_order_id == "ORDER-2"
    assert payment_result_from_order({"id": "ORDER-1"}, "ORDER-2").paypal_order_id == "ORDER-1"
    empty = payment_result_from_order(None, "ORDER-3")
    assert (empty.paypal_order_id, empty.outcome, empty.paypal_status) == ("ORDER-3", PaymentOutcome.UNKNOWN, "")


def test_only_the_card_brand_last_four_digits_and_payer_email_are_kept():
    order = order_with(
        capture("COMPLETED"),
        payment_source={"card": {"brand": "visa", "last_digits": "4242", "expiry": "2030-01", "number": "4111"}},
        payer={"email_address": "payer@example.com"},
    )

    result = payment_result_from_order(order)

    assert (result.card_brand, result.card_last4, result.payer_email) == ("VISA", "4242", "payer@example.com")
    assert "2030" not in repr(result) and "4111" not in repr(result)


def test_the_paypal_wallet_email_wins_over_the_payer_record_and_a_bad_one_is_dropped():
    wallet = order_with(
        capture("COMPLETED"),
        payment_source={"paypal": {"email_address": "wallet@example.com"}},
        payer={"email_address": "payer@example.com"},
    )
    bad = order_with(capture("COMPLETED"), payer={"email_address": "=HYPERLINK()"})

    assert payment_result_from_order(wallet).payer_email == "wallet@example.com"
    assert (payment_result_from_order(wallet).card_brand, payment_result_from_order(wallet).card_last4) == ("", "")
    assert payment_result_from_order(bad).payer_email == ""


def test_a_card_number_in_place_of_the_last_four_digits_is_not_kept():
    order = order_with(
        capture("COMPLETED"), payment_source={"card": {"brand": "VISA", "last_digits": "4111111111111111"}}
    )

    result = payment_result_from_order(order)

    assert (result.card_brand, result.card_last4) == ("", "")


# ------------------------------------------------------------------------------------------
# When a 404 means "expired unpaid" (expired_unpaid, one function)


def attempt_like(age, status=PaymentAttemptStatus.CREATED, capture_id="", capture_status=""):
    return SimpleNamespace(
        created_at=timezone.now() - age, status=status, capture_id=capture_id, capture_status=capture_status
    )


def test_a_404_counts_as_expiry_only_past_the_unapproved_lifetime():
    error = SimpleNamespace(status_code=404)
    lifetime = UNAPPROVED_ORDER_LIFETIME

    assert expired_unpaid(error, attempt_like(lifetime + timedelta(seconds=5)))
    assert not expired_unpaid(error, attempt_like(lifetime - timedelta(seconds=5)))
    assert not expired_unpaid(SimpleNamespace(status_code=403), attempt_like(lifetime * 2))
    assert not expired_unpaid(error, None)


def test_a_404_for_an_order_we_saw_approved_or_captured_is_not_expiry():
    error = SimpleNamespace(status_code=404)
    old = UNAPPROVED_ORDER_LIFETIME * 2

    assert not expired_unpaid(error, attempt_like(old, status=PaymentAttemptStatus.APPROVED))
    assert not expired_unpaid(error, attempt_like(old, capture_id="CAP-1"))
    assert not expired_unpaid(error, attempt_like(old, capture_status="PENDING"))


# ------------------------------------------------------------------------------------------
# The one-line summary an admin reads (_summary, one function)


def test_the_summary_names_the_order_the_capture_its_reason_and_the_cart():
    cart = SimpleNamespace(state_in_sentence="ordered")
    changed = SimpleNamespace(changed=True)
    report = ReconcileReport(
        paypal_order_id="ORDER-1",
        cart=cart,
        order_status="COMPLETED",
        capture_status="PENDING",
        reason="ECHECK",
        outcome=changed,
    )

    assert _summary(report) == "PayPal order ORDER-1: COMPLETED; capture PENDING (ECHECK); cart now ordered"


def test_the_summary_without_a_capture_gives_the_reason_and_says_when_nothing_changed():
    report = ReconcileReport(
        paypal_order_id="ORDER-1",
        cart=SimpleNamespace(state_in_sentence="awaiting payment"),
        reason="INSTRUMENT_DECLINED",
        outcome=SimpleNamespace(changed=False),
    )

    assert _summary(report) == "PayPal order ORDER-1: –; INSTRUMENT_DECLINED; cart unchanged (awaiting payment)"
    assert (
        _summary(ReconcileReport(paypal_order_id="ORDER-2", order_status="APPROVED"))
        == "PayPal order ORDER-2: APPROVED"
    )
    assert (
        _summary(ReconcileReport(paypal_order_id="ORDER-2", order_status="COMPLETED", capture_status="COMPLETED"))
        == "PayPal order ORDER-2: COMPLETED; capture COMPLETED"
    )


def test_a_cart_reopened_after_its_checkout_is_reconciled_by_its_newest_paypal_order(
    paypal_sandbox, shop, cart_settings
):
    """Reopening clears the cart's PayPal order id; *Check PayPal now* still asks about the
    newest order the cart ever had (the payer may have paid it after all)."""
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    cart = shopper.cart()
    order_id = cart.paypal_order_id
    lifecycle.abort_checkout(cart, reason="TEST")
    cart.refresh_from_db()
    assert cart.status == CartStatus.OPEN and cart.paypal_order_id == ""

    report = reconcile_cart(cart)

    assert report.paypal_order_id == order_id and report.order_status == "PAYER_ACTION_REQUIRED"
    assert not report.changed


def test_a_cart_that_never_reached_paypal_has_nothing_to_check(make_cart):
    cart = make_cart()

    report = reconcile_cart(cart)

    assert (report.cart, report.paypal_order_id, report.outcome) == (cart, "", None)
    assert report.summary == "This cart never reached PayPal; nothing to check."


def test_an_approved_order_without_a_payment_record_is_still_captured_once(paypal_sandbox, returned_shopper):
    """An integration that set the cart's PayPal order id itself has no attempt row: the capture
    key is then derived from the cart and the order, so it is still stable."""
    cart = returned_shopper.cart()
    PaymentAttempt.objects.filter(cart=cart).delete()

    reports = [reconcile_paypal_order(cart.paypal_order_id) for _ in range(2)]

    cart.refresh_from_db()
    assert reports[0].paypal_order_id == cart.paypal_order_id
    assert [report.changed for report in reports] == [True, False]
    assert cart.status == CartStatus.ORDERED and Order.objects.count() == 1
    assert paypal_sandbox.order(cart.paypal_order_id).capture_status == "COMPLETED"


def test_an_order_paypal_does_not_know_yet_changes_nothing_and_says_what_paypal_answered(
    paypal_sandbox, make_cart, cart_settings
):
    """A 404 for an order issued minutes ago is not taken for expiry (a shop pointed at the wrong
    PayPal account sees 404s too)."""
    cart = make_cart(status=CartStatus.AWAITING_PAYMENT)

    report = reconcile_paypal_order(cart.paypal_order_id)

    cart.refresh_from_db()
    assert report.reachable and report.error == "INVALID_RESOURCE_ID" and report.outcome is None
    assert report.summary == (
        f"PayPal refused to report on order {cart.paypal_order_id} (INVALID_RESOURCE_ID); nothing was changed."
    )
    assert cart.status == CartStatus.AWAITING_PAYMENT


class RefusingCapture:
    """PayPal's side of one order (a fake client: the sandbox refuses duplicates only at creation)."""

    def __init__(self, order_id, issue):
        self.order = {"id": order_id, "status": "APPROVED"}
        self.issue, self.calls = issue, []

    def get_order(self, order_id):
        self.calls.append("get")
        return self.order

    def capture_order(self, order_id, request_id):
        self.calls.append("capture")
        raise PayPalError(422, self.issue)


@pytest.mark.parametrize("issue", ["DUPLICATE_INVOICE_ID", "ORDER_NOT_APPROVED", "ORDER_ALREADY_CAPTURED"])
def test_a_capture_refused_for_the_orders_own_state_is_read_back_not_reported_as_a_refusal(make_cart, issue):
    cart = make_cart(status=CartStatus.AWAITING_PAYMENT)
    client = RefusingCapture(cart.paypal_order_id, issue)

    report = reconcile_paypal_order(cart.paypal_order_id, client=client)

    assert client.calls == ["get", "capture", "get"]
    assert (report.reachable, report.error, report.order_status) == (True, "", "APPROVED")
    cart.refresh_from_db()
    assert cart.status == CartStatus.AWAITING_PAYMENT


def test_any_other_capture_refusal_is_reported_and_changes_nothing(make_cart):
    cart = make_cart(status=CartStatus.AWAITING_PAYMENT)
    client = RefusingCapture(cart.paypal_order_id, "PERMISSION_DENIED")

    report = reconcile_paypal_order(cart.paypal_order_id, client=client)

    assert client.calls == ["get", "capture"] and report.error == "PERMISSION_DENIED"
    cart.refresh_from_db()
    assert cart.status == CartStatus.AWAITING_PAYMENT
