"""In a real browser: a shopper pays on the offline PayPal sandbox, a pending payment locks the
cart, an admin resolves it in Wagtail's admin, and the shopper's very next page just works.

Chromium (Debian's, through Playwright) clicks what a person would click; the shop's real PayPal
client talks HTTP to the sandbox on the same live server. Webhooks stay queued (the sandbox
fixture's manual delivery), so only what the browser does drives the carts.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.fixtures_browser import admin_login
from wagtail_lockedcarts.models import Cart, CartStatus, LockReason, Order

pytestmark = pytest.mark.browser

MESSAGES = ".messages .message"


def use_policy(cart_settings, policy):
    cart_settings.pending_payment_policy = policy
    cart_settings.save()


def shop_url(live_server, shop):
    return live_server.url + shop[0].get_parent().url


def submit(page, button):
    """Click a form's submit button and wait for the page it leads to (often the same URL)."""
    with page.expect_navigation():
        button.click()


def add_first_product(page, live_server, shop):
    page.goto(shop_url(live_server, shop))
    card = page.locator(".product-card", has_text=shop[0].title)
    submit(page, card.get_by_role("button", name="Add to cart"))


def pay_on_paypal(page, live_server, button):
    """From the cart page: "Pay with PayPal", then ``button`` on the sandbox's approval page."""
    page.get_by_role("link", name=re.compile(r"^Cart\b")).first.click()
    page.get_by_role("button", name="Pay with PayPal").click()
    page.wait_for_url(re.compile(re.escape(live_server.url + "/paypal-sandbox/")))
    assert page.locator("h1").inner_text().startswith("Pay ")
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url(re.compile(re.escape(live_server.url + "/cart/")))


def messages_on(page):
    return [text.strip() for text in page.locator(MESSAGES).all_inner_texts()]


def shopper_cart(context):
    session_key = next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "sessionid")
    return Cart.objects.filter(session_key=session_key).order_by("-pk").first()


def test_shopper_pays_and_the_admin_sees_the_order(
    new_context, live_server, paypal_sandbox, shop, cart_settings, superuser
):
    use_policy(cart_settings, "lock")
    shopper = new_context().new_page()

    add_first_product(shopper, live_server, shop)
    assert "Added to your cart." in messages_on(shopper)
    pay_on_paypal(shopper, live_server, "Pay")

    success = shopper.locator(".lockedcarts-checkout--success")
    assert success.locator("h1").inner_text() == "Thank you for your order"
    order = Order.objects.get()
    assert success.get_attribute("data-order") == str(order.pk)
    assert f"your order {order.pk} (12.50 EUR)" in success.inner_text()

    admin = new_context().new_page()
    admin_login(admin, live_server.url)
    admin.get_by_role("link", name="Orders", exact=True).click()
    admin.wait_for_url(re.compile(r"/admin/lockedcarts/orders/"))
    row = admin.locator("table.listing tbody tr").filter(has_text="12.50")
    expect(row).to_have_count(1)
    order.refresh_from_db()
    assert order.get_status_display().lower() in row.inner_text().lower()
    assert f"Order {order.pk}" in row.inner_text() and "buyer@example.com" in row.inner_text()


def open_locked_carts(admin, live_server, route):
    """The article's two ways in: the "Locked Carts" summary on the dashboard, or "Cart
    Management" in the sidebar and then "Locked Carts" in the "Cart Filter"."""
    if route == "dashboard":
        admin.locator(".w-summary__list").get_by_role("link", name=re.compile(r"^\d+ Locked carts?$", re.I)).click()
    else:
        admin.get_by_role("link", name="Cart Management").click()
        admin.wait_for_url(re.compile(r"/admin/lockedcarts/carts/$"))
        cart_filter = admin.get_by_role("navigation", name="Cart Filter")
        cart_filter.get_by_role("link", name=re.compile(r"^Locked Carts")).click()
    admin.wait_for_url(re.compile(r"/admin/lockedcarts/carts/\?cart_filter=locked$"))
    expect(admin.get_by_role("navigation", name="Cart Filter").locator("[aria-current=page]")).to_have_text(
        re.compile(r"Locked Carts\s*1")
    )


ARTICLE_STEPS = [
    (
        "Confirm Order",
        "dashboard",
        "Yes, confirm the order",
        "Order {order} created from the cart",
        "Your order {order} was confirmed. Thank you!",
    ),
    (
        "Unlock Cart",
        "cart_management",
        "Yes, unlock the cart",
        "Cart {cart} unlocked.",
        "Your cart is open again: no payment was taken for it. You can change it or pay again.",
    ),
    (
        "Delete Cart",
        "cart_management",
        "Yes, delete the cart",
        "Cart {cart} deleted.",
        "Your previous cart was removed. You can go on shopping with a new cart.",
    ),
]


@pytest.mark.parametrize(
    "action, route, confirm_label, admin_message, shopper_message", ARTICLE_STEPS, ids=["confirm", "unlock", "delete"]
)
def test_the_support_articles_steps_resolve_a_locked_cart_and_the_shopper_is_told_once(
    new_context,
    live_server,
    paypal_sandbox,
    shop,
    cart_settings,
    superuser,
    action,
    route,
    confirm_label,
    admin_message,
    shopper_message,
):
    use_policy(cart_settings, "lock")
    shopper_context = new_context()
    shopper = shopper_context.new_page()
    add_first_product(shopper, live_server, shop)
    pay_on_paypal(shopper, live_server, "Pay with card")
    assert Order.objects.count() == 1  # a first, paid order: the shopper is a returning customer
    add_first_product(shopper, live_server, shop)
    pay_on_paypal(shopper, live_server, "Pay – pending (eCheck)")

    assert shopper.locator(".lockedcarts-checkout--pending h1").inner_text() == "Your payment is pending"
    cart = shopper_cart(shopper_context)
    assert (cart.status, cart.lock_reason) == (CartStatus.LOCKED, LockReason.PENDING_PAYMENT)

    # The cart shows as locked and refuses edits with a clear message, shown once.
    shopper.get_by_role("link", name="View your cart").click()
    assert shopper.locator(".lockedcarts-cart").get_attribute("data-cart-status") == "locked"
    assert "Your cart is locked" in shopper.locator(".lockedcarts-cart__notice").inner_text()
    assert shopper.get_by_role("button", name="Pay with PayPal").count() == 0
    assert shopper.get_by_role("button", name="Remove").count() == 0
    add_first_product(shopper, live_server, shop)
    refusals = [m for m in messages_on(shopper) if "locked" in m]
    assert len(refusals) == 1 and refusals[0].startswith("Your cart is locked while we check your payment with PayPal.")
    assert shopper.locator(".cart-link__state").inner_text() == "locked"
    assert cart.lines.get().quantity == 1

    # An admin, in a browser of their own, follows the article.
    admin = new_context().new_page()
    admin_login(admin, live_server.url)
    open_locked_carts(admin, live_server, route)
    rows = admin.locator("table.listing tbody tr")
    expect(rows).to_have_count(1)
    row = rows.first
    assert cart.customer_label in row.inner_text() and "12.50" in row.inner_text()
    row.get_by_role("link", name=re.compile(r"^Edit\b")).click()
    admin.wait_for_url(re.compile(rf"/admin/lockedcarts/carts/inspect/{cart.pk}/"))
    assert admin.locator("h1").inner_text().startswith("Cart Details")
    details = admin.locator("main").inner_text()
    assert "12.50 EUR" in details and "Payment pending at PayPal (eCheck): not received yet" in details
    for label in ("Confirm Order", "Unlock Cart", "Delete Cart", "Check PayPal now"):
        expect(admin.get_by_role("link", name=label, exact=True)).to_be_visible()
    admin.get_by_role("link", name=action, exact=True).click()
    assert admin.locator("h1").inner_text().strip().startswith(action)
    if action == "Delete Cart":
        # PayPal holds the pending 12.50: the page names it and asks for an acknowledgement first.
        assert "12.50" in admin.locator("main").inner_text()
        admin.get_by_role("checkbox").check()
    submit(admin, admin.get_by_role("button", name=confirm_label))
    order = Order.objects.filter(cart_id=cart.pk).first()
    expected_admin = admin_message.format(order=order.pk if order else "", cart=cart.pk)
    assert any(expected_admin in text for text in admin.locator(".messages").all_inner_texts())

    # The shopper's same browser, no cookies cleared: the next page says what happened, once.
    shopper.goto(shop_url(live_server, shop))
    assert messages_on(shopper) == [shopper_message.format(order=order.pk if order else "")]
    shopper.reload()
    assert messages_on(shopper) == []

    add_first_product(shopper, live_server, shop)
    assert "Added to your cart." in messages_on(shopper)
    now = shopper_cart(shopper_context)
    assert now.status == CartStatus.OPEN
    if action == "Unlock Cart":
        # The same cart, unlocked: what they had plus what they just added.
        assert now.pk == cart.pk and now.lines.get().quantity == 2
        assert shopper.locator(".cart-link").get_attribute("data-cart-count") == "2"
    else:
        assert now.pk != cart.pk and now.lines.count() == 1
        assert shopper.locator(".cart-link").get_attribute("data-cart-count") == "1"


def test_dashboard_shows_locked_carts_first_and_links_to_the_filtered_listing(
    new_context, live_server, django_db_serialized_rollback, make_cart, superuser
):
    locked = make_cart(status=CartStatus.LOCKED, lines=[(1, 2)], customer_name="Carol Pending")
    make_cart(status=CartStatus.OPEN, customer_name="Alice Open")
    admin = new_context().new_page()

    admin_login(admin, live_server.url)

    summary_items = admin.locator(".w-summary__list > li")
    assert re.fullmatch(r"1 Locked cart", summary_items.first.inner_text().strip())
    panel = admin.locator("#locked-carts-section")
    assert panel.is_visible()
    first_section = admin.locator("main section[id$='-section']").first
    assert first_section.get_attribute("id") == "locked-carts-section"
    assert "Carol Pending" in panel.inner_text() and "Alice Open" not in panel.inner_text()

    summary_items.first.get_by_role("link").click()
    admin.wait_for_url(re.compile(r"/admin/lockedcarts/carts/\?cart_filter=locked$"))
    listing = admin.locator("table.listing tbody")
    expect(listing.locator("tr")).to_have_count(1)
    assert "Carol Pending" in listing.inner_text()
    assert f"/admin/lockedcarts/carts/inspect/{locked.pk}/" in listing.inner_html()
