"""PayPal webhook listener.

Order of checks, cheapest and safest first: method (405), declared size (413), the header gate
and the signature on the raw body (:mod:`.verification`: 400 with no detail, 503 when PayPal's
certificate or postback cannot be had), then JSON parsing, then deduplication on the event id
(200 for a re-delivery). The event body is never trusted beyond "look at order X": the
order is fetched from PayPal by :func:`reconcile_paypal_order`.

An event counts as processed only once its effect has committed: the deduplication row is written
after processing. When PayPal cannot be reached (503) or processing fails in any way (500), no
row is written, so PayPal's own retry (up to 25 times over 3 days for any non-2xx) processes it
again; reconciling is idempotent, so a retry never applies anything twice.
The cart meanwhile stays frozen; the scheduled sweep is the second safety net.
"""

import json
import logging

from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from wagtail_lockedcarts import conf
from wagtail_lockedcarts.models import WebhookEvent
from wagtail_lockedcarts.paypal import verification
from wagtail_lockedcarts.paypal.client import ORDER_ID_PATTERN
from wagtail_lockedcarts.paypal.reconcile import reconcile_paypal_order

logger = logging.getLogger("wagtail_lockedcarts.paypal")

PROVIDER = "paypal"
ORDER_EVENTS = {"CHECKOUT.ORDER.APPROVED", "CHECKOUT.ORDER.COMPLETED", "CHECKOUT.ORDER.VOIDED"}
CAPTURE_EVENTS = {
    "PAYMENT.CAPTURE.COMPLETED",
    "PAYMENT.CAPTURE.PENDING",
    "PAYMENT.CAPTURE.DENIED",
    "PAYMENT.CAPTURE.DECLINED",
    "PAYMENT.CAPTURE.REVERSED",
    "PAYMENT.CAPTURE.REFUNDED",
}
APPROVAL_EVENTS = {"CHECKOUT.PAYMENT-APPROVAL.REVERSED"}


def _plain(status, text=""):
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def order_id_for_event(event):
    """The PayPal order an event is about, or "" when it names none we handle."""
    event_type = event.get("event_type") or ""
    resource = event.get("resource") if isinstance(event.get("resource"), dict) else {}
    if event_type in ORDER_EVENTS:
        candidate = resource.get("id")
    elif event_type in CAPTURE_EVENTS:
        candidate = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id")
    elif event_type in APPROVAL_EVENTS:
        candidate = resource.get("order_id") or resource.get("id")
    else:
        return ""
    return candidate if isinstance(candidate, str) and ORDER_ID_PATTERN.match(candidate) else ""


@csrf_exempt
def paypal_webhook(request):
    return _receive(request)


def _receive(request):
    """The webhook view's body, undecorated so that mutation testing reaches it."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    limit = conf.get("WEBHOOK_MAX_BYTES")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _plain(400)
    if declared > limit:
        return _plain(413)
    body = request.body
    if len(body) > limit:
        return _plain(413)
    if not body:
        return _plain(400)
    try:
        transmission = verification.authenticate(request.headers, body)
    except verification.Rejected as rejected:
        if rejected.status == 400:
            logger.info("Rejected a PayPal webhook: %s", rejected.reason)
        return _plain(rejected.status)

    try:
        response = _process(body)
    except Exception:
        verification.forget(transmission)
        raise
    if response.status_code >= 500:
        verification.forget(transmission)
    return response


def _process(body):
    """A genuine delivery: deduplicate on the event id, then reconcile the order it names."""
    try:
        event = json.loads(body)
    except ValueError:
        return _plain(400)
    event_id = event.get("id") if isinstance(event, dict) else None
    if not isinstance(event_id, str) or not event_id:
        return _plain(400)
    order_id = order_id_for_event(event)

    event_id = event_id[:128]
    if WebhookEvent.objects.filter(provider=PROVIDER, event_id=event_id, processed_at__isnull=False).exists():
        return _plain(200, "duplicate")
    if order_id:
        try:
            report = reconcile_paypal_order(order_id)
        except Exception:
            # Anything (a database error included) leaves the event unrecorded: PayPal's retry
            # processes it again, and reconciling twice converges.
            logger.exception("Processing PayPal webhook %s failed; PayPal will retry it", event_id)
            return _plain(500)
        if not report.reachable or report.error:
            return _plain(503)
    # Only now, with its effect committed, does the event count as processed.
    try:
        with transaction.atomic():
            WebhookEvent.objects.get_or_create(
                provider=PROVIDER,
                event_id=event_id,
                defaults={
                    "event_type": str(event.get("event_type") or "")[:64],
                    "resource_id": order_id[:64],
                    "processed_at": timezone.now(),
                },
            )
    except IntegrityError:
        pass  # a concurrent delivery of the same event recorded it first
    return _plain(200)
