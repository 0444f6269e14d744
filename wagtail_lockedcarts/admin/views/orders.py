"""Order screens: listing, Order Details (inspect) with lines, history, and the two actions
*Release order on hold* and *Retry export*. Orders come from payments, so there is no edit,
copy or delete here (the order policy refuses them)."""

from django.contrib.admin.utils import quote
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.formats import localize
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn
from wagtail.admin.widgets.button import Button, HeaderButton
from wagtail.snippets.views.snippets import HistoryView, IndexView, InspectView

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.admin.permissions import ORDER_ACCESS_ACTIONS, order_state_allows
from wagtail_lockedcarts.admin.views.base import ActionSpec, ObjectActionView, action_links
from wagtail_lockedcarts.models import Order

ORDER_NAMESPACE = "wagtail_lockedcarts_orders"

ORDER_ACTIONS = (
    ActionSpec("release", "release_order", _("Release order on hold"), "resubmit", 40),
    ActionSpec("export", "retry_export", _("Retry export"), "upload", 50),
)


def order_url(view_name, order):
    return reverse(f"{ORDER_NAMESPACE}:{view_name}", args=(quote(order.pk),))


def order_action_links(user, order, next_url=None):
    return action_links(Order, ORDER_NAMESPACE, ORDER_ACTIONS, user, order, next_url)


def format_order_total(order):
    return f"{localize(order.total)} {order.currency}"


def order_summary_rows(order):
    """(label, value, url) rows of the Order Details screen (snippet and modeladmin alike)."""
    cart_link = None
    if order.cart_id:
        cart_link = reverse("wagtail_lockedcarts_carts:inspect", args=(quote(order.cart_id),))
    return [
        (_("Order number"), order.number, None),
        (_("Status"), order.get_status_display(), None),
        (_("Customer"), order.customer_name or "—", None),
        (_("E-mail"), order.email or "—", None),
        (_("Total"), format_order_total(order), None),
        (_("Card"), order.masked_card or "—", None),
        (_("PayPal order id"), order.paypal_order_id or "—", None),
        (_("PayPal capture id"), order.paypal_capture_id or "—", None),
        (_("Cart"), order.cart_reference or "—", cart_link),
        (_("Created at"), order.created_at, None),
        (_("Submitted at"), order.submitted_at or "—", None),
        (_("Exported at"), order.exported_at or "—", None),
        (_("Export attempts"), order.export_attempts, None),
        (_("Last export error"), order.last_export_error or "—", None),
    ]


class OrderIndexView(IndexView):
    any_permission_required = list(ORDER_ACCESS_ACTIONS)
    page_title = _("Orders")

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("user")

    @cached_property
    def columns(self):
        # No bulk actions on orders: nothing may be deleted, and actions are one by one.
        return [c for c in super().columns if not isinstance(c, BulkActionsCheckboxColumn)]

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        if queryset.query.order_by:
            return queryset.order_by(*queryset.query.order_by, "-pk")
        return queryset

    def get_inspect_url(self, instance):
        if self.inspect_url_name and self.user_has_any_permission(ORDER_ACCESS_ACTIONS):
            return reverse(self.inspect_url_name, args=(quote(instance.pk),))

    def get_edit_url(self, instance):
        return None

    def get_delete_url(self, instance):
        return None

    def get_copy_url(self, instance):
        return None

    @cached_property
    def listing_url(self):
        query = self.request.GET.copy()
        for key in ("_w_filter_fragment", "export"):
            query.pop(key, None)
        return self.index_url + (f"?{query.urlencode()}" if query else "")

    def get_list_more_buttons(self, instance):
        buttons = []
        if inspect_url := self.get_inspect_url(instance):
            buttons.append(Button(_("Order Details"), url=inspect_url, icon_name="info-circle", priority=20))
        for link in order_action_links(self.request.user, instance, next_url=self.listing_url):
            buttons.append(Button(link.label, url=link.url, icon_name=link.icon, priority=link.priority))
        if inspect_url:
            buttons.append(
                Button(
                    pgettext_lazy("lockedcarts", "History"),
                    url=order_url("history", instance),
                    icon_name="history",
                    priority=90,
                )
            )
        return buttons


class OrderInspectView(InspectView):
    any_permission_required = list(ORDER_ACCESS_ACTIONS)
    page_title = _("Order Details")
    template_name = "wagtail_lockedcarts/admin/order_inspect.html"

    def get_object(self, queryset=None):
        queryset = Order.objects.select_related("user", "cart").prefetch_related("lines")
        return get_object_or_404(queryset, pk=self.pk)

    def get_fields(self):
        return []

    def get_edit_url(self):
        return None

    def get_delete_url(self):
        return None

    @cached_property
    def header_buttons(self):
        here = order_url("inspect", self.object)
        return [
            HeaderButton(
                link.label,
                url=f"{link.url}?{urlencode({'next': here})}",
                icon_name=link.icon,
                priority=link.priority,
            )
            for link in order_action_links(self.request.user, self.object)
        ]

    @cached_property
    def header_more_buttons(self):
        return [
            Button(
                pgettext_lazy("lockedcarts", "History"),
                url=order_url("history", self.object),
                icon_name="history",
                priority=90,
            )
        ]

    def get_summary_rows(self):
        return order_summary_rows(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            summary_rows=self.get_summary_rows(),
            lines=list(self.object.lines.all()),
            history_url=order_url("history", self.object),
        )
        return context


class OrderHistoryView(HistoryView):
    any_permission_required = list(ORDER_ACCESS_ACTIONS)

    def get_edit_url(self, instance):
        return order_url("inspect", instance)

    @cached_property
    def header_buttons(self):
        return [HeaderButton(_("Order Details"), url=order_url("inspect", self.object), icon_name="info-circle")]


class OrderActionView(ObjectActionView):
    model = Order
    header_icon = "clipboard-list"
    gone_message = _("This order no longer exists.")

    def state_allows(self, obj):
        return order_state_allows(self.action, obj)

    stale_message = _("This order is now “%(status)s”, so “%(action)s” no longer applies. Nothing was changed.")

    def get_summary(self):
        order = self.object
        return [
            (_("Customer"), order.customer_name or "—"),
            (_("Total"), format_order_total(order)),
            (_("Status"), order.get_status_display()),
            (_("PayPal capture id"), order.paypal_capture_id or "—"),
        ]


class ReleaseOrderView(OrderActionView):
    action = "release"
    page_title = _("Release order on hold")
    confirmation_message = _(
        "This releases the order from hold and sends it to export, although PayPal has not "
        "reported the payment as completed."
    )
    submit_label = _("Yes, release the order")

    def perform(self):
        return lifecycle.release_order(self.object, user=self.request.user)

    def get_success_message(self, outcome):
        return _("Order %(order)s released and sent to export.") % {"order": self.object.pk}


class RetryExportView(OrderActionView):
    action = "export"
    page_title = _("Retry export")
    confirmation_message = _(
        "This queues the order for export again. The exporter must accept an order it may already have received."
    )
    submit_label = _("Yes, export again")

    def perform(self):
        return lifecycle.retry_export(self.object, user=self.request.user)

    def get_success_message(self, outcome):
        return _("Export of order %(order)s queued again.") % {"order": self.object.pk}
