"""The cart and order state machine: every transition and every refusal."""

import importlib
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from wagtail.models import ModelLogEntry

from wagtail_lockedcarts import lifecycle, signals
from wagtail_lockedcarts.exceptions import CartNotEditable, EmptyCart, InvalidTransition, ProductNotFound
from wagtail_lockedcarts.lifecycle import PaymentOutcome, PaymentResult
from wagtail_lockedcarts.models import (
    Cart,
    CartLine,
    CartStatus,
    LockReason,
    Order,
    OrderStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
    PendingPaymentPolicy,
)

pytestmark = pytest.mark.django_db


def result_for(cart, outcome, **kwargs):
    kwargs.setdefault("amount", cart.amount)
    kwargs.setdefault("currency", cart.currency)
    return PaymentResult(outcome=outcome, paypal_order_id=cart.paypal_order_id, **kwargs)


def actions_for(cart_pk):
    return list(ModelLogEntry.objects.filter(object_id=str(cart_pk)).order_by("pk").values_list("action", flat=True))


@pytest.fixture
def awaiting(make_cart):
    return make_cart(status=CartStatus.AWAITING_PAYMENT, lines=[(0, 2), (1, 1)])


# -- shopper edits ------------------------------------------------------------------------------


def test_add_line_prices_the_product_server_side(make_cart, shop):
    cart = make_cart(lines=[])
    line = lifecycle.add_line(cart, shop[0].cart_key, 3)
    assert (line.title, line.unit_price, line.quantity, line.sku) == ("Mug", Decimal("12.50"), 3, "MUG")


def test_adding_the_same_product_twice_increases_one_line(make_cart, shop):
    cart = make_cart(lines=[(0, 1)])
    lifecycle.add_line(cart, shop[0].cart_key, 2)
    assert list(cart.lines.values_list("quantity", flat=True)) == [3]


def test_update_line_to_zero_removes_it(make_cart):
    cart = make_cart(lines=[(0, 1), (1, 1)])
    first = cart.lines.first()
    lifecycle.update_line(cart, first.pk, 0)
    assert cart.lines.count() == 1


def test_remove_line_of_another_cart_is_refused(make_cart):
    mine, theirs = make_cart(), make_cart()
    with pytest.raises(InvalidTransition):
        lifecycle.remove_line(mine, theirs.lines.first().pk)
    assert theirs.lines.count() == 1


@pytest.mark.parametrize("quantity", [0, -1, 1000])
def test_add_line_refuses_out_of_range_quantities(make_cart, shop, quantity):
    cart = make_cart(lines=[])
    with pytest.raises(InvalidTransition):
        lifecycle.add_line(cart, shop[0].cart_key, quantity)
    assert cart.lines.count() == 0


@pytest.mark.parametrize("key", ["nonsense", "shop.productpage:999999", "auth.user:1", "no.such:1"])
def test_add_line_refuses_unknown_products(make_cart, key):
    cart = make_cart(lines=[])
    with pytest.raises(ProductNotFound):
        lifecycle.add_line(cart, key, 1)


def test_unpublished_products_cannot_be_added(make_cart, shop):
    shop[0].unpublish()
    cart = make_cart(lines=[])
    with pytest.raises(ProductNotFound):
        lifecycle.add_line(cart, shop[0].cart_key, 1)


@pytest.mark.parametrize("status", [CartStatus.AWAITING_PAYMENT, CartStatus.LOCKED, CartStatus.ORDERED])
def test_edits_on_a_frozen_cart_change_nothing_and_say_why(make_cart, shop, status):
    cart = make_cart(status=status, lines=[(0, 2)])
    line = cart.lines.first()
    before = list(CartLine.objects.filter(cart=cart).values_list("product_key", "quantity"))
    for edit in (
        lambda: lifecycle.add_line(cart, shop[1].cart_key, 1),
        lambda: lifecycle.update_line(cart, line.pk, 5),
        lambda: lifecycle.remove_line(cart, line.pk),
    ):
        with pytest.raises(CartNotEditable) as error:
            edit()
        assert str(error.value.message)
    assert list(CartLine.objects.filter(cart=cart).values_list("product_key", "quantity")) == before


def test_locked_cart_refusal_message_explains_the_lock(make_cart, shop):
    cart = make_cart(status=CartStatus.LOCKED)
    with pytest.raises(CartNotEditable) as error:
        lifecycle.add_line(cart, shop[1].cart_key, 1)
    assert "locked" in str(error.value.message)


def test_merging_a_guest_cart_adds_quantities(make_cart, shop):
    guest = make_cart(lines=[(0, 1), (2, 1)])
    mine = make_cart(lines=[(0, 2)])
    lifecycle.merge_carts(guest, mine)
    assert dict(mine.lines.values_list("sku", "quantity")) == {"MUG": 3, "CAP": 1}
    assert not Cart.objects.filter(pk=guest.pk).exists()


# -- checkout -----------------------------------------------------------------------------------


def test_begin_checkout_freezes_the_amount_and_opens_an_attempt(make_cart):
    cart = make_cart(lines=[(0, 2), (1, 1)])
    attempt = lifecycle.begin_checkout(cart)
    cart.refresh_from_db()
    assert cart.status == CartStatus.AWAITING_PAYMENT
    assert cart.amount == Decimal("50.00") == attempt.amount
    assert cart.checkout_started_at is not None
    assert attempt.status == PaymentAttemptStatus.CREATED
    assert actions_for(cart.pk)[-1] == "wagtail_lockedcarts.checkout"


def test_checkout_of_an_empty_cart_is_refused(make_cart):
    cart = make_cart(lines=[])
    with pytest.raises(EmptyCart):
        lifecycle.begin_checkout(cart)
    cart.refresh_from_db()
    assert cart.status == CartStatus.OPEN


def test_checkout_twice_is_refused(awaiting):
    with pytest.raises(CartNotEditable):
        lifecycle.begin_checkout(awaiting)
    assert PaymentAttempt.objects.filter(cart=awaiting).count() == 1


def test_abort_checkout_reopens_the_cart(awaiting):
    outcome = lifecycle.abort_checkout(awaiting, "PayPal unavailable")
    awaiting.refresh_from_db()
    assert outcome.changed and awaiting.status == CartStatus.OPEN and awaiting.amount is None
    assert PaymentAttempt.objects.get(cart=awaiting).status == PaymentAttemptStatus.FAILED


# -- payment results ------------------------------------------------------------------------------


def test_completed_payment_creates_one_submitted_order_with_the_cart_lines(
    awaiting, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = lifecycle.apply_payment_result(
            awaiting,
            result_for(awaiting, PaymentOutcome.COMPLETED, capture_id="CAP-1", card_brand="visa", card_last4="4242"),
        )
    awaiting.refresh_from_db()
    order = outcome.order
    assert outcome.changed and awaiting.status == CartStatus.ORDERED
    assert list(order.lines.values_list("sku", "quantity", "unit_price")) == [
        ("MUG", 2, Decimal("12.50")),
        ("TEE", 1, Decimal("25.00")),
    ]
    assert order.total == Decimal("50.00") and order.paypal_capture_id == "CAP-1"
    assert (order.card_brand, order.card_last4) == ("VISA", "4242")
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPORTED  # the default exporter ran on commit


def test_completed_payment_applied_twice_returns_the_same_order(awaiting):
    first = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED))
    second = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED))
    assert first.changed and not second.changed
    assert second.order.pk == first.order.pk
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    "amount, currency",
    [(Decimal("49.99"), "EUR"), (Decimal("50.00"), "USD"), (None, "EUR")],
)
def test_completed_payment_with_a_different_amount_locks_for_an_admin(awaiting, amount, currency):
    outcome = lifecycle.apply_payment_result(
        awaiting, result_for(awaiting, PaymentOutcome.COMPLETED, amount=amount, currency=currency)
    )
    awaiting.refresh_from_db()
    assert outcome.order is None and not Order.objects.exists()
    assert (awaiting.status, awaiting.lock_reason) == (CartStatus.LOCKED, LockReason.AMOUNT_MISMATCH)


def test_amount_mismatch_is_never_auto_confirmed_later(awaiting):
    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED, amount=Decimal("1.00")))
    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED))
    awaiting.refresh_from_db()
    assert awaiting.status == CartStatus.LOCKED and not Order.objects.exists()


def test_pending_payment_locks_the_cart_under_the_lock_policy(awaiting, cart_settings):
    outcome = lifecycle.apply_payment_result(
        awaiting, result_for(awaiting, PaymentOutcome.PENDING, capture_status="PENDING", status_reason="ECHECK")
    )
    awaiting.refresh_from_db()
    assert outcome.changed
    assert (awaiting.status, awaiting.lock_reason) == (CartStatus.LOCKED, LockReason.PENDING_PAYMENT)
    assert awaiting.locked_at is not None and awaiting.paypal_status_reason == "ECHECK"
    assert actions_for(awaiting.pk)[-1] == "wagtail_lockedcarts.lock"


def test_pending_payment_makes_an_order_on_hold_under_the_hold_policy(awaiting, cart_settings):
    cart_settings.pending_payment_policy = PendingPaymentPolicy.HOLD
    cart_settings.save()
    outcome = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.PENDING))
    awaiting.refresh_from_db()
    assert awaiting.status == CartStatus.ORDERED
    assert outcome.order.status == OrderStatus.ON_HOLD and outcome.order.submitted_at is None


def test_completion_after_hold_releases_the_same_order(awaiting, cart_settings):
    cart_settings.pending_payment_policy = PendingPaymentPolicy.HOLD
    cart_settings.save()
    held = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.PENDING)).order
    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED))
    held.refresh_from_db()
    assert held.status in (OrderStatus.SUBMITTED, OrderStatus.EXPORTED)
    assert Order.objects.count() == 1


def test_pending_after_a_no_return_lock_records_the_real_reason(make_cart):
    cart = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN)
    lifecycle.apply_payment_result(cart, result_for(cart, PaymentOutcome.PENDING))
    cart.refresh_from_db()
    assert (cart.status, cart.lock_reason) == (CartStatus.LOCKED, LockReason.PENDING_PAYMENT)


@pytest.mark.parametrize("outcome", [PaymentOutcome.DECLINED, PaymentOutcome.CANCELLED])
def test_declined_or_cancelled_payment_reopens_the_cart(awaiting, outcome):
    result = lifecycle.apply_payment_result(awaiting, result_for(awaiting, outcome))
    awaiting.refresh_from_db()
    assert result.changed and awaiting.status == CartStatus.OPEN
    assert awaiting.amount is None and awaiting.paypal_order_id == ""


def test_unknown_result_changes_no_status(awaiting):
    outcome = lifecycle.apply_payment_result(
        awaiting, result_for(awaiting, PaymentOutcome.UNKNOWN, paypal_status="PAYER_ACTION_REQUIRED")
    )
    awaiting.refresh_from_db()
    assert not outcome.changed and awaiting.status == CartStatus.AWAITING_PAYMENT
    assert awaiting.paypal_status == "PAYER_ACTION_REQUIRED" and awaiting.paypal_checked_at


def test_payment_for_an_earlier_checkout_never_orders_the_new_lines(make_cart, shop):
    cart = make_cart(status=CartStatus.AWAITING_PAYMENT)
    old = result_for(cart, PaymentOutcome.COMPLETED)
    lifecycle.apply_payment_result(cart, result_for(cart, PaymentOutcome.CANCELLED))
    lifecycle.add_line(cart, shop[2].cart_key, 1)
    lifecycle.apply_payment_result(cart, old)
    cart.refresh_from_db()
    assert (cart.status, cart.lock_reason) == (CartStatus.LOCKED, LockReason.SUPERSEDED_PAYMENT)
    assert not Order.objects.exists()


def test_a_declined_result_does_not_unlock_an_amount_mismatch(awaiting):
    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED, amount=Decimal("2")))
    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.DECLINED))
    awaiting.refresh_from_db()
    assert awaiting.lock_reason == LockReason.AMOUNT_MISMATCH


@pytest.mark.parametrize("last4", ["4111111111111111", "41", "abcd", "4242 "])
def test_anything_but_four_digits_is_never_stored_as_card_data(awaiting, last4):
    lifecycle.apply_payment_result(
        awaiting, result_for(awaiting, PaymentOutcome.UNKNOWN, card_brand="VISA", card_last4=last4)
    )
    awaiting.refresh_from_db()
    assert awaiting.card_last4 in ("", "4242")
    assert "4111" not in awaiting.card_last4


def test_the_database_rejects_a_full_card_number(make_cart):
    from django.db import DatabaseError, transaction

    cart = make_cart()
    with pytest.raises(DatabaseError), transaction.atomic():
        Cart.objects.filter(pk=cart.pk).update(card_last4="4111111111111111")
    with pytest.raises(DatabaseError), transaction.atomic():
        Cart.objects.filter(pk=cart.pk).update(card_brand="4111111111111111")


# -- timeouts -----------------------------------------------------------------------------------------


def test_stale_checkouts_lock_with_reason_no_return(make_cart, cart_settings):
    stale, fresh = make_cart(status=CartStatus.AWAITING_PAYMENT), make_cart(status=CartStatus.AWAITING_PAYMENT)
    Cart.objects.filter(pk=stale.pk).update(
        checkout_started_at=timezone.now() - timedelta(minutes=cart_settings.checkout_timeout_minutes + 1)
    )
    assert lifecycle.lock_stale_checkouts() == 1
    stale.refresh_from_db(), fresh.refresh_from_db()
    assert (stale.status, stale.lock_reason) == (CartStatus.LOCKED, LockReason.NO_RETURN)
    assert fresh.status == CartStatus.AWAITING_PAYMENT
    assert actions_for(stale.pk)[-1] == "wagtail_lockedcarts.lock"


# -- admin actions ------------------------------------------------------------------------------------


def test_confirm_order_turns_a_locked_cart_into_a_submitted_order(make_cart, superuser):
    cart = make_cart(status=CartStatus.LOCKED)
    outcome = lifecycle.confirm_order(cart, user=superuser)
    cart.refresh_from_db()
    assert outcome.changed and cart.status == CartStatus.ORDERED
    assert outcome.order.status == OrderStatus.SUBMITTED and outcome.order.cart_id == cart.pk
    entry = ModelLogEntry.objects.get(object_id=str(cart.pk), action="wagtail_lockedcarts.confirm")
    assert entry.user == superuser and entry.data["order"] == outcome.order.pk


def test_confirming_an_ordered_cart_returns_the_existing_order(make_cart):
    cart = make_cart(status=CartStatus.LOCKED)
    first = lifecycle.confirm_order(cart)
    again = lifecycle.confirm_order(cart)
    assert not again.changed and again.order.pk == first.order.pk
    assert Order.objects.count() == 1


@pytest.mark.parametrize("status", [CartStatus.OPEN, CartStatus.AWAITING_PAYMENT])
def test_confirming_a_cart_that_is_not_locked_is_refused(make_cart, status):
    cart = make_cart(status=status)
    with pytest.raises(InvalidTransition):
        lifecycle.confirm_order(cart)
    assert not Order.objects.exists()


def test_unlock_returns_the_same_cart_to_the_shopper(make_cart, superuser, shop):
    cart = make_cart(status=CartStatus.LOCKED, lines=[(0, 1)])
    lifecycle.unlock_cart(cart, user=superuser)
    cart.refresh_from_db()
    assert cart.status == CartStatus.OPEN and cart.lock_reason == "" and cart.locked_at is None
    lifecycle.add_line(cart, shop[1].cart_key, 1)
    assert cart.lines.count() == 2
    assert actions_for(cart.pk)[-1] == "wagtail_lockedcarts.unlock"


@pytest.mark.parametrize("status", [CartStatus.OPEN, CartStatus.AWAITING_PAYMENT, CartStatus.ORDERED])
def test_unlocking_a_cart_that_is_not_locked_is_refused(make_cart, status):
    cart = make_cart(status=status)
    with pytest.raises(InvalidTransition):
        lifecycle.unlock_cart(cart)
    cart.refresh_from_db()
    assert cart.status == status


def test_delete_logs_a_snapshot_before_removing_the_cart(make_cart, superuser):
    cart = make_cart(status=CartStatus.LOCKED, lines=[(0, 2)])
    pk, product_key = cart.pk, cart.lines.get().product_key
    outcome = lifecycle.delete_cart(cart, user=superuser)
    assert outcome.changed and not Cart.objects.filter(pk=pk).exists()
    entry = ModelLogEntry.objects.get(object_id=str(pk), action="wagtail_lockedcarts.delete")
    assert entry.deleted and entry.user == superuser
    assert entry.data["total"] == "25.00" and entry.data["lines"] == [
        {"product": product_key, "title": "Mug", "quantity": 2, "unit_price": "12.50"}
    ]
    assert entry.data["paypal_order_id"].startswith("PAYPAL-")


@pytest.mark.parametrize("status", [CartStatus.AWAITING_PAYMENT, CartStatus.ORDERED])
def test_deleting_a_cart_in_payment_or_ordered_is_refused(make_cart, status):
    cart = make_cart(status=status)
    with pytest.raises(InvalidTransition):
        lifecycle.delete_cart(cart)
    assert Cart.objects.filter(pk=cart.pk).exists()


def test_signals_fire_after_commit(make_cart, django_capture_on_commit_callbacks):
    received = []

    def record(name):
        return lambda sender, **kwargs: received.append(name)

    handlers = {
        "locked": record("locked"),
        "unlocked": record("unlocked"),
        "order": record("order"),
        "deleted": record("deleted"),
    }
    signals.cart_locked.connect(handlers["locked"])
    signals.cart_unlocked.connect(handlers["unlocked"])
    signals.order_created.connect(handlers["order"])
    signals.cart_deleted.connect(handlers["deleted"])
    try:
        with django_capture_on_commit_callbacks(execute=True):
            one, two, three = (make_cart(status=CartStatus.AWAITING_PAYMENT) for _ in range(3))
            lifecycle.lock_cart(one, LockReason.NO_RETURN)
            lifecycle.unlock_cart(one)
            lifecycle.lock_cart(two, LockReason.NO_RETURN)
            lifecycle.confirm_order(two)
            lifecycle.lock_cart(three, LockReason.NO_RETURN)
            lifecycle.delete_cart(three)
            assert received == []
    finally:
        signals.cart_locked.disconnect(handlers["locked"])
        signals.cart_unlocked.disconnect(handlers["unlocked"])
        signals.order_created.disconnect(handlers["order"])
        signals.cart_deleted.disconnect(handlers["deleted"])
    assert received == ["locked", "unlocked", "locked", "order", "locked", "deleted"]


# -- orders -------------------------------------------------------------------------------------------


def test_release_order_submits_an_order_on_hold(awaiting, cart_settings, superuser, django_capture_on_commit_callbacks):
    cart_settings.pending_payment_policy = PendingPaymentPolicy.HOLD
    cart_settings.save()
    order = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.PENDING)).order
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.release_order(order, user=superuser)
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPORTED and order.submitted_at is not None
    assert not lifecycle.release_order(order).changed


def test_failed_export_leaves_the_order_submitted_with_the_error(make_cart, settings):
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "ORDER_EXPORTER": "tests.exporters.failing"}
    cart = make_cart(status=CartStatus.LOCKED)
    order = lifecycle.confirm_order(cart).order
    with pytest.raises(ConnectionError):
        lifecycle.export_order(order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED
    assert order.export_attempts == 1 and "ERP unreachable" in order.last_export_error


def test_retry_export_after_a_failure_exports_once(make_cart, settings):
    from tests import exporters

    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "ORDER_EXPORTER": "tests.exporters.recording"}
    exporters.exported.clear()
    cart = make_cart(status=CartStatus.LOCKED)
    order = lifecycle.confirm_order(cart).order
    assert lifecycle.export_order(order.pk) is True
    assert lifecycle.export_order(order.pk) is False
    assert exporters.exported == [order.pk]
    with pytest.raises(InvalidTransition):
        lifecycle.retry_export(order)


# --------------------------------------------------------------------------------------------
# edges the mutation run found unchecked


def test_aborting_a_checkout_that_is_no_longer_waiting_changes_nothing_and_says_so(make_cart):
    locked = make_cart(status=CartStatus.LOCKED)

    outcome = lifecycle.abort_checkout(locked, reason="INTERNAL_SERVER_ERROR")

    locked.refresh_from_db()
    assert outcome.changed is False and locked.status == CartStatus.LOCKED
    assert PaymentAttempt.objects.get(cart=locked).status_reason == ""


def test_aborting_a_checkout_fails_only_the_attempt_paypal_never_saw(awaiting):
    earlier = PaymentAttempt.objects.get(cart=awaiting)
    PaymentAttempt.objects.filter(pk=earlier.pk).update(status=PaymentAttemptStatus.APPROVED)
    newest = PaymentAttempt.objects.create(
        cart=awaiting, amount=awaiting.amount, currency=awaiting.currency, status=PaymentAttemptStatus.CREATED
    )

    outcome = lifecycle.abort_checkout(awaiting, reason="R" * 80)

    earlier.refresh_from_db()
    newest.refresh_from_db()
    assert outcome.changed is True
    assert (newest.status, newest.status_reason) == (PaymentAttemptStatus.FAILED, "R" * 64)
    assert (earlier.status, earlier.status_reason) == (PaymentAttemptStatus.APPROVED, "")


@pytest.mark.parametrize(
    ("capture_status", "expected"),
    [
        ("COMPLETED", "PayPal holds 9.50 USD for this cart (capture completed, PayPal order ORDER-9)."),
        ("PENDING", "PayPal will hold 9.50 USD for this cart (capture pending, PayPal order ORDER-9)."),
        ("", "The payer approved 9.50 USD for this cart at PayPal (PayPal order ORDER-9)."),
    ],
)
def test_the_money_held_message_names_paypals_amount_currency_and_order(capture_status, expected):
    attempt = PaymentAttempt(
        amount=Decimal("10.00"),
        currency="EUR",
        captured_amount=Decimal("9.50"),
        captured_currency="USD",
        capture_status=capture_status,
        paypal_order_id="ORDER-9",
    )

    assert str(lifecycle.payment_held_message(attempt)) == expected


def test_the_money_held_message_falls_back_to_the_checkout_amount_before_a_capture():
    attempt = PaymentAttempt(amount=Decimal("10.00"), currency="EUR", paypal_order_id="ORDER-9")

    assert str(lifecycle.payment_held_message(attempt)) == (
        "The payer approved 10.00 EUR for this cart at PayPal (PayPal order ORDER-9)."
    )


def unmatched_payment(make_cart):
    cart = make_cart(status=CartStatus.LOCKED)
    lifecycle.apply_payment_result(
        cart,
        PaymentResult(
            outcome=PaymentOutcome.COMPLETED,
            paypal_order_id=cart.paypal_order_id,
            capture_id="CAP-1",
            capture_status="COMPLETED",
            amount=Decimal("1.00"),
            currency="EUR",
        ),
    )
    lifecycle.delete_cart(cart, acknowledge_payment=True)
    return PaymentAttempt.objects.unmatched().get()


def test_resolving_an_unmatched_payment_needs_a_note_and_a_known_resolution(make_cart, superuser):
    payment = unmatched_payment(make_cart)

    for resolution, note, message in [
        ("refunded", "  ", "Say in a note how this payment was resolved."),
        ("lost", "gone", "Choose how this payment was resolved."),
    ]:
        with pytest.raises(InvalidTransition) as refused:
            lifecycle.resolve_payment(payment, superuser, resolution, note)
        assert str(refused.value.message) == message
    assert list(PaymentAttempt.objects.unmatched()) == [payment]


def test_an_unmatched_payment_is_resolved_once_with_its_note_and_an_audit_entry(make_cart, superuser):
    payment = unmatched_payment(make_cart)

    outcome = lifecycle.resolve_payment(payment, superuser, "refunded", " Refunded in PayPal's dashboard ")

    payment.refresh_from_db()
    assert outcome.changed and outcome.order is None and not Order.objects.exists()
    assert (payment.resolution, payment.resolution_note, payment.resolved_by) == (
        "refunded",
        "Refunded in PayPal's dashboard",
        superuser,
    )
    assert payment.resolved_at is not None
    entry = ModelLogEntry.objects.get(action="wagtail_lockedcarts.resolve_payment")
    assert entry.user == superuser
    assert entry.data == {"resolution": "refunded", "note": "Refunded in PayPal's dashboard", "order": None}
    with pytest.raises(InvalidTransition) as refused:
        lifecycle.resolve_payment(payment, superuser, "other", "again")
    assert str(refused.value.message) == "This payment is not unmatched (any more)."


def test_an_unmatched_payment_for_another_amount_becomes_an_order_with_the_note_as_override(make_cart, superuser):
    payment = unmatched_payment(make_cart)

    outcome = lifecycle.resolve_payment(payment, superuser, "ordered", "Customer paid the rest by bank transfer")

    order = outcome.order
    assert order is not None and order.payment_id == payment.pk
    assert order.status == OrderStatus.SUBMITTED and order.total == payment.amount
    assert order.amount_override_reason == "Customer paid the rest by bank transfer"
    assert not PaymentAttempt.objects.unmatched().exists()


def test_an_order_made_from_a_payment_marks_the_payment_as_having_an_order(awaiting, make_cart, superuser):
    paid = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED, capture_id="C-1"))
    resolved = lifecycle.resolve_payment(unmatched_payment(make_cart), superuser, "ordered", "Paid the rest by bank")

    for order in (paid.order, resolved.order):
        assert PaymentAttempt.objects.get(pk=order.payment_id).has_order is True
    assert list(PaymentAttempt.objects.filter(has_order=False).values_list("order", flat=True)) == []


def test_the_migration_marks_every_existing_payment_that_has_an_order_in_batches(awaiting, make_cart, monkeypatch):
    migration = importlib.import_module("wagtail_lockedcarts.migrations.0008_payment_has_order")
    orders = [lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED)).order]
    for _ in range(2):
        cart = make_cart(status=CartStatus.AWAITING_PAYMENT)
        orders.append(lifecycle.apply_payment_result(cart, result_for(cart, PaymentOutcome.COMPLETED)).order)
    without_order = unmatched_payment(make_cart)
    PaymentAttempt.objects.update(has_order=False)  # as if the column had just been added
    monkeypatch.setattr(migration, "BATCH", 2)

    migration.mark_payments_with_an_order(apps, SimpleNamespace(connection=connection))

    assert set(PaymentAttempt.objects.filter(has_order=True).values_list("pk", flat=True)) == {
        order.payment_id for order in orders
    }
    assert list(PaymentAttempt.objects.unmatched()) == [without_order]


def test_a_pending_answer_under_the_hold_policy_makes_one_order_on_hold_and_a_repeat_changes_nothing(
    awaiting, cart_settings
):
    cart_settings.pending_payment_policy = PendingPaymentPolicy.HOLD
    cart_settings.save()
    pending = result_for(awaiting, PaymentOutcome.PENDING, capture_id="CAP-1", capture_status="PENDING")

    first = lifecycle.apply_payment_result(awaiting, pending)
    again = lifecycle.apply_payment_result(awaiting, pending)

    assert first.changed is True and first.order.status == OrderStatus.ON_HOLD
    assert again.changed is False and again.order == first.order
    assert Order.objects.count() == 1


def order_facts(order):
    return [
        (line.product_key, line.sku, line.title, line.unit_price, line.quantity) for line in order.lines.order_by("pk")
    ]


def test_a_paid_checkout_becomes_an_order_carrying_everything_the_shop_needs(make_cart, django_user_model):
    shopper = django_user_model.objects.create_user("ada", "ada@example.com", "x")
    cart = make_cart(
        status=CartStatus.AWAITING_PAYMENT,
        lines=[(0, 2), (1, 1)],
        user=shopper,
        customer_name="Ada Lovelace",
        customer_email="",
    )
    lines = [
        (line.product_key, line.sku, line.title, line.unit_price, line.quantity) for line in cart.lines.order_by("pk")
    ]

    outcome = lifecycle.apply_payment_result(
        cart,
        result_for(
            cart,
            PaymentOutcome.COMPLETED,
            capture_id="CAP-7",
            capture_status="COMPLETED",
            card_brand="VISA",
            card_last4="4242",
            payer_email="payer@example.com",
        ),
    )

    order = outcome.order
    assert (
        order_facts(order)
        == lines
        == [
            (lines[0][0], "MUG", "Mug", Decimal("12.50"), 2),
            (lines[1][0], "TEE", "T-shirt", Decimal("25.00"), 1),
        ]
    )
    assert (order.total, order.currency, order.status) == (Decimal("50.00"), "EUR", OrderStatus.SUBMITTED)
    assert (order.cart_id, order.cart_reference, order.site_id, order.user_id) == (
        cart.pk,
        cart.pk,
        cart.site_id,
        shopper.pk,
    )
    assert (order.customer_name, order.email) == ("Ada Lovelace", "payer@example.com")
    assert (order.paypal_order_id, order.paypal_capture_id) == (cart.paypal_order_id, "CAP-7")
    assert (order.card_brand, order.card_last4, order.amount_override_reason) == ("VISA", "4242", "")
    assert order.submitted_at is not None and order.payment == PaymentAttempt.objects.get(cart=cart)
    entry = ModelLogEntry.objects.get(action="wagtail_lockedcarts.order")
    assert entry.data == {"cart": cart.pk, "status": "submitted", "from_paid_snapshot": True}


def test_an_order_made_on_hold_is_not_submitted_yet(awaiting, cart_settings):
    cart_settings.pending_payment_policy = PendingPaymentPolicy.HOLD
    cart_settings.save()

    outcome = lifecycle.apply_payment_result(
        awaiting, result_for(awaiting, PaymentOutcome.PENDING, capture_id="CAP-8", capture_status="PENDING")
    )

    order = outcome.order
    assert order.status == OrderStatus.ON_HOLD and order.submitted_at is None
    assert order.paypal_capture_id == "CAP-8"


def test_an_unmatched_payment_made_into_an_order_takes_its_facts_from_the_payment(make_cart, superuser):
    payment = unmatched_payment(make_cart)

    order = lifecycle.resolve_payment(payment, superuser, "ordered", "Paid the rest in cash").order

    payment.refresh_from_db()
    assert order.cart_id is None and order.cart_reference == payment.cart_reference
    assert (order.site_id, order.user_id, order.total, order.currency) == (
        payment.site_id,
        None,
        payment.amount,
        payment.currency,
    )
    assert (order.customer_name, order.email) == (payment.customer_name, payment.customer_email)
    assert (order.paypal_order_id, order.paypal_capture_id) == (payment.paypal_order_id, "CAP-1")
    assert [(line["title"], line["quantity"]) for line in payment.paid_lines] == [
        (title, quantity) for _key, _sku, title, _price, quantity in order_facts(order)
    ]
    entry = ModelLogEntry.objects.get(action="wagtail_lockedcarts.order")
    assert entry.data["from_paid_snapshot"] is True and entry.data["override_reason"] == "Paid the rest in cash"
    assert entry.user == superuser


def events_of(attempt):
    return list(
        attempt.events.order_by("pk").values_list(
            "order_status", "capture_status", "capture_id", "amount", "currency", "reason"
        )
    )


def test_the_payment_record_keeps_paypals_facts_and_one_history_row_per_change(awaiting):
    attempt = PaymentAttempt.objects.get(cart=awaiting)
    pending = result_for(
        awaiting,
        PaymentOutcome.PENDING,
        paypal_status="COMPLETED",
        capture_id="CAP-1",
        capture_status="PENDING",
        currency="eur",
        status_reason="ECHECK",
        card_brand="VISA",
        card_last4="4242",
        payer_email="payer@example.com",
    )

    lifecycle.apply_payment_result(awaiting, pending)
    lifecycle.apply_payment_result(awaiting, pending)

    attempt.refresh_from_db()
    awaiting.refresh_from_db()
    assert (attempt.status, attempt.status_reason, attempt.capture_status, attempt.capture_id) == (
        PaymentAttemptStatus.PENDING,
        "ECHECK",
        "PENDING",
        "CAP-1",
    )
    assert (attempt.captured_amount, attempt.captured_currency) == (awaiting.amount, "eur")
    assert (attempt.card_brand, attempt.card_last4) == ("VISA", "4242")
    assert events_of(attempt) == [("COMPLETED", "PENDING", "CAP-1", awaiting.amount, "eur", "ECHECK")]
    assert (awaiting.paypal_status, awaiting.paypal_capture_status, awaiting.paypal_status_reason) == (
        "COMPLETED",
        "PENDING",
        "ECHECK",
    )
    assert (awaiting.paypal_capture_id, awaiting.card_brand, awaiting.card_last4, awaiting.payer_email) == (
        "CAP-1",
        "VISA",
        "4242",
        "payer@example.com",
    )

    lifecycle.apply_payment_result(
        awaiting,
        result_for(
            awaiting,
            PaymentOutcome.COMPLETED,
            paypal_status="COMPLETED",
            capture_id="CAP-1",
            capture_status="COMPLETED",
        ),
    )

    attempt.refresh_from_db()
    assert attempt.status == PaymentAttemptStatus.COMPLETED and attempt.status_reason == ""
    assert events_of(attempt)[1:] == [("COMPLETED", "COMPLETED", "CAP-1", awaiting.amount, "EUR", "")]


def test_a_new_captured_amount_alone_is_a_new_history_row(awaiting):
    attempt = PaymentAttempt.objects.get(cart=awaiting)
    first = result_for(
        awaiting,
        PaymentOutcome.UNKNOWN,
        paypal_status="COMPLETED",
        capture_id="C",
        capture_status="PARTIALLY_REFUNDED",
        amount=Decimal("5.00"),
    )

    lifecycle.apply_payment_result(awaiting, first)
    lifecycle.apply_payment_result(awaiting, PaymentResult(**{**first.__dict__, "amount": Decimal("5.000")}))
    lifecycle.apply_payment_result(awaiting, PaymentResult(**{**first.__dict__, "amount": Decimal("4.00")}))

    assert [event[3] for event in events_of(attempt)] == [Decimal("5.00"), Decimal("4.00")]


def test_no_answer_at_all_leaves_no_history_row(awaiting):
    attempt = PaymentAttempt.objects.get(cart=awaiting)

    outcome = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.UNKNOWN, amount=None))

    assert outcome.changed is False and events_of(attempt) == []
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttemptStatus.CREATED


def test_an_answer_about_an_earlier_checkout_does_not_overwrite_the_carts_paypal_facts(awaiting):
    stale = PaymentResult(
        outcome=PaymentOutcome.DECLINED,
        paypal_order_id="OLD-ORDER",
        paypal_status="VOIDED",
        capture_status="DECLINED",
        capture_id="OLD-CAP",
        card_brand="VISA",
        card_last4="1111",
        payer_email="old@example.com",
    )

    lifecycle.apply_payment_result(awaiting, stale)

    awaiting.refresh_from_db()
    assert awaiting.status == CartStatus.AWAITING_PAYMENT and awaiting.paypal_checked_at is not None
    assert (awaiting.paypal_status, awaiting.paypal_capture_status, awaiting.paypal_capture_id) == ("CREATED", "", "")
    assert (awaiting.card_last4, awaiting.payer_email) == ("", "")


# -- the admin actions' answers and audit entries, in detail ---------------------------------


def refusal(action, *args, **kwargs):
    with pytest.raises(InvalidTransition) as refused:
        action(*args, **kwargs)
    return str(refused.value.message)


def test_each_admin_action_refuses_with_a_sentence_that_says_why(make_cart):
    awaiting, ordered = make_cart(status=CartStatus.AWAITING_PAYMENT), make_cart(status=CartStatus.ORDERED)
    gone = make_cart(status=CartStatus.LOCKED)
    Cart.objects.filter(pk=gone.pk).delete()

    assert refusal(lifecycle.confirm_order, awaiting) == "Only locked carts can be confirmed as orders."
    assert refusal(lifecycle.unlock_cart, awaiting) == "Only locked carts can be unlocked."
    assert refusal(lifecycle.delete_cart, ordered) == (
        "Ordered carts and carts in the middle of a payment cannot be deleted."
    )
    assert refusal(lifecycle.confirm_order, gone) == "This cart no longer exists; it may have been deleted."
    assert refusal(lifecycle.unlock_cart, gone) == "This cart no longer exists; it may have been deleted."
    deleted = lifecycle.delete_cart(gone)
    assert (deleted.changed, str(deleted.message)) == (False, "This cart was already deleted.")
    again = lifecycle.confirm_order(ordered)
    assert (again.changed, str(again.message)) == (False, "This cart was already confirmed.")


def test_confirming_logs_the_cart_total_and_what_paypal_captured(make_cart, superuser):
    cart = make_cart(status=CartStatus.LOCKED)
    nothing_captured = make_cart(status=CartStatus.LOCKED, lines=[(1, 1)])
    lifecycle.apply_payment_result(
        cart,
        result_for(cart, PaymentOutcome.PENDING, capture_id="CAP-1", capture_status="PENDING", currency="EUR"),
    )

    order = lifecycle.confirm_order(cart, user=superuser, override_reason="ignored: the amounts match").order
    lifecycle.confirm_order(nothing_captured, user=superuser)

    entry = ModelLogEntry.objects.get(object_id=str(cart.pk), action="wagtail_lockedcarts.confirm")
    assert entry.data == {
        "order": order.pk,
        "order_status": "submitted",
        "cart_total": "12.50",
        "captured": "12.50",
        "captured_currency": "EUR",
    }
    assert order.amount_override_reason == "" and order.payment == PaymentAttempt.objects.get(cart=cart)
    other = ModelLogEntry.objects.get(object_id=str(nothing_captured.pk), action="wagtail_lockedcarts.confirm")
    assert (other.data["cart_total"], other.data["captured"]) == ("25.00", "")


def test_unlocking_cancels_the_payments_still_open_and_keeps_the_settled_ones(make_cart, superuser):
    cart = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN)
    current = PaymentAttempt.objects.get(cart=cart)
    settled = {
        status: PaymentAttempt.objects.create(cart=cart, amount=cart.amount, currency="EUR", status=status)
        for status in (PaymentAttemptStatus.DECLINED, PaymentAttemptStatus.COMPLETED)
    }
    still_open = {
        status: PaymentAttempt.objects.create(cart=cart, amount=cart.amount, currency="EUR", status=status)
        for status in (PaymentAttemptStatus.UNKNOWN, PaymentAttemptStatus.APPROVED)
    }

    outcome = lifecycle.unlock_cart(cart, user=superuser)

    assert outcome.changed is True
    current.refresh_from_db()
    assert current.status == PaymentAttemptStatus.CANCELLED
    for attempt in still_open.values():
        attempt.refresh_from_db()
        assert attempt.status == PaymentAttemptStatus.CANCELLED
    for status, attempt in settled.items():
        attempt.refresh_from_db()
        assert attempt.status == status
    entry = ModelLogEntry.objects.get(object_id=str(cart.pk), action="wagtail_lockedcarts.unlock")
    assert entry.user == superuser and entry.data == {"previous_reason": "no_return"}


def test_deleting_a_cart_paypal_holds_money_for_records_that_payment_in_the_snapshot(make_cart, superuser):
    cart = make_cart(status=CartStatus.LOCKED)
    lifecycle.apply_payment_result(
        cart,
        result_for(
            cart, PaymentOutcome.COMPLETED, capture_id="CAP-1", capture_status="COMPLETED", amount=Decimal("1.00")
        ),
    )

    outcome = lifecycle.delete_cart(cart, user=superuser, acknowledge_payment=True)

    assert outcome.changed and outcome.cart is None
    assert outcome.extra["snapshot"]["payment_at_paypal"] == {
        "paypal_order_id": cart.paypal_order_id,
        "amount": "1.00",
        "currency": "EUR",
        "capture_status": "COMPLETED",
    }
    entry = ModelLogEntry.objects.get(object_id=str(cart.pk), action="wagtail_lockedcarts.delete")
    assert entry.data["payment_at_paypal"]["amount"] == "1.00" and entry.user == superuser


# -- what each payment answer writes into the cart's history ---------------------------------


def entries_of(cart):
    return [
        (entry.action.rsplit(".", 1)[-1], entry.data)
        for entry in ModelLogEntry.objects.filter(object_id=str(cart.pk)).order_by("pk")
    ]


def test_a_lock_for_paypals_answer_records_what_paypal_said(awaiting):
    lifecycle.apply_payment_result(
        awaiting,
        result_for(
            awaiting,
            PaymentOutcome.COMPLETED,
            amount=Decimal("1.00"),
            paypal_status="COMPLETED",
            capture_status="COMPLETED",
            status_reason="",
        ),
    )

    assert entries_of(awaiting)[-1] == (
        "lock",
        {"reason": "amount_mismatch", "paypal_status": "COMPLETED", "capture_status": "COMPLETED", "status_reason": ""},
    )


def test_a_decline_reopens_a_waiting_cart_as_a_reconcile_and_a_locked_one_as_an_unlock(make_cart):
    waiting = make_cart(status=CartStatus.AWAITING_PAYMENT)
    locked = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN)

    for cart in (waiting, locked):
        outcome = lifecycle.apply_payment_result(
            cart, result_for(cart, PaymentOutcome.DECLINED, status_reason="INSTRUMENT_DECLINED")
        )
        cart.refresh_from_db()
        assert outcome.changed is True and cart.status == CartStatus.OPEN

    expected = {"paypal_outcome": "declined", "reason": "INSTRUMENT_DECLINED"}
    assert entries_of(waiting)[-1] == ("reconcile", expected)
    assert entries_of(locked)[-1] == ("unlock", expected)


def test_a_decline_changes_nothing_on_a_cart_an_admin_must_decide(make_cart):
    cart = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.AMOUNT_MISMATCH)
    before = entries_of(cart)

    outcome = lifecycle.apply_payment_result(cart, result_for(cart, PaymentOutcome.DECLINED))

    cart.refresh_from_db()
    assert outcome.changed is False and cart.status == CartStatus.LOCKED and entries_of(cart) == before


def test_a_completion_orders_a_cart_locked_for_lack_of_an_answer_but_not_one_an_admin_must_decide(make_cart):
    no_return = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN)
    superseded = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.SUPERSEDED_PAYMENT)

    ordered = lifecycle.apply_payment_result(no_return, result_for(no_return, PaymentOutcome.COMPLETED))
    refused = lifecycle.apply_payment_result(superseded, result_for(superseded, PaymentOutcome.COMPLETED))

    assert ordered.changed is True and ordered.order.status == OrderStatus.SUBMITTED
    assert entries_of(no_return)[-1] == ("reconcile", {"order": ordered.order.pk, "order_status": "submitted"})
    assert (refused.changed, str(refused.message)) == (False, "This cart needs an admin's decision.")
    superseded.refresh_from_db()
    assert superseded.status == CartStatus.LOCKED and not Order.objects.filter(cart=superseded).exists()


def test_a_completion_for_an_open_cart_orders_nothing(make_cart):
    cart = make_cart()
    cart.paypal_order_id = ""

    outcome = lifecycle.apply_payment_result(
        cart,
        PaymentResult(outcome=PaymentOutcome.COMPLETED, paypal_order_id="", amount=Decimal("12.50"), currency="EUR"),
    )

    cart.refresh_from_db()
    assert outcome.changed is False and cart.status == CartStatus.OPEN and not Order.objects.exists()


def test_a_pending_answer_after_a_no_return_lock_is_recorded_once_as_pending(make_cart):
    cart = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN)
    pending = result_for(cart, PaymentOutcome.PENDING, capture_status="PENDING")

    first = lifecycle.apply_payment_result(cart, pending)
    again = lifecycle.apply_payment_result(cart, pending)

    cart.refresh_from_db()
    assert (first.changed, again.changed) == (True, False)
    assert cart.lock_reason == LockReason.PENDING_PAYMENT
    assert [entry for entry in entries_of(cart) if entry[0] == "reconcile"] == [
        ("reconcile", {"lock_reason": "pending_payment", "paypal_status": "PENDING"})
    ]


def test_correcting_the_customer_of_an_open_cart_marks_it_updated_and_logs_an_edit(make_cart, superuser):
    cart = make_cart()
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now() - timedelta(days=1))

    lifecycle.update_customer(cart, user=superuser, customer_name="Grace Hopper")

    cart.refresh_from_db()
    assert cart.customer_name == "Grace Hopper"
    assert cart.updated_at > timezone.now() - timedelta(minutes=1)
    assert ModelLogEntry.objects.get(object_id=str(cart.pk), action="wagtail.edit").user == superuser


def test_only_the_customer_fields_may_be_corrected_and_only_on_an_open_cart(make_cart):
    with pytest.raises(ValueError):
        lifecycle.update_customer(make_cart(), status=CartStatus.ORDERED)
    locked = make_cart(status=CartStatus.LOCKED)

    assert refusal(lifecycle.update_customer, locked, customer_name="X") == (
        "The cart left the open state while you edited it; nothing was saved."
    )
    locked.refresh_from_db()
    assert locked.customer_name == ""


def test_every_history_entry_of_a_payment_answer_names_the_admin_who_asked(make_cart, cart_settings, superuser):
    paid, pending, mismatched = (make_cart(status=CartStatus.AWAITING_PAYMENT) for _ in range(3))
    cart_settings.pending_payment_policy = PendingPaymentPolicy.HOLD
    cart_settings.save()

    lifecycle.apply_payment_result(paid, result_for(paid, PaymentOutcome.COMPLETED), user=superuser)
    lifecycle.apply_payment_result(pending, result_for(pending, PaymentOutcome.PENDING), user=superuser)
    lifecycle.apply_payment_result(
        mismatched, result_for(mismatched, PaymentOutcome.COMPLETED, amount=Decimal("1.00")), user=superuser
    )

    entries = ModelLogEntry.objects.filter(timestamp__gte=paid.created_at).exclude(
        action="wagtail_lockedcarts.checkout"
    )
    assert {entry.action.rsplit(".", 1)[-1] for entry in entries} >= {"order", "reconcile", "lock"}
    assert {entry.user for entry in entries} == {superuser}


def test_the_settings_that_apply_are_the_carts_sites_or_the_given_sites(make_cart, cart_settings, site):
    from wagtail.models import Page, Site

    from wagtail_lockedcarts.models import LockedCartSettings

    home = Page.get_first_root_node().add_child(instance=Page(title="Other", slug="other-shop"))
    other = Site.objects.create(hostname="other.example.com", port=80, root_page=home)
    other_settings = LockedCartSettings.for_site(other)
    cart = make_cart()

    assert lifecycle.settings_for(cart).pk == cart_settings.pk
    assert lifecycle.settings_for(site).pk == cart_settings.pk
    assert lifecycle.settings_for(other).pk == other_settings.pk != cart_settings.pk
    assert lifecycle.settings_for(None).pk == cart_settings.pk


@pytest.mark.parametrize(("exported", "flag"), [(True, True), (False, False)])
def test_money_taken_back_after_an_order_marks_it_reversed_and_says_whether_it_was_exported(make_cart, exported, flag):
    cart = make_cart(status=CartStatus.ORDERED)
    order = Order.objects.get(cart=cart)
    if exported:
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.EXPORTED)

    outcome = lifecycle.apply_payment_result(
        cart,
        result_for(cart, PaymentOutcome.REVERSED, capture_status="REFUNDED", status_reason="BUYER_COMPLAINT"),
    )

    order.refresh_from_db()
    assert outcome.changed is True and outcome.order == order
    assert (order.status, order.payment_problem, order.exported_before_problem) == (
        OrderStatus.PAYMENT_REVERSED,
        "REFUNDED (BUYER_COMPLAINT)",
        flag,
    )
    assert order.payment_problem_at is not None


def test_an_answer_for_a_deleted_cart_says_the_cart_is_gone(make_cart):
    cart = make_cart(status=CartStatus.LOCKED)
    result = result_for(cart, PaymentOutcome.DECLINED)
    lifecycle.delete_cart(cart)

    outcome = lifecycle.apply_payment_result(None, result)

    assert (outcome.cart, outcome.changed, str(outcome.message)) == (None, False, "The cart no longer exists.")


def test_money_taken_back_reverses_only_the_order_it_paid_for(awaiting, make_cart):
    completed = result_for(awaiting, PaymentOutcome.COMPLETED, capture_id="CAP-1", capture_status="COMPLETED")
    lifecycle.apply_payment_result(awaiting, completed)
    paid = awaiting
    other = make_cart(status=CartStatus.ORDERED)
    Order.objects.filter(cart=other).update(payment=None)  # newer, from before payment records (0.1)

    lifecycle.apply_payment_result(paid, result_for(paid, PaymentOutcome.REVERSED, capture_status="REFUNDED"))

    statuses = dict(Order.objects.values_list("cart_id", "status"))
    assert statuses == {paid.pk: OrderStatus.PAYMENT_REVERSED, other.pk: OrderStatus.SUBMITTED}


def test_an_answer_that_changes_nothing_still_names_the_carts_order(make_cart):
    cart = make_cart(status=CartStatus.ORDERED)

    outcome = lifecycle.apply_payment_result(cart, result_for(cart, PaymentOutcome.UNKNOWN))

    assert (outcome.changed, outcome.order) == (False, Order.objects.get(cart=cart))


# --------------------------------------------------------------------------------------------
# edges a fresh mutation sample (seed 20) found unchecked


def test_a_failure_that_loses_the_compare_and_set_reports_no_change_and_writes_no_history(awaiting):
    Cart.objects.filter(pk=awaiting.pk).update(status=CartStatus.OPEN)  # moved on behind this object
    before = actions_for(awaiting.pk)

    outcome = lifecycle._on_failed(awaiting, result_for(awaiting, PaymentOutcome.DECLINED), current=True, user=None)

    assert outcome.changed is False
    assert actions_for(awaiting.pk) == before


def test_locking_a_cart_deleted_meanwhile_changes_nothing(make_cart):
    cart = make_cart(status=CartStatus.AWAITING_PAYMENT)
    Cart.objects.filter(pk=cart.pk).delete()

    outcome = lifecycle.lock_cart(cart, LockReason.NO_RETURN)

    assert (outcome.cart, outcome.changed) == (None, False)


def test_the_history_tells_an_admins_export_retry_from_the_export_itself(make_cart, settings, superuser):
    from tests import exporters

    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "ORDER_EXPORTER": "tests.exporters.failing"}
    order = lifecycle.confirm_order(make_cart(status=CartStatus.LOCKED)).order
    with pytest.raises(ConnectionError):
        lifecycle.export_order(order.pk)
    assert lifecycle.retry_export(order, user=superuser).order == order
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "ORDER_EXPORTER": "tests.exporters.recording"}
    exporters.exported.clear()
    assert lifecycle.export_order(order.pk) is True

    entries = ModelLogEntry.objects.filter(action=lifecycle.LOG_EXPORT, object_id=str(order.pk)).order_by("pk")
    assert [(entry.user, entry.data) for entry in entries] == [
        (superuser, {"retry": True}),
        (None, {"status": "exported"}),
    ]


def test_stale_checkouts_come_oldest_checkout_first_then_by_cart_number(stale_checkout):
    newer = stale_checkout(minutes_ago=200)
    oldest = stale_checkout(minutes_ago=300)
    tie_low, tie_high = stale_checkout(minutes_ago=250), stale_checkout(minutes_ago=250)
    started = timezone.now() - timedelta(minutes=250)
    # the lower cart number written last: on PostgreSQL its row now comes after the other's
    Cart.objects.filter(pk=tie_high.pk).update(checkout_started_at=started)
    Cart.objects.filter(pk=tie_low.pk).update(checkout_started_at=started)

    assert list(lifecycle.stale_checkouts().values_list("pk", flat=True)) == [
        oldest.pk,
        tie_low.pk,
        tie_high.pk,
        newer.pk,
    ]


def test_an_order_made_from_a_deleted_carts_payment_keeps_the_payments_card(make_cart, superuser):
    cart = make_cart(status=CartStatus.LOCKED)
    paid = result_for(
        cart,
        PaymentOutcome.COMPLETED,
        capture_id="CAP-9",
        capture_status="COMPLETED",
        card_brand="VISA",
        card_last4="4242",
    )
    lifecycle.apply_payment_result(cart, replace(paid, amount=Decimal("1.00")))
    lifecycle.delete_cart(cart, acknowledge_payment=True)

    order = lifecycle.resolve_payment(PaymentAttempt.objects.unmatched().get(), superuser, "ordered", "Paid").order

    assert (order.card_brand, order.card_last4) == ("VISA", "4242")


def test_changing_a_line_marks_the_cart_updated(make_cart, shop):
    cart = make_cart(lines=[(0, 1)])
    long_ago = timezone.now() - timedelta(days=3)
    Cart.objects.filter(pk=cart.pk).update(updated_at=long_ago)

    lifecycle.add_line(cart, shop[1].cart_key, 1)

    assert Cart.objects.get(pk=cart.pk).updated_at > long_ago + timedelta(days=2)


def test_without_a_payment_the_amount_check_names_no_captured_currency(make_cart):
    check = lifecycle.amount_check(make_cart(status=CartStatus.LOCKED))

    assert (check.payment, check.captured, check.captured_currency) == (None, None, "")


def test_every_signal_carries_what_signals_py_promises(make_cart, superuser, django_capture_on_commit_callbacks):
    """Integrators read these keyword arguments (wagtail_lockedcarts/signals.py): each is checked
    by value, so a transition that sends the wrong cart, user, reason or order is caught."""
    received = []

    def record(signal_name):
        def receiver(sender, signal, **kwargs):
            received.append((signal_name, sender, kwargs))

        return receiver

    names = ("cart_locked", "cart_unlocked", "order_created", "cart_deleted", "order_submitted")
    receivers = {name: record(name) for name in names}
    for name in names:
        getattr(signals, name).connect(receivers[name])
    try:
        with django_capture_on_commit_callbacks(execute=True):
            unlocked, ordered, deleted = (make_cart(status=CartStatus.AWAITING_PAYMENT) for _ in range(3))
            lifecycle.lock_cart(unlocked, LockReason.NO_RETURN, user=superuser)
            lifecycle.unlock_cart(unlocked, superuser)
            lifecycle.lock_cart(ordered, LockReason.PENDING_PAYMENT)
            order = lifecycle.confirm_order(ordered, superuser).order
            lifecycle.lock_cart(deleted, LockReason.NO_RETURN)
            snapshot = lifecycle.delete_cart(deleted, superuser).extra["snapshot"]
    finally:
        for name in names:
            getattr(signals, name).disconnect(receivers[name])

    def cart_pk(kwargs):
        return {key: getattr(value, "pk", value) for key, value in kwargs.items()}

    assert [(name, sender, cart_pk(kwargs)) for name, sender, kwargs in received] == [
        ("cart_locked", Cart, {"cart": unlocked.pk, "reason": LockReason.NO_RETURN}),
        ("cart_unlocked", Cart, {"cart": unlocked.pk, "user": superuser.pk}),
        ("cart_locked", Cart, {"cart": ordered.pk, "reason": LockReason.PENDING_PAYMENT}),
        ("order_created", Order, {"order": order.pk, "cart": ordered.pk, "user": superuser.pk}),
        ("order_submitted", Order, {"order_id": order.pk}),
        ("cart_locked", Cart, {"cart": deleted.pk, "reason": LockReason.NO_RETURN}),
        ("cart_deleted", Cart, {"cart_id": deleted.pk, "snapshot": snapshot, "user": superuser.pk}),
    ]


# --------------------------------------------------------------------------------------------
# survivors of a fresh lifecycle sample (seed 22)


@pytest.mark.parametrize("quantity", [-1, 1000])
def test_a_quantity_out_of_range_is_refused_with_the_range(make_cart, quantity):
    cart = make_cart(lines=[(0, 1)])
    with pytest.raises(InvalidTransition) as refused:
        lifecycle.update_line(cart, cart.lines.get().pk, quantity)
    assert str(refused.value.message) == "Choose a quantity between 0 and 999."
    assert cart.lines.get().quantity == 1


def test_unlocking_a_cart_cancels_only_its_own_open_payments(make_cart, superuser):
    locked = make_cart(status=CartStatus.LOCKED)
    waiting = make_cart(status=CartStatus.AWAITING_PAYMENT)
    theirs = PaymentAttempt.objects.get(cart=waiting)
    before = theirs.status

    lifecycle.unlock_cart(locked, superuser)

    assert PaymentAttempt.objects.get(pk=theirs.pk).status == before
    assert set(PaymentAttempt.objects.filter(cart=locked).values_list("status", flat=True)) == {
        PaymentAttemptStatus.CANCELLED
    }


def test_unlocking_gives_back_the_cart_at_its_line_total(make_cart, superuser):
    cart = make_cart(status=CartStatus.LOCKED, lines=[(0, 2)])
    Cart.objects.filter(pk=cart.pk).update(amount=Decimal("1.00"), stored_total=Decimal("1.00"))

    outcome = lifecycle.unlock_cart(cart, superuser)

    assert outcome.cart.stored_total == Decimal("25.00")  # the object handed back, not only the row


def test_an_admins_lock_names_the_admin_in_the_history(make_cart, superuser):
    cart = make_cart(status=CartStatus.AWAITING_PAYMENT)

    lifecycle.lock_cart(cart, LockReason.NO_RETURN, user=superuser)

    assert ModelLogEntry.objects.get(action=lifecycle.LOG_LOCK, object_id=str(cart.pk)).user == superuser


def test_money_taken_back_at_an_admins_check_names_the_admin_in_the_orders_history(make_cart, superuser):
    cart = make_cart(status=CartStatus.ORDERED)
    order = Order.objects.get(cart=cart)

    lifecycle.apply_payment_result(
        cart, result_for(cart, PaymentOutcome.REVERSED, capture_status="REFUNDED"), user=superuser
    )

    entry = ModelLogEntry.objects.get(action=lifecycle.LOG_PAYMENT_REVERSED, object_id=str(order.pk))
    assert entry.user == superuser


def test_a_checkouts_payment_record_names_the_customer(make_cart):
    cart = make_cart(customer_name="Ada Lovelace", customer_email="ada@example.com")

    attempt = lifecycle.begin_checkout(cart)

    assert (attempt.customer_name, attempt.customer_email) == ("Ada Lovelace", "ada@example.com")
    assert PaymentAttempt.objects.filter(pk=attempt.pk, customer_name="Ada Lovelace").exists()


def test_a_customer_correction_is_logged_as_a_content_change(make_cart, superuser):
    cart = make_cart()

    lifecycle.update_customer(cart, superuser, customer_name="Grace Hopper")

    assert ModelLogEntry.objects.get(action="wagtail.edit", object_id=str(cart.pk)).content_changed is True


def test_the_sweep_signals_each_cart_it_locked(stale_checkout, django_capture_on_commit_callbacks):
    stale = [stale_checkout(minutes_ago=500), stale_checkout(minutes_ago=400)]
    received = []

    def record(sender, cart, reason, **kwargs):
        received.append((cart.pk, reason))

    signals.cart_locked.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.lock_stale_checkouts()
    finally:
        signals.cart_locked.disconnect(record)
    assert sorted(received) == sorted((cart.pk, LockReason.NO_RETURN) for cart in stale)


# -- what the seed-23 mutation sample found unchecked ---------------------------------------------


def test_a_deleted_carts_snapshot_keeps_its_status_and_lock_reason(make_cart, superuser):
    cart = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN)

    lifecycle.delete_cart(cart, user=superuser)

    entry = ModelLogEntry.objects.get(object_id=str(cart.pk), action="wagtail_lockedcarts.delete")
    assert (entry.data["status"], entry.data["lock_reason"]) == (CartStatus.LOCKED, LockReason.NO_RETURN)


def test_merging_a_cart_into_itself_changes_nothing(make_cart):
    cart = make_cart(lines=[(0, 2)])

    assert lifecycle.merge_carts(cart, cart) == cart

    assert list(cart.lines.values_list("quantity", flat=True)) == [2]


def test_aborting_a_checkout_without_a_reason_records_none(awaiting):
    lifecycle.abort_checkout(awaiting)

    attempt = PaymentAttempt.objects.get(cart=awaiting)
    assert (attempt.status, attempt.status_reason) == (PaymentAttemptStatus.FAILED, "")


def test_aborting_a_checkout_no_longer_waiting_hands_back_the_cart_as_it_is(make_cart):
    locked = make_cart(status=CartStatus.LOCKED)

    outcome = lifecycle.abort_checkout(locked)

    assert outcome.changed is False and outcome.cart.pk == locked.pk and outcome.cart.status == CartStatus.LOCKED


def test_a_pending_lock_records_paypals_statuses_in_the_history(awaiting):
    lifecycle.apply_payment_result(
        awaiting,
        result_for(
            awaiting,
            PaymentOutcome.PENDING,
            paypal_status="COMPLETED",
            capture_status="PENDING",
            status_reason="ECHECK",
        ),
    )

    entry = ModelLogEntry.objects.get(object_id=str(awaiting.pk), action="wagtail_lockedcarts.lock")
    assert entry.data == {
        "reason": LockReason.PENDING_PAYMENT,
        "paypal_status": "COMPLETED",
        "capture_status": "PENDING",
        "status_reason": "ECHECK",
    }


def test_an_unmatched_payment_without_paid_lines_cannot_become_an_order_and_says_why(make_cart, superuser):
    payment = unmatched_payment(make_cart)
    PaymentAttempt.objects.filter(pk=payment.pk).update(paid_lines=[])

    with pytest.raises(InvalidTransition) as refused:
        lifecycle.resolve_payment(payment, superuser, "ordered", "Make it an order")

    assert str(refused.value.message) == "This payment has no snapshot of lines to make an order from."
    assert not Order.objects.exists() and list(PaymentAttempt.objects.unmatched()) == [payment]


def test_an_unmatched_payment_for_its_own_amount_becomes_an_order_without_an_override(make_cart, superuser):
    payment = unmatched_payment(make_cart)
    PaymentAttempt.objects.filter(pk=payment.pk).update(captured_amount=payment.amount)

    order = lifecycle.resolve_payment(payment, superuser, "ordered", "The shopper asked us to ship it").order

    assert order.total == payment.amount and order.amount_override_reason == ""


def test_releasing_an_order_deleted_meanwhile_says_it_no_longer_exists(awaiting, cart_settings):
    cart_settings.pending_payment_policy = PendingPaymentPolicy.HOLD
    cart_settings.save()
    order = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.PENDING)).order
    Order.objects.filter(pk=order.pk).delete()

    with pytest.raises(InvalidTransition) as refused:
        lifecycle.release_order(order)

    assert str(refused.value.message) == "This order no longer exists."


def test_releasing_an_order_names_the_admin_and_hands_back_the_order(awaiting, cart_settings, superuser):
    cart_settings.pending_payment_policy = PendingPaymentPolicy.HOLD
    cart_settings.save()
    order = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.PENDING)).order

    outcome = lifecycle.release_order(order, user=superuser, reason="cleared by phone")

    assert outcome.changed and outcome.order == order and outcome.order.status == OrderStatus.SUBMITTED
    entry = ModelLogEntry.objects.get(object_id=str(order.pk), action="wagtail_lockedcarts.release")
    assert entry.user == superuser and entry.data == {"reason": "cleared by phone"}


def test_exporting_again_an_order_that_is_not_submitted_is_refused_with_the_reason(make_cart):
    order = lifecycle.confirm_order(make_cart(status=CartStatus.LOCKED)).order
    lifecycle.export_order(order.pk)

    with pytest.raises(InvalidTransition) as refused:
        lifecycle.retry_export(order)

    assert str(refused.value.message) == "Only submitted orders can be exported again."


def test_a_reopened_cart_forgets_when_its_checkout_started(awaiting):
    lifecycle.abort_checkout(awaiting)

    awaiting.refresh_from_db()
    assert awaiting.status == CartStatus.OPEN and awaiting.checkout_started_at is None


def test_a_payment_for_an_earlier_checkout_found_by_an_admin_names_the_admin_in_the_lock(make_cart, shop, superuser):
    cart = make_cart(status=CartStatus.AWAITING_PAYMENT)
    old = result_for(cart, PaymentOutcome.COMPLETED)
    lifecycle.apply_payment_result(cart, result_for(cart, PaymentOutcome.CANCELLED))

    lifecycle.apply_payment_result(cart, old, user=superuser)

    entry = ModelLogEntry.objects.get(object_id=str(cart.pk), action="wagtail_lockedcarts.lock")
    assert entry.user == superuser and entry.data["reason"] == LockReason.SUPERSEDED_PAYMENT


def test_completion_releases_an_order_on_hold_and_says_the_payment_completed(awaiting, cart_settings):
    cart_settings.pending_payment_policy = PendingPaymentPolicy.HOLD
    cart_settings.save()
    order = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.PENDING)).order

    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED))

    entry = ModelLogEntry.objects.get(object_id=str(order.pk), action="wagtail_lockedcarts.release")
    assert entry.data == {"reason": "payment_completed"}


def test_a_completed_payment_hands_back_its_cart_and_order(awaiting):
    outcome = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED))

    assert outcome.changed is True and outcome.cart.pk == awaiting.pk and outcome.cart.status == CartStatus.ORDERED
    assert outcome.order == Order.objects.get(cart=awaiting)


def test_paypals_ids_and_payer_email_are_cut_to_what_the_records_hold(awaiting):
    """SQLite would keep a longer value; PostgreSQL would refuse the whole answer."""
    long_email = "p" * 250 + "@example.com"
    lifecycle.apply_payment_result(
        awaiting,
        result_for(
            awaiting, PaymentOutcome.PENDING, capture_status="PENDING", capture_id="C" * 80, payer_email=long_email
        ),
    )

    attempt = PaymentAttempt.objects.get(cart=awaiting)
    awaiting.refresh_from_db()
    assert attempt.capture_id == "C" * 64
    assert awaiting.payer_email == long_email[:254]


def test_an_answer_without_a_capture_records_no_amount_in_the_payments_history(awaiting):
    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.UNKNOWN, paypal_status="APPROVED"))

    event = PaymentAttempt.objects.get(cart=awaiting).events.get()
    assert (event.order_status, event.capture_status, event.amount, event.currency) == ("APPROVED", "", None, "")


def test_an_order_linked_only_by_its_paypal_order_id_still_follows_money_taken_back(make_cart):
    """Orders made before payments were linked to them carry only PayPal's order id."""
    cart = make_cart(status=CartStatus.ORDERED)
    order = Order.objects.get(cart=cart)
    Order.objects.filter(pk=order.pk).update(payment=None)

    lifecycle.apply_payment_result(cart, result_for(cart, PaymentOutcome.REVERSED, capture_status="REFUNDED"))

    order.refresh_from_db()
    assert (order.status, order.payment_problem) == (OrderStatus.PAYMENT_REVERSED, "REFUNDED")


def test_money_taken_back_is_in_the_orders_history_with_what_paypal_said(make_cart):
    cart = make_cart(status=CartStatus.ORDERED)
    order = Order.objects.get(cart=cart)

    lifecycle.apply_payment_result(
        cart, result_for(cart, PaymentOutcome.REVERSED, capture_status="REVERSED", status_reason="CHARGEBACK")
    )

    entry = ModelLogEntry.objects.get(object_id=str(order.pk), action="wagtail_lockedcarts.payment_reversed")
    assert entry.data == {
        "previous_status": OrderStatus.SUBMITTED,
        "capture_status": "REVERSED",
        "reason": "CHARGEBACK",
    }


def test_an_order_made_from_the_live_cart_keeps_each_lines_details(make_cart):
    cart = make_cart(status=CartStatus.LOCKED, lines=[(0, 2), (2, 1)])
    PaymentAttempt.objects.filter(cart=cart).update(paid_lines=[])

    order = lifecycle.confirm_order(cart).order

    assert sorted(order.lines.values_list("sku", "title", "unit_price", "quantity")) == sorted(
        cart.lines.values_list("sku", "title", "unit_price", "quantity")
    )


def test_every_status_change_counts_up_the_carts_stored_version(make_cart):
    cart = make_cart()
    versions = [Cart.objects.get(pk=cart.pk).version]

    lifecycle.begin_checkout(cart)
    versions.append(Cart.objects.get(pk=cart.pk).version)
    lifecycle.lock_cart(cart, LockReason.NO_RETURN)
    versions.append(Cart.objects.get(pk=cart.pk).version)

    assert versions == [versions[0], versions[0] + 1, versions[0] + 2]


@pytest.mark.parametrize(("unit_price", "accepted"), [("0.00", False), ("0.50", True), ("1.00", True)])
def test_only_a_cart_worth_something_can_be_checked_out(make_cart, unit_price, accepted):
    cart = make_cart(lines=[(0, 1)])
    CartLine.objects.filter(cart=cart).update(unit_price=Decimal(unit_price))

    if accepted:
        assert lifecycle.begin_checkout(cart).amount == Decimal(unit_price)
    else:
        with pytest.raises(EmptyCart):
            lifecycle.begin_checkout(cart)
        cart.refresh_from_db()
        assert cart.status == CartStatus.OPEN


def test_a_new_checkout_forgets_what_paypal_said_about_the_last_one(awaiting):
    lifecycle.apply_payment_result(
        awaiting,
        result_for(
            awaiting,
            PaymentOutcome.DECLINED,
            paypal_status="COMPLETED",
            capture_status="DECLINED",
            status_reason="INSTRUMENT_DECLINED",
        ),
    )
    awaiting.refresh_from_db()
    assert awaiting.status == CartStatus.OPEN and awaiting.paypal_status_reason == "INSTRUMENT_DECLINED"

    lifecycle.begin_checkout(awaiting)

    awaiting.refresh_from_db()
    assert (awaiting.paypal_status, awaiting.paypal_capture_status, awaiting.paypal_status_reason) == ("", "", "")


def test_a_checkout_is_recorded_with_its_site_amount_and_currency(make_cart):
    """The payment record outlives a deleted cart: it must still say which site it belongs to."""
    cart = make_cart(lines=[(0, 2)])

    attempt = lifecycle.begin_checkout(cart)

    assert PaymentAttempt.objects.get(pk=attempt.pk).site_id == cart.site_id is not None
    entry = ModelLogEntry.objects.get(object_id=str(cart.pk), action="wagtail_lockedcarts.checkout")
    assert entry.data == {"amount": "25.00", "currency": "EUR"}


@pytest.mark.parametrize("quantity", [0, 1000])
def test_adding_a_quantity_out_of_range_is_refused_with_the_range(make_cart, shop, quantity):
    cart = make_cart(lines=[(0, 1)])

    with pytest.raises(InvalidTransition) as refused:
        lifecycle.add_line(cart, shop[1].cart_key, quantity)

    assert str(refused.value.message) == "Choose a quantity between 1 and 999."
    assert list(cart.lines.values_list("quantity", flat=True)) == [1]


def test_adding_to_a_cart_deleted_meanwhile_says_it_no_longer_exists(make_cart, shop):
    cart = make_cart(lines=[(0, 1)])
    Cart.objects.filter(pk=cart.pk).delete()

    with pytest.raises(InvalidTransition) as refused:
        lifecycle.add_line(cart, shop[1].cart_key, 1)

    assert str(refused.value.message) == "That cart no longer exists."


# -- what the seed-24 mutation sample found unchecked ---------------------------------------------


def test_the_sweeps_lock_entries_belong_to_each_carts_history(stale_checkout):
    cart = stale_checkout(minutes_ago=500)

    lifecycle.lock_stale_checkouts()

    assert "wagtail_lockedcarts.lock" in ModelLogEntry.objects.for_instance(cart).values_list("action", flat=True)


def test_a_completion_found_by_an_admin_names_the_admin_in_the_release(awaiting, cart_settings, superuser):
    cart_settings.pending_payment_policy = PendingPaymentPolicy.HOLD
    cart_settings.save()
    order = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.PENDING)).order

    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED), user=superuser)

    assert ModelLogEntry.objects.get(object_id=str(order.pk), action="wagtail_lockedcarts.release").user == superuser


def test_a_repeated_completion_of_an_ordered_cart_changes_nothing_and_hands_back_its_order(awaiting):
    order = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED)).order

    again = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED))

    assert again.changed is False and again.order == order and again.cart.pk == awaiting.pk


def test_a_decline_that_cannot_reopen_the_cart_hands_it_back_unchanged(awaiting):
    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED, amount=Decimal("2")))

    outcome = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.DECLINED))

    assert outcome.changed is False and outcome.cart.pk == awaiting.pk
    assert outcome.cart.lock_reason == LockReason.AMOUNT_MISMATCH


def test_a_decline_found_by_an_admin_names_the_admin_when_it_reopens_the_cart(awaiting, superuser):
    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.DECLINED), user=superuser)

    entry = ModelLogEntry.objects.filter(object_id=str(awaiting.pk), action="wagtail_lockedcarts.reconcile").last()
    assert entry.user == superuser and entry.data["paypal_outcome"] == PaymentOutcome.DECLINED


def test_a_pending_payment_follows_the_policy_of_its_carts_own_site(make_cart, cart_settings):
    from wagtail.models import Page, Site

    from wagtail_lockedcarts.models import LockedCartSettings

    home = Page.get_first_root_node().add_child(instance=Page(title="Other", slug="other-shop"))
    other = Site.objects.create(hostname="other.example.com", port=80, root_page=home)
    other_settings = LockedCartSettings.for_site(other)
    other_settings.pending_payment_policy = PendingPaymentPolicy.HOLD
    other_settings.save()
    cart = make_cart(status=CartStatus.AWAITING_PAYMENT)
    Cart.objects.filter(pk=cart.pk).update(site=other)
    cart.refresh_from_db()

    outcome = lifecycle.apply_payment_result(cart, result_for(cart, PaymentOutcome.PENDING))

    assert cart_settings.pending_payment_policy == PendingPaymentPolicy.LOCK
    assert outcome.order is not None and outcome.order.status == OrderStatus.ON_HOLD


def test_a_repeated_pending_answer_for_a_cart_locked_for_it_hands_back_the_cart(awaiting):
    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.PENDING))

    again = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.PENDING))

    assert again.changed is False and again.cart.pk == awaiting.pk and again.cart.status == CartStatus.LOCKED


def test_paypals_statuses_and_reasons_are_cut_to_the_columns(make_cart, awaiting):
    cart = make_cart(status=CartStatus.ORDERED)
    order = Order.objects.get(cart=cart)

    lifecycle.apply_payment_result(
        cart, result_for(cart, PaymentOutcome.REVERSED, capture_status="REFUNDED", status_reason="X" * 70)
    )
    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.UNKNOWN, capture_status="C" * 40))

    order.refresh_from_db()
    awaiting.refresh_from_db()
    assert order.payment_problem == ("REFUNDED (" + "X" * 70)[:64]
    assert awaiting.paypal_capture_status == "C" * 32


def test_the_amount_check_names_the_payment_it_compared(make_cart):
    cart = make_cart(status=CartStatus.LOCKED)
    lifecycle.apply_payment_result(
        cart, result_for(cart, PaymentOutcome.COMPLETED, capture_status="COMPLETED", amount=Decimal("1.00"))
    )

    assert lifecycle.amount_check(cart).payment == PaymentAttempt.objects.get(cart=cart)


def test_locking_an_already_locked_cart_changes_nothing(make_cart):
    cart = make_cart(status=CartStatus.LOCKED)

    outcome = lifecycle.lock_cart(cart, LockReason.NO_RETURN)

    assert outcome.changed is False and outcome.cart.pk == cart.pk


def test_releasing_an_order_not_on_hold_says_so(make_cart):
    order = lifecycle.confirm_order(make_cart(status=CartStatus.LOCKED)).order

    outcome = lifecycle.release_order(order)

    assert outcome.changed is False and str(outcome.message) == "This order is not on hold."


def test_a_deleted_carts_snapshot_keeps_its_currency_and_capture(make_cart, superuser):
    cart = make_cart(status=CartStatus.LOCKED)
    Cart.objects.filter(pk=cart.pk).update(paypal_capture_id="CAP-9")

    lifecycle.delete_cart(cart, user=superuser, acknowledge_payment=True)

    entry = ModelLogEntry.objects.get(object_id=str(cart.pk), action="wagtail_lockedcarts.delete")
    assert (entry.data["currency"], entry.data["paypal_capture_id"]) == ("EUR", "CAP-9")
