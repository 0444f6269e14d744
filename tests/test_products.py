"""The product integration kit: PurchasableMixin, its availability hook and the template tags."""

from decimal import Decimal

import pytest
from django.template import RequestContext, Template
from django.test import RequestFactory
from django.urls import reverse

from wagtail_lockedcarts.models import Cart
from wagtail_lockedcarts.products import PurchasableMixin, product_key, resolve_product

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def test_a_purchasable_page_records_its_title_price_and_sku(shop):
    mug = shop[0]
    assert isinstance(mug, PurchasableMixin) and mug.cart_key == product_key(mug)

    info = resolve_product(mug.cart_key)

    assert (info.title, info.unit_price, info.sku) == ("Mug", Decimal("12.50"), "MUG")


def test_a_sold_out_product_cannot_be_added_and_nothing_changes(client, shop):
    shop[0].stock = 0
    shop[0].save_revision().publish()

    response = client.post(
        reverse("wagtail_lockedcarts:add_line"), {"product": shop[0].cart_key, "quantity": 1}, **JSON
    )

    assert response.status_code == 400
    assert response.json()["error"] == "Sorry, that product is currently unavailable."
    assert not Cart.objects.exists() or not Cart.objects.get().lines.exists()


def test_stock_left_or_untracked_keeps_the_product_available(shop):
    shop[0].stock = 3
    assert shop[0].is_available()
    shop[0].stock = None
    assert shop[0].is_available()


def render(template, request, **context):
    return Template("{% load lockedcarts %}" + template).render(RequestContext(request, context))


def test_add_to_cart_form_posts_the_product_key_and_comes_back(rf_request, shop):
    html = render("{% add_to_cart_form product quantity=2 %}", rf_request, product=shop[1])

    assert 'action="/cart/add/"' in html
    assert f'name="product" value="{shop[1].cart_key}"' in html
    assert 'name="quantity" value="2"' in html
    assert 'name="next" value="/products/?page=2"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_add_to_cart_form_says_unavailable_for_a_sold_out_product(rf_request, shop):
    shop[2].stock = 0

    html = render("{% add_to_cart_form product %}", rf_request, product=shop[2])

    assert "Currently unavailable" in html and "<form" not in html


def test_cart_summary_without_a_cart_runs_no_query(rf_request, django_assert_num_queries):
    with django_assert_num_queries(0):
        html = render("{% cart_summary %}", rf_request)

    assert 'data-cart-count="0"' in html and "0 items" in html and 'href="/cart/"' in html


def test_cart_notice_shows_messages_once_even_if_used_twice(rf_request):
    from django.contrib import messages

    messages.success(rf_request, "Added to your cart.")

    html = render("{% cart_notice %}{% cart_notice %}", rf_request)

    assert html.count("Added to your cart.") == 1 and 'role="status"' in html


def test_cart_notice_leaves_messages_the_base_template_already_showed(rf_request):
    from django.contrib import messages

    messages.info(rf_request, "Shown above.")

    html = render("{% for m in messages %}[{{ m }}]{% endfor %}{% cart_notice %}", rf_request)

    assert html.count("Shown above.") == 1


@pytest.fixture
def rf_request(client):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage

    from wagtail_lockedcarts.storefront.middleware import CartMiddleware

    request = RequestFactory().get("/products/?page=2")
    request.session = client.session
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    CartMiddleware(lambda r: None)(request)
    return request
