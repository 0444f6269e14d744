"""Orders that already happened on the sandbox's side, for demo data.

A demo cart that claims "PayPal holds a pending eCheck for this" is only honest if the sandbox
says the same when the admin clicks *Check PayPal now*. :func:`record_order` writes the sandbox's
own row for such a past checkout (no webhook is queued: in the story, those were delivered long
ago), and :func:`representation` returns the order exactly as the sandbox's API would answer a
``GET /v2/checkout/orders/{id}``, so the shop can take its facts from PayPal's answer instead of
inventing them.
"""

from urllib.parse import urlsplit

from django.test import RequestFactory
from django.utils import timezone

from .models import Disposition, OrderStatus, SandboxOrder
from .representations import new_account_id, new_id, order_json

#: What the payer did, and what PayPal's order says as a result.
NOT_APPROVED = "not_approved"  # left PayPal's page without choosing (closed the window, back button)
APPROVED = "approved"  # approved, not captured yet
CAPTURED = "captured"


def record_order(
    order_id,
    *,
    amount,
    currency,
    state=NOT_APPROVED,
    capture_status="COMPLETED",
    capture_reason="",
    captured_amount=None,
    capture_id="",
    card=("", ""),
    payer_email="buyer@example.com",
    invoice_id="",
    return_url="",
    cancel_url="",
):
    """Create (or bring back) the sandbox order ``order_id`` in ``state``. Idempotent."""
    brand, last4 = card
    fields = {
        "amount": amount,
        "currency": currency,
        "invoice_id": invoice_id,
        "return_url": return_url,
        "cancel_url": cancel_url,
        "status": OrderStatus.PAYER_ACTION_REQUIRED,
        "disposition": Disposition.NONE,
        "payment_kind": "",
        "payer_id": "",
        "payer_email": "",
        "card_brand": "",
        "card_last4": "",
        "capture_id": "",
        "capture_status": "",
        "capture_reason": "",
        "captured_amount": None,
        "captured_at": None,
    }
    if state in (APPROVED, CAPTURED):
        fields.update(
            status=OrderStatus.APPROVED,
            disposition=Disposition.PENDING if capture_status == "PENDING" else Disposition.COMPLETE,
            payment_kind="card" if last4 else "paypal",
            payer_id=new_account_id(),
            payer_email=payer_email,
            card_brand=brand if last4 else "",
            card_last4=last4,
        )
    if state == CAPTURED:
        fields.update(
            status=OrderStatus.COMPLETED,
            capture_id=capture_id or new_id(),
            capture_status=capture_status,
            capture_reason=capture_reason,
            captured_amount=amount if captured_amount is None else captured_amount,
            captured_at=timezone.now(),
        )
    order, _created = SandboxOrder.objects.update_or_create(pk=order_id, defaults=fields)
    return order


def settle(order_id):
    """A pending capture clears (an eCheck arrived), without a webhook."""
    SandboxOrder.objects.filter(pk=order_id, capture_status="PENDING").update(
        capture_status="COMPLETED", capture_reason="", updated_at=timezone.now()
    )


def representation(order_id, api_base):
    """The order as ``GET {api_base}/v2/checkout/orders/{order_id}`` returns it."""
    parts = urlsplit(api_base)
    request = RequestFactory().get("/", HTTP_HOST=parts.netloc or "127.0.0.1", secure=parts.scheme == "https")
    return order_json(request, SandboxOrder.objects.get(pk=order_id))
