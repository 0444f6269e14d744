"""Listing filters for carts and orders.

The query logic lives in plain functions (:func:`filter_carts`, :func:`filter_orders`) so the
snippet listings (django-filter sets below) and the optional modeladmin listings (Django admin
``SimpleListFilter``) filter exactly the same way.
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from wagtail_lockedcarts.models import (
    Cart,
    CartStatus,
    LockReason,
    Order,
    OrderStatus,
)

CART_FILTER_CHOICES = [
    ("locked", _("Locked Carts")),
    ("awaiting_payment", _("Awaiting payment")),
    ("open", _("Open carts")),
]

ORDER_FILTER_CHOICES = [
    ("on_hold", _("On hold")),
    ("submitted", _("Submitted")),
    ("exported", _("Exported")),
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
    return queryset


def filter_orders(queryset, value, now=None):
    if value in (OrderStatus.ON_HOLD, OrderStatus.SUBMITTED, OrderStatus.EXPORTED):
        return queryset.filter(status=value)
    if value == "not_confirmed":
        return queryset.not_confirmed(now)
    return queryset


class CartFilterSet(WagtailFilterSet):
    cart_filter = django_filters.ChoiceFilter(
        label=_("Cart Filter"),
        choices=CART_FILTER_CHOICES,
        method="filter_cart_filter",
        empty_label=_("All"),
        widget=forms.RadioSelect,
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=CartStatus.choices,
        empty_label=_("All"),
        widget=forms.RadioSelect,
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
