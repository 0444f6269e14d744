"""Everything that can happen to an order after approval, each with the webhook PayPal sends.

Used by the API (capture, refund) and by the control endpoints and test helpers, which play the
parts PayPal plays on its own: an eCheck clearing or bouncing, a chargeback, an order voided or
completed at PayPal, an order expiring. Each function locks the order row and returns the
changed order, or ``None`` when the order is unknown; a change that does not apply to the
order's state raises :class:`NotApplicable` and changes nothing.
"""

from django.db import transaction
from django.utils import timezone

from .models import Disposition, OrderStatus, SandboxOrder, SandboxRefund
from .representations import new_id, order_json, paypal_value, refund_json
from .webhooks import queue_capture_event, queue_event

# disposition -> (capture status, status_details.reason)
CAPTURE_RESULTS = {
    Disposition.COMPLETE: ("COMPLETED", ""),
    Disposition.PENDING: ("PENDING", "ECHECK"),
    Disposition.DECLINE_CAPTURE: ("DECLINED", ""),
    Disposition.FAIL_CAPTURE: ("FAILED", ""),
}


class NotApplicable(Exception):
    """The order is not in a state where this can happen (e.g. refunding a pending capture)."""


def _locked(order_id):
    return SandboxOrder.objects.select_for_update().filter(pk=order_id, expired=False).first()


def _summary(template, amount, order):
    return template.format(amount=paypal_value(amount, order.currency), currency=order.currency)


def capture_now(request, order, request_id=""):
    """Create the capture the payer's choice on the approval page calls for (order row locked)."""
    status, reason = CAPTURE_RESULTS.get(order.disposition, ("COMPLETED", ""))
    order.capture_id = new_id()
    order.capture_request_id = request_id
    order.capture_status, order.capture_reason = status, reason
    order.captured_amount = order.capture_amount_override if order.capture_amount_override is not None else order.amount
    order.captured_at = timezone.now()
    order.status = OrderStatus.COMPLETED
    order.save()
    # PayPal sends no event for a FAILED capture; the capture call's answer is all there is.
    if status != "FAILED":
        queue_capture_event(request, order)
    return order


def refund(request, order_id, amount=None, request_id=None, invoice_id="", note_to_payer="", kind=None):
    """Refund ``amount`` (default: what is left) of the capture → ``(refund, "")`` or ``(None, issue)``.

    The capture becomes PARTIALLY_REFUNDED or REFUNDED; PayPal sends ``PAYMENT.CAPTURE.REFUNDED``
    with the refund as its resource (a reversal: ``PAYMENT.CAPTURE.REVERSED``).
    """
    kind = kind or SandboxRefund.Kind.REFUND
    with transaction.atomic():
        order = _locked(order_id)
        if order is None:
            return None, "INVALID_RESOURCE_ID"
        if order.capture_status == "PENDING":
            return None, "PENDING_CAPTURE"
        if order.capture_status == "REFUNDED":
            return None, "CAPTURE_FULLY_REFUNDED"
        if order.capture_status not in ("COMPLETED", "PARTIALLY_REFUNDED"):
            return None, "REFUND_NOT_ALLOWED"
        left = order.refundable_amount
        amount = left if amount is None else amount
        if amount > left:
            return None, "REFUND_AMOUNT_EXCEEDED"
        refund = SandboxRefund.objects.create(
            id=new_id(),
            order=order,
            kind=kind,
            request_id=request_id,
            amount=amount,
            invoice_id=invoice_id,
            note_to_payer=note_to_payer,
        )
        fully = amount == left
        order.capture_status = "REFUNDED" if fully else "PARTIALLY_REFUNDED"
        order.capture_reason = "CHARGEBACK" if kind == SandboxRefund.Kind.REVERSAL else ""
        order.updated_at = timezone.now()
        order.save()
        if kind == SandboxRefund.Kind.REVERSAL:
            event_type, template = "PAYMENT.CAPTURE.REVERSED", "A {amount} {currency} capture payment was reversed"
        else:
            event_type, template = "PAYMENT.CAPTURE.REFUNDED", "A {amount} {currency} capture payment was refunded"
        queue_event(
            request,
            event_type,
            "refund",
            refund_json(request, refund),
            order,
            summary=_summary(template, amount, order),
        )
    return refund, ""


def reverse(request, order_id):
    """A chargeback: PayPal takes the whole remaining capture back (``PAYMENT.CAPTURE.REVERSED``)."""
    refund_, issue = refund(request, order_id, kind=SandboxRefund.Kind.REVERSAL)
    if issue == "INVALID_RESOURCE_ID":
        return None
    if issue:
        raise NotApplicable(issue)
    return refund_


def end_pending(request, order_id, event_type="PAYMENT.CAPTURE.DECLINED"):
    """A pending capture fails after all (the eCheck bounced): PENDING → DECLINED.

    ``event_type`` is ``PAYMENT.CAPTURE.DECLINED`` or ``PAYMENT.CAPTURE.DENIED``; PayPal uses both
    for a capture that ends DECLINED.
    """
    if event_type not in ("PAYMENT.CAPTURE.DECLINED", "PAYMENT.CAPTURE.DENIED"):
        raise NotApplicable("event")
    with transaction.atomic():
        order = _locked(order_id)
        if order is None:
            return None
        if order.capture_status != "PENDING":
            raise NotApplicable(order.capture_status or order.status)
        order.capture_status, order.capture_reason = "DECLINED", ""
        order.updated_at = timezone.now()
        order.save()
        queue_capture_event(request, order, event_type=event_type)
    return order


def void(request, order_id):
    """PayPal voids an order that was never captured (``CHECKOUT.ORDER.VOIDED``)."""
    with transaction.atomic():
        order = _locked(order_id)
        if order is None:
            return None
        if order.capture_id or order.status in (OrderStatus.COMPLETED, OrderStatus.VOIDED):
            raise NotApplicable(order.status)
        order.status = OrderStatus.VOIDED
        order.updated_at = timezone.now()
        order.save()
        queue_event(
            request,
            "CHECKOUT.ORDER.VOIDED",
            "checkout-order",
            order_json(request, order),
            order,
            "An order has been voided",
        )
    return order


def complete(request, order_id):
    """PayPal completes an approved order itself (as with ``ORDER_COMPLETE_ON_PAYMENT_APPROVAL``).

    The shop never calls capture; it hears ``CHECKOUT.ORDER.COMPLETED`` and the capture event.
    """
    with transaction.atomic():
        order = _locked(order_id)
        if order is None:
            return None
        if order.status != OrderStatus.APPROVED or order.capture_id:
            raise NotApplicable(order.status)
        if order.disposition not in CAPTURE_RESULTS:
            order.disposition = Disposition.COMPLETE
        capture_now(request, order)
        queue_event(
            request,
            "CHECKOUT.ORDER.COMPLETED",
            "checkout-order",
            order_json(request, order),
            order,
            "Checkout Order Completed",
        )
    return order


def expire(request, order_id):
    """Time runs out. An order never approved disappears (every lookup is a 404, no webhook);
    an approved, uncaptured one has its approval reversed (``CHECKOUT.PAYMENT-APPROVAL.REVERSED``)."""
    from .control import reverse_approval

    with transaction.atomic():
        order = _locked(order_id)
        if order is None:
            return None
        if order.status in (OrderStatus.CREATED, OrderStatus.PAYER_ACTION_REQUIRED):
            order.expired = True
            order.updated_at = timezone.now()
            order.save()
            return order
        if order.status != OrderStatus.APPROVED or order.capture_id:
            raise NotApplicable(order.status)
    return reverse_approval(order_id, request)
