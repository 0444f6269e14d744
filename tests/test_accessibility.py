"""Accessibility: axe-core (the npm package, pinned) runs in Chromium on every page the package
and the example shop render.

* Shop pages (the package's cart, checkout results and frozen-cart page, the example shop, the
  offline PayPal sandbox's approval page) must have no violation at all.
* Admin pages are Wagtail pages with the package's content in them: they may only have the
  violations (by axe rule) that Wagtail's own pages, scanned in the same run, also have.

axe-core is installed from the npm registry into ``.test-artifacts/axe-core`` the first time
(``npm install axe-core@<pinned>``), or taken from ``LOCKEDCARTS_AXE`` (a path to ``axe.min.js``).
Nothing is downloaded at run time beyond that registry.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests.fixtures_browser import admin_login
from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.models import CartStatus, LockReason, PaymentAttempt

pytestmark = pytest.mark.browser

AXE_VERSION = "4.14.1"
REPO = Path(__file__).resolve().parent.parent
AXE_DIR = REPO / ".test-artifacts" / "axe-core"

RUN_AXE = """async () => {
    const results = await axe.run(document, {resultTypes: ["violations"]});
    return results.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
    }));
}"""


def axe_path():
    configured = os.environ.get("LOCKEDCARTS_AXE")
    if configured:
        return Path(configured)
    path = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if path.is_file():
        installed = json.loads((path.parent / "package.json").read_text())["version"]
        if installed == AXE_VERSION:
            return path
    npm = shutil.which("npm")
    if npm is None:
        return None
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(AXE_DIR), f"axe-core@{AXE_VERSION}", "--no-audit", "--no-fund"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return path


@pytest.fixture(scope="module")
def axe_source():
    path = axe_path()
    if path is None or not path.is_file():
        message = "axe-core not available (no npm, no LOCKEDCARTS_AXE)"
        if os.environ.get("LOCKEDCARTS_REQUIRE_ALL") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path.read_text()


class Scanner:
    def __init__(self, axe_source, base_url):
        self.axe_source = axe_source
        self.base_url = base_url
        self.results = {}

    def scan(self, page, name, url=None):
        if url is not None:
            response = page.goto(self.base_url + url if url.startswith("/") else url)
            assert response is not None and response.status < 500, (name, url, response and response.status)
        page.add_script_tag(content=self.axe_source)
        self.results[name] = page.evaluate(RUN_AXE)
        return self.results[name]


def report(results):
    return "\n".join(
        f"{name}: {v['id']} ({v['impact']}) {v['help']} at {', '.join(v['nodes'])}"
        for name, violations in results.items()
        for v in violations
    )


def test_axe_finds_no_violation_on_shop_pages_and_none_beyond_wagtails_own_in_the_admin(
    new_context, live_server, paypal_sandbox, shop, cart_settings, superuser, make_cart, axe_source
):
    cart_settings.pending_payment_policy = "lock"
    cart_settings.save()
    axe = Scanner(axe_source, live_server.url)
    shop_results, admin_results, wagtail_results = {}, {}, {}

    # ---- the shop, as a shopper walks it ----
    shopper = new_context().new_page()
    index_url = shop[0].get_parent().url
    shop_results["shop index"] = axe.scan(shopper, "shop index", index_url)
    shop_results["product page"] = axe.scan(shopper, "product page", shop[0].url)
    shop_results["empty cart"] = axe.scan(shopper, "empty cart", reverse("wagtail_lockedcarts:cart"))
    shop_results["sign-in page"] = axe.scan(shopper, "sign-in page", reverse("login"))
    shop_results["not found"] = axe.scan(shopper, "not found", "/no-such-page/")
    shopper.goto(live_server.url + index_url)
    with shopper.expect_navigation():
        shopper.locator(".product-card", has_text=shop[0].title).get_by_role("button", name="Add to cart").click()
    shop_results["shop after adding (message)"] = axe.scan(shopper, "shop after adding (message)")
    shop_results["open cart"] = axe.scan(shopper, "open cart", reverse("wagtail_lockedcarts:cart"))
    shopper.get_by_role("button", name="Pay with PayPal").click()
    shopper.wait_for_url(re.compile(r"/paypal-sandbox/"))
    approve_url = shopper.url
    shop_results["PayPal sandbox approval page"] = axe.scan(shopper, "PayPal sandbox approval page")
    shop_results["cart awaiting payment"] = axe.scan(
        shopper, "cart awaiting payment", reverse("wagtail_lockedcarts:cart")
    )
    shopper.goto(approve_url)
    shopper.get_by_role("button", name="Pay – pending (eCheck)", exact=True).click()
    shopper.wait_for_url(re.compile(r"/cart/"))
    shop_results["checkout pending"] = axe.scan(shopper, "checkout pending")
    shop_results["locked cart"] = axe.scan(shopper, "locked cart", reverse("wagtail_lockedcarts:cart"))

    payer = new_context().new_page()
    payer.goto(live_server.url + index_url)
    with payer.expect_navigation():
        payer.locator(".product-card", has_text=shop[1].title).get_by_role("button", name="Add to cart").click()
    payer.goto(live_server.url + reverse("wagtail_lockedcarts:cart"))
    payer.get_by_role("button", name="Pay with PayPal").click()
    payer.wait_for_url(re.compile(r"/paypal-sandbox/"))
    payer.get_by_role("button", name="Pay", exact=True).click()
    payer.wait_for_url(re.compile(r"/cart/"))
    shop_results["checkout success"] = axe.scan(payer, "checkout success")

    # ---- the admin: the package's screens, and Wagtail's own for the baseline ----
    locked = make_cart(status=CartStatus.LOCKED, lines=[(0, 2)], customer_name="Ada Locked")
    no_return = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN, customer_name="Ben Gone")
    open_cart = make_cart(status=CartStatus.OPEN, customer_name="Cleo Open")
    ordered = make_cart(status=CartStatus.ORDERED, customer_name="Dan Ordered")
    order = ordered.order
    lifecycle.delete_cart(no_return, superuser)
    # PayPal captures the deleted cart's payment after all: an unmatched payment to resolve.
    lifecycle.apply_payment_result(
        None,
        lifecycle.PaymentResult(
            lifecycle.PaymentOutcome.COMPLETED,
            no_return.paypal_order_id,
            capture_id="AXECAPTURE0001",
            amount=no_return.amount,
            currency=no_return.currency,
            paypal_status="COMPLETED",
            capture_status="COMPLETED",
        ),
    )
    (unmatched,) = PaymentAttempt.objects.unmatched()
    deletion = ModelLogEntry.objects.get(action="wagtail_lockedcarts.delete")
    carts, orders = "/admin/lockedcarts/carts/", "/admin/lockedcarts/orders/"
    ours = {
        "dashboard": "/admin/",
        "Cart Management": carts,
        "Cart Management, Locked Carts": f"{carts}?cart_filter=locked",
        "Cart Details (locked)": f"{carts}inspect/{locked.pk}/",
        "Cart Details (open)": f"{carts}inspect/{open_cart.pk}/",
        "edit an open cart": f"{carts}edit/{open_cart.pk}/",
        "cart history": f"{carts}history/{locked.pk}/",
        "Confirm Order": f"{carts}confirm/{locked.pk}/",
        "Unlock Cart": f"{carts}unlock-cart/{locked.pk}/",
        "Delete Cart": f"{carts}delete-cart/{locked.pk}/",
        "Check PayPal now": f"{carts}check-paypal/{locked.pk}/",
        "bulk unlock": f"/admin/bulk/wagtail_lockedcarts/cart/unlock_carts/?id={locked.pk}",
        "Orders": orders,
        "Order Details": f"{orders}inspect/{order.pk}/",
        "order history": f"{orders}history/{order.pk}/",
        "Locked carts settings": reverse(
            "wagtailsettings:edit", args=["wagtail_lockedcarts", "lockedcartsettings", cart_settings.site_id]
        ),
        "site history with a deleted cart": "/admin/reports/site-history/?action=wagtail_lockedcarts.delete",
        "deleted cart's snapshot": f"{carts}deleted/{deletion.pk}/",
        "Unmatched payments": "/admin/lockedcarts/payments/",
        "resolve an unmatched payment": f"/admin/lockedcarts/payments/{unmatched.pk}/resolve/",
    }
    wagtails = {
        "pages explorer": "/admin/pages/",
        "page listing": f"/admin/pages/{shop[0].get_parent().pk}/",
        "page editor": f"/admin/pages/{shop[0].pk}/edit/",
        "page history": f"/admin/pages/{shop[0].pk}/history/",
        "images": "/admin/images/",
        "documents": "/admin/documents/",
        "users": "/admin/users/",
        "groups": "/admin/groups/",
        "site history": "/admin/reports/site-history/",
        "site history, filtered": "/admin/reports/site-history/?action=wagtail.create",
        "users, searched": "/admin/users/?q=admin",
        "edit a site": f"/admin/sites/edit/{cart_settings.site_id}/",
        "edit a user": f"/admin/users/edit/{superuser.pk}/",
        "add a redirect": "/admin/redirects/add/",
        "sites": "/admin/sites/",
        "redirects": "/admin/redirects/",
        "account": "/admin/account/",
    }
    admin = new_context().new_page()
    admin_login(admin, live_server.url)
    for name, url in ours.items():
        admin_results[name] = axe.scan(admin, name, url)
    for name, url in wagtails.items():
        wagtail_results[name] = axe.scan(admin, name, url)

    wagtail_rules = {v["id"] for violations in wagtail_results.values() for v in violations}
    beyond_wagtail = {
        name: [v for v in violations if v["id"] not in wagtail_rules] for name, violations in admin_results.items()
    }
    shop_failures = {name: v for name, v in shop_results.items() if v}
    admin_failures = {name: v for name, v in beyond_wagtail.items() if v}
    assert len(shop_results) == 12 and len(admin_results) == len(ours)
    assert not shop_failures, "Shop pages:\n" + report(shop_failures)
    assert not admin_failures, f"Admin pages (Wagtail's own pages have only {sorted(wagtail_rules)}):\n" + report(
        admin_failures
    )


def test_the_scan_reports_a_planted_violation(new_context, live_server, django_db_serialized_rollback, axe_source):
    """The scanner is not blind: an empty table header on a page is reported as such."""
    page = new_context().new_page()
    page.set_content(
        "<!DOCTYPE html><html lang='en'><head><title>t</title></head><body><main><h1>t</h1>"
        "<table><thead><tr><th>Item</th><th></th></tr></thead><tbody><tr><td>a</td><td>b</td></tr></tbody>"
        "</table><ul role='status'><li>orphan</li></ul></main></body></html>"
    )
    violations = Scanner(axe_source, live_server.url).scan(page, "planted")
    assert {"empty-table-header", "listitem"} <= {v["id"] for v in violations}
