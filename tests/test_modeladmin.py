"""The optional ``wagtail_lockedcarts.modeladmin`` sub-app: same listings, filters and action
buttons as the snippet screens, reusing the same action views; it replaces the snippet sidebar
items (either/or).

INSTALLED_APPS is fixed per process, so under the normal test settings this module holds a single
test that runs the module again in its own pytest process with ``tests.settings_modeladmin``;
there, the module holds the real tests below.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps

MODELADMIN_INSTALLED = apps.is_installed("wagtail_lockedcarts.modeladmin")
EXPECTED_TESTS = 12

if not MODELADMIN_INSTALLED:

    def test_modeladmin_suite_passes_with_the_sub_app_installed():
        root = Path(__file__).resolve().parent.parent
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(Path(__file__)),
                "--ds=tests.settings_modeladmin",
                "-q",
                "-p",
                "no:randomly",
            ],
            cwd=root,
            env={**os.environ},
            capture_output=True,
            text=True,
            timeout=900,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-6000:]
        assert f"{EXPECTED_TESTS} passed" in output, output[-3000:]

else:
    from django.contrib.messages import get_messages
    from wagtail.admin.admin_url_finder import AdminURLFinder
    from wagtail.models import ModelLogEntry

    from wagtail_lockedcarts.models import Cart, CartStatus, Order, OrderStatus

    pytestmark = pytest.mark.django_db

    CARTS = "/admin/wagtail_lockedcarts/cart/"
    ORDERS = "/admin/wagtail_lockedcarts/order/"
    BUTTON = re.compile(r'<a href="(?P<url>[^"]+)" class="(?P<class>[^"]*)" title="[^"]*">(?P<label>[^<]+)</a>')

    def sidebar_links(client):
        html = client.get("/admin/").content.decode()
        return set(
            re.findall(
                r'"label": "([^"]+)", "icon_name": "[^"]*", "classname": "[^"]*", "attrs": \{[^}]*\}, "url": "([^"]+)"',
                html,
            )
        )

    def row_buttons(html, cart):
        start = html.index(f'data-object-pk="{cart.pk}"')
        row = html[start : html.index("</tr>", start)]
        return [(m["label"], m["url"]) for m in BUTTON.finditer(row)]

    def test_sidebar_items_switch_from_snippets_to_modeladmin(admin_client):
        links = sidebar_links(admin_client)
        assert ("Cart Management", CARTS) in links
        assert ("Orders", ORDERS) in links
        assert not any(
            url.startswith(("/admin/lockedcarts/carts/", "/admin/lockedcarts/orders/")) for _label, url in links
        )
        # The unmatched-payments screen has no modeladmin twin: its item stays.
        assert ("Unmatched payments", "/admin/lockedcarts/payments/") in links

    def test_admin_url_finder_points_at_modeladmin(superuser, mixed_carts):
        cart = mixed_carts["open"]
        assert AdminURLFinder(superuser).get_edit_url(cart) == f"{CARTS}edit/{cart.pk}/"

    def test_index_columns_filter_and_search(admin_client, mixed_carts):
        response = admin_client.get(CARTS)
        assert response.status_code == 200
        html = response.content.decode()
        for heading in (
            "Customer",
            "Total",
            "Card",
            "Status",
            "Lock reason",
            "Locked at",
            "Cart Filter",
            "Locked Carts",
        ):
            assert heading in html, heading
        html = admin_client.get(CARTS, {"cart_filter": "locked"}).content.decode()
        assert "Carol Pending" in html and "Dave Noreturn" in html and "Eve Mismatch" in html
        assert "Alice Open" not in html and "Frank Ordered" not in html
        html = admin_client.get(CARTS, {"q": "carol.payer"}).content.decode()
        assert "Carol Pending" in html and "Dave Noreturn" not in html
        assert "29.97 EUR" in admin_client.get(CARTS).content.decode()

    def test_row_buttons_follow_state_and_permission(client, admin_client, unlock_editor, mixed_carts):
        html = admin_client.get(CARTS).content.decode()
        labels = [label for label, _url in row_buttons(html, mixed_carts["pending"])]
        assert labels == ["Cart Details", "Confirm Order", "Unlock Cart", "Check PayPal now", "Delete Cart"]
        assert [label for label, _url in row_buttons(html, mixed_carts["open"])] == [
            "Edit",
            "Cart Details",
            "Delete Cart",
        ]
        client.force_login(unlock_editor)
        html = client.get(CARTS).content.decode()
        assert [label for label, _url in row_buttons(html, mixed_carts["pending"])] == [
            "Cart Details",
            "Unlock Cart",
            "Check PayPal now",
        ]

    def test_buttons_run_the_shared_action_views(admin_client, superuser, mixed_carts):
        html = admin_client.get(CARTS).content.decode()
        buttons = dict(row_buttons(html, mixed_carts["pending"]))
        assert buttons["Unlock Cart"].startswith("/admin/lockedcarts/carts/unlock-cart/")
        page = admin_client.get(buttons["Unlock Cart"])
        assert "This opens the cart again" in page.content.decode()
        response = admin_client.post(buttons["Unlock Cart"])
        assert response.status_code == 302 and response["Location"] == CARTS
        assert Cart.objects.get(pk=mixed_carts["pending"].pk).status == CartStatus.OPEN
        assert ModelLogEntry.objects.filter(
            object_id=str(mixed_carts["pending"].pk), action="wagtail_lockedcarts.unlock", user=superuser
        ).exists()

        admin_client.post(dict(row_buttons(html, mixed_carts["no_return"]))["Confirm Order"])
        assert Order.objects.filter(cart=mixed_carts["no_return"]).exists()

        admin_client.post(dict(row_buttons(html, mixed_carts["mismatch"]))["Delete Cart"])
        entry = ModelLogEntry.objects.get(
            object_id=str(mixed_carts["mismatch"].pk), action="wagtail_lockedcarts.delete"
        )
        assert entry.deleted and entry.data["customer"] == "Eve Mismatch"

    def test_forbidden_action_is_403(client, unlock_editor, mixed_carts):
        client.force_login(unlock_editor)
        assert client.post(f"/admin/lockedcarts/carts/confirm/{mixed_carts['pending'].pk}/").status_code == 403
        assert Cart.objects.get(pk=mixed_carts["pending"].pk).status == CartStatus.LOCKED

    def test_cart_details_render_lines_and_action_buttons(admin_client, mixed_carts):
        cart = mixed_carts["pending"]
        response = admin_client.get(f"{CARTS}inspect/{cart.pk}/")
        assert response.status_code == 200
        html = response.content.decode()
        for text in (
            "25.00 EUR",
            cart.paypal_order_id,
            "T-shirt",
            "Payment attempts",
            "Pending payment",
            "Confirm Order",
            "Unlock Cart",
        ):
            assert text in html, text
        assert f"{CARTS}history/{cart.pk}/" in html

    def test_edit_locked_cart_goes_to_details_open_cart_edits_customer_fields(admin_client, mixed_carts):
        locked = mixed_carts["pending"]
        response = admin_client.get(f"{CARTS}edit/{locked.pk}/")
        assert response.status_code == 302 and response["Location"] == f"{CARTS}inspect/{locked.pk}/"
        cart = mixed_carts["open"]
        response = admin_client.post(
            f"{CARTS}edit/{cart.pk}/", {"customer_name": "Alice M.", "customer_email": "am@example.com"}
        )
        assert response.status_code == 302
        cart.refresh_from_db()
        assert (cart.customer_name, cart.status) == ("Alice M.", CartStatus.OPEN)
        assert ModelLogEntry.objects.filter(object_id=str(cart.pk), action="wagtail.edit").exists()

    def test_no_modeladmin_create_or_delete(admin_client, mixed_carts):
        cart = mixed_carts["open"]
        for url in (f"{CARTS}create/", f"{CARTS}delete/{cart.pk}/"):
            response = admin_client.post(url, {"customer_name": "x"})
            assert response.status_code == 302 and response["Location"] == "/admin/", url
        assert Cart.objects.filter(pk=cart.pk).exists()

    def test_history_needs_a_cart_permission(client, outsider, viewer, mixed_carts):
        cart = mixed_carts["pending"]
        client.force_login(outsider)
        response = client.get(f"{CARTS}history/{cart.pk}/")
        assert response.status_code == 302 and response["Location"] == "/admin/"
        client.force_login(viewer)
        response = client.get(f"{CARTS}history/{cart.pk}/")
        assert response.status_code == 200
        assert "Cart locked: pending payment" in response.content.decode()

    def test_order_modeladmin_filter_details_and_release(admin_client, superuser, make_order):
        held = make_order(OrderStatus.ON_HOLD, customer_name="Hold Harry")
        make_order(OrderStatus.SUBMITTED, customer_name="Sub Sally")
        html = admin_client.get(ORDERS, {"order_filter": "on_hold"}).content.decode()
        assert "Hold Harry" in html and "Sub Sally" not in html
        page = admin_client.get(f"{ORDERS}inspect/{held.pk}/").content.decode()
        assert "Order Details" in page and "Mug" in page
        release = next(m["url"] for m in BUTTON.finditer(page) if m["label"] == "Release order on hold")
        response = admin_client.post(release)
        assert response.status_code == 302 and response["Location"] == ORDERS
        held.refresh_from_db()
        assert held.status == OrderStatus.SUBMITTED
        assert ModelLogEntry.objects.filter(
            object_id=str(held.pk), action="wagtail_lockedcarts.release", user=superuser
        ).exists()
        assert any("released" in str(m) for m in get_messages(response.wsgi_request))

    def test_sub_app_refuses_to_start_without_wagtail_modeladmin(monkeypatch):
        from django.core.exceptions import ImproperlyConfigured

        config = apps.get_app_config("wagtail_lockedcarts_modeladmin")
        real = apps.is_installed
        monkeypatch.setattr(apps, "is_installed", lambda name: False if name == "wagtail_modeladmin" else real(name))
        with pytest.raises(ImproperlyConfigured):
            config.ready()
