"""Cart Management screens: listing, edit (open carts), Cart Details (inspect), history and the
action views. Each action is a thin :class:`~.admin.ObjectActionView` around one lifecycle call."""

import re
from decimal import Decimal

from django.contrib.admin.utils import quote
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.formats import localize
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.admin import messages
from wagtail.admin.ui.tables import TitleColumn
from wagtail.admin.widgets.button import Button, HeaderButton
from wagtail.snippets.views.snippets import (
    DeleteView,
    EditView,
    HistoryView,
    IndexView,
    InspectView,
)

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.admin.permissions import CART_ACCESS_ACTIONS, cart_state_allows
from wagtail_lockedcarts.admin.views.base import ActionSpec, ObjectActionView, action_links
from wagtail_lockedcarts.exceptions import InvalidTransition
from wagtail_lockedcarts.models import Cart, CartLine, CartStatus

CART_NAMESPACE = "wagtail_lockedcarts_carts"

CART_ACTIONS = (
    ActionSpec("confirm", "confirm_cart", _("Confirm Order"), "success", 40),
    ActionSpec("unlock", "unlock_cart", _("Unlock Cart"), "lock-open", 50),
    ActionSpec("check", "check_paypal", _("Check PayPal now"), "rotate", 60),
    ActionSpec("delete", "delete_cart", _("Delete Cart"), "bin", 70, serious=True),
)

#: Searched by exact value (PayPal ids are upper-case letters and digits).
EXACT_SEARCH_FIELDS = ("paypal_order_id", "paypal_capture_id")
PAYPAL_ID_SHAPE = re.compile(r"(?=.*\d)[A-Za-z0-9-]{8,64}")

#: Customer fields an admin may correct on an open cart; everything else belongs to lifecycle.
EDITABLE_CART_FIELDS = ("customer_name", "customer_email")


def cart_url(view_name, cart):
    return reverse(f"{CART_NAMESPACE}:{view_name}", args=(quote(cart.pk),))


def cart_action_links(user, cart, next_url=None):
    """The cart actions ``user`` may run on ``cart`` now. A delete never returns to the cart
    itself (it is gone), so it always goes back to ``next_url`` or the listing."""
    return action_links(Cart, CART_NAMESPACE, CART_ACTIONS, user, cart, next_url)


def admin_cart_queryset(queryset=None):
    """Carts as the admin lists them: the customer's user joined and a SQL ``sort_total`` (the
    frozen checkout amount once checkout began, else the live line total), so a page costs the
    same number of queries for 5 or 500 carts and sorting by total happens in the database."""
    queryset = Cart.objects.all() if queryset is None else queryset
    money = models.DecimalField(max_digits=14, decimal_places=2)
    line_sum = (
        CartLine.objects.filter(cart=models.OuterRef("pk"))
        .order_by()
        .values("cart")
        .annotate(sum=models.Sum(models.F("unit_price") * models.F("quantity"), output_field=money))
        .values("sum")
    )
    lines_total = Coalesce(
        models.Subquery(line_sum, output_field=money), models.Value(Decimal("0")), output_field=money
    )
    return queryset.select_related("user").annotate(
        lines_total=lines_total,
        sort_total=models.Case(
            models.When(~Q(status=CartStatus.OPEN) & Q(amount__isnull=False), then=models.F("amount")),
            default=lines_total,
            output_field=money,
        ),
    )


def save_cart_customer_fields(instance, user, fields=EDITABLE_CART_FIELDS):
    return lifecycle.update_customer(instance, user, **{name: getattr(instance, name) for name in fields})


def format_total(cart):
    return f"{localize(cart.total)} {cart.currency}"


def cart_summary_rows(cart):
    """(label, value) rows of the Cart Details screen (snippet and modeladmin alike)."""
    order = getattr(cart, "order", None) if cart.status == CartStatus.ORDERED else None
    paypal_status = " / ".join(
        part for part in (cart.paypal_status, cart.paypal_capture_status, cart.paypal_status_reason) if part
    )
    return [
        (_("Cart number"), cart.pk),
        (_("Status"), cart.get_status_display()),
        (_("Lock reason"), cart.get_lock_reason_display() or "—"),
        (_("Locked at"), cart.locked_at or "—"),
        (_("Customer"), cart.customer_label),
        (_("Customer e-mail"), cart.customer_email or "—"),
        (_("Payer e-mail"), cart.payer_email or "—"),
        (_("Total amount"), format_total(cart)),
        (_("Card"), cart.masked_card or "—"),
        (_("PayPal order id"), cart.paypal_order_id or "—"),
        (_("PayPal capture id"), cart.paypal_capture_id or "—"),
        (_("Last known PayPal status"), paypal_status or "—"),
        (_("PayPal last checked at"), cart.paypal_checked_at or "—"),
        (_("Checkout started at"), cart.checkout_started_at or "—"),
        (_("Created at"), cart.created_at),
        (pgettext_lazy("lockedcarts", "Order"), str(order) if order else "—"),
    ]


class CartIndexView(IndexView):
    """The Cart Management listing. Users with only ``unlock_cart`` or ``confirm_cart`` may reach
    it (and the sidebar item, which asks the same ``any_permission_required``)."""

    any_permission_required = ["add", *CART_ACCESS_ACTIONS]
    page_title = _("Cart Management")

    def get_base_queryset(self):
        return admin_cart_queryset(super().get_base_queryset())

    def order_queryset(self, queryset):
        ordering = self.ordering
        if ordering in ("locked_at", "-locked_at"):
            if self.filters_only_locked_carts():
                # Locked carts always have locked_at: a plain ordering walks the (status, locked_at) index.
                return queryset.order_by(ordering, "-pk" if ordering.startswith("-") else "pk")
            field = models.F("locked_at")
            field = field.desc(nulls_last=True) if ordering.startswith("-") else field.asc(nulls_last=True)
            return queryset.order_by(field, "-pk")
        queryset = super().order_queryset(queryset)
        if queryset.query.order_by:
            return queryset.order_by(*queryset.query.order_by, "-pk")
        return queryset

    def filters_only_locked_carts(self):
        params = self.request.GET
        return params.get("cart_filter") == "locked" or params.get("status") == CartStatus.LOCKED

    def search_queryset(self, queryset):
        """Names and e-mails match by substring. A term shaped like a PayPal id (letters and
        digits, no spaces, no "@") is looked up only as a whole PayPal order/capture id or cart
        number, through their indexes: an admin pastes those whole, and ORing them with a
        substring match would read every cart of a large shop (see benchmarks/)."""
        if not self.is_searching:
            return queryset
        term = self.search_query.strip()
        if term.isdigit():
            query = Q(pk=int(term))
        else:
            query = Q()
        if PAYPAL_ID_SHAPE.fullmatch(term):
            for field in EXACT_SEARCH_FIELDS:
                query |= Q(**{field: term.upper()})
            return queryset.filter(query)
        for field in self.search_fields or []:
            if field not in EXACT_SEARCH_FIELDS:
                query |= Q(**{f"{field}__icontains": term})
        return queryset.filter(query)

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
        if cart_state_allows("change", instance):
            return super().get_edit_url(instance)

    def get_inspect_url(self, instance):
        if self.inspect_url_name and self.user_has_any_permission(CART_ACCESS_ACTIONS):
            return reverse(self.inspect_url_name, args=(quote(instance.pk),))

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
        user = self.request.user
        buttons = []
        edit_url = self.get_edit_url(instance)
        inspect_url = self.get_inspect_url(instance)
        if self.user_has_permission("change") and (edit_url or inspect_url):
            buttons.append(Button(_("Edit"), url=edit_url or inspect_url, icon_name="edit", priority=10))
        if inspect_url and (edit_url or not self.user_has_permission("change")):
            buttons.append(Button(_("Cart Details"), url=inspect_url, icon_name="info-circle", priority=20))
        for link in cart_action_links(user, instance, next_url=self.listing_url):
            buttons.append(Button(link.label, url=link.url, icon_name=link.icon, priority=link.priority))
        if self.user_has_any_permission(CART_ACCESS_ACTIONS):
            buttons.append(
                Button(
                    pgettext_lazy("lockedcarts", "History"),
                    url=cart_url("history", instance),
                    icon_name="history",
                    priority=90,
                )
            )
        return buttons


class CartEditView(EditView):
    """Open carts only: an admin may correct the customer's name and e-mail. Anything else (and
    any cart past ``open``) is read-only, so other carts are sent to Cart Details — the generic
    view checks only the model-level ``change`` permission."""

    def dispatch(self, request, *args, **kwargs):
        if not cart_state_allows("change", self.object):
            messages.warning(request, _("Only open carts can be edited. This is the cart's read-only details screen."))
            return redirect(cart_url("inspect", self.object))
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def header_more_buttons(self):
        return [
            Button(_("Cart Details"), url=cart_url("inspect", self.object), icon_name="info-circle", priority=20),
            *(
                Button(link.label, url=link.url, icon_name=link.icon, priority=link.priority)
                for link in cart_action_links(self.request.user, self.object, next_url=reverse(self.index_url_name))
            ),
        ]

    def save_instance(self):
        return save_cart_customer_fields(self.form.instance, self.request.user)

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except InvalidTransition as error:
            messages.error(request, error.message)
            return redirect(cart_url("inspect", self.object))


class CartDeleteView(DeleteView):
    """The generic delete would skip lifecycle and the audit snapshot: send it to Delete Cart."""

    def dispatch(self, request, *args, **kwargs):
        return redirect(cart_url("delete_cart", self.object))


class CartInspectView(InspectView):
    """Cart Details: the read-only screen for carts past ``open`` (and for viewers)."""

    any_permission_required = ["add", *CART_ACCESS_ACTIONS]
    page_title = _("Cart Details")
    template_name = "wagtail_lockedcarts/admin/cart_inspect.html"

    def get_object(self, queryset=None):
        from django.shortcuts import get_object_or_404

        queryset = admin_cart_queryset().select_related("site").prefetch_related("lines", "payment_attempts")
        return get_object_or_404(queryset, pk=self.pk)

    def get_fields(self):
        return []

    def get_edit_url(self):
        if cart_state_allows("change", self.object) and self.user_has_permission("change"):
            return cart_url("edit", self.object)

    def get_delete_url(self):
        return None

    #: Shown as header buttons; the other actions go to the "…" menu so the title stays readable.
    PRIMARY_ACTIONS = ("confirm", "unlock")

    def _action_buttons(self, button_class, primary):
        index_url = reverse(self.index_url_name)
        here = cart_url("inspect", self.object)
        return [
            button_class(
                link.label,
                url=f"{link.url}?{urlencode({'next': index_url if link.spec.action == 'delete' else here})}",
                icon_name=link.icon,
                priority=link.priority,
            )
            for link in cart_action_links(self.request.user, self.object)
            if (link.spec.action in self.PRIMARY_ACTIONS) == primary
        ]

    @cached_property
    def header_buttons(self):
        return self._action_buttons(HeaderButton, primary=True)

    @cached_property
    def header_more_buttons(self):
        buttons = self._action_buttons(Button, primary=False)
        if edit_url := self.get_edit_url():
            buttons.append(Button(_("Edit"), url=edit_url, icon_name="edit", priority=10))
        buttons.append(
            Button(
                pgettext_lazy("lockedcarts", "History"),
                url=cart_url("history", self.object),
                icon_name="history",
                priority=90,
            )
        )
        return buttons

    def get_summary_rows(self):
        return cart_summary_rows(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            summary_rows=self.get_summary_rows(),
            lines=list(self.object.lines.all()),
            payment_attempts=list(self.object.payment_attempts.all()),
            history_url=cart_url("history", self.object),
        )
        return context


class CartHistoryView(HistoryView):
    """Everyone who may see the cart may see its history (the generic view wants add/change/
    delete, which unlock-only staff lack)."""

    any_permission_required = ["add", *CART_ACCESS_ACTIONS]

    def get_edit_url(self, instance):
        if cart_state_allows("change", instance):
            return super().get_edit_url(instance)
        return cart_url("inspect", instance)

    @cached_property
    def header_buttons(self):
        return [HeaderButton(_("Cart Details"), url=cart_url("inspect", self.object), icon_name="info-circle")]


# --------------------------------------------------------------------------------------------
# actions


class CartActionView(ObjectActionView):
    model = Cart
    header_icon = "lock"

    def get_queryset(self):
        return admin_cart_queryset()

    def state_allows(self, obj):
        return cart_state_allows(self.action, obj)

    stale_message = _("This cart is now “%(status)s”, so “%(action)s” no longer applies. Nothing was changed.")

    def get_summary(self):
        cart = self.object
        return [
            (_("Customer"), cart.customer_label),
            (_("Total amount"), format_total(cart)),
            (_("Card"), cart.masked_card or "—"),
            (_("Status"), cart.get_status_display()),
            (_("Lock reason"), cart.get_lock_reason_display() or "—"),
            (_("PayPal order id"), cart.paypal_order_id or "—"),
        ]


class ConfirmCartView(CartActionView):
    action = "confirm"
    page_title = _("Confirm Order")
    confirmation_message = _(
        "This converts the cart to an order and sends it to export. Do this only once you are sure the payment arrived."
    )
    submit_label = _("Yes, confirm the order")

    def perform(self):
        return lifecycle.confirm_order(self.object, user=self.request.user)

    def get_success_message(self, outcome):
        return _("Order %(order)s created from the cart and sent to export.") % {"order": outcome.order.pk}


class UnlockCartView(CartActionView):
    action = "unlock"
    page_title = _("Unlock Cart")
    confirmation_message = _(
        "This opens the cart again: the shopper can change it and check out once more. The "
        "PayPal checkout it was locked for is given up."
    )
    submit_label = _("Yes, unlock the cart")

    def perform(self):
        return lifecycle.unlock_cart(self.object, user=self.request.user)

    def get_success_message(self, outcome):
        return _("Cart %(cart)s unlocked.") % {"cart": self.object.pk}


class DeleteCartView(CartActionView):
    action = "delete"
    page_title = _("Delete Cart")
    confirmation_message = _(
        "This deletes the cart and its lines for good. A snapshot (customer, lines, total, "
        "PayPal references) stays in the cart's history."
    )
    submit_label = _("Yes, delete the cart")
    submit_classname = "button serious"

    def perform(self):
        return lifecycle.delete_cart(self.object, user=self.request.user)

    def get_success_message(self, outcome):
        return _("Cart %(cart)s deleted.") % {"cart": self.kwargs["pk"]}

    def get_success_url(self, outcome=None):
        next_url = self.get_next_url()
        if next_url and not self._points_at_object(next_url):
            return next_url
        return self.index_url


class CheckPayPalView(CartActionView):
    """Asks PayPal for the payment's real state now and applies it (the PayPal area's
    ``check_paypal_now`` writes the audit entry). No row lock is held during the HTTP call."""

    action = "check"
    page_title = _("Check PayPal now")
    confirmation_message = _(
        "This asks PayPal for the current state of the cart's payment and applies the answer: a "
        "completed payment becomes an order, a declined one opens the cart again."
    )
    submit_label = _("Ask PayPal")

    def post(self, request, *args, **kwargs):
        from wagtail_lockedcarts.paypal.reconcile import check_paypal_now

        report = check_paypal_now(self.object, request.user)
        if not report.reachable:
            messages.error(
                request,
                _("PayPal could not be reached: %(error)s. Nothing was changed.") % {"error": report.error or "?"},
            )
        else:
            messages.success(request, report.summary or _("Checked with PayPal."))
        return redirect(self.get_success_url())
