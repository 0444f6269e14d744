"""Cart Management screens: listing, edit (open carts), Cart Details (inspect), history and the
view that runs the cart actions declared in :mod:`wagtail_lockedcarts.admin.display`."""

from decimal import Decimal

from django.contrib.admin.utils import quote
from django.db import models
from django.db.models import prefetch_related_objects
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.ui.tables import TitleColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets.button import Button, HeaderButton, ListingButton
from wagtail.snippets.views.snippets import (
    DeleteView,
    EditView,
    HistoryView,
    IndexView,
    InspectView,
)

from wagtail_lockedcarts import lifecycle, rules
from wagtail_lockedcarts.admin import display
from wagtail_lockedcarts.admin.filters import CART_FILTER_CHOICES, cart_filter_counts
from wagtail_lockedcarts.admin.pagination import CappedPaginator, narrowed_to_matches
from wagtail_lockedcarts.admin.permissions import CART_ACCESS_ACTIONS
from wagtail_lockedcarts.admin.spreadsheets import SafeCsvExportMixin
from wagtail_lockedcarts.admin.views.actions import AdminActionView
from wagtail_lockedcarts.exceptions import InvalidTransition
from wagtail_lockedcarts.models import Cart
from wagtail_lockedcarts.money import format_money


class CartIndexView(SafeCsvExportMixin, IndexView):
    """The Cart Management listing. Users with only ``unlock_cart`` or ``confirm_cart`` may reach
    it (and the sidebar item, which asks the same ``any_permission_required``)."""

    any_permission_required = ["add", *CART_ACCESS_ACTIONS]
    page_title = _("Cart Management")
    paginator_class = CappedPaginator
    custom_value_preprocess = {**IndexView.custom_value_preprocess, **display.LOCAL_TIME_EXPORT}

    def get_cart_filter_tabs(self):
        """The Cart Filter as a row of tabs: (label, url, count or None, current). Each keeps the
        search and the drawer's filters, and starts again at page 1."""
        current = self.request.GET.get("cart_filter") or self.request.GET.get("status") or ""
        counts = cart_filter_counts()
        tabs = []
        for value, label in [("", _("All")), *CART_FILTER_CHOICES]:
            query = self.request.GET.copy()
            for key in ("cart_filter", "status", "p", "_w_filter_fragment", "export"):
                query.pop(key, None)
            if value:
                query["cart_filter"] = value
            url = self.index_url + (f"?{query.urlencode()}" if query else "")
            tabs.append((label, url, counts.get(value), value == current))
        return tabs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.results_only:
            context["cart_filter_tabs"] = self.get_cart_filter_tabs()
            context["bulk_strings"] = {
                "SINGULAR": str(_("1 cart selected")),
                "PLURAL": str(_("%(objects)s carts selected")),
                "ALL": str(_("All %(objects)s carts on this screen selected")),
                "ALL_IN_LISTING": str(_("All carts in listing selected")),
            }
        return context

    def get_base_queryset(self):
        """Plain carts: the listed total is the stored one (``Cart.stored_total``) and users are
        fetched for the page's rows only (:meth:`paginate_queryset`). The export writes each
        cart's live total, so it reads :meth:`~CartQuerySet.for_admin`."""
        queryset = super().get_base_queryset()
        if self.is_export:
            return queryset.for_admin()
        return queryset

    def order_queryset(self, queryset):
        """Every order is one an index walks (see ``Cart.Meta.indexes``), with ``id`` as the
        tie-breaker in the same direction, so page 1, page 2 and the last page stay cheap."""
        ordering = self.ordering
        if not ordering:
            return queryset
        descending = ordering.startswith("-")
        key = ordering.lstrip("-")
        tiebreak = "-pk" if descending else "pk"
        if key == "sort_total":
            # The column's sort key since before the total was stored; lockedcarts_list_total.
            return queryset.order_by("-stored_total" if descending else "stored_total", tiebreak)
        if key == "locked_at":
            # Never-locked carts last in both directions.
            field = models.F("locked_at")
            field = field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
            return queryset.order_by(field, tiebreak)
        return queryset.order_by(ordering, tiebreak)

    def search_queryset(self, queryset):
        """See :meth:`~wagtail_lockedcarts.models.CartQuerySet.search` (names and e-mails by any
        part, PayPal ids whole)."""
        if not self.is_searching:
            return queryset
        return narrowed_to_matches(queryset, queryset.search(self.search_query))

    def paginate_queryset(self, queryset, page_size):
        paginator, page, object_list, is_paginated = super().paginate_queryset(queryset, page_size)
        page.object_list = object_list = list(object_list)
        prefetch_related_objects(object_list, "user")
        return paginator, page, object_list, is_paginated

    def _get_title_column(self, field_name, column_class=TitleColumn, **kwargs):
        column_class = self._get_title_column_class(column_class)

        def get_url(instance):
            return self.get_edit_url(instance) or self.get_inspect_url(instance)

        return column_class(
            "customer",
            label=_("Customer"),
            accessor="customer_label",
            sort_key="customer_name",
            get_url=get_url,
            get_title_id=lambda instance: f"snippet_{quote(instance.pk)}_title",
        )

    def get_edit_url(self, instance):
        if rules.cart_allows("change", instance):
            return super().get_edit_url(instance)

    @cached_property
    def can_see_carts(self):
        """Asked once per page, not once per row."""
        return self.user_has_any_permission(CART_ACCESS_ACTIONS)

    def get_inspect_url(self, instance):
        if self.inspect_url_name and self.can_see_carts:
            return display.cart_url("inspect", instance)

    def get_delete_url(self, instance):
        return None  # "Delete Cart" (lifecycle, audited) replaces the generic delete

    def get_copy_url(self, instance):
        return None

    @cached_property
    def listing_url(self):
        query = self.request.GET.copy()
        for key in ("_w_filter_fragment", "export"):
            query.pop(key, None)
        return self.index_url + (f"?{query.urlencode()}" if query else "")

    def get_list_more_buttons(self, instance):
        """A visible **Edit** button (the support article's word) opening Cart Details for everyone
        who may see the cart; the actions and History in the row's "…" menu."""
        user = self.request.user
        buttons = []
        if inspect_url := self.get_inspect_url(instance):
            buttons.append(
                ListingButton(
                    _("Edit"),
                    url=inspect_url,
                    icon_name="edit",
                    priority=10,
                    attrs={"aria-label": _("Edit cart %(cart)s") % {"cart": instance.pk}},
                )
            )
        buttons.extend(display.action_buttons(user, instance, next_url=self.listing_url))
        if self.can_see_carts:
            buttons.append(display.history_button(display.cart_url("history", instance)))
        return buttons


class CartEditView(EditView):
    """Open carts only: an admin may correct the customer's name and e-mail. Anything else (and
    any cart past ``open``) is read-only, so other carts are sent to Cart Details — the generic
    view checks only the model-level ``change`` permission."""

    def dispatch(self, request, *args, **kwargs):
        if not rules.cart_allows("change", self.object):
            messages.warning(request, _("Only open carts can be edited. This is the cart's read-only details screen."))
            return redirect(display.cart_url("inspect", self.object))
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def header_more_buttons(self):
        return [
            Button(
                _("Cart Details"), url=display.cart_url("inspect", self.object), icon_name="info-circle", priority=20
            ),
            *(
                Button(link.label, url=link.url, icon_name=link.icon, priority=link.priority)
                for link in display.action_links(self.request.user, self.object, next_url=reverse(self.index_url_name))
            ),
        ]

    def save_instance(self):
        cart = self.form.instance
        return lifecycle.update_customer(
            cart, self.request.user, **{name: getattr(cart, name) for name in rules.CUSTOMER_FIELDS}
        )

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except InvalidTransition as error:
            messages.error(request, error.message)
            return redirect(display.cart_url("inspect", self.object))


class CartDeleteView(DeleteView):
    """The generic delete would skip lifecycle and the audit snapshot: send it to Delete Cart."""

    def dispatch(self, request, *args, **kwargs):
        return redirect(display.cart_url("delete_cart", self.object))


class CartInspectView(InspectView):
    """Cart Details: the read-only screen for carts past ``open`` (and for viewers)."""

    any_permission_required = ["add", *CART_ACCESS_ACTIONS]
    page_title = _("Cart Details")
    template_name = "wagtail_lockedcarts/admin/cart_inspect.html"

    def get_object(self, queryset=None):
        from django.shortcuts import get_object_or_404

        queryset = Cart.objects.for_admin().select_related("site").prefetch_related("lines", "payment_attempts")
        return get_object_or_404(queryset, pk=self.pk)

    def get_fields(self):
        return []

    def get_edit_url(self):
        if rules.cart_allows("change", self.object) and self.user_has_permission("change"):
            return display.cart_url("edit", self.object)

    def get_delete_url(self):
        return None

    @cached_property
    def header_buttons(self):
        """Every action the admin may take on this cart now, visible in the header (Delete Cart in
        the dangerous style): the article's steps happen here, so none hides behind "…"."""
        here = display.cart_url("inspect", self.object)
        return [
            HeaderButton(
                link.label,
                url=link.url,
                icon_name=link.icon,
                priority=link.priority,
                classname="no" if link.action.serious else "",
            )
            for link in display.action_links(self.request.user, self.object, next_url=here)
        ]

    @cached_property
    def header_more_buttons(self):
        buttons = []
        if edit_url := self.get_edit_url():
            buttons.append(Button(_("Edit customer details"), url=edit_url, icon_name="edit", priority=10))
        buttons.append(
            Button(
                pgettext_lazy("lockedcarts", "History"),
                url=display.cart_url("history", self.object),
                icon_name="history",
                priority=90,
            )
        )
        return buttons

    def get_summary_rows(self):
        return display.cart_summary_rows(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            summary_rows=self.get_summary_rows(),
            lines=list(self.object.lines.all()),
            payment_attempts=list(self.object.payment_attempts.all()),
            history_url=display.cart_url("history", self.object),
        )
        return context


class CartHistoryView(HistoryView):
    """Everyone who may see the cart may see its history (the generic view wants add/change/
    delete, which unlock-only staff lack)."""

    any_permission_required = ["add", *CART_ACCESS_ACTIONS]

    def get_edit_url(self, instance):
        if rules.cart_allows("change", instance):
            return super().get_edit_url(instance)
        return display.cart_url("inspect", instance)

    @cached_property
    def header_buttons(self):
        return [HeaderButton(_("Cart Details"), url=display.cart_url("inspect", self.object), icon_name="info-circle")]


# --------------------------------------------------------------------------------------------
# actions


class CartActionView(AdminActionView):
    """Every cart action (see :data:`~wagtail_lockedcarts.admin.display.CART_ADMIN_ACTIONS`)."""

    model = Cart
    header_icon = "lock"
    stale_message = _("This cart is now “%(status)s”, so “%(action)s” no longer applies. Nothing was changed.")

    def get_base_object_queryset(self):
        return Cart.objects.for_admin()

    def state_allows(self):
        return rules.cart_allows(self.action.name, self.object)

    def get_summary(self):
        return display.cart_action_summary(self.object)


class DeletedCartSnapshotView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """A deleted cart as its *Delete Cart* audit entry kept it (customer, lines, total, PayPal
    references, card as brand + last 4), opened from that entry in *Reports → Site history*.
    Read-only, for everyone who may see carts."""

    any_permission_required = ["add", *CART_ACCESS_ACTIONS]
    template_name = "wagtail_lockedcarts/admin/deleted_cart.html"
    page_title = _("Deleted cart")
    header_icon = "bin"

    def dispatch(self, request, *args, **kwargs):
        from django.contrib.contenttypes.models import ContentType
        from django.shortcuts import get_object_or_404
        from wagtail.models import ModelLogEntry

        self.entry = get_object_or_404(
            ModelLogEntry.objects.select_related("user"),
            pk=kwargs["log_id"],
            action=rules.LOG_DELETE,
            content_type=ContentType.objects.get_for_model(Cart, for_concrete_model=False),
        )
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return _("Cart %(cart)s") % {"cart": self.entry.object_id}

    def get_context_data(self, **kwargs):
        data = self.entry.data or {}
        lines = []
        for line in data.get("lines", []):
            unit_price, quantity = Decimal(line.get("unit_price") or 0), int(line.get("quantity") or 0)
            lines.append({**line, "unit_price": unit_price, "line_total": unit_price * quantity})
        return super().get_context_data(
            entry=self.entry,
            snapshot=data,
            lines=lines,
            summary_rows=[
                (_("Cart number"), self.entry.object_id),
                (_("Deleted at"), display.local_time(self.entry.timestamp)),
                (_("Deleted by"), self.entry.user_display_name),
                (_("Status"), data.get("status") or "—"),
                (_("Lock reason"), data.get("lock_reason") or "—"),
                (_("Customer"), data.get("customer") or "—"),
                (_("Customer e-mail"), data.get("email") or "—"),
                (
                    _("Total amount"),
                    format_money(Decimal(data["total"]), data.get("currency")) if data.get("total") else "—",
                ),
                (_("Card"), data.get("card") or "—"),
                (_("PayPal order id"), data.get("paypal_order_id") or "—"),
                (_("PayPal capture id"), data.get("paypal_capture_id") or "—"),
            ],
            **kwargs,
        )
