"""Wagtail registrations only: each function is small and delegates to the module it names."""

from django.urls import include, path
from wagtail import hooks
from wagtail.snippets.models import register_snippet

from wagtail_lockedcarts.admin.bulk_actions import (
    CheckPayPalBulkAction,
    DeleteCartsBulkAction,
    UnlockCartsBulkAction,
)
from wagtail_lockedcarts.admin.components import LockedCartsPanel, LockedCartsSummaryItem
from wagtail_lockedcarts.admin.log_actions import register_log_actions
from wagtail_lockedcarts.admin.permissions import register_policies
from wagtail_lockedcarts.admin.viewsets import configured_viewset

register_policies()  # before the viewsets: this module may be imported before our AppConfig.ready()
register_snippet(configured_viewset("CART_VIEWSET"))
register_snippet(configured_viewset("ORDER_VIEWSET"))


@hooks.register("register_log_actions")
def register_cart_log_actions(actions):
    register_log_actions(actions)


hooks.register("register_bulk_action", UnlockCartsBulkAction)
hooks.register("register_bulk_action", CheckPayPalBulkAction)
# order=1: must replace Wagtail's own snippet bulk delete for carts (registered at order 0).
hooks.register("register_bulk_action", DeleteCartsBulkAction, order=1)


@hooks.register("construct_homepage_summary_items")
def add_locked_carts_summary_item(request, summary_items):
    summary_items.append(LockedCartsSummaryItem(request))


@hooks.register("construct_homepage_panels")
def add_locked_carts_panel(request, panels):
    panels.append(LockedCartsPanel(request))


@hooks.register("register_admin_urls")
def register_payment_urls():
    from wagtail_lockedcarts.admin.views import payments

    urls = [
        path("", payments.UnmatchedPaymentsView.as_view(), name="unmatched"),
        path("<int:pk>/resolve/", payments.ResolvePaymentView.as_view(), name="resolve"),
    ]
    return [path("lockedcarts/payments/", include((urls, "wagtail_lockedcarts_payments")))]


@hooks.register("register_admin_menu_item")
def register_unmatched_payments_menu_item():
    from wagtail_lockedcarts.admin.views import payments

    return payments.unmatched_payments_menu_item()
