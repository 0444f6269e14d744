"""A site's Cart Management viewset that swaps one action view (see tests/settings_custom_viewset.py)."""

from wagtail_lockedcarts.admin.views.carts import CartActionView
from wagtail_lockedcarts.admin.viewsets import CartViewSet


class ConfirmWithNoteView(CartActionView):
    pass


class ShopCartViewSet(CartViewSet):
    confirm_cart_view_class = ConfirmWithNoteView
