"""Queue, sign and deliver webhook events to ``PAYPAL_SANDBOX["WEBHOOK_URL"]``.

Delivery happens after the sandbox's transaction commits, from a background thread, so the
sandbox never waits on the shop while holding a row lock (the shop calls back into the sandbox
to verify the signature and GET the order). With ``DELIVERY = "manual"`` events stay queued
until :func:`deliver_pending` — deterministic for tests.
"""

import logging
import re
import threading
import time
import uuid

import requests
from django.db import close_old_connections, connections, transaction
from django.urls import reverse
from django.utils import timezone

from . import conf, signing
from .models import SandboxWebhook
from .representations import capture_json, event_json, iso, new_event_id, order_json, paypal_value

logger = logging.getLogger("wagtail_lockedcarts.contrib.paypal_sandbox")

SIGNATURE_PATTERN = re.compile(r"^(?!\d+$)\w+\S+")

# capture status -> (event type, summary template); PayPal's summaries name the amount and currency.
CAPTURE_EVENT_TYPES = {
    "COMPLETED": ("PAYMENT.CAPTURE.COMPLETED", "Payment completed for {amount} {currency}"),
    "PENDING": ("PAYMENT.CAPTURE.PENDING", "Payment pending for {amount} {currency}"),
    "DECLINED": ("PAYMENT.CAPTURE.DENIED", "A {amount} {currency} capture payment was denied"),
}


def queue_event(request, event_type, resource_type, resource, order=None, summary=""):
    event_id = new_event_id()
    event = event_json(request, event_id, event_type, resource_type, resource, summary, iso(timezone.now()))
    webhook = SandboxWebhook.objects.create(
        event_id=event_id,
        event_type=event_type,
        order=order,
        body=signing.canonical_body(event).decode(),
        cert_url=request.build_absolute_uri(reverse("paypal_sandbox:cert", args=[signing.identity().cert_name])),
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


def capture_summary(template, order):
    return template.format(amount=paypal_value(order.captured_amount, order.currency), currency=order.currency)


def queue_capture_event(request, order, event_type=None):
    default_type, template = CAPTURE_EVENT_TYPES.get(order.capture_status, (None, "{amount} {currency}"))
    event_type = event_type or default_type
    if event_type is None:
        return None
    resource = capture_json(request, order, related_ids=True)
    return queue_event(request, event_type, "capture", resource, order, summary=capture_summary(template, order))


def signed_request(webhook, webhook_id=None, transmission_time=None):
    """(body bytes, headers) exactly as the sandbox sends them — tests tamper with copies.

    Each delivery is a new transmission (id and time), as each of PayPal's retries is."""
    body = webhook.body.encode()
    transmission_time = transmission_time or iso(timezone.now())
    webhook_id = webhook_id or conf.get("WEBHOOK_ID")
    # Webhooks v1 wants transmission_sig to match ^(?!\d+$)\w+\S+ (first character \w): pick a
    # transmission id whose base64 signature does not start with "+" or "/".
    while True:
        transmission_id = str(uuid.uuid4())
        signature = signing.sign(transmission_id, transmission_time, webhook_id, body)
        if SIGNATURE_PATTERN.match(signature):
            break
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PayPal/AUHD-214.0-58829318",
        "PAYPAL-AUTH-ALGO": signing.AUTH_ALGO,
        "PAYPAL-CERT-URL": webhook.cert_url,
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": transmission_time,
        "PAYPAL-TRANSMISSION-SIG": signature,
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


def requeue(webhook):
    """Webhooks v1 *resend*: deliver the same event (same id and body) once more."""
    SandboxWebhook.objects.filter(pk=webhook.pk).update(state=SandboxWebhook.State.QUEUED)
    if conf.get("DELIVERY") == "thread" and conf.get("WEBHOOK_URL"):
        transaction.on_commit(
            lambda: threading.Thread(target=_deliver_in_background, args=(webhook.pk,), daemon=True).start()
        )
