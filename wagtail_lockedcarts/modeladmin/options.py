"""``CartModelAdmin`` and ``OrderModelAdmin``: the Cart Management and Orders screens for sites
that use wagtail-modeladmin — same columns, filters and actions as the snippet viewsets."""

from django.contrib.admin import display
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail_modeladmin.options import ModelAdmin
from wagtail_modeladmin.views import IndexView

from wagtail_lockedcarts import rules
from wagtail_lockedcarts.admin.display import cart_listed_total, order_total
from wagtail_lockedcarts.admin.spreadsheets import SafeCsvExportMixin
from wagtail_lockedcarts.admin.viewsets import CartViewSet, OrderViewSet
from wagtail_lockedcarts.modeladmin.filters import CartFilter, OrderFilter
from wagtail_lockedcarts.modeladmin.helpers import (
    CartButtonHelper,
    CartPermissionHelper,
    OrderButtonHelper,
    OrderPermissionHelper,
)
from wagtail_lockedcarts.modeladmin.views import (
    CartEditView,
    CartInspectView,
    OrderInspectView,
    ProtectedHistoryView,
)
from wagtail_lockedcarts.models import Cart, Order


class SafeIndexView(SafeCsvExportMixin, IndexView):
    """The modeladmin listing, with CSV cells that cannot run as formulas."""


class NotIndexedModelAdmin(ModelAdmin):
    """Carts and orders reference no content: keep them out of Wagtail's reference index."""

    index_view_class = SafeIndexView

    def register_indexing(self):
        pass


class CartModelAdmin(NotIndexedModelAdmin):
    model = Cart
    menu_label = _("Cart Management")
    menu_icon = "lock"
    menu_order = 210
    add_to_settings_menu = False
    exclude_from_explorer = True
    inspect_view_enabled = True
    list_per_page = 25
    ordering = ["-locked_at", "-pk"]

    list_display = ("customer", "total_amount", "card", "status", "lock_reason", "locked_at")
    list_filter = (CartFilter, "status", "lock_reason", "locked_at")
    search_fields = CartViewSet.search_fields
    list_export = CartViewSet.list_export
    export_headings = CartViewSet.export_headings
    export_filename = CartViewSet.export_filename

    panels = [FieldPanel(name) for name in rules.CUSTOMER_FIELDS]

    permission_helper_class = CartPermissionHelper
    button_helper_class = CartButtonHelper
    inspect_view_class = CartInspectView
    edit_view_class = CartEditView
    history_view_class = ProtectedHistoryView
    inspect_template_name = "wagtail_lockedcarts/modeladmin/cart_inspect.html"

    def get_queryset(self, request):
        return super().get_queryset(request).for_admin()

    @display(description=_("Customer"), ordering="customer_name")
    def customer(self, obj):
        return obj.customer_label

    @display(description=_("Total"), ordering="sort_total")
    def total_amount(self, obj):
        return cart_listed_total(obj)

    @display(description=_("Card"))
    def card(self, obj):
        return obj.masked_card


class OrderModelAdmin(NotIndexedModelAdmin):
    model = Order
    menu_label = _("Orders")
    menu_icon = "clipboard-list"
    menu_order = 211
    exclude_from_explorer = True
    inspect_view_enabled = True
    list_per_page = 25
    ordering = ["-created_at", "-pk"]

    list_display = ("__str__", "customer_name", "order_total", "status", "created_at", "submitted_at", "exported_at")
    list_filter = (OrderFilter, "status")
    search_fields = OrderViewSet.search_fields
    list_export = OrderViewSet.list_export
    export_headings = OrderViewSet.export_headings
    export_filename = OrderViewSet.export_filename

    permission_helper_class = OrderPermissionHelper
    button_helper_class = OrderButtonHelper
    inspect_view_class = OrderInspectView
    history_view_class = ProtectedHistoryView
    inspect_template_name = "wagtail_lockedcarts/modeladmin/order_inspect.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    @display(description=_("Total"), ordering="total")
    def order_total(self, obj):
        return order_total(obj)
