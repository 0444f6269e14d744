from django.urls import path

from . import api, views

app_name = "paypal_sandbox"

urlpatterns = [
    path("v1/oauth2/token", api.token, name="token"),
    path("v2/checkout/orders", api.orders, name="orders"),
    path("v2/checkout/orders/<str:order_id>", api.order_detail, name="order"),
    path("v2/checkout/orders/<str:order_id>/capture", api.capture, name="capture"),
    path("v1/notifications/verify-webhook-signature", api.verify_webhook_signature, name="verify_webhook_signature"),
    path("v1/notifications/certs/<str:name>", views.cert, name="cert"),
    path("checkoutnow", views.approve, name="approve"),
    path("control/faults", views.faults, name="faults"),
    path("control/orders/<str:order_id>/settle", views.settle, name="settle"),
    path("control/orders/<str:order_id>/reverse-approval", views.reverse_approval, name="reverse_approval"),
]
