"""Dashboard: "N Locked carts" first among the summary items, the locked-carts panel first among
the panels, both hidden from users without cart permissions, both at a fixed query cost."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from wagtail_lockedcarts.admin.components import LockedCartsPanel, LockedCartsSummaryItem

pytestmark = pytest.mark.django_db


def test_summary_item_counts_locked_carts_and_links_to_the_filtered_list(admin_client, mixed_carts):
    response = admin_client.get("/admin/")
    html = response.content.decode()
    assert "3 Locked carts" in html
    assert 'href="/admin/lockedcarts/carts/?cart_filter=locked"' in html
    items = response.context["site_summary"].summary_items
    assert isinstance(items[0], LockedCartsSummaryItem)


def test_summary_item_singular(admin_client, make_cart):
    from wagtail_lockedcarts.models import CartStatus

    make_cart(status=CartStatus.LOCKED)
    html = admin_client.get("/admin/").content.decode()
    assert re.search(r"\b1 Locked cart\s*</a>", html)


def test_panel_is_first_and_lists_the_newest_locked_carts(admin_client, mixed_carts):
    response = admin_client.get("/admin/")
    panels = response.context["panels"]
    assert isinstance(panels[0], LockedCartsPanel)
    html = response.content.decode()
    panel = html[html.index('id="locked-carts-section"') :]
    panel = panel[: panel.index("</section>")]
    for name, total, reason in (
        ("Carol Pending", "25.00 EUR", "Pending payment"),
        ("Dave Noreturn", "29.97 EUR", "No return from PayPal"),
        ("Eve Mismatch", "12.50 EUR", "Amount mismatch"),
    ):
        assert name in panel and total in panel and reason in panel
    for cart in (mixed_carts["pending"], mixed_carts["no_return"], mixed_carts["mismatch"]):
        assert f'href="/admin/lockedcarts/carts/inspect/{cart.pk}/"' in panel
    assert "Alice Open" not in panel and "Frank Ordered" not in panel
    assert panel.count("0\xa0minutes") == 3  # the age (timesince)


@override_settings(WAGTAIL_LOCKEDCARTS={"DASHBOARD_PANEL_ITEMS": 2})
def test_panel_shows_at_most_the_configured_number_newest_first(admin_client, mixed_carts):
    response = admin_client.get("/admin/")
    rows = response.context["panels"][0].carts
    assert [cart.customer_name for cart in rows] == ["Eve Mismatch", "Dave Noreturn"]


def test_unlock_only_editor_sees_both(client, unlock_editor, mixed_carts):
    client.force_login(unlock_editor)
    html = client.get("/admin/").content.decode()
    assert "3 Locked carts" in html and 'id="locked-carts-section"' in html


def test_both_hidden_without_cart_permissions(client, outsider, mixed_carts):
    client.force_login(outsider)
    response = client.get("/admin/")
    html = response.content.decode()
    assert not re.search(r"\d+\s+Locked carts?", html)
    assert 'id="locked-carts-section"' not in html
    assert not any(isinstance(item, LockedCartsSummaryItem) for item in response.context["site_summary"].summary_items)


@pytest.mark.parametrize("user_fixture", ["superuser", "unlock_editor"])
def test_dashboard_query_count_is_the_same_for_5_and_500_carts(client, request, bulk_locked_carts, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    bulk_locked_carts(5)
    client.get("/admin/")
    with CaptureQueriesContext(connection) as five:
        assert "5 Locked carts" in client.get("/admin/").content.decode()
    bulk_locked_carts(495)
    with CaptureQueriesContext(connection) as five_hundred:
        assert "500 Locked carts" in client.get("/admin/").content.decode()
    assert len(five) == len(five_hundred), (len(five), len(five_hundred))
