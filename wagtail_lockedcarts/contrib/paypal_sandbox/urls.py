from django.urls import path

from . import api, views

app_name = "paypal_sandbox"

urlpatterns = [
    path("v1/oauth2/token", api.token, name="token"),
    path("v2/checkout/orders", api.orders, name="orders"),
    path("v2/checkout/orders/<str:order_id>", api.order_detail, name="order"),
    path("v2/checkout/orders/<str:order_id>/capture", api.capture, name="capture"),
    path("v2/payments/captures/<str:capture_id>", api.capture_detail, name="capture_detail"),
    path("v2/payments/captures/<str:capture_id>/refund", api.capture_refund, name="capture_refund"),
    path("v2/payments/refunds/<str:refund_id>", api.refund_detail, name="refund_detail"),
    path("v1/notifications/webhooks-events/<str:event_id>", api.webhook_event, name="webhook_event"),
    path(
        "v1/notifications/webhooks-events/<str:event_id>/resend",
        api.webhook_event_resend,
        name="webhook_event_resend",
    ),
    path("v1/notifications/verify-webhook-signature", api.verify_webhook_signature, name="verify_webhook_signature"),
    path("v1/notifications/certs/<str:name>", views.cert, name="cert"),
    path("checkoutnow", views.approve, name="approve"),
    path("control/faults", views.faults, name="faults"),
    path("control/orders/<str:order_id>/settle", views.settle, name="settle"),
    path("control/orders/<str:order_id>/reverse-approval", views.reverse_approval, name="reverse_approval"),
    path("control/orders/<str:order_id>/refund", views.refund, name="control_refund"),
    path("control/orders/<str:order_id>/reverse", views.reverse, name="control_reverse"),
    path("control/orders/<str:order_id>/decline", views.decline_pending, name="control_decline"),
    path("control/orders/<str:order_id>/void", views.void, name="control_void"),
    path("control/orders/<str:order_id>/complete", views.complete, name="control_complete"),
    path("control/orders/<str:order_id>/expire", views.expire, name="control_expire"),
]
