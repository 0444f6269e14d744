"""The shopper hears once, on the next page they open, what happened to their cart meanwhile —
and no two messages ever tell different stories."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.models import Cart, CartStatus, LockReason, Order, OrderStatus
from wagtail_lockedcarts.storefront.middleware import CartMiddleware

CONFIRMED = "Your order {} was confirmed. Thank you!"
REOPENED = "Your cart is open again: no payment was taken for it. You can change it or pay again."
REMOVED = "Your previous cart was removed. You can go on shopping with a new cart."


def shown(response):
    return [unescape(m) for m in re.findall(r'<li class="message[^"]*">([^<]+)</li>', response.content.decode())]


def add(client, product):
    """Add to the cart and read the page it returns to, as a browser does (the message is shown)."""
    client.post(reverse("wagtail_lockedcarts:add_line"), {"product": product.cart_key, "quantity": 1}, follow=True)


def locked_cart_of(client, shop, reason=LockReason.PENDING_PAYMENT):
    add(client, shop[0])
    cart = Cart.objects.get(pk=client.session["wagtail_lockedcarts.cart_id"])
    attempt = lifecycle.begin_checkout(cart)
    lifecycle.attach_paypal_order(attempt, f"PP-{cart.pk}")
    lifecycle.lock_cart(cart, reason)
    return cart


def cart_table_queries(captured):
    return [q["sql"] for q in captured if "wagtail_lockedcarts_" in q["sql"]]


@pytest.mark.django_db
class TestAfterAnAdminAction:
    def test_confirm_is_told_on_a_page_that_never_uses_the_cart(
        self, client, shop, superuser, django_capture_on_commit_callbacks
    ):
        cart = locked_cart_of(client, shop)
        with django_capture_on_commit_callbacks(execute=True):
            order = lifecycle.confirm_order(cart, user=superuser).order

        with CaptureQueriesContext(connection) as queries:
            first = client.get(reverse("login"))

        assert shown(first) == [CONFIRMED.format(order.pk)]
        assert cart_table_queries(queries.captured_queries) == []
        assert shown(client.get(reverse("login"))) == []
        assert shown(client.get(shop[0].url)) == [], "the cart lookup must not tell it a second time"

    def test_unlock_tells_the_shopper_once_that_the_cart_is_open_again(
        self, client, shop, superuser, django_capture_on_commit_callbacks
    ):
        cart = locked_cart_of(client, shop)
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.unlock_cart(cart, user=superuser)

        assert shown(client.get(reverse("login"))) == [REOPENED]
        assert shown(client.get(shop[0].url)) == []
        assert Cart.objects.get(pk=cart.pk).status == CartStatus.OPEN

    def test_delete_is_told_on_any_page_and_the_shopper_shops_on(
        self, client, shop, superuser, django_capture_on_commit_callbacks
    ):
        cart = locked_cart_of(client, shop, LockReason.NO_RETURN)
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.delete_cart(cart, user=superuser)

        assert shown(client.get(reverse("login"))) == [REMOVED]
        assert shown(client.get(shop[0].url)) == []
        assert 'data-cart-count="0"' in client.get(shop[0].url).content.decode()

    def test_a_logged_in_shopper_is_told_too(
        self, client, shop, superuser, django_user_model, django_capture_on_commit_callbacks
    ):
        django_user_model.objects.create_user("alice", "alice@example.com", "pw")
        client.login(username="alice", password="pw")
        cart = locked_cart_of(client, shop)
        assert cart.user.username == "alice"
        with django_capture_on_commit_callbacks(execute=True):
            order = lifecycle.confirm_order(cart, user=superuser).order

        assert shown(client.get(shop[2].url)) == [CONFIRMED.format(order.pk)]

    def test_the_cart_kept_on_login_still_reaches_the_shoppers_new_session(
        self, client, shop, superuser, django_user_model, django_capture_on_commit_callbacks
    ):
        django_user_model.objects.create_user("bob", "bob@example.com", "pw")
        add(client, shop[1])
        client.login(username="bob", password="pw")
        client.get(reverse("wagtail_lockedcarts:cart"))
        cart = Cart.objects.get(user__username="bob")
        attempt = lifecycle.begin_checkout(cart)
        lifecycle.attach_paypal_order(attempt, f"PP-{cart.pk}")
        lifecycle.lock_cart(cart, LockReason.NO_RETURN)
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.unlock_cart(cart, user=superuser)

        assert shown(client.get(shop[2].url)) == [REOPENED]


@pytest.mark.django_db
def test_a_shopper_with_nothing_waiting_costs_no_cart_query(client, shop):
    add(client, shop[0])

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("login"))

    assert response.status_code == 200 and shown(response) == []
    assert cart_table_queries(queries.captured_queries) == []


@pytest.mark.django_db
def test_a_visitor_without_a_session_costs_no_query_at_all(client, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.session = client.session  # no session key yet

    with django_assert_num_queries(0):
        CartMiddleware(lambda request: None)(request)


# ---- through PayPal (the offline sandbox, over HTTP) ----------------------------------------


def order_messages(page):
    """Messages about an order on ``page`` (the page itself already says what became of it)."""
    found = re.findall(r'<li class="message[^"]*">([^<]+)</li>', page.text)
    return [unescape(m) for m in found if "order" in m.lower()]


def use_policy(cart_settings, policy):
    cart_settings.pending_payment_policy = policy
    cart_settings.save()


def test_under_the_hold_policy_the_pending_page_is_never_contradicted(paypal_sandbox, shop, cart_settings):
    use_policy(cart_settings, "hold")
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    page = paypal_sandbox.pay(shopper, "Pay – pending (eCheck)")
    paypal_sandbox.deliver_webhooks()

    order = Order.objects.get(cart=shopper.cart())
    assert order.status == OrderStatus.ON_HOLD
    assert "Order received – payment pending" in unescape(page.text)
    assert "was confirmed" not in page.text and order_messages(page) == []
    assert shopper.messages_on(reverse("login")) == []
    assert shopper.messages_on(reverse("wagtail_lockedcarts:cart")) == []


def test_the_success_page_is_not_repeated_by_a_notice(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    page = paypal_sandbox.pay(shopper, "Pay")
    paypal_sandbox.deliver_webhooks()

    assert "lockedcarts-checkout--success" in page.text and order_messages(page) == []
    assert shopper.messages_on(reverse("login")) == []
    assert shopper.messages_on(reverse("wagtail_lockedcarts:cart")) == []


def test_a_payment_that_completed_while_the_shopper_was_away_is_told_on_the_next_page(
    paypal_sandbox, shop, cart_settings
):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(shopper, "Pay and close the window (never return)")

    paypal_sandbox.deliver_webhooks()

    order = Order.objects.get(cart=shopper.cart())
    assert CONFIRMED.format(order.pk) in shopper.messages_on(reverse("login"))
    assert shopper.messages_on(reverse("login")) == []


def test_declining_at_paypal_says_so_once_and_no_reopened_notice_follows(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    paypal_sandbox.pay(shopper, "Decline")
    paypal_sandbox.deliver_webhooks()

    messages = [m for m in shopper.messages_on(reverse("wagtail_lockedcarts:cart")) if "Added" not in m]
    assert len(messages) == 1 and "declined" in messages[0]
    assert shopper.messages_on(reverse("login")) == []
