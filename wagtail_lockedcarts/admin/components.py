"""Dashboard pieces: the "N Locked carts" summary item and the "Locked carts" panel.

Both come first on the dashboard (order 50; Wagtail's own items start at 100, its panels at
210) and both are hidden from users without any cart permission. Each costs a fixed number of
queries whatever the number of carts: one COUNT, and one SELECT of the newest few.
"""

from django.db.models import F
from django.utils import timezone
from django.utils.functional import cached_property
from wagtail.admin.site_summary import SummaryItem
from wagtail.admin.ui.components import Component
from wagtail.permissions import policy_registry

from wagtail_lockedcarts import conf
from wagtail_lockedcarts.admin import display
from wagtail_lockedcarts.admin.permissions import CART_ACCESS_ACTIONS
from wagtail_lockedcarts.models import Cart, CartStatus


def user_sees_carts(user):
    return policy_registry.get_by_type(Cart).user_has_any_permission(user, CART_ACCESS_ACTIONS)


class LockedCartsSummaryItem(SummaryItem):
    order = 50
    template_name = "wagtail_lockedcarts/dashboard/locked_carts_summary.html"

    def is_shown(self):
        return user_sees_carts(self.request.user)

    def get_context_data(self, parent_context):
        return {"total": Cart.objects.locked().count(), "url": display.locked_carts_url()}


class LockedCartsPanel(Component):
    name = "locked_carts"
    order = 50
    template_name = "wagtail_lockedcarts/dashboard/locked_carts_panel.html"

    def __init__(self, request):
        self.request = request

    @cached_property
    def carts(self):
        limit = int(conf.get("DASHBOARD_PANEL_ITEMS"))
        queryset = Cart.objects.filter(status=CartStatus.LOCKED).for_admin()
        # The order of the (status, locked_at DESC NULLS LAST, id DESC) index: an index walk of
        # five rows. Plain "-locked_at" (NULLS FIRST) would walk the never-locked carts first.
        newest = F("locked_at").desc(nulls_last=True)
        return list(queryset.order_by(newest, "-pk")[:limit])

    def get_context_data(self, parent_context):
        now = timezone.now()
        rows = [
            {
                "cart": cart,
                "url": display.cart_url("inspect", cart),
                "age": now - cart.locked_at if cart.locked_at else None,
            }
            for cart in self.carts
        ]
        from wagtail_lockedcarts.models import Order, OrderStatus, PaymentAttempt

        return {
            "rows": rows,
            "list_url": display.locked_carts_url(),
            "request": self.request,
            "unmatched_payments": PaymentAttempt.objects.unmatched().count(),
            "unmatched_url": display.unmatched_payments_url(),
            "reversed_after_export": Order.objects.filter(
                status=OrderStatus.PAYMENT_REVERSED, exported_before_problem=True
            ).count(),
            "reversed_url": display.order_list_url("payment_reversed"),
        }

    def render_html(self, parent_context=None):
        if not user_sees_carts(self.request.user):
            return ""
        return super().render_html(parent_context)
