"""The shop against every capture outcome the sandbox can produce, over HTTP.

How the shop's lifecycle reacts to refunds and reversals after an order exists is specified with
the money rules; here: refusals and failed captures reopen the cart, amounts a currency cannot
express never reach PayPal, and the sandbox's refund bookkeeping is PayPal's.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from wagtail_lockedcarts.models import Cart, CartStatus, Order, PaymentAttempt


@pytest.mark.parametrize(
    "issue",
    ["PAYER_ACTION_REQUIRED", "TRANSACTION_REFUSED", "PAYER_CANNOT_PAY", "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED"],
)
def test_each_capture_refusal_reopens_the_cart_with_paypals_reason(paypal_sandbox, shop, cart_settings, issue):
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    page = paypal_sandbox.refuse_capture(shopper, issue)

    cart = shopper.cart()
    assert cart.status == CartStatus.OPEN and not Order.objects.exists()
    assert page.status_code == 302 and page.headers["Location"] == reverse("wagtail_lockedcarts:cart")
    attempt = PaymentAttempt.objects.get(cart=cart)
    assert (attempt.status, attempt.status_reason) == ("declined", issue)


def test_a_failed_capture_reopens_the_cart(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    paypal_sandbox.refuse_capture(shopper, "failed")

    assert shopper.cart().status == CartStatus.OPEN and not Order.objects.exists()
    assert paypal_sandbox.webhooks(event_type__startswith="PAYMENT.CAPTURE") == []  # PayPal sends none for FAILED


def test_a_cart_whose_amount_its_currency_cannot_express_is_refused_before_paypal(paypal_sandbox, shop, cart_settings):
    """12.50 in a cart that became JPY: a permanent "cannot pay with PayPal", nothing sent."""
    from wagtail_lockedcarts.contrib.paypal_sandbox.models import SandboxOrder

    shopper = paypal_sandbox.shopper()
    shopper.add(shop[0].cart_key)
    Cart.objects.filter(pk=shopper.cart().pk).update(currency="JPY")

    response = shopper.checkout()

    assert response.status_code == 302
    assert shopper.cart().status == CartStatus.OPEN
    assert not SandboxOrder.objects.exists()
    messages = shopper.messages_on(reverse("wagtail_lockedcarts:cart"))
    assert any("cannot be paid with PayPal" in message for message in messages), messages


def test_a_cart_its_currency_cannot_express_records_why_its_payment_failed(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper()
    shopper.add(shop[0].cart_key)
    Cart.objects.filter(pk=shopper.cart().pk).update(currency="JPY")

    response = shopper.post(reverse("wagtail_lockedcarts:checkout"), headers={"Accept": "application/json"})

    assert response.status_code == 422
    assert response.json()["error"].startswith("This cart cannot be paid with PayPal")
    attempt = PaymentAttempt.objects.get(cart=shopper.cart())
    assert (attempt.status, attempt.status_reason) == ("failed", "DECIMALS_NOT_SUPPORTED")


def test_refunds_follow_paypals_bookkeeping(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop, lines=((1, 2),))  # 50.00 EUR
    paypal_sandbox.pay(shopper, "Pay")
    order_id = shopper.cart().paypal_order_id

    paypal_sandbox.refund(order_id, "60.00", "EUR", expect=409)  # more than was captured
    first = paypal_sandbox.refund(order_id, "20.00", "EUR")
    second = paypal_sandbox.refund(order_id)
    paypal_sandbox.refund(order_id, expect=409)  # nothing left

    assert first["capture_status"] == "PARTIALLY_REFUNDED"
    assert second["capture_status"] == "REFUNDED"
    order = paypal_sandbox.order(order_id)
    assert [refund.amount for refund in order.refunds.all()] == [Decimal("20.00"), Decimal("30.00")]
    events = [webhook.event_type for webhook in paypal_sandbox.webhooks(order_id=order_id)]
    assert events[-2:] == ["PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REFUNDED"]


def test_a_pending_capture_cannot_be_refunded_and_can_be_declined_later(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(shopper, "Pay – pending (eCheck)")
    order_id = shopper.cart().paypal_order_id

    refused = paypal_sandbox.refund(order_id, expect=409)
    declined = paypal_sandbox.decline_pending(order_id)

    assert refused["detail"] == "PENDING_CAPTURE"
    assert declined["capture_status"] == "DECLINED"
    assert paypal_sandbox.decline_pending(order_id, expect=409)["error"] == "not_applicable"
    assert paypal_sandbox.webhooks(order_id=order_id)[-1].event_type == "PAYMENT.CAPTURE.DECLINED"


def test_outcomes_that_do_not_apply_change_nothing(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(shopper, "Pay")
    order_id = shopper.cart().paypal_order_id
    before = len(paypal_sandbox.webhooks(order_id=order_id))

    paypal_sandbox.void(order_id, expect=409)
    paypal_sandbox.complete(order_id, expect=409)
    paypal_sandbox.expire(order_id, expect=409)
    paypal_sandbox.decline_pending(order_id, expect=409)
    paypal_sandbox._control("orders/NOSUCHORDER000000/refund", expect=404)

    assert paypal_sandbox.order(order_id).capture_status == "COMPLETED"
    assert len(paypal_sandbox.webhooks(order_id=order_id)) == before
