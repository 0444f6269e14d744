"""Every action shows up, readably, in the cart's (or order's) history and in Wagtail's site
history report."""

import pytest
from django.urls import reverse

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.models import CartStatus, LockReason, OrderStatus

pytestmark = pytest.mark.django_db

CARTS = "/admin/lockedcarts/carts/"
ORDERS = "/admin/lockedcarts/orders/"


def site_history(client, **params):
    response = client.get(reverse("wagtailadmin_reports:site_history"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_cart_history_shows_lock_confirm_and_checkout(admin_client, superuser, make_cart):
    cart = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.PENDING_PAYMENT)
    outcome = lifecycle.confirm_order(cart, user=superuser)
    html = admin_client.get(f"{CARTS}history/{cart.pk}/").content.decode()
    assert "Checkout started: cart frozen, shopper sent to PayPal" in html
    assert "Cart locked: pending payment" in html
    assert f"Order {outcome.order.pk} confirmed from cart" in html


def test_unlock_and_admin_actions_in_history_with_the_user(admin_client, superuser, make_cart):
    cart = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN)
    admin_client.post(f"{CARTS}unlock-cart/{cart.pk}/")
    html = admin_client.get(f"{CARTS}history/{cart.pk}/").content.decode()
    assert "Cart locked: no return from PayPal" in html
    assert "Cart unlocked" in html
    assert "admin" in html  # who did it


def test_unlock_only_editor_can_read_the_history(client, unlock_editor, make_cart):
    cart = make_cart(status=CartStatus.LOCKED)
    client.force_login(unlock_editor)
    response = client.get(f"{CARTS}history/{cart.pk}/")
    assert response.status_code == 200
    assert "Cart locked: pending payment" in response.content.decode()


def test_site_history_report_labels(admin_client, superuser, make_cart):
    locked = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.AMOUNT_MISMATCH)
    to_confirm = make_cart(status=CartStatus.LOCKED)
    order = lifecycle.confirm_order(to_confirm, user=superuser).order
    lifecycle.unlock_cart(locked, user=superuser)
    html = site_history(admin_client)
    for text in (
        "Cart locked: amount mismatch",
        f"Order {order.pk} confirmed from cart",
        "Cart unlocked",
        f"Order created from cart {to_confirm.pk}",
    ):
        assert text in html, text
    # the Action filter offers readable labels
    for value, label in (
        ("wagtail_lockedcarts.unlock", "Unlock cart"),
        ("wagtail_lockedcarts.confirm", "Confirm order"),
    ):
        assert f'value="{value}"' in html
        assert label in html


def test_site_history_can_filter_by_our_action(admin_client, superuser, make_cart):
    cart = make_cart(status=CartStatus.LOCKED)
    lifecycle.unlock_cart(cart, user=superuser)
    html = site_history(admin_client, action="wagtail_lockedcarts.unlock")
    assert "Cart unlocked" in html
    assert "Cart locked: pending payment" not in html


def test_deleted_cart_stays_in_site_history_with_its_snapshot(admin_client, superuser, make_cart):
    cart = make_cart(status=CartStatus.LOCKED, lines=[(0, 2), (2, 1)], customer_name="Gone Gina")
    admin_client.post(f"{CARTS}delete-cart/{cart.pk}/")
    html = site_history(admin_client)
    assert "Cart deleted (34.99 EUR, 2 lines)" in html
    assert "Gone Gina" in html


def test_a_deleted_carts_snapshot_opens_from_its_history_entry(admin_client, superuser, make_cart):
    import re

    cart = make_cart(status=CartStatus.LOCKED, lines=[(0, 2), (2, 1)], customer_name="Gone Gina")
    admin_client.post(f"{CARTS}delete-cart/{cart.pk}/")
    html = site_history(admin_client)

    link = re.search(r'Cart deleted \(34.99 EUR, 2 lines\) <a href="(?P<url>[^"]+)">View snapshot</a>', html)
    assert link, html
    response = admin_client.get(link["url"])

    assert response.status_code == 200
    page = response.content.decode()
    for text in ("Gone Gina", "34.99 EUR", "Mug", "Cap", f"Cart {cart.pk}", cart.paypal_order_id):
        assert text in page, text
    assert "<form" not in page.split("lockedcarts-summary")[-1]


def test_a_deleted_carts_snapshot_is_refused_to_users_who_may_not_see_carts(client, admin_client, outsider, make_cart):
    cart = make_cart(status=CartStatus.LOCKED, customer_name="Gone Gina")
    admin_client.post(f"{CARTS}delete-cart/{cart.pk}/")
    from wagtail.models import ModelLogEntry

    entry = ModelLogEntry.objects.get(action="wagtail_lockedcarts.delete")
    client.force_login(outsider)

    response = client.get(f"{CARTS}deleted/{entry.pk}/")

    assert response.status_code in (302, 403) and "Gone Gina" not in response.content.decode()
    assert admin_client.get(f"{CARTS}deleted/{entry.pk + 1000}/").status_code == 404


def test_order_history_shows_release_and_export(admin_client, superuser, make_order):
    order = make_order(OrderStatus.ON_HOLD)
    admin_client.post(f"{ORDERS}release/{order.pk}/")
    admin_client.post(f"{ORDERS}retry-export/{order.pk}/")
    response = admin_client.get(f"{ORDERS}history/{order.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Order released from hold and submitted" in html
    assert "Order export queued again" in html
    assert "Order created from cart" in html
