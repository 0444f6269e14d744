"""The hosted approval page (what the shopper sees "at PayPal"), the cert URL and the controls."""

import json
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wagtail_lockedcarts.money import PAYPAL_CURRENCIES

from . import conf, control, outcomes, signing
from .api import api_endpoint, basic_credentials_ok, parse_amount
from .models import CAPTURE_REFUSALS, Disposition, OrderStatus, SandboxOrder
from .representations import new_account_id
from .webhooks import queue_order_approved

# action value -> (button label, disposition, payment kind). Labels are the spec's, verbatim.
ACTIONS = {
    "pay": ("Pay", Disposition.COMPLETE, "paypal"),
    "pay_pending": ("Pay – pending (eCheck)", Disposition.PENDING, "paypal"),
    "pay_card": ("Pay with card", Disposition.COMPLETE, "card"),
    "decline": ("Decline", Disposition.DECLINE_INSTRUMENT, "paypal"),
    "cancel": ("Cancel and return", None, None),
    "pay_close": ("Pay and close the window (never return)", Disposition.COMPLETE, "paypal"),
}
CARD_BRANDS = ("VISA", "MASTERCARD", "AMEX", "DISCOVER")
# "Decline" variants: a refused capture call (422 issue), or a capture created DECLINED / FAILED.
DECLINE_MODES = [(issue, f"Capture refused: {issue}") for issue in CAPTURE_REFUSALS] + [
    ("capture", "Capture created, status DECLINED"),
    ("failed", "Capture created, status FAILED"),
]


def _with_query(url, **params):
    return url + ("&" if "?" in url else "?") + urlencode(params)


@require_http_methods(["GET", "POST"])
def approve(request):
    order = SandboxOrder.objects.filter(pk=request.GET.get("token", ""), expired=False).first()
    if order is None:
        return render(
            request,
            "paypal_sandbox/message.html",
            {"title": "Order not found", "text": "This checkout link is not valid."},
            status=404,
        )
    approvable = order.status in (OrderStatus.CREATED, OrderStatus.PAYER_ACTION_REQUIRED)
    if request.method == "GET" or not approvable:
        return render(
            request,
            "paypal_sandbox/approve.html",
            {
                "order": order,
                "approvable": approvable,
                "actions": [(key, value[0]) for key, value in ACTIONS.items()],
                "card_brands": CARD_BRANDS,
                "decline_modes": DECLINE_MODES,
            },
            status=200 if approvable or request.method == "GET" else 409,
        )

    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return render(
            request,
            "paypal_sandbox/message.html",
            {"title": "Unknown choice", "text": "Please use one of the buttons."},
            status=400,
        )
    if action == "cancel":
        return HttpResponseRedirect(_with_query(order.cancel_url, token=order.id))

    _label, disposition, kind = ACTIONS[action]
    with transaction.atomic():
        order = SandboxOrder.objects.select_for_update().get(pk=order.pk)
        if order.status not in (OrderStatus.CREATED, OrderStatus.PAYER_ACTION_REQUIRED):
            return render(
                request,
                "paypal_sandbox/message.html",
                {"title": "Already handled", "text": f"This order is {order.status}."},
                status=409,
            )
        if disposition == Disposition.DECLINE_INSTRUMENT:
            mode = request.POST.get("decline_mode") or "INSTRUMENT_DECLINED"
            if mode == "capture":
                disposition = Disposition.DECLINE_CAPTURE
            elif mode == "failed":
                disposition = Disposition.FAIL_CAPTURE
            else:
                order.refusal = mode if mode in CAPTURE_REFUSALS else "INSTRUMENT_DECLINED"
        order.status = OrderStatus.APPROVED
        order.disposition = disposition
        order.payment_kind = kind
        order.payer_id = new_account_id()
        order.payer_email = (request.POST.get("email") or "buyer@example.com").strip()[:254]
        if kind == "card":
            brand = request.POST.get("card_brand", "VISA").upper()
            last4 = request.POST.get("card_last4", "")
            order.card_brand = brand if brand in CARD_BRANDS else "VISA"
            order.card_last4 = last4 if len(last4) == 4 and last4.isdigit() else "1111"
        override = request.POST.get("captured_amount", "").strip()
        order.capture_amount_override = _captured_amount(override, order.currency)
        order.updated_at = timezone.now()
        order.save()
        queue_order_approved(request, order)

    if action == "pay_close":
        return render(
            request,
            "paypal_sandbox/message.html",
            {"title": "Payment approved", "text": "You may close this window.", "order": order},
        )
    return HttpResponseRedirect(_with_query(order.return_url, token=order.id, PayerID=order.payer_id))


def _captured_amount(text, currency):
    """A different captured amount typed on the page, in the currency's own decimals (else none)."""
    if not text:
        return None
    try:
        value = Decimal(text).quantize(Decimal(1).scaleb(-PAYPAL_CURRENCIES.get(currency, 2)))
    except InvalidOperation:
        return None
    return value if value > 0 else None


@require_GET
@api_endpoint(authenticated=False)
def cert(request, name):
    """The self-signed certificate whose key signs the sandbox's webhooks (PEM), by its name."""
    identity = signing.identity()
    if name != identity.cert_name:
        return HttpResponse("Not found", status=404, content_type="text/plain")
    return HttpResponse(identity.certificate_pem, content_type="application/x-pem-file")


def control_endpoint(view):
    @csrf_exempt
    @require_POST
    def wrapper(request, *args, **kwargs):
        if not conf.get("CONTROL_ENABLED"):
            return JsonResponse({"error": "disabled"}, status=404)
        if not basic_credentials_ok(request):
            return JsonResponse({"error": "invalid_client"}, status=401)
        return view(request, *args, **kwargs)

    return wrapper


@control_endpoint
def faults(request):
    """``{"fail_next": N, "fail_status": 500, "delay_next": N, "delay_seconds": S, "path_contains": "/capture"}``;
    ``{}`` resets."""
    try:
        data = json.loads(request.body or b"{}")
        control.set_faults(
            fail_next=int(data.get("fail_next", 0)),
            fail_status=int(data.get("fail_status", 500)),
            delay_next=int(data.get("delay_next", 0)),
            delay_seconds=float(data.get("delay_seconds", 0)),
            path_contains=str(data.get("path_contains", ""))[:100],
        )
    except (ValueError, TypeError, AttributeError):
        return JsonResponse({"error": "invalid"}, status=400)
    return JsonResponse({"ok": True})


@control_endpoint
def settle(request, order_id):
    order = control.settle_capture(order_id, request)
    return JsonResponse({"id": order.id, "capture_status": order.capture_status})


@control_endpoint
def reverse_approval(request, order_id):
    order = control.reverse_approval(order_id, request)
    return JsonResponse({"id": order.id, "status": order.status})


def _json(request):
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _outcome(change, *args, **kwargs):
    """Run one outcome: 404 for an unknown (or expired) order, 409 when it does not apply."""
    try:
        order = change(*args, **kwargs)
    except outcomes.NotApplicable as refused:
        return JsonResponse({"error": "not_applicable", "detail": str(refused)}, status=409)
    except SandboxOrder.DoesNotExist:
        order = None
    if order is None:
        return JsonResponse({"error": "not_found"}, status=404)
    return JsonResponse(
        {"id": order.id, "status": order.status, "capture_status": order.capture_status, "expired": order.expired}
    )


@control_endpoint
def refund(request, order_id):
    """``{}`` refunds what is left of the capture; ``{"amount": {"currency_code", "value"}}`` part of it."""
    data = _json(request)
    if data is None:
        return JsonResponse({"error": "invalid"}, status=400)
    amount = None
    order = SandboxOrder.objects.filter(pk=order_id, expired=False).first()
    if order is None:
        return JsonResponse({"error": "not_found"}, status=404)
    if data.get("amount") is not None:
        amount, currency, problem = parse_amount(data["amount"], "/amount")
        if problem:
            return problem
        if currency != order.currency:
            return JsonResponse({"error": "not_applicable", "detail": "REFUND_CAPTURE_CURRENCY_MISMATCH"}, status=409)
    made, issue = outcomes.refund(request, order_id, amount=amount)
    if issue:
        return JsonResponse({"error": "not_applicable", "detail": issue}, status=409)
    order.refresh_from_db()
    return JsonResponse({"id": order.id, "refund_id": made.id, "capture_status": order.capture_status})


@control_endpoint
def reverse(request, order_id):
    return _outcome(lambda: outcomes.reverse(request, order_id) and SandboxOrder.objects.get(pk=order_id))


@control_endpoint
def decline_pending(request, order_id):
    """``{"event": "PAYMENT.CAPTURE.DENIED"}`` to send DENIED instead of DECLINED."""
    data = _json(request) or {}
    return _outcome(outcomes.end_pending, request, order_id, str(data.get("event") or "PAYMENT.CAPTURE.DECLINED"))


@control_endpoint
def void(request, order_id):
    return _outcome(outcomes.void, request, order_id)


@control_endpoint
def complete(request, order_id):
    return _outcome(outcomes.complete, request, order_id)


@control_endpoint
def expire(request, order_id):
    return _outcome(outcomes.expire, request, order_id)
