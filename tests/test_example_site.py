"""The example shop front: product listing, product page, header cart link, and the plugin's cart
page rendered inside the shop's layout."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.models import Cart, CartStatus


def cart_queries(queries):
    return [q["sql"] for q in queries if "wagtail_lockedcarts_cart" in q["sql"]]


def add_to_cart_forms(html):
    return re.findall(r'<form method="post" action="/cart/add/" class="lockedcarts-add"[^>]*>.*?</form>', html, re.S)


@pytest.fixture
def shop_index(shop):
    return shop[0].get_parent().specific


def test_shop_index_lists_every_product_with_price_and_an_add_to_cart_form(client, shop, shop_index):
    response = client.get(shop_index.url)
    assert response.status_code == 200
    html = response.content.decode()
    forms = add_to_cart_forms(html)
    assert len(forms) == 3
    for product, form in zip(sorted(shop, key=lambda p: p.title), forms):
        assert product.title in html
        assert f'name="product" value="{product.cart_key}"' in form
        assert 'name="quantity"' in form and 'name="csrfmiddlewaretoken"' in form
        assert f"{product.price} " in html


def test_product_page_shows_price_description_and_add_to_cart_form(client, shop):
    product = shop[1]
    product.description = "<p>Soft and organic.</p>"
    product.save_revision().publish()
    response = client.get(product.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>T-shirt</h1>" in html and "25.00" in html and "Soft and organic." in html
    [form] = add_to_cart_forms(html)
    assert f'value="{product.cart_key}"' in form


def test_add_to_cart_form_adds_the_product_and_returns_to_the_page_with_a_message(client, shop):
    product = shop[0]
    page = client.get(product.url)
    form = add_to_cart_forms(page.content.decode())[0]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    fields["quantity"] = "2"
    response = client.post(reverse("wagtail_lockedcarts:add_line"), fields, follow=True)
    assert response.redirect_chain[-1][0] == product.url
    html = response.content.decode()
    assert "Added to your cart." in html
    assert 'data-cart-count="2"' in html
    cart = Cart.objects.get()
    assert [(line.product_key, line.quantity) for line in cart.lines.all()] == [(product.cart_key, 2)]


def test_cart_page_renders_inside_the_shop_layout(client, shop):
    client.post(reverse("wagtail_lockedcarts:add_line"), {"product": shop[2].cart_key, "quantity": 3})
    response = client.get(reverse("wagtail_lockedcarts:cart"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<header class="site-header">' in html and '<footer class="site-footer">' in html
    assert "shop/shop.css" in html
    assert "<title>Your cart · Locked carts demo shop</title>" in html
    assert 'class="lockedcarts-cart"' in html and "Cap" in html
    assert 'data-cart-count="3"' in html


def test_cart_page_header_count_costs_no_query_beyond_the_cart_page_itself(client, shop):
    for product in shop:
        client.post(reverse("wagtail_lockedcarts:add_line"), {"product": product.cart_key, "quantity": 1})
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("wagtail_lockedcarts:cart"))
    assert 'data-cart-count="3"' in response.content.decode()
    line_queries = [q for q in queries.captured_queries if "wagtail_lockedcarts_cartline" in q["sql"]]
    assert len(line_queries) == 1, line_queries


def test_header_shows_a_frozen_cart_as_such(client, django_user_model, make_cart):
    user = django_user_model.objects.create_user("sam", "sam@example.com", "pw")
    make_cart(status=CartStatus.LOCKED, lines=[(0, 1), (1, 2)], user=user)
    client.force_login(user)
    html = client.get(reverse("wagtail_lockedcarts:cart")).content.decode()
    assert "cart-link--frozen" in html and 'data-cart-count="3"' in html
    assert "locked" in html.split('class="cart-link', 1)[1].split("</a>", 1)[0]


def test_pages_without_the_cart_count_never_look_the_cart_up(client, shop):
    client.post(reverse("wagtail_lockedcarts:add_line"), {"product": shop[0].cart_key, "quantity": 1})
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()
    assert cart_queries(queries.captured_queries) == []

    with CaptureQueriesContext(connection) as queries:
        client.get(shop[0].url)
    assert cart_queries(queries.captured_queries), "the product page shows the count, so it reads the cart"


def test_one_time_message_after_the_admin_confirms_shows_on_the_next_shop_page(client, shop, superuser):
    client.post(reverse("wagtail_lockedcarts:add_line"), {"product": shop[0].cart_key, "quantity": 1})
    client.get(reverse("wagtail_lockedcarts:cart"))
    cart = Cart.objects.get()
    attempt = lifecycle.begin_checkout(cart)
    lifecycle.attach_paypal_order(attempt, "5O190127TN364715T", "")
    lifecycle.lock_cart(cart, "no_return")
    order = lifecycle.confirm_order(cart, superuser).order

    html = client.get(shop[0].url).content.decode()
    assert f"Your order {order.pk} was confirmed" in html
    assert 'data-cart-count="0"' in html
    assert f"Your order {order.pk} was confirmed" not in client.get(shop[0].url).content.decode()


def test_login_page_signs_a_customer_in_and_back_to_the_shop(client, django_user_model, shop):
    django_user_model.objects.create_user("alice", "alice@example.com", "demo", first_name="Alice")
    response = client.post(reverse("login"), {"username": "alice", "password": "demo"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    html = client.get(shop[0].url).content.decode()
    assert "Hello, Alice" in html and reverse("logout") in html
    client.post(reverse("logout"))
    html = client.get(shop[0].url).content.decode()
    assert "Hello, Alice" not in html and "Sign in" in html
