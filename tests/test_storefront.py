"""The shopper's cart: lazy lookup, edits, refusals, and life after an admin acted on the cart."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpResponse
from django.template import RequestContext, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.functional import empty

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.models import Cart, CartStatus, LockReason
from wagtail_lockedcarts.storefront.middleware import CartMiddleware

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def add(client, product, quantity=1, **extra):
    return client.post(
        reverse("wagtail_lockedcarts:add_line"), {"product": product.cart_key, "quantity": quantity}, **extra
    )


def shopper_cart(client):
    return Cart.objects.get(pk=client.session["wagtail_lockedcarts.cart_id"])


def lock_shoppers_cart(client, reason=LockReason.PENDING_PAYMENT):
    cart = shopper_cart(client)
    attempt = lifecycle.begin_checkout(cart)
    lifecycle.attach_paypal_order(attempt, f"PP-{cart.pk}")
    lifecycle.lock_cart(cart, reason)
    return cart


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def many_products(shop):
    from shop.models import ProductPage

    index = shop[0].get_parent()
    extra = []
    for n in range(20):
        product = ProductPage(title=f"Sticker {n}", slug=f"sticker-{n}", sku=f"STK{n}", price=Decimal("1.50"))
        index.add_child(instance=product)
        extra.append(product)
    return extra


def test_the_middleware_runs_no_query_until_the_cart_is_used(django_assert_num_queries, client):
    request = RequestFactory().get("/")
    request.session = client.session
    with django_assert_num_queries(0):
        CartMiddleware(lambda r: HttpResponse("ok"))(request)
    assert request.cart._wrapped is empty  # never evaluated


EVERY_PROPERTY = Template(
    "{{ request.cart.total }}|{{ request.cart.item_count }}|{{ request.cart.lines|length }}|"
    "{% for line in request.cart.lines.all %}{{ line }}{% endfor %}{{ request.cart.lines.count }}|"
    "{{ request.cart.is_editable }}|{{ request.cart.is_locked }}|{{ request.cart.status }}|"
    "{{ request.cart.currency }}|{{ request.cart.exists }}|{{ request.cart.pk }}|{{ request.cart.is_empty }}|"
    "{{ request.cart.masked_card }}|{{ request.cart.lock_reason }}"
)


def test_every_cart_property_works_without_a_cart_and_runs_no_query(client, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.session = client.session
    CartMiddleware(lambda r: HttpResponse("ok"))(request)

    with django_assert_num_queries(0):
        rendered = EVERY_PROPERTY.render(RequestContext(request, {}))

    assert rendered == "0.00|0|0|0|True|False|open|EUR|False|None|True||"


def test_every_cart_property_reads_the_lines_once_for_a_shopper_with_a_cart(
    client, shop, django_assert_max_num_queries
):
    add(client, shop[0], 2)
    add(client, shop[1], 1)
    request = RequestFactory().get("/")
    request.session = client.session
    request.user = AnonymousUser()
    CartMiddleware(lambda r: HttpResponse("ok"))(request)

    with django_assert_max_num_queries(2):  # the cart, its lines
        rendered = EVERY_PROPERTY.render(RequestContext(request, {}))

    cart = shopper_cart(client)
    assert rendered == (f"50.00|3|2|2 × Mug1 × T-shirt2|True|False|open|EUR|True|{cart.pk}|False||")


def test_an_empty_cart_page_renders_without_creating_a_cart(client, shop):
    response = client.get(reverse("wagtail_lockedcarts:cart"))
    assert response.status_code == 200
    assert "Your cart is empty" in response.content.decode()
    assert not Cart.objects.exists()


def test_adding_to_the_cart_creates_it_for_the_guest_session(client, shop):
    response = add(client, shop[0], 2)
    assert response.status_code == 302
    cart = shopper_cart(client)
    assert cart.session_key == client.session.session_key
    assert list(cart.lines.values_list("sku", "quantity")) == [("MUG", 2)]


def test_json_clients_get_the_cart_back(client, shop):
    response = add(client, shop[1], 1, **JSON)
    assert response.status_code == 200
    payload = response.json()["cart"]
    assert payload["total"] == "25.00" and payload["lines"][0]["title"] == "T-shirt"


def test_update_and_remove_lines(client, shop):
    add(client, shop[0], 1)
    add(client, shop[1], 1)
    cart = shopper_cart(client)
    mug, tee = cart.lines.order_by("pk")
    client.post(reverse("wagtail_lockedcarts:update_line"), {"line": mug.pk, "quantity": 4})
    client.post(reverse("wagtail_lockedcarts:remove_line"), {"line": tee.pk})
    assert list(cart.lines.values_list("sku", "quantity")) == [("MUG", 4)]


def test_a_locked_cart_refuses_json_edits_with_409_and_changes_nothing(client, shop):
    add(client, shop[0], 1)
    cart = lock_shoppers_cart(client)
    line = cart.lines.get()
    for response in (
        add(client, shop[1], 1, **JSON),
        client.post(reverse("wagtail_lockedcarts:update_line"), {"line": line.pk, "quantity": 3}, **JSON),
        client.post(reverse("wagtail_lockedcarts:remove_line"), {"line": line.pk}, **JSON),
    ):
        assert response.status_code == 409
        assert "locked" in response.json()["error"]
    assert list(cart.lines.values_list("sku", "quantity")) == [("MUG", 1)]


def test_a_locked_cart_refuses_page_edits_with_a_message(client, shop):
    add(client, shop[0], 1)
    cart = lock_shoppers_cart(client)
    response = add(client, shop[1], 1, follow=True)
    assert any("locked" in m for m in messages_of(response))
    assert cart.lines.count() == 1


def test_a_refused_edit_on_the_cart_page_says_it_is_locked_once(client, shop):
    """Update on a cart page opened before the cart froze: back on the cart page, its notice
    explains the lock; the same words do not appear a second time as a message above it."""
    add(client, shop[0], 1)
    cart = lock_shoppers_cart(client)
    cart_url = reverse("wagtail_lockedcarts:cart")

    response = client.post(
        reverse("wagtail_lockedcarts:update_line"),
        {"line": cart.lines.get().pk, "quantity": 3},
        HTTP_REFERER="http://testserver" + cart_url,
        follow=True,
    )

    assert response.redirect_chain[-1][0].endswith(cart_url)
    assert response.content.decode().count("Your cart is locked while we check your payment with PayPal.") == 1
    assert cart.lines.get().quantity == 1


def test_bad_quantities_are_refused_with_400_for_json(client, shop):
    response = add(client, shop[0], 0, **JSON)
    assert response.status_code == 400 and "quantity" in response.json()["fields"]
    assert not Cart.objects.exists()


def test_edits_need_post(client, shop):
    assert client.get(reverse("wagtail_lockedcarts:add_line"), {"product": shop[0].cart_key}).status_code == 405
    assert not Cart.objects.exists()


def test_edits_need_a_csrf_token(shop):
    client = Client(enforce_csrf_checks=True)
    assert add(client, shop[0], 1).status_code == 403
    assert not Cart.objects.exists()


def test_after_an_admin_confirms_the_same_session_gets_a_new_cart_and_one_message(client, shop, superuser):
    add(client, shop[0], 1)
    cart = lock_shoppers_cart(client)
    order = lifecycle.confirm_order(cart, user=superuser).order

    first = client.get(reverse("wagtail_lockedcarts:cart"))
    assert f"Your order {order.pk} was confirmed" in " ".join(messages_of(first))
    assert first.context["cart"].pk is None and "Your cart is empty" in first.content.decode()
    second = client.get(reverse("wagtail_lockedcarts:cart"))
    assert messages_of(second) == []

    add(client, shop[1], 1)
    fresh = shopper_cart(client)
    assert fresh.pk != cart.pk and fresh.status == CartStatus.OPEN
    assert list(fresh.lines.values_list("sku", flat=True)) == ["TEE"]


def test_after_an_admin_deletes_the_cart_the_shopper_is_told_and_shops_on(client, shop, superuser):
    add(client, shop[0], 1)
    cart = lock_shoppers_cart(client, LockReason.NO_RETURN)
    lifecycle.delete_cart(cart, user=superuser)

    response = add(client, shop[2], 1, follow=True)
    assert any("previous cart was removed" in m for m in messages_of(response))
    fresh = shopper_cart(client)
    assert fresh.pk != cart.pk and list(fresh.lines.values_list("sku", flat=True)) == ["CAP"]


def test_after_an_admin_unlocks_the_shopper_keeps_the_same_cart(client, shop, superuser):
    add(client, shop[0], 1)
    cart = lock_shoppers_cart(client)
    lifecycle.unlock_cart(cart, user=superuser)
    add(client, shop[1], 1)
    assert shopper_cart(client).pk == cart.pk and cart.lines.count() == 2


def test_the_guest_cart_joins_the_account_on_login(client, shop, django_user_model):
    user = django_user_model.objects.create_user("alice", "alice@example.com", "pw")
    mine = Cart.objects.create(user=user, currency="EUR")
    lifecycle.add_line(mine, shop[0].cart_key, 1)
    add(client, shop[0], 2)
    add(client, shop[1], 1)
    client.login(username="alice", password="pw")
    client.get(reverse("wagtail_lockedcarts:cart"))  # any request after login
    merged = Cart.objects.active().get(user=user)
    assert merged.pk == mine.pk
    assert dict(merged.lines.values_list("sku", "quantity")) == {"MUG": 3, "TEE": 1}
    assert Cart.objects.count() == 1


def test_a_shopper_never_sees_another_shoppers_cart(shop):
    alice, bob = Client(), Client()
    add(alice, shop[0], 1)
    response = bob.get(reverse("wagtail_lockedcarts:cart"), **JSON)
    assert response.json()["cart"]["lines"] == []


def count_queries(callable_):
    with CaptureQueriesContext(connection) as captured:
        callable_()
    return len(captured)


def test_cart_page_queries_do_not_grow_with_lines(client, shop, many_products, django_assert_max_num_queries):
    add(client, shop[0], 1)
    url = reverse("wagtail_lockedcarts:cart")
    one_line = count_queries(lambda: client.get(url))
    for product in many_products:
        add(client, product, 1)
    twenty_one_lines = count_queries(lambda: client.get(url))
    assert one_line == twenty_one_lines
    with django_assert_max_num_queries(8):
        client.get(url)


def test_add_to_cart_queries_do_not_grow_with_lines(client, shop, many_products, django_assert_max_num_queries):
    add(client, shop[0], 1)
    first = count_queries(lambda: add(client, shop[1], 1))
    for product in many_products:
        add(client, product, 1)
    later = count_queries(lambda: add(client, shop[2], 1))
    assert first == later
    with django_assert_max_num_queries(16):
        add(client, shop[2], 1)
