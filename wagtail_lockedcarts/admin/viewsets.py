"""The admin viewsets: *Cart Management* and *Orders*, each its own sidebar item.

URL namespaces are public names (``wagtail_lockedcarts_carts:list`` + ``?cart_filter=locked``,
``…:inspect``, ``…:confirm_cart``, ``wagtail_lockedcarts_orders:list``, ``…:release_order``, …);
inside the package, links are built by :mod:`wagtail_lockedcarts.admin.display` from the
registered viewset, so a subclass registered in their place is followed.

Like Wagtail's own views, each action view is an overridable ``<url_name>_view_class``
attribute (``confirm_cart_view_class``, ``release_order_view_class`` …); the actions themselves
(label, permission, lifecycle call, messages) are declared once in ``actions``.

When the optional ``wagtail_lockedcarts.modeladmin`` sub-app is installed, the viewsets stay
registered (their action views and bulk actions are shared) but add no sidebar item and no admin
URL finder: the modeladmin menu replaces them (either/or).
"""

from django.apps import apps
from django.urls import path
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.snippets.views.snippets import SnippetViewSet

from wagtail_lockedcarts import conf, rules
from wagtail_lockedcarts.admin import display
from wagtail_lockedcarts.admin.filters import CartFilterSet, OrderFilterSet
from wagtail_lockedcarts.admin.views import carts as admin_carts
from wagtail_lockedcarts.admin.views import orders as admin_orders
from wagtail_lockedcarts.models import Cart, CartStatus, Order, OrderStatus

MODELADMIN_APP = "wagtail_lockedcarts.modeladmin"


def configured_viewset(setting):
    """The viewset class named by ``WAGTAIL_LOCKEDCARTS[setting]`` (``CART_VIEWSET`` or
    ``ORDER_VIEWSET``): a site's subclass that swaps a view is registered in place of ours."""
    return import_string(conf.get(setting))


def modeladmin_installed():
    return apps.is_installed(MODELADMIN_APP)


class ActionViewSetMixin:
    """Mounts one URL per declared action, served by its ``<url_name>_view_class``."""

    #: The :class:`~wagtail_lockedcarts.admin.display.AdminAction` objects this viewset offers.
    actions = ()

    def get_action_view_class(self, action):
        return getattr(self, f"{action.url_name}_view_class")

    def get_action_view_kwargs(self, action):
        return {"action": action}

    def get_action_urlpatterns(self):
        conv = self.pk_path_converter
        return [
            path(
                f"{action.url_path}/<{conv}:pk>/",
                self.construct_view(self.get_action_view_class(action), **self.get_action_view_kwargs(action)),
                name=action.url_name,
            )
            for action in self.actions
        ]

    def get_urlpatterns(self):
        return super().get_urlpatterns() + self.get_action_urlpatterns()


class CartViewSet(ActionViewSetMixin, SnippetViewSet):
    model = Cart
    icon = "lock"
    menu_label = _("Cart Management")
    menu_name = "cart-management"
    menu_order = 210
    url_prefix = "lockedcarts/carts"
    url_namespace = display.CART_NAMESPACE
    inspect_view_enabled = True
    copy_view_enabled = False
    # Carts and orders reference no content; indexing them would only add work to every save.
    add_to_reference_index = False
    list_per_page = 25
    ordering = "-locked_at"
    index_results_template_name = "wagtail_lockedcarts/admin/index_results.html"

    index_view_class = admin_carts.CartIndexView
    index_template_name = "wagtail_lockedcarts/admin/cart_index.html"
    edit_template_name = "wagtail_lockedcarts/admin/cart_edit.html"
    edit_view_class = admin_carts.CartEditView
    delete_view_class = admin_carts.CartDeleteView
    inspect_view_class = admin_carts.CartInspectView
    history_view_class = admin_carts.CartHistoryView

    actions = display.CART_ADMIN_ACTIONS
    confirm_cart_view_class = admin_carts.CartActionView
    unlock_cart_view_class = admin_carts.CartActionView
    check_paypal_view_class = admin_carts.CartActionView
    delete_cart_view_class = admin_carts.CartActionView

    filterset_class = CartFilterSet
    # What the search box reaches; the query itself is CartQuerySet.search (indexed arms).
    search_fields = [
        "customer_name",
        "customer_email",
        "payer_email",
        "user__first_name",
        "user__last_name",
        "user__email",
        "paypal_order_id",
        "paypal_capture_id",
    ]
    search_backend_name = None

    list_display = [
        "customer_label",  # title column (see CartIndexView._get_title_column)
        Column("total", label=_("Total"), accessor=display.cart_listed_total, sort_key="sort_total"),
        Column("card", label=_("Card"), accessor="masked_card"),
        StatusTagColumn(
            "status",
            label=_("Status"),
            accessor="get_status_display",
            sort_key="status",
            primary=lambda cart: cart.status == CartStatus.LOCKED,
        ),
        Column("lock_reason", label=_("Lock reason"), accessor="get_lock_reason_display"),
        DateColumn("locked_at", label=_("Locked at"), sort_key="locked_at"),
    ]
    list_export = [
        "pk",
        "customer_label",
        "customer_email",
        "payer_email",
        "total",
        "currency",
        "masked_card",
        "get_status_display",
        "get_lock_reason_display",
        "locked_at",
        "paypal_order_id",
        "paypal_capture_id",
        "paypal_status",
        "created_at",
    ]
    export_headings = {
        "pk": _("Cart number"),
        "customer_label": _("Customer"),
        "total": _("Total"),
        "masked_card": _("Card"),
        "get_status_display": _("Status"),
        "get_lock_reason_display": _("Lock reason"),
    }
    export_filename = "carts"

    @property
    def add_to_admin_menu(self):
        return not modeladmin_installed()

    def get_edit_handler(self):
        from wagtail.admin.panels import FieldPanel, ObjectList

        return ObjectList([FieldPanel(name) for name in rules.CUSTOMER_FIELDS]).bind_to_model(self.model)

    def register_admin_url_finder(self):
        if not modeladmin_installed():
            super().register_admin_url_finder()

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path(
                "deleted/<int:log_id>/",
                self.construct_view(admin_carts.DeletedCartSnapshotView, permission_policy=self.permission_policy),
                name="deleted_snapshot",
            ),
        ]


class OrderViewSet(ActionViewSetMixin, SnippetViewSet):
    model = Order
    icon = "clipboard-list"
    menu_label = _("Orders")
    menu_name = "lockedcarts-orders"
    menu_order = 211
    url_prefix = "lockedcarts/orders"
    url_namespace = display.ORDER_NAMESPACE
    inspect_view_enabled = True
    copy_view_enabled = False
    add_to_reference_index = False
    list_per_page = 25
    ordering = "-created_at"
    index_results_template_name = "wagtail_lockedcarts/admin/index_results.html"

    index_view_class = admin_orders.OrderIndexView
    inspect_view_class = admin_orders.OrderInspectView
    history_view_class = admin_orders.OrderHistoryView

    actions = display.ORDER_ADMIN_ACTIONS
    release_order_view_class = admin_orders.OrderActionView
    retry_export_view_class = admin_orders.OrderActionView

    filterset_class = OrderFilterSet
    search_fields = ["customer_name", "email", "paypal_order_id", "paypal_capture_id"]
    search_backend_name = None

    list_display = [
        "__str__",
        "customer_name",
        Column("total", label=_("Total"), accessor=display.order_total, sort_key="total"),
        StatusTagColumn(
            "status",
            label=_("Status"),
            accessor="get_status_display",
            sort_key="status",
            primary=lambda order: order.status == OrderStatus.ON_HOLD,
        ),
        DateColumn("created_at", label=_("Created at"), sort_key="created_at"),
        DateColumn("submitted_at", label=_("Submitted at"), sort_key="submitted_at"),
        DateColumn("exported_at", label=_("Exported at"), sort_key="exported_at"),
    ]
    list_export = [
        "pk",
        "customer_name",
        "email",
        "total",
        "currency",
        "get_status_display",
        "created_at",
        "submitted_at",
        "exported_at",
        "export_attempts",
        "paypal_order_id",
        "paypal_capture_id",
    ]
    export_headings = {"pk": _("Order number"), "get_status_display": _("Status")}
    export_filename = "orders"

    @property
    def add_to_admin_menu(self):
        return not modeladmin_installed()

    def get_edit_handler(self):
        from wagtail.admin.panels import ObjectList

        return ObjectList([]).bind_to_model(self.model)

    def register_admin_url_finder(self):
        if not modeladmin_installed():
            super().register_admin_url_finder()

    def get_permissions_to_register(self):
        from django.contrib.auth.models import Permission
        from django.contrib.contenttypes.models import ContentType

        return Permission.objects.filter(
            content_type=ContentType.objects.get_for_model(Order),
            codename__in=["view_order", "release_order", "export_order"],
        )
