"""A shopper who left PayPal without finishing (back button, closed tab) is not stuck: the frozen
cart page offers "Return to PayPal" and "Cancel this payment", and cancelling asks PayPal first.

Real HTTP against the offline sandbox on the live server; nothing is mocked.
"""

import html
import re

import pytest
from django.urls import reverse

from wagtail_lockedcarts.models import CartStatus, Order

RETURN_LINK = re.compile(r'<a class="lockedcarts-cart__return" href="(?P<href>[^"]+)">Return to PayPal</a>')
CANCEL_FORM = re.compile(
    r'<form method="post" action="(?P<action>[^"]+)" class="lockedcarts-cart__cancel">.*?'
    r'name="token" value="(?P<token>[^"]+)"',
    re.S,
)


def cart_page(shopper):
    response = shopper.get(reverse("wagtail_lockedcarts:cart"))
    assert response.status_code == 200
    return response.text


def cancel_this_payment(shopper):
    """Submit the frozen cart page's "Cancel this payment" form, as the browser would."""
    form = CANCEL_FORM.search(cart_page(shopper))
    assert form, "no 'Cancel this payment' form on the cart page"
    assert "Cancel this payment" in cart_page(shopper)
    return shopper.post(html.unescape(form["action"]), {"token": form["token"]})


def test_a_shopper_back_from_paypal_without_paying_can_return_to_paypal(paypal_sandbox, shop):
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    page = cart_page(shopper)

    link = RETURN_LINK.search(page)
    assert link and html.unescape(link["href"]) == shopper.approve_url
    assert shopper.cart().status == CartStatus.AWAITING_PAYMENT
    # The link leads to PayPal's approval page, where paying finishes the checkout.
    back = paypal_sandbox.pay(shopper, "Pay")
    assert back.status_code == 200
    assert shopper.cart() is None or shopper.cart().status == CartStatus.ORDERED
    assert Order.objects.filter(paypal_order_id=link["href"].rsplit("=", 1)[1]).exists()


def test_cancel_this_payment_reopens_the_cart_when_paypal_has_no_payment(paypal_sandbox, shop):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    order_id = shopper.cart().paypal_order_id

    response = cancel_this_payment(shopper)

    assert response.status_code == 302 and response.headers["Location"] == reverse("wagtail_lockedcarts:cart")
    cart = shopper.cart()
    assert cart.status == CartStatus.OPEN and cart.paypal_order_id == ""
    assert "You cancelled the payment. Your cart is open again." in shopper.messages_on(
        reverse("wagtail_lockedcarts:cart")
    )
    assert paypal_sandbox.order(order_id).capture_id == ""
    page = cart_page(shopper)
    assert "Return to PayPal" not in page and "Cancel this payment" not in page


def test_cancel_this_payment_after_paying_elsewhere_keeps_the_payment(paypal_sandbox, shop):
    """Approved in another tab meanwhile: PayPal's answer wins, the cart becomes an order."""
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    order_id = shopper.cart().paypal_order_id
    form = CANCEL_FORM.search(cart_page(shopper))
    paypal_sandbox.approve(shopper.approve_url, "Pay and close the window (never return)")

    response = shopper.post(html.unescape(form["action"]), {"token": form["token"]})

    assert response.status_code == 200
    assert Order.objects.filter(paypal_order_id=order_id).exists()
    assert paypal_sandbox.order(order_id).capture_status == "COMPLETED"


def test_cancel_this_payment_needs_the_csrf_token(paypal_sandbox, shop):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    cart = shopper.cart()

    response = shopper.session.post(
        shopper.url(reverse("wagtail_lockedcarts:paypal_cancel")),
        data={"token": cart.paypal_order_id},
        allow_redirects=False,
        timeout=30,
    )

    assert response.status_code == 403
    assert shopper.cart().status == CartStatus.AWAITING_PAYMENT


def test_cancel_this_payment_for_someone_elses_order_changes_nothing(paypal_sandbox, shop):
    victim = paypal_sandbox.shopper_at_paypal(shop)
    intruder = paypal_sandbox.shopper()
    intruder.add(shop[1].cart_key)

    response = intruder.post(reverse("wagtail_lockedcarts:paypal_cancel"), {"token": victim.cart().paypal_order_id})

    assert response.status_code == 403
    assert victim.cart().status == CartStatus.AWAITING_PAYMENT


@pytest.mark.parametrize("method", ["put", "delete"])
def test_cancel_accepts_only_get_from_paypal_and_post_from_the_cart_page(paypal_sandbox, shop, method):
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    response = shopper.session.request(
        method,
        shopper.url(reverse("wagtail_lockedcarts:paypal_cancel")),
        data={"token": shopper.cart().paypal_order_id},
        headers={"X-CSRFToken": shopper.session.cookies["csrftoken"]},
        timeout=30,
    )

    assert response.status_code == 405
    assert shopper.cart().status == CartStatus.AWAITING_PAYMENT


def test_a_locked_cart_offers_no_return_to_paypal(paypal_sandbox, shop, cart_settings):
    cart_settings.pending_payment_policy = "lock"
    cart_settings.save()
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(shopper, "Pay – pending (eCheck)")
    assert shopper.cart().status == CartStatus.LOCKED

    page = cart_page(shopper)

    assert "Return to PayPal" not in page and "Cancel this payment" not in page
    assert "Your cart is locked" in page
