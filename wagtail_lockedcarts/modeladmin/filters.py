"""The listing filters as Django admin list filters (what wagtail-modeladmin understands), with
the same query parameters and the same queries as the snippet listings."""

from django.contrib.admin import SimpleListFilter
from django.utils.translation import gettext_lazy as _

from wagtail_lockedcarts.admin.filters import (
    CART_FILTER_CHOICES,
    ORDER_FILTER_CHOICES,
    filter_carts,
    filter_orders,
)


class CartFilter(SimpleListFilter):
    title = _("Cart Filter")
    parameter_name = "cart_filter"

    def lookups(self, request, model_admin):
        return CART_FILTER_CHOICES

    def queryset(self, request, queryset):
        return filter_carts(queryset, self.value())


class OrderFilter(SimpleListFilter):
    title = _("Order Filter")
    parameter_name = "order_filter"

    def lookups(self, request, model_admin):
        return ORDER_FILTER_CHOICES

    def queryset(self, request, queryset):
        return filter_orders(queryset, self.value())
