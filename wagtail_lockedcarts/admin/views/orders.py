"""Order screens: listing, Order Details (inspect) with lines, history, and the view that runs
the order actions (*Release order on hold*, *Retry export*, declared in
:mod:`wagtail_lockedcarts.admin.display`). Orders come from payments, so there is no edit,
copy or delete here (the order policy refuses them)."""

from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn
from wagtail.admin.widgets.button import Button, HeaderButton
from wagtail.snippets.views.snippets import HistoryView, IndexView, InspectView

from wagtail_lockedcarts import rules
from wagtail_lockedcarts.admin import display
from wagtail_lockedcarts.admin.pagination import CappedPaginator, narrowed_to_matches
from wagtail_lockedcarts.admin.permissions import ORDER_ACCESS_ACTIONS
from wagtail_lockedcarts.admin.spreadsheets import SafeCsvExportMixin
from wagtail_lockedcarts.admin.views.actions import AdminActionView
from wagtail_lockedcarts.models import Order


class OrderIndexView(SafeCsvExportMixin, IndexView):
    any_permission_required = list(ORDER_ACCESS_ACTIONS)
    page_title = _("Orders")
    paginator_class = CappedPaginator
    custom_value_preprocess = {**IndexView.custom_value_preprocess, **display.LOCAL_TIME_EXPORT}

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("user")

    @cached_property
    def columns(self):
        # No bulk actions on orders: nothing may be deleted, and actions are one by one.
        return [c for c in super().columns if not isinstance(c, BulkActionsCheckboxColumn)]

    def order_queryset(self, queryset):
        """``id`` breaks ties in the sort's own direction: newest first walks the
        (created_at, id) index backwards instead of sorting every order."""
        if not self.ordering:
            return queryset
        return queryset.order_by(self.ordering, "-pk" if self.ordering.startswith("-") else "pk")

    def search_queryset(self, queryset):
        """See :meth:`~wagtail_lockedcarts.models.OrderQuerySet.search`."""
        if not self.is_searching:
            return queryset
        return narrowed_to_matches(queryset, queryset.search(self.search_query))

    @cached_property
    def can_see_orders(self):
        """Asked once per page, not once per row."""
        return self.user_has_any_permission(ORDER_ACCESS_ACTIONS)

    def get_inspect_url(self, instance):
        if self.inspect_url_name and self.can_see_orders:
            return display.order_url("inspect", instance)

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
        buttons.extend(display.action_buttons(self.request.user, instance, next_url=self.listing_url))
        if inspect_url:
            buttons.append(display.history_button(display.order_url("history", instance)))
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
        here = display.order_url("inspect", self.object)
        return [
            HeaderButton(link.label, url=link.url, icon_name=link.icon, priority=link.priority)
            for link in display.action_links(self.request.user, self.object, next_url=here)
        ]

    @cached_property
    def header_more_buttons(self):
        return [
            Button(
                pgettext_lazy("lockedcarts", "History"),
                url=display.order_url("history", self.object),
                icon_name="history",
                priority=90,
            )
        ]

    def get_summary_rows(self):
        return display.order_summary_rows(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            summary_rows=self.get_summary_rows(),
            lines=list(self.object.lines.all()),
            history_url=display.order_url("history", self.object),
        )
        return context


class OrderHistoryView(HistoryView):
    any_permission_required = list(ORDER_ACCESS_ACTIONS)

    def get_edit_url(self, instance):
        return display.order_url("inspect", instance)

    @cached_property
    def header_buttons(self):
        return [
            HeaderButton(_("Order Details"), url=display.order_url("inspect", self.object), icon_name="info-circle")
        ]


class OrderActionView(AdminActionView):
    """Every order action (see :data:`~wagtail_lockedcarts.admin.display.ORDER_ADMIN_ACTIONS`)."""

    model = Order
    header_icon = "clipboard-list"
    gone_message = _("This order no longer exists.")
    stale_message = _("This order is now “%(status)s”, so “%(action)s” no longer applies. Nothing was changed.")

    def state_allows(self):
        return rules.order_allows(self.action.name, self.object)

    def get_summary(self):
        return display.order_action_summary(self.object)
