"""Per-instance permission rules for carts and orders, used through Wagtail 8's permission policy
registry (``policy_registry.get_by_type(Cart)``) by every admin screen, button and bulk action.

Two questions are kept apart on purpose:

* *may this user ever do X?* — Django model permissions (``confirm_cart``, ``unlock_cart``,
  ``delete_cart``, ``release_order``, ``export_order``, …), answered by ``user_has_permission``;
* *does X fit this object's state?* — :func:`rules.cart_allows` / :func:`rules.order_allows`.

``user_has_permission_for_instance`` needs both. Views ask the two separately so a user who lacks
the right gets a 403 while a user whose page went stale (someone else confirmed the cart
meanwhile) gets an explanation instead.
"""

from wagtail.permission_policies.base import ModelPermissionPolicy

from wagtail_lockedcarts import rules

#: Any of these lets a user reach the cart listing, its sidebar item and the dashboard items.
CART_ACCESS_ACTIONS = ("change", "delete", "view", "confirm", "unlock")

#: Any of these lets a user reach the order listing and its sidebar item.
ORDER_ACCESS_ACTIONS = ("view", "release", "export")


class CartPermissionPolicy(ModelPermissionPolicy):
    """Model permissions plus the rule of which action fits which cart state, so buttons and
    views ask one place.

    Carts are made by shoppers, never in the admin (no ``add``). *Check PayPal now* has no
    permission of its own: whoever may confirm or unlock a cart may ask PayPal about it.
    """

    def user_has_permission(self, user, action):
        if action == "add":
            return False
        if action == "check":
            return super().user_has_permission(user, "confirm") or super().user_has_permission(user, "unlock")
        return super().user_has_permission(user, action)

    def user_has_permission_for_instance(self, user, action, instance):
        if not rules.cart_allows(action, instance):
            return False
        return super().user_has_permission_for_instance(user, action, instance)


class OrderPermissionPolicy(ModelPermissionPolicy):
    """Orders come from payments: the admin may view, release (``release_order``) and re-export
    (``export_order``) them, but never create, edit or delete them."""

    def user_has_permission(self, user, action):
        if action in ("add", "change", "delete"):
            return False
        return super().user_has_permission(user, action)

    def user_has_permission_for_instance(self, user, action, instance):
        if not rules.order_allows(action, instance):
            return False
        return super().user_has_permission_for_instance(user, action, instance)


def register_order_policy():
    """Register :class:`OrderPermissionPolicy` (from ``AppConfig.ready``, before the snippet
    viewsets exist: Wagtail 8 refuses a custom policy once a fallback one was created).
    Idempotent."""
    from wagtail.permissions import policy_registry, register_permission_policy

    from wagtail_lockedcarts.models import Order

    # get_by_type(fallback=False) still returns a fallback policy created earlier: registering
    # then raises Wagtail's clear ImproperlyConfigured instead of silently keeping the fallback.
    if not isinstance(policy_registry.get_by_type(Order, fallback=False), OrderPermissionPolicy):
        register_permission_policy(Order, OrderPermissionPolicy(Order))


def register_policies():
    """Register the cart and order policies, once, before anything asks Wagtail for them.

    Called from ``AppConfig.ready`` and again at the top of ``wagtail_hooks``: a site that lists
    ``wagtail_lockedcarts`` *after* ``wagtail.admin`` (the README's settings append it) gets its
    hooks imported by Wagtail's ready() first, and registering the snippet there would create a
    fallback policy that Wagtail then refuses to replace."""
    from wagtail.permissions import policy_registry, register_permission_policy

    from wagtail_lockedcarts.models import Cart

    if not isinstance(policy_registry.get_by_type(Cart, fallback=False), CartPermissionPolicy):
        register_permission_policy(Cart, CartPermissionPolicy(Cart))
    register_order_policy()
