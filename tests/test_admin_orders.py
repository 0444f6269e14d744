"""Orders: listing with the order filter (on hold / submitted / exported / not confirmed past
the site's grace period), Order Details, and the Release / Retry export actions."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import ModelLogEntry

from wagtail_lockedcarts.models import Order, OrderStatus

pytestmark = pytest.mark.django_db

BASE = "/admin/lockedcarts/orders/"


def listed(response):
    return sorted(order.pk for order in response.context["object_list"])


def message_texts(response):
    return [str(m).strip() for m in get_messages(response.wsgi_request)]


@pytest.fixture
def orders(make_order):
    return {
        "on_hold": make_order(OrderStatus.ON_HOLD, customer_name="Hold Harry"),
        "submitted": make_order(OrderStatus.SUBMITTED, customer_name="Sub Sally"),
        "exported": make_order(OrderStatus.EXPORTED, customer_name="Ex Eddie"),
    }


@pytest.fixture
def release_editor(make_staff):
    return make_staff("releaser", ["wagtail_lockedcarts.view_order", "wagtail_lockedcarts.release_order"])


def test_listing_columns_and_title_links_to_details(admin_client, orders):
    response = admin_client.get(BASE)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Hold Harry", "Sub Sally", "Ex Eddie", "On hold", "Submitted", "Exported"):
        assert name in html
    assert f'href="{BASE}inspect/{orders["on_hold"].pk}/"' in html
    assert "Add order" not in html
    assert "bulk-action-checkbox" not in html


@pytest.mark.parametrize("value", ["on_hold", "submitted", "exported"])
def test_order_filter_by_status(admin_client, orders, value):
    response = admin_client.get(f"{BASE}results/", {"order_filter": value})
    assert listed(response) == [orders[value].pk]


def test_not_confirmed_uses_the_site_grace_period(admin_client, orders, cart_settings):
    submitted = orders["submitted"]
    cart_settings.not_confirmed_grace_hours = 24
    cart_settings.save()
    assert listed(admin_client.get(f"{BASE}results/", {"order_filter": "not_confirmed"})) == []
    Order.objects.filter(pk=submitted.pk).update(submitted_at=timezone.now() - timedelta(hours=25))
    assert listed(admin_client.get(f"{BASE}results/", {"order_filter": "not_confirmed"})) == [submitted.pk]
    cart_settings.not_confirmed_grace_hours = 48
    cart_settings.save()
    assert listed(admin_client.get(f"{BASE}results/", {"order_filter": "not_confirmed"})) == []


def test_search_orders_by_customer(admin_client, orders):
    assert listed(admin_client.get(f"{BASE}results/", {"q": "sally"})) == [orders["submitted"].pk]


def test_order_details_show_lines_and_actions(admin_client, orders):
    order = orders["on_hold"]
    response = admin_client.get(f"{BASE}inspect/{order.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Order Details" in html and "Mug" in html and "12.50 EUR" in html
    assert [str(b.label) for b in response.context["header_buttons"] if b.label] == ["Release order on hold"]
    response = admin_client.get(f"{BASE}inspect/{orders['submitted'].pk}/")
    assert [str(b.label) for b in response.context["header_buttons"] if b.label] == ["Retry export"]


def test_orders_are_neither_editable_nor_deletable(admin_client, orders):
    order = orders["submitted"]
    for url in (f"{BASE}edit/{order.pk}/", f"{BASE}delete/{order.pk}/", f"{BASE}add/"):
        response = admin_client.post(url, {"customer_name": "x"})
        assert (response.status_code, response["Location"]) == (302, "/admin/"), url
    assert Order.objects.filter(pk=order.pk, customer_name="Sub Sally").exists()


def test_release_order_on_hold(admin_client, superuser, orders):
    order = orders["on_hold"]
    page = admin_client.get(f"{BASE}release/{order.pk}/")
    assert "releases the order from hold and sends it to export" in page.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD  # GET changes nothing
    response = admin_client.post(f"{BASE}release/{order.pk}/", {"next": BASE})
    assert response.status_code == 302 and response["Location"] == BASE
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED
    assert ModelLogEntry.objects.filter(
        object_id=str(order.pk), action="wagtail_lockedcarts.release", user=superuser
    ).exists()
    assert f"Order {order.pk} released and sent to export." in message_texts(response)


def test_retry_export(admin_client, superuser, orders):
    order = orders["submitted"]
    response = admin_client.post(f"{BASE}retry-export/{order.pk}/")
    assert response.status_code == 302
    assert ModelLogEntry.objects.filter(
        object_id=str(order.pk), action="wagtail_lockedcarts.export", user=superuser
    ).exists()


def test_actions_that_no_longer_apply_change_nothing(admin_client, orders):
    exported = orders["exported"]
    entries = ModelLogEntry.objects.count()
    for segment in ("release", "retry-export"):
        response = admin_client.post(f"{BASE}{segment}/{exported.pk}/")
        assert response.status_code == 302
        assert "Nothing was changed" in " ".join(message_texts(response))
    assert ModelLogEntry.objects.count() == entries


def test_release_permission_is_separate_from_export(client, release_editor, orders):
    client.force_login(release_editor)
    assert client.get(BASE).status_code == 200
    assert client.post(f"{BASE}retry-export/{orders['submitted'].pk}/").status_code == 403
    response = client.post(f"{BASE}release/{orders['on_hold'].pk}/")
    assert response.status_code == 302
    assert Order.objects.get(pk=orders["on_hold"].pk).status == OrderStatus.SUBMITTED


def test_viewer_may_not_release(client, viewer, orders):
    client.force_login(viewer)
    assert client.get(f"{BASE}inspect/{orders['on_hold'].pk}/").status_code == 200
    assert client.post(f"{BASE}release/{orders['on_hold'].pk}/").status_code == 403
    assert Order.objects.get(pk=orders["on_hold"].pk).status == OrderStatus.ON_HOLD


def test_order_listing_query_count_does_not_grow(admin_client, make_order):
    make_order(OrderStatus.SUBMITTED)
    admin_client.get(BASE)
    with CaptureQueriesContext(connection) as one:
        admin_client.get(BASE)
    for _ in range(3):
        make_order(OrderStatus.SUBMITTED)
    with CaptureQueriesContext(connection) as four:
        admin_client.get(BASE)
    assert len(one) == len(four)
