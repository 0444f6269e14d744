"""Who sees which button, and who may act: every check goes through Wagtail 8's permission
policy registry, per instance (the cart's state and the user's permissions)."""

import re

import pytest
from wagtail import hooks
from wagtail.models import ModelLogEntry
from wagtail.permissions import policy_registry

from wagtail_lockedcarts.admin.permissions import CartPermissionPolicy, OrderPermissionPolicy
from wagtail_lockedcarts.models import Cart, CartStatus, Order

BASE = "/admin/lockedcarts/carts/"

pytestmark = pytest.mark.django_db

ROW_ACTION = re.compile(r'<a href="(?P<url>[^"]+)" class="" >\s*<svg[^>]*>.*?</svg>\s*(?P<label>[^<]+?)\s*</a>', re.S)


ROW_BUTTON = re.compile(
    r'<a href="(?P<url>[^"]+)" class="button button-small button-secondary"[^>]*>\s*<svg[^>]*>.*?</svg>'
    r"\s*(?P<label>[^<]+?)\s*</a>",
    re.S,
)


def row_html(client, cart):
    html = client.get(BASE).content.decode()
    start = html.index(f'id="snippet_{cart.pk}_title"')
    return html[start : html.index("</tr>", start)]


def row_actions(client, cart):
    """The labels in the "⋯" menu of ``cart``'s row on the listing."""
    return [m["label"] for m in ROW_ACTION.finditer(row_html(client, cart))]


def row_buttons(client, cart):
    """The buttons visible in ``cart``'s row: {label: url}."""
    return {m["label"]: m["url"] for m in ROW_BUTTON.finditer(row_html(client, cart))}


ACTION_LABELS = {"Confirm Order", "Unlock Cart", "Check PayPal now", "Delete Cart"}


def header_labels(client, cart):
    """The cart actions of the Cart Details header: its buttons and its "…" menu, by priority."""
    response = client.get(f"{BASE}inspect/{cart.pk}/")
    assert response.status_code == 200
    view = response.context["view"]
    buttons = sorted([*view.header_buttons, *view.header_more_buttons])
    return [str(button.label) for button in buttons if str(button.label) in ACTION_LABELS]


def test_policies_come_from_the_registry():
    assert isinstance(policy_registry.get_by_type(Cart), CartPermissionPolicy)
    assert isinstance(policy_registry.get_by_type(Order), OrderPermissionPolicy)


def test_custom_permissions_are_offered_in_the_group_editor():
    codenames = {p.codename for fn in hooks.get_hooks("register_permissions") for p in fn()}
    assert {"confirm_cart", "unlock_cart", "delete_cart", "change_cart", "view_cart"} <= codenames
    assert {"release_order", "export_order", "view_order"} <= codenames
    assert not {"add_order", "change_order", "delete_order"} & codenames


# Buttons --------------------------------------------------------------------------------------


def test_superuser_row_buttons_follow_the_cart_state(admin_client, mixed_carts):
    assert row_actions(admin_client, mixed_carts["pending"]) == [
        "Confirm Order",
        "Unlock Cart",
        "Check PayPal now",
        "Delete Cart",
        "History",
    ]
    assert row_actions(admin_client, mixed_carts["open"]) == ["Delete Cart", "History"]
    assert row_actions(admin_client, mixed_carts["awaiting"]) == ["Check PayPal now", "History"]
    assert row_actions(admin_client, mixed_carts["ordered"]) == ["History"]


@pytest.mark.parametrize("state", ["pending", "open", "awaiting", "ordered"])
def test_every_row_has_a_visible_edit_button_that_opens_cart_details(admin_client, mixed_carts, state):
    cart = mixed_carts[state]
    assert row_buttons(admin_client, cart) == {"Edit": f"{BASE}inspect/{cart.pk}/"}


@pytest.mark.parametrize("who", ["unlock_editor", "viewer"])
def test_the_edit_button_has_the_same_label_for_everyone_who_may_see_the_cart(client, mixed_carts, who, request):
    client.force_login(request.getfixturevalue(who))
    cart = mixed_carts["pending"]
    assert row_buttons(client, cart) == {"Edit": f"{BASE}inspect/{cart.pk}/"}


def test_unlock_only_editor_sees_only_unlock_and_check(client, unlock_editor, mixed_carts):
    client.force_login(unlock_editor)
    assert row_actions(client, mixed_carts["pending"]) == ["Unlock Cart", "Check PayPal now", "History"]
    assert row_actions(client, mixed_carts["open"]) == ["History"]
    assert header_labels(client, mixed_carts["pending"]) == ["Unlock Cart", "Check PayPal now"]


def test_superuser_cart_details_header(admin_client, mixed_carts):
    assert header_labels(admin_client, mixed_carts["pending"]) == [
        "Confirm Order",
        "Unlock Cart",
        "Check PayPal now",
        "Delete Cart",
    ]
    assert header_labels(admin_client, mixed_carts["open"]) == ["Delete Cart"]
    assert header_labels(admin_client, mixed_carts["ordered"]) == []


def test_viewer_sees_no_action_at_all(client, viewer, mixed_carts):
    client.force_login(viewer)
    assert row_actions(client, mixed_carts["pending"]) == ["History"]
    assert header_labels(client, mixed_carts["pending"]) == []


# Enforcement ----------------------------------------------------------------------------------


@pytest.mark.parametrize("segment", ["confirm", "delete-cart"])
def test_forbidden_posts_are_403_and_change_nothing(client, unlock_editor, mixed_carts, segment):
    cart = mixed_carts["pending"]
    client.force_login(unlock_editor)
    entries = ModelLogEntry.objects.count()
    assert client.get(f"{BASE}{segment}/{cart.pk}/").status_code == 403
    assert client.post(f"{BASE}{segment}/{cart.pk}/").status_code == 403
    cart.refresh_from_db()
    assert cart.status == CartStatus.LOCKED
    assert not Order.objects.filter(cart=cart).exists()
    assert ModelLogEntry.objects.count() == entries


def test_unlock_only_editor_may_unlock(client, unlock_editor, mixed_carts):
    cart = mixed_carts["pending"]
    client.force_login(unlock_editor)
    response = client.post(f"{BASE}unlock-cart/{cart.pk}/")
    assert response.status_code == 302
    cart.refresh_from_db()
    assert cart.status == CartStatus.OPEN
    assert ModelLogEntry.objects.filter(
        object_id=str(cart.pk), action="wagtail_lockedcarts.unlock", user=unlock_editor
    ).exists()


@pytest.mark.parametrize("segment", ["confirm", "unlock-cart", "delete-cart", "check-paypal"])
def test_viewer_may_not_act(client, viewer, mixed_carts, segment):
    cart = mixed_carts["pending"]
    client.force_login(viewer)
    assert client.post(f"{BASE}{segment}/{cart.pk}/").status_code == 403
    cart.refresh_from_db()
    assert cart.status == CartStatus.LOCKED


def test_outsider_is_refused_everywhere(client, outsider, mixed_carts):
    cart = mixed_carts["pending"]
    client.force_login(outsider)
    assert client.post(f"{BASE}unlock-cart/{cart.pk}/").status_code == 403
    for url in (BASE, f"{BASE}inspect/{cart.pk}/", f"{BASE}history/{cart.pk}/"):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, "/admin/"), url  # Wagtail's refusal
    cart.refresh_from_db()
    assert cart.status == CartStatus.LOCKED


def test_view_only_user_cannot_edit_an_open_cart(client, viewer, mixed_carts):
    cart = mixed_carts["open"]
    client.force_login(viewer)
    response = client.post(f"{BASE}edit/{cart.pk}/", {"customer_name": "Changed", "customer_email": ""})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    cart.refresh_from_db()
    assert cart.customer_name == "Alice Open"


# -- the policies' answers, asked directly ---------------------------------------------------


def cart_policy():
    return policy_registry.get_by_type(Cart)


def test_viewing_fits_every_cart_state_for_a_viewer_and_no_state_for_an_outsider(viewer, outsider, mixed_carts):
    policy = cart_policy()

    for cart in mixed_carts.values():
        assert policy.user_has_permission_for_instance(viewer, "view", cart)
        assert not policy.user_has_permission_for_instance(outsider, "view", cart)


def test_check_paypal_now_comes_with_either_confirm_or_unlock(make_staff, viewer, mixed_carts):
    confirmer = make_staff("confirmer", ["wagtail_lockedcarts.view_cart", "wagtail_lockedcarts.confirm_cart"])
    unlocker = make_staff("unlocker", ["wagtail_lockedcarts.view_cart", "wagtail_lockedcarts.unlock_cart"])
    policy = cart_policy()

    assert policy.user_has_permission(confirmer, "check") and policy.user_has_permission(unlocker, "check")
    assert not policy.user_has_permission(viewer, "check")
    assert policy.user_has_permission_for_instance(confirmer, "check", mixed_carts["awaiting"])
    assert not policy.user_has_permission_for_instance(confirmer, "check", mixed_carts["open"])


def test_nobody_adds_a_cart_nor_adds_edits_or_deletes_an_order_in_the_admin(superuser):
    orders = policy_registry.get_by_type(Order)

    assert not cart_policy().user_has_permission(superuser, "add")
    assert cart_policy().user_has_permission(superuser, "delete")
    for action in ("add", "change", "delete"):
        assert not orders.user_has_permission(superuser, action)
    assert orders.user_has_permission(superuser, "release") and orders.user_has_permission(superuser, "view")


def test_order_actions_fit_their_state_and_viewing_fits_every_order(superuser, viewer):
    orders = policy_registry.get_by_type(Order)
    on_hold, submitted = Order(status="on_hold"), Order(status="submitted")

    assert orders.user_has_permission_for_instance(superuser, "release", on_hold)
    assert not orders.user_has_permission_for_instance(superuser, "release", submitted)
    assert orders.user_has_permission_for_instance(superuser, "export", submitted)
    assert not orders.user_has_permission_for_instance(superuser, "export", on_hold)
    assert orders.user_has_permission_for_instance(viewer, "view", on_hold)
    assert not orders.user_has_permission_for_instance(viewer, "release", on_hold)


def sidebar_item_names(user, rf):
    from wagtail.admin.menu import admin_menu

    request = rf.get("/admin/")
    request.user = user
    return [item.name for item in admin_menu.menu_items_for_request(request)]


def test_the_sidebar_offers_unmatched_payments_to_those_the_screen_lets_in(superuser, make_staff, viewer, rf):
    confirmer = make_staff("confirmer", ["wagtail_lockedcarts.view_cart", "wagtail_lockedcarts.confirm_cart"])
    resolver = make_staff("resolver", ["wagtail_lockedcarts.resolve_payment"])
    for user in (superuser, confirmer, resolver):
        names = sidebar_item_names(user, rf)
        assert "lockedcarts-unmatched-payments" in names, user
        if "cart-management" in names:  # right after the package's other items
            assert names.index("lockedcarts-unmatched-payments") > names.index("cart-management")
    assert "lockedcarts-unmatched-payments" not in sidebar_item_names(viewer, rf)


def test_the_sidebar_item_opens_the_unmatched_payments_screen(admin_client, client, viewer):
    home = admin_client.get("/admin/").content.decode()
    assert '"/admin/lockedcarts/payments/"' in home and '"title": "Unmatched payments"' in home
    assert admin_client.get("/admin/lockedcarts/payments/").status_code == 200

    client.force_login(viewer)
    assert "/admin/lockedcarts/payments/" not in client.get("/admin/").content.decode()
    refused = client.get("/admin/lockedcarts/payments/")  # Wagtail turns the 403 into a redirect home
    assert refused.status_code == 302 and refused.url == "/admin/"
