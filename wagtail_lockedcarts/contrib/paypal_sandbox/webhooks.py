"""Queue, sign and deliver webhook events to ``PAYPAL_SANDBOX["WEBHOOK_URL"]``.

Delivery happens after the sandbox's transaction commits, from a background thread, so the
sandbox never waits on the shop while holding a row lock (the shop calls back into the sandbox
to verify the signature and GET the order). With ``DELIVERY = "manual"`` events stay queued
until :func:`deliver_pending` — deterministic for tests.
"""

import logging
import threading
import time
import uuid

import requests
from django.db import close_old_connections, connections, transaction
from django.urls import reverse
from django.utils import timezone

from . import conf, signing
from .models import SandboxWebhook
from .representations import capture_json, iso, new_id, order_json

logger = logging.getLogger("wagtail_lockedcarts.contrib.paypal_sandbox")

CAPTURE_EVENT_TYPES = {
    "COMPLETED": ("PAYMENT.CAPTURE.COMPLETED", "Payment completed for EUR"),
    "PENDING": ("PAYMENT.CAPTURE.PENDING", "Payment pending"),
    "DECLINED": ("PAYMENT.CAPTURE.DENIED", "Payment denied"),
}


def queue_event(request, event_type, resource_type, resource, order=None, summary=""):
    event_id = f"WH-{new_id(8)}-{new_id(17)}"
    event = {
        "id": event_id,
        "event_version": "1.0",
        "create_time": iso(timezone.now()),
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": summary or event_type,
        "resource": resource,
        "links": [
            {
                "href": request.build_absolute_uri(f"/v1/notifications/webhooks-events/{event_id}"),
                "rel": "self",
                "method": "GET",
            },
        ],
    }
    webhook = SandboxWebhook.objects.create(
        event_id=event_id,
        event_type=event_type,
        order=order,
        body=signing.canonical_body(event).decode(),
        cert_url=request.build_absolute_uri(reverse("paypal_sandbox:cert", args=["CERT-SANDBOX-HMAC"])),
    )
    if conf.get("DELIVERY") == "thread" and conf.get("WEBHOOK_URL"):
        transaction.on_commit(
            lambda: threading.Thread(target=_deliver_in_background, args=(webhook.pk,), daemon=True).start()
        )
    return webhook


def queue_order_approved(request, order):
    data = order_json(request, order)
    return queue_event(
        request, "CHECKOUT.ORDER.APPROVED", "checkout-order", data, order, summary="An order has been approved by buyer"
    )


def queue_capture_event(request, order):
    event_type, summary = CAPTURE_EVENT_TYPES.get(order.capture_status, (None, ""))
    if event_type is None:
        return None
    resource = capture_json(request, order)
    resource["supplementary_data"] = {"related_ids": {"order_id": order.id}}
    return queue_event(request, event_type, "capture", resource, order, summary=summary)


def signed_request(webhook, webhook_id=None):
    """(body bytes, headers) exactly as the sandbox sends them — tests tamper with copies."""
    body = webhook.body.encode()
    transmission_id = str(uuid.uuid4())
    transmission_time = iso(timezone.now())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PayPal/AUHD-214.0-58829318",
        "PAYPAL-AUTH-ALGO": signing.AUTH_ALGO,
        "PAYPAL-CERT-URL": webhook.cert_url,
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": transmission_time,
        "PAYPAL-TRANSMISSION-SIG": signing.sign(
            transmission_id, transmission_time, webhook_id or conf.get("WEBHOOK_ID"), body
        ),
    }
    return body, headers


def deliver(webhook, url=None):
    """POST one event; returns the HTTP status (None when the shop could not be reached)."""
    body, headers = signed_request(webhook)
    status = None
    try:
        response = requests.post(
            url or conf.get("WEBHOOK_URL"), data=body, headers=headers, timeout=tuple(conf.get("DELIVERY_TIMEOUT"))
        )
        status = response.status_code
    except requests.RequestException as error:
        logger.warning("Webhook %s not delivered: %s", webhook.event_id, type(error).__name__)
    delivered = status is not None and 200 <= status < 300
    SandboxWebhook.objects.filter(pk=webhook.pk).update(
        attempts=webhook.attempts + 1,
        response_status=status,
        state=SandboxWebhook.State.DELIVERED if delivered else SandboxWebhook.State.FAILED,
        delivered_at=timezone.now() if delivered else None,
    )
    webhook.refresh_from_db()
    return status


def deliver_pending(url=None):
    """Deliver every queued (or previously failed) event in order; returns their statuses."""
    pending = SandboxWebhook.objects.exclude(state=SandboxWebhook.State.DELIVERED).order_by("pk")
    return [(webhook.event_type, deliver(webhook, url)) for webhook in pending]


def _deliver_in_background(pk):
    """PayPal retries non-2xx deliveries; the sandbox does a few quick retries."""
    try:
        for attempt in range(conf.get("DELIVERY_ATTEMPTS")):
            close_old_connections()
            webhook = SandboxWebhook.objects.filter(pk=pk).first()
            if webhook is None or webhook.state == SandboxWebhook.State.DELIVERED:
                return
            status = deliver(webhook)
            if status is not None and 200 <= status < 300:
                return
            time.sleep(2**attempt)
    finally:
        connections.close_all()
