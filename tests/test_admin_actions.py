"""The cart action views: a confirmation page on GET, the lifecycle transition on POST, a
message, an audit entry, and back to where the admin came from. Stale pages change nothing."""

import os

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from wagtail.models import ModelLogEntry

from wagtail_lockedcarts.models import Cart, CartStatus, LockReason, Order

BASE = "/admin/lockedcarts/carts/"
LIST_URL = BASE

pytestmark = pytest.mark.django_db


def action_url(name, cart_or_pk):
    segment = {
        "confirm_cart": "confirm",
        "unlock_cart": "unlock-cart",
        "delete_cart": "delete-cart",
        "check_paypal": "check-paypal",
    }[name]
    return f"{BASE}{segment}/{getattr(cart_or_pk, 'pk', cart_or_pk)}/"


def cart_log(cart_pk, action):
    return ModelLogEntry.objects.filter(object_id=str(cart_pk), action=action)


def message_texts(response):
    return [str(m).strip() for m in get_messages(response.wsgi_request)]


@pytest.fixture
def locked_cart(make_cart):
    return make_cart(
        status=CartStatus.LOCKED, lines=[(1, 2)], lock_reason=LockReason.PENDING_PAYMENT, customer_name="Lena Locked"
    )


@pytest.mark.parametrize(
    "name, sentence",
    [
        ("confirm_cart", "This converts the cart to an order and sends it to export."),
        ("unlock_cart", "This opens the cart again"),
        ("delete_cart", "This deletes the cart and its lines for good."),
        ("check_paypal", "This asks PayPal for the current state of the cart"),
    ],
)
def test_get_shows_a_confirmation_page_and_changes_nothing(admin_client, locked_cart, name, sentence):
    entries = ModelLogEntry.objects.count()
    response = admin_client.get(action_url(name, locked_cart))
    assert response.status_code == 200
    html = response.content.decode()
    assert sentence in html
    assert 'method="POST"' in html and "csrfmiddlewaretoken" in html
    assert "50.00 EUR" in html  # the admin sees what they act on
    locked_cart.refresh_from_db()
    assert locked_cart.status == CartStatus.LOCKED
    assert ModelLogEntry.objects.count() == entries
    assert not Order.objects.exists()


def test_confirm_order_creates_the_order_logs_and_returns_to_next(admin_client, superuser, locked_cart):
    next_url = f"{LIST_URL}?cart_filter=locked"
    response = admin_client.post(action_url("confirm_cart", locked_cart), {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == next_url
    locked_cart.refresh_from_db()
    order = Order.objects.get(cart=locked_cart)
    assert locked_cart.status == CartStatus.ORDERED
    assert order.total == locked_cart.amount
    entry = cart_log(locked_cart.pk, "wagtail_lockedcarts.confirm").get()
    assert entry.user == superuser
    assert entry.data["order"] == order.pk
    assert f"Order {order.pk} created from the cart and sent to export." in message_texts(response)


def test_unlock_cart_reopens_it_and_logs(admin_client, superuser, locked_cart):
    response = admin_client.post(action_url("unlock_cart", locked_cart))
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}inspect/{locked_cart.pk}/"
    locked_cart.refresh_from_db()
    assert locked_cart.status == CartStatus.OPEN
    assert cart_log(locked_cart.pk, "wagtail_lockedcarts.unlock").get().user == superuser
    assert f"Cart {locked_cart.pk} unlocked." in message_texts(response)


def test_delete_cart_keeps_a_snapshot_in_the_log(admin_client, superuser, locked_cart):
    pk = locked_cart.pk
    response = admin_client.post(action_url("delete_cart", locked_cart), {"next": f"{BASE}inspect/{pk}/"})
    assert response.status_code == 302
    assert response["Location"] == LIST_URL  # never back to the page of a cart that is gone
    assert not Cart.objects.filter(pk=pk).exists()
    entry = cart_log(pk, "wagtail_lockedcarts.delete").get()
    assert entry.deleted is True
    assert entry.user == superuser
    assert entry.data["customer"] == "Lena Locked"
    assert entry.data["total"] == "50.00"
    assert entry.data["lines"][0]["quantity"] == 2
    assert entry.data["paypal_order_id"] == locked_cart.paypal_order_id


def test_open_cart_can_be_deleted_but_not_confirmed_or_unlocked(admin_client, make_cart):
    cart = make_cart()
    assert admin_client.get(action_url("delete_cart", cart)).status_code == 200
    for name in ("confirm_cart", "unlock_cart", "check_paypal"):
        response = admin_client.get(action_url(name, cart))
        assert response.status_code == 302, name  # explained, not performed
        cart.refresh_from_db()
        assert cart.status == CartStatus.OPEN


def test_stale_page_cart_confirmed_meanwhile_changes_nothing(admin_client, superuser, locked_cart):
    from wagtail_lockedcarts import lifecycle

    lifecycle.confirm_order(locked_cart, user=superuser)  # someone else, in another tab
    orders = Order.objects.count()
    entries = ModelLogEntry.objects.count()
    for name in ("confirm_cart", "unlock_cart", "delete_cart"):
        response = admin_client.post(action_url(name, locked_cart), {"next": LIST_URL})
        assert response.status_code == 302
        assert response["Location"] == LIST_URL
        text = " ".join(message_texts(response))
        assert "is now “Ordered”" in text and "Nothing was changed" in text, text
    locked_cart.refresh_from_db()
    assert locked_cart.status == CartStatus.ORDERED
    assert Order.objects.count() == orders
    assert ModelLogEntry.objects.count() == entries


def test_stale_page_cart_deleted_meanwhile(admin_client, superuser, locked_cart):
    from wagtail_lockedcarts import lifecycle

    pk = locked_cart.pk
    lifecycle.delete_cart(locked_cart, user=superuser)
    response = admin_client.post(action_url("confirm_cart", pk), {"next": f"{BASE}inspect/{pk}/"})
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert "no longer exists" in " ".join(message_texts(response))
    assert not Order.objects.exists()


def test_next_must_be_a_local_url(admin_client, locked_cart):
    response = admin_client.post(action_url("unlock_cart", locked_cart), {"next": "https://evil.example/steal"})
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}inspect/{locked_cart.pk}/"


def test_post_without_csrf_token_is_rejected(superuser, locked_cart):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    for name in ("confirm_cart", "unlock_cart", "delete_cart"):
        response = client.post(action_url(name, locked_cart))
        assert response.status_code == 403, name
    locked_cart.refresh_from_db()
    assert locked_cart.status == CartStatus.LOCKED
    assert not Order.objects.exists()


def test_post_with_csrf_token_from_the_confirmation_page_works(superuser, locked_cart):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    page = client.get(action_url("unlock_cart", locked_cart))
    token = page.context["csrf_token"]
    response = client.post(action_url("unlock_cart", locked_cart), {"csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    locked_cart.refresh_from_db()
    assert locked_cart.status == CartStatus.OPEN


# Check PayPal now (end to end against the offline sandbox) -------------------------------------


@pytest.fixture
def admin_on_live_db(client, superuser):
    client.force_login(superuser)
    return client


def _checkout_paid_but_never_returned(paypal_sandbox, shop):
    from wagtail_lockedcarts import lifecycle

    shopper = paypal_sandbox.shopper_at_paypal(shop, lines=((0, 1),))
    response = paypal_sandbox.pay(shopper, "Pay and close the window (never return)", follow=False)
    assert response.status_code in (200, 302)
    paypal_sandbox.wait_idle()
    cart = shopper.cart()
    lifecycle.lock_cart(cart, LockReason.NO_RETURN)  # what the checkout sweep does
    cart.refresh_from_db()
    assert cart.status == CartStatus.LOCKED
    return cart


# pytest-django decides which databases to serialize from the closest django_db marker: the
# module-level one would say "no", and the sandbox's serialized rollback would then restore nothing.
LIVE_DB = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@LIVE_DB
def test_check_paypal_now_turns_a_paid_locked_cart_into_an_order(paypal_sandbox, shop, superuser, admin_on_live_db):
    cart = _checkout_paid_but_never_returned(paypal_sandbox, shop)
    response = admin_on_live_db.post(action_url("check_paypal", cart))
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}inspect/{cart.pk}/"
    cart.refresh_from_db()
    assert cart.status == CartStatus.ORDERED
    assert Order.objects.filter(cart=cart).exists()
    assert cart_log(cart.pk, "wagtail_lockedcarts.reconcile").filter(user=superuser).exists()


@LIVE_DB
def test_check_paypal_now_when_paypal_is_unreachable_changes_nothing(paypal_sandbox, shop, superuser, admin_on_live_db):
    cart = _checkout_paid_but_never_returned(paypal_sandbox, shop)
    paypal_sandbox.set_faults(fail_next=20, fail_status=503)
    response = admin_on_live_db.post(action_url("check_paypal", cart))
    paypal_sandbox.set_faults()
    assert response.status_code == 302
    assert any("PayPal could not be reached" in text for text in message_texts(response))
    cart.refresh_from_db()
    assert cart.status == CartStatus.LOCKED
    assert not Order.objects.exists()


def test_a_viewset_subclass_swaps_an_action_view_through_its_view_class_attribute():
    from wagtail_lockedcarts.admin.views.carts import CartActionView
    from wagtail_lockedcarts.admin.viewsets import CartViewSet

    class AuditedConfirmView(CartActionView):
        pass

    class ShopCartViewSet(CartViewSet):
        confirm_cart_view_class = AuditedConfirmView

    patterns = {pattern.name: pattern for pattern in ShopCartViewSet(name="shop_carts").get_urlpatterns()}
    assert patterns["confirm_cart"].callback.view_class is AuditedConfirmView
    assert patterns["unlock_cart"].callback.view_class is CartActionView
    assert patterns["confirm_cart"].callback.view_initkwargs["action"].label == "Confirm Order"


@pytest.mark.urls("tests.urls_action_form")
def test_an_action_with_a_form_shows_it_refuses_bad_input_and_passes_the_cleaned_data(
    admin_client, superuser, locked_cart
):
    from tests import urls_action_form

    url = f"/admin-extra/unlock-with-reason/{locked_cart.pk}/"
    urls_action_form.performed.clear()

    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()

    refused = admin_client.post(url, {"reason": ""})
    assert refused.status_code == 400
    assert 'name="reason"' in refused.content.decode()
    assert Cart.objects.get(pk=locked_cart.pk).status == CartStatus.LOCKED
    assert urls_action_form.performed == []

    done = admin_client.post(url, {"reason": "Customer phoned: paid by bank transfer"})
    assert done.status_code == 302
    assert Cart.objects.get(pk=locked_cart.pk).status == CartStatus.OPEN
    assert urls_action_form.performed == ["Customer phoned: paid by bank transfer"]
    assert cart_log(locked_cart.pk, "wagtail_lockedcarts.unlock").filter(user=superuser).exists()


def test_a_site_registers_its_own_viewset_and_every_link_follows_it():
    """``WAGTAIL_LOCKEDCARTS["CART_VIEWSET"]`` is what the package registers: the URL of Confirm
    Order resolves to the site's view and the links built by admin.display point at it."""
    import subprocess
    import sys

    script = (
        "import django; django.setup();"
        "from django.urls import resolve;"
        "from wagtail_lockedcarts.admin import display;"
        "from wagtail_lockedcarts.models import Cart;"
        "url = display.cart_url('confirm_cart', 7);"
        "print(type(display.viewset_for(Cart)).__name__, url, resolve(url).func.view_class.__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings_custom_viewset",
            "PYTHONPATH": os.pathsep.join(sys.path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ShopCartViewSet", "/admin/lockedcarts/carts/confirm/7/", "ConfirmWithNoteView"]
