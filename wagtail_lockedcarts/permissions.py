"""Per-instance permission rules for carts, used through Wagtail 8's permission policy registry."""

from wagtail.permission_policies.base import ModelPermissionPolicy

CART_ACTIONS = ("confirm", "unlock", "delete")


class CartPermissionPolicy(ModelPermissionPolicy):
    """Model permissions (``confirm_cart``, ``unlock_cart``, ``delete_cart``, …) plus the rule of
    which action fits which cart state, so buttons and views ask one place."""

    def user_has_permission_for_instance(self, user, action, instance):
        from .models import CartStatus

        if action == "confirm" and instance.status != CartStatus.LOCKED:
            return False
        if action == "unlock" and instance.status != CartStatus.LOCKED:
            return False
        if action == "delete" and instance.status not in (CartStatus.OPEN, CartStatus.LOCKED):
            return False
        if action == "change" and instance.status != CartStatus.OPEN:
            return False
        return super().user_has_permission_for_instance(user, action, instance)
