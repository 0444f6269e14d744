"""The guards between "PayPal said something" and money or orders moving.

Each test here pins one rule that a realistic one-line bug would break while every other test
still passed (see docs/mutation-testing.md): amounts are checked for pending as well as completed
payments, answers about a checkout the cart has left never touch its current one, and a
checkout is stale exactly when its site's timeout has passed.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.lifecycle import PaymentOutcome, PaymentResult
from wagtail_lockedcarts.models import (
    Cart,
    CartStatus,
    LockReason,
    Order,
    OrderStatus,
    PendingPaymentPolicy,
)
from wagtail_lockedcarts.models.validators import clean_card, clean_payer_email, validate_card_brand

pytestmark = pytest.mark.django_db


def result_for(cart, outcome, paypal_order_id=None, **kwargs):
    kwargs.setdefault("amount", cart.amount)
    kwargs.setdefault("currency", cart.currency)
    return PaymentResult(outcome=outcome, paypal_order_id=paypal_order_id or cart.paypal_order_id, **kwargs)


def use_policy(cart_settings, policy):
    cart_settings.pending_payment_policy = policy
    cart_settings.save()


@pytest.fixture
def awaiting(make_cart):
    return make_cart(status=CartStatus.AWAITING_PAYMENT, lines=[(0, 2), (1, 1)])


# -- amounts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [PendingPaymentPolicy.LOCK, PendingPaymentPolicy.HOLD])
@pytest.mark.parametrize("amount, currency", [(Decimal("49.99"), "EUR"), (Decimal("50.00"), "USD")])
def test_a_pending_payment_for_another_amount_locks_for_an_admin_under_either_policy(
    awaiting, cart_settings, policy, amount, currency
):
    use_policy(cart_settings, policy)

    outcome = lifecycle.apply_payment_result(
        awaiting, result_for(awaiting, PaymentOutcome.PENDING, amount=amount, currency=currency)
    )

    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.lock_reason) == (CartStatus.LOCKED, LockReason.AMOUNT_MISMATCH)
    assert outcome.order is None and not Order.objects.exists()


def test_a_completion_for_another_amount_does_not_release_an_order_on_hold(awaiting, cart_settings):
    use_policy(cart_settings, PendingPaymentPolicy.HOLD)
    held = lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.PENDING)).order
    assert held.status == OrderStatus.ON_HOLD

    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED, amount=Decimal("1.00")))
    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED, currency="USD"))

    held.refresh_from_db()
    assert held.status == OrderStatus.ON_HOLD and held.submitted_at is None
    lifecycle.apply_payment_result(awaiting, result_for(awaiting, PaymentOutcome.COMPLETED))
    held.refresh_from_db()
    assert held.status in (OrderStatus.SUBMITTED, OrderStatus.EXPORTED)


# -- answers about a checkout the cart has left -----------------------------------------------------


@pytest.mark.parametrize("outcome", [PaymentOutcome.DECLINED, PaymentOutcome.CANCELLED])
def test_a_decline_for_an_earlier_checkout_leaves_the_current_one_alone(make_cart, outcome):
    cart = make_cart(status=CartStatus.AWAITING_PAYMENT)
    earlier = cart.paypal_order_id
    lifecycle.apply_payment_result(cart, result_for(cart, PaymentOutcome.CANCELLED))
    attempt = lifecycle.begin_checkout(cart)
    lifecycle.attach_paypal_order(attempt, f"PAYPAL-{cart.pk}-{attempt.pk}-again")
    cart.refresh_from_db()
    current = (cart.status, cart.paypal_order_id, cart.amount)

    changed = lifecycle.apply_payment_result(cart, result_for(cart, outcome, paypal_order_id=earlier)).changed

    cart.refresh_from_db()
    assert not changed
    assert (cart.status, cart.paypal_order_id, cart.amount) == current
    assert cart.status == CartStatus.AWAITING_PAYMENT


@pytest.mark.parametrize("outcome", [PaymentOutcome.DECLINED, PaymentOutcome.CANCELLED])
def test_a_decline_for_an_earlier_checkout_does_not_unlock_the_current_one(make_cart, outcome):
    cart = make_cart(status=CartStatus.AWAITING_PAYMENT)
    earlier = cart.paypal_order_id
    lifecycle.apply_payment_result(cart, result_for(cart, PaymentOutcome.CANCELLED))
    attempt = lifecycle.begin_checkout(cart)
    lifecycle.attach_paypal_order(attempt, f"PAYPAL-{cart.pk}-{attempt.pk}-again")
    lifecycle.lock_cart(cart, LockReason.NO_RETURN)

    lifecycle.apply_payment_result(cart, result_for(cart, outcome, paypal_order_id=earlier))

    cart.refresh_from_db()
    assert (cart.status, cart.lock_reason) == (CartStatus.LOCKED, LockReason.NO_RETURN)


# -- the checkout timeout, on both sides of the boundary -------------------------------------------


def test_a_checkout_is_stale_exactly_when_its_timeout_has_passed(make_cart, cart_settings):
    now = timezone.now()
    timeout = timedelta(minutes=cart_settings.checkout_timeout_minutes)
    ages = {
        "just_under": timeout - timedelta(seconds=1),
        "exactly": timeout,
        "just_over": timeout + timedelta(seconds=1),
    }
    carts = {}
    for name, age in ages.items():
        cart = make_cart(status=CartStatus.AWAITING_PAYMENT)
        Cart.objects.filter(pk=cart.pk).update(checkout_started_at=now - age)
        carts[name] = cart.pk

    stale = set(lifecycle.stale_checkouts(now).values_list("pk", flat=True))

    assert stale == {carts["just_over"]}
    assert lifecycle.lock_stale_checkouts(now=now) == 1
    assert Cart.objects.get(pk=carts["just_over"]).lock_reason == LockReason.NO_RETURN
    assert Cart.objects.get(pk=carts["just_under"]).status == CartStatus.AWAITING_PAYMENT


# -- card data: brand and last four digits, nothing more ----------------------------------------------


@pytest.mark.parametrize(
    "brand, last4, stored",
    [
        ("visa", "4242", ("VISA", "4242")),
        (" Mastercard ", " 4444 ", ("MASTERCARD", "4444")),
        (None, None, ("", "")),
        (None, "4242", ("", "4242")),
        ("", "", ("", "")),
        ("VISA", "4111111111111111", ("", "")),
        ("4111111111111111", "4242", ("", "")),
        ("VISA4111", "4242", ("", "")),
        ("NOT_A_BRAND", "4242", ("", "")),
    ],
)
def test_only_a_known_brand_and_four_digits_are_kept(brand, last4, stored):
    assert clean_card(brand, last4) == stored


def test_a_brand_with_digits_is_refused_as_a_possible_card_number():
    with pytest.raises(ValidationError) as refused:
        validate_card_brand("4111111111111111")
    assert refused.value.code == "card_brand"
    assert refused.value.messages == ["A card brand must not contain digits."]


def test_an_unknown_brand_is_refused_by_name():
    with pytest.raises(ValidationError) as refused:
        validate_card_brand("ACME")
    assert refused.value.code == "card_brand" and refused.value.messages == ["Unknown card brand ACME."]
    validate_card_brand("")
    validate_card_brand("amex")


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (" payer@example.com ", "payer@example.com"),
        (None, ""),
        (12345, ""),
        ({"email": "payer@example.com"}, ""),
        ("   ", ""),
        ('=HYPERLINK("http://evil")', ""),
        ("a" * 243 + "@example.com", ""),
        ("a" * 60 + "@" + "b" * 60 + ".example.com", "a" * 60 + "@" + "b" * 60 + ".example.com"),
    ],
)
def test_only_a_valid_payer_email_of_at_most_254_characters_is_kept(value, kept):
    assert clean_payer_email(value) == kept
