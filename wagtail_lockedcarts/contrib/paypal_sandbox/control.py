"""Fault injection and after-the-fact events, for tests and for trying failure modes in the demo.

* the next N API calls (optionally only those whose path contains some text) answer ``status`` (500 by default) — PayPal is down;
* the next N API calls are delayed by S seconds *and then processed* — PayPal is slow, and a
  client that gave up does not know whether its capture happened;
* settle a pending capture (``PAYMENT.CAPTURE.COMPLETED`` follows), or reverse an approval.

:func:`wait_idle` lets a test wait until the live server has finished every sandbox API call,
including ones a client stopped waiting for.
"""

import threading

from django.db import models, transaction
from django.utils import timezone

from .models import OrderStatus, SandboxControl, SandboxOrder

_idle = threading.Condition()
_in_flight = 0


def set_faults(fail_next=0, fail_status=500, delay_next=0, delay_seconds=0.0, path_contains=""):
    SandboxControl.objects.update_or_create(
        pk=1,
        defaults={
            "fail_next": fail_next,
            "fail_status": fail_status,
            "delay_next": delay_next,
            "delay_seconds": delay_seconds,
            "path_contains": path_contains,
        },
    )


def reset_faults():
    set_faults()


def take_fault(path):
    """Consume one injected fault for a call to ``path``: ("fail", status), ("delay", seconds) or None."""
    control = SandboxControl.objects.filter(pk=1).first()
    if control is None or control.path_contains not in path:
        return None
    if control.fail_next and SandboxControl.objects.filter(pk=1, fail_next__gt=0).update(
        fail_next=models.F("fail_next") - 1
    ):
        return ("fail", control.fail_status)
    if control.delay_next and SandboxControl.objects.filter(pk=1, delay_next__gt=0).update(
        delay_next=models.F("delay_next") - 1
    ):
        return ("delay", control.delay_seconds)
    return None


class in_flight:
    """Counts API calls being served, for :func:`wait_idle`."""

    def __enter__(self):
        global _in_flight
        with _idle:
            _in_flight += 1

    def __exit__(self, *exc):
        global _in_flight
        with _idle:
            _in_flight -= 1
            _idle.notify_all()


def wait_idle(timeout=10.0):
    with _idle:
        return _idle.wait_for(lambda: _in_flight == 0, timeout=timeout)


def settle_capture(order_id, request):
    """PENDING → COMPLETED, as when an eCheck clears."""
    from .webhooks import queue_capture_event

    with transaction.atomic():
        order = SandboxOrder.objects.select_for_update().get(pk=order_id)
        if order.capture_status != "PENDING":
            return order
        order.capture_status, order.capture_reason = "COMPLETED", ""
        order.save()
        queue_capture_event(request, order)
    return order


def reverse_approval(order_id, request):
    """An approved but uncaptured order is voided (PayPal does this after about three hours)."""
    from .webhooks import queue_event

    with transaction.atomic():
        order = SandboxOrder.objects.select_for_update().get(pk=order_id)
        if order.status != OrderStatus.APPROVED or order.capture_id:
            return order
        order.status = OrderStatus.VOIDED
        order.updated_at = timezone.now()
        order.save()
        queue_event(
            request,
            "CHECKOUT.PAYMENT-APPROVAL.REVERSED",
            "checkout-order",
            {"order_id": order.id, "purchase_units": [{"reference_id": order.reference_id or "default"}]},
            order,
            summary="A payment approval was reversed",
        )
    return order
