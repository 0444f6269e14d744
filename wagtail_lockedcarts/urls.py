from django.urls import path

from wagtail_lockedcarts.paypal import webhooks
from wagtail_lockedcarts.sqlite import retry_when_locked
from wagtail_lockedcarts.storefront import checkout
from wagtail_lockedcarts.storefront import views as storefront

app_name = "wagtail_lockedcarts"

urlpatterns = [
    path("", storefront.CartView.as_view(), name="cart"),
    path("add/", storefront.add_line, name="add_line"),
    path("update/", storefront.update_line, name="update_line"),
    path("remove/", storefront.remove_line, name="remove_line"),
    path("checkout/", checkout.checkout, name="checkout"),
    path("paypal/return/", retry_when_locked(checkout.paypal_return), name="paypal_return"),
    path("paypal/cancel/", checkout.paypal_cancel, name="paypal_cancel"),
    path("paypal/webhook/", retry_when_locked(webhooks.paypal_webhook), name="paypal_webhook"),
]
