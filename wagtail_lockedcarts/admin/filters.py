"""Listing filters for carts and orders.

The query logic lives in plain functions (:func:`filter_carts`, :func:`filter_orders`) so the
snippet listings (django-filter sets below) and the optional modeladmin listings (Django admin
``SimpleListFilter``) filter exactly the same way.
"""

import django_filters
from django import forms
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from wagtail_lockedcarts.models import (
    Cart,
    CartStatus,
    LockReason,
    Order,
    OrderStatus,
    PaymentAttempt,
)

CART_FILTER_CHOICES = [
    ("locked", _("Locked Carts")),
    ("awaiting_payment", _("Awaiting payment")),
    ("open", _("Open carts")),
    ("ordered", _("Ordered")),
    ("unmatched", _("With an unmatched payment")),
]
#: Cart Filter choices whose tab shows a count: the few carts that need attention. The others
#: (open and ordered carts, the bulk of a busy shop) are not counted on every page view.
COUNTED_CART_FILTERS = ("locked", "awaiting_payment")

ORDER_FILTER_CHOICES = [
    ("on_hold", _("On hold")),
    ("submitted", _("Submitted")),
    ("exported", _("Exported")),
    ("payment_reversed", _("Payment reversed")),
    ("not_confirmed", _("Not confirmed (past the grace period)")),
]


def filter_carts(queryset, value):
    """``?cart_filter=locked`` and friends: the shortcuts the dashboard links to."""
    if value == "locked":
        return queryset.filter(status=CartStatus.LOCKED)
    if value == "awaiting_payment":
        return queryset.filter(status=CartStatus.AWAITING_PAYMENT)
    if value == "open":
        return queryset.filter(status=CartStatus.OPEN)
    if value == "ordered":
        return queryset.filter(status=CartStatus.ORDERED)
    if value == "unmatched":
        return queryset.filter(pk__in=PaymentAttempt.objects.unmatched().values("cart_id"))
    return queryset


def cart_filter_counts(queryset=None):
    """{choice: number of carts} for :data:`COUNTED_CART_FILTERS`, in one query on the status index."""
    queryset = Cart.objects.all() if queryset is None else queryset
    counted = [CartStatus(value) for value in COUNTED_CART_FILTERS]
    return queryset.filter(status__in=counted).aggregate(
        **{value: Count("pk", filter=Q(status=value)) for value in counted}
    )


def filter_orders(queryset, value, now=None):
    if value in (OrderStatus.ON_HOLD, OrderStatus.SUBMITTED, OrderStatus.EXPORTED, OrderStatus.PAYMENT_REVERSED):
        return queryset.filter(status=value)
    if value == "not_confirmed":
        return queryset.not_confirmed(now)
    return queryset


class CartFilterSet(WagtailFilterSet):
    """The drawer holds the finer filters; the Cart Filter itself is the row of tabs above the
    listing (see ``cart_index.html``), so the drawer only carries its value along (hidden).
    ``?status=…`` (the former second filter) still works and means the same Cart Filter."""

    cart_filter = django_filters.ChoiceFilter(
        label=_("Cart Filter"),
        choices=CART_FILTER_CHOICES,
        method="filter_cart_filter",
        empty_label=_("All"),
        widget=forms.HiddenInput,
    )
    lock_reason = django_filters.ChoiceFilter(
        label=_("Lock reason"),
        choices=LockReason.choices,
        empty_label=_("All"),
        widget=forms.RadioSelect,
    )
    locked_at = django_filters.DateFromToRangeFilter(label=_("Locked at"), widget=DateRangePickerWidget)
    created_at = django_filters.DateFromToRangeFilter(label=_("Created at"), widget=DateRangePickerWidget)

    class Meta:
        model = Cart
        fields = []

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and data.get("status") and not data.get("cart_filter"):
            data = data.copy()
            data["cart_filter"] = data["status"]
        super().__init__(data, *args, **kwargs)

    def filter_cart_filter(self, queryset, name, value):
        return filter_carts(queryset, value)


class OrderFilterSet(WagtailFilterSet):
    order_filter = django_filters.ChoiceFilter(
        label=_("Order Filter"),
        choices=ORDER_FILTER_CHOICES,
        method="filter_order_filter",
        empty_label=_("All"),
        widget=forms.RadioSelect,
    )
    created_at = django_filters.DateFromToRangeFilter(label=_("Created at"), widget=DateRangePickerWidget)

    class Meta:
        model = Order
        fields = []

    def filter_order_filter(self, queryset, name, value):
        return filter_orders(queryset, value)
