"""The Orders v2 subset: OAuth token, create / get / capture order, verify-webhook-signature."""

import base64
import binascii
import json
import re
import secrets
import time
from datetime import timedelta
from decimal import Decimal
from functools import wraps
from urllib.parse import urlparse

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from wagtail_lockedcarts.money import PAYPAL_CURRENCIES

from . import conf, control, outcomes, signing
from .models import Disposition, OrderStatus, SandboxOrder, SandboxRefund, SandboxToken, SandboxWebhook
from .representations import capture_json, error, new_id, order_json, refund_json, server_error
from .webhooks import requeue

# The Money ``value`` pattern of PayPal's specs.
VALUE_PATTERN = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")
# What the sandbox's tables hold (12 digits, 2 decimals).
MAX_VALUE = Decimal("9999999999.99")
CAPTURED_STATUSES = ("COMPLETED", "PENDING", "PARTIALLY_REFUNDED", "REFUNDED")


def basic_credentials_ok(request):
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    if not conf.get("CLIENT_ID") or not conf.get("CLIENT_SECRET"):
        return False
    return secrets.compare_digest(client_id, conf.get("CLIENT_ID")) and secrets.compare_digest(
        secret, conf.get("CLIENT_SECRET")
    )


def _invalid_token():
    return JsonResponse(
        {"error": "invalid_token", "error_description": "Token signature verification failed"}, status=401
    )


def api_endpoint(authenticated=True):
    """CSRF-exempt JSON endpoint with fault injection and (optionally) bearer-token auth."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            with control.in_flight():
                fault = control.take_fault(request.path)
                if fault and fault[0] == "delay":
                    time.sleep(fault[1])
                elif fault:
                    return server_error(fault[1])
                if authenticated:
                    header = request.headers.get("Authorization", "")
                    token = header[7:] if header.startswith("Bearer ") else ""
                    if (
                        not token
                        or not SandboxToken.objects.filter(token=token, expires_at__gt=timezone.now()).exists()
                    ):
                        return _invalid_token()
                return view(request, *args, **kwargs)

        return wrapper

    return decorator


class _Malformed(Exception):
    pass


def _json_body(request, required=False):
    """The request's JSON object; ``{}`` for an empty body unless ``required``."""
    if not request.body:
        if required:
            raise _Malformed()
        return {}
    try:
        data = json.loads(request.body)
    except ValueError:
        raise _Malformed() from None
    if not isinstance(data, dict):
        raise _Malformed()
    return data


def _malformed():
    return error(400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON")


def _bad_request(issue, field=None, value=None, description=""):
    return error(400, "INVALID_REQUEST", issue, description, field=field, value=value)


def _unprocessable(issue, field=None, value=None, description=""):
    return error(422, "UNPROCESSABLE_ENTITY", issue, description, field=field, value=value)


def _not_found():
    return error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")


def _method_not_supported():
    return error(
        405, "METHOD_NOT_SUPPORTED", "METHOD_NOT_SUPPORTED", "The server does not implement the requested HTTP method."
    )


def parse_amount(amount, field):
    """``(value, currency, None)`` for a valid PayPal money object, or ``(None, None, error response)``.

    PayPal's rules: the value matches the spec's pattern; the currency is one PayPal supports; the
    amount is positive; zero-decimal currencies (JPY, HUF, TWD) take no decimal point at all
    (``"42.00"`` is refused with ``DECIMALS_NOT_SUPPORTED``); others take at most two decimals.
    """
    if not isinstance(amount, dict) or not amount.get("currency_code") or amount.get("value") in (None, ""):
        return None, None, _bad_request("MISSING_REQUIRED_PARAMETER", field=field)
    raw, currency = amount["value"], amount["currency_code"]
    if not isinstance(raw, str) or len(raw) > 32 or not VALUE_PATTERN.match(raw):
        return None, None, _bad_request("INVALID_PARAMETER_SYNTAX", field=f"{field}/value", value=raw)
    if not isinstance(currency, str) or currency not in PAYPAL_CURRENCIES:
        return None, None, _unprocessable("INVALID_CURRENCY_CODE", field=f"{field}/currency_code", value=currency)
    value = Decimal(raw)
    if value <= 0:
        return None, None, _unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE", field=f"{field}/value", value=raw)
    if PAYPAL_CURRENCIES[currency] == 0 and "." in raw:
        return None, None, _unprocessable("DECIMALS_NOT_SUPPORTED", field=f"{field}/value", value=raw)
    if "." in raw and len(raw.split(".", 1)[1]) > PAYPAL_CURRENCIES[currency]:
        return None, None, _unprocessable("DECIMAL_PRECISION", field=f"{field}/value", value=raw)
    if value > MAX_VALUE:
        return None, None, _unprocessable("MAX_VALUE_EXCEEDED", field=f"{field}/value", value=raw)
    return value, currency, None


@require_POST
@api_endpoint(authenticated=False)
def token(request):
    if not basic_credentials_ok(request):
        return JsonResponse(
            {"error": "invalid_client", "error_description": "Client Authentication failed"}, status=401
        )
    if request.POST.get("grant_type") != "client_credentials":
        return JsonResponse({"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}, status=400)
    lifetime = int(conf.get("TOKEN_LIFETIME"))
    value = f"A21AA{secrets.token_urlsafe(40)}"[:64]
    SandboxToken.objects.create(
        token=value, client_id=conf.get("CLIENT_ID"), expires_at=timezone.now() + timedelta(seconds=lifetime)
    )
    return JsonResponse(
        {
            "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/notifications",
            "access_token": value,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": lifetime,
            "nonce": f"{timezone.now():%Y-%m-%dT%H:%M:%SZ}{secrets.token_hex(8)}",
        }
    )


def _representation(request, data, minimal_keys=("id", "status", "links")):
    """``Prefer: return=representation`` gets everything; the default (minimal) id, status and links."""
    if "return=representation" in request.headers.get("Prefer", ""):
        return data
    return {key: data[key] for key in minimal_keys if key in data}


def _live_orders():
    return SandboxOrder.objects.filter(expired=False)


@api_endpoint()
def orders(request):
    if request.method != "POST":
        return _method_not_supported()
    try:
        data = _json_body(request, required=True)
    except _Malformed:
        return _malformed()
    request_id = request.headers.get("PayPal-Request-Id") or None
    if request_id:
        existing = SandboxOrder.objects.filter(request_id=request_id).first()
        if existing:
            return JsonResponse(_representation(request, order_json(request, existing)), status=200)
    if data.get("intent") not in ("CAPTURE", "AUTHORIZE"):
        return _bad_request("MISSING_REQUIRED_PARAMETER", field="/intent")
    if data["intent"] != "CAPTURE":
        return _bad_request("NOT_SUPPORTED", field="/intent", value=data["intent"])
    units = data.get("purchase_units")
    if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
        return _bad_request("MISSING_REQUIRED_PARAMETER", field="/purchase_units")
    unit = units[0]
    field = f"/purchase_units/@reference_id=='{unit.get('reference_id') or 'default'}'/amount"
    value, currency, problem = parse_amount(unit.get("amount"), field)
    if problem:
        return problem
    experience = ((data.get("payment_source") or {}).get("paypal") or {}).get("experience_context")
    legacy = experience is None
    context = (data.get("application_context") or {}) if legacy else experience
    order = SandboxOrder(
        id=new_id(),
        request_id=request_id,
        status=OrderStatus.CREATED if legacy else OrderStatus.PAYER_ACTION_REQUIRED,
        amount=value,
        currency=currency,
        reference_id=str(unit.get("reference_id") or "")[:256],
        custom_id=str(unit.get("custom_id") or "")[:127],
        invoice_id=str(unit.get("invoice_id") or "")[:127],
        description=str(unit.get("description") or "")[:127],
        brand_name=str(context.get("brand_name") or "")[:127],
        return_url=str(context.get("return_url") or ""),
        cancel_url=str(context.get("cancel_url") or ""),
        legacy_context=legacy,
    )
    if (
        order.invoice_id
        and SandboxOrder.objects.filter(invoice_id=order.invoice_id, capture_status__in=CAPTURED_STATUSES).exists()
    ):
        return _unprocessable("DUPLICATE_INVOICE_ID")
    try:
        with transaction.atomic():
            order.save(force_insert=True)
    except IntegrityError:
        existing = SandboxOrder.objects.filter(request_id=request_id).first()
        if existing is None:
            raise
        return JsonResponse(_representation(request, order_json(request, existing)), status=200)
    return JsonResponse(
        _representation(request, order_json(request, order)),
        status=200 if order.status == OrderStatus.PAYER_ACTION_REQUIRED else 201,
    )


@require_GET
@api_endpoint()
def order_detail(request, order_id):
    order = _live_orders().filter(pk=order_id).first()
    if order is None:
        return _not_found()
    return JsonResponse(order_json(request, order))


@require_POST
@api_endpoint()
def capture(request, order_id):
    try:
        _json_body(request)
    except _Malformed:
        return _malformed()
    request_id = request.headers.get("PayPal-Request-Id", "")
    with transaction.atomic():
        order = _live_orders().select_for_update().filter(pk=order_id).first()
        if order is None:
            return _not_found()
        if order.capture_id:
            if request_id and request_id == order.capture_request_id:
                return JsonResponse(_representation(request, order_json(request, order)), status=200)
            return _unprocessable("ORDER_ALREADY_CAPTURED")
        if order.status != OrderStatus.APPROVED:
            return _unprocessable("ORDER_NOT_APPROVED")
        if order.disposition == Disposition.DECLINE_INSTRUMENT:
            return _unprocessable(order.refusal or "INSTRUMENT_DECLINED")
        outcomes.capture_now(request, order, request_id)
    return JsonResponse(_representation(request, order_json(request, order)), status=201)


def _capture_order(capture_id):
    return _live_orders().filter(capture_id=capture_id).exclude(capture_id="").first()


@require_GET
@api_endpoint()
def capture_detail(request, capture_id):
    order = _capture_order(capture_id)
    if order is None:
        return _not_found()
    return JsonResponse(capture_json(request, order, related_ids=True))


@require_POST
@api_endpoint()
def capture_refund(request, capture_id):
    """Payments v2 *Refund captured payment*: the whole remainder, or ``amount`` of it."""
    try:
        data = _json_body(request)
    except _Malformed:
        return _malformed()
    order = _capture_order(capture_id)
    if order is None:
        return _not_found()
    request_id = request.headers.get("PayPal-Request-Id") or None
    if request_id:
        existing = SandboxRefund.objects.filter(request_id=request_id, order=order).first()
        if existing:
            return JsonResponse(refund_json(request, existing), status=201)
    amount = None
    if data.get("amount") is not None:
        amount, currency, problem = parse_amount(data["amount"], "/amount")
        if problem:
            return problem
        if currency != order.currency:
            return _unprocessable("REFUND_CAPTURE_CURRENCY_MISMATCH", field="/amount/currency_code", value=currency)
    refund, issue = outcomes.refund(
        request,
        order.pk,
        amount=amount,
        request_id=request_id,
        invoice_id=str(data.get("invoice_id") or "")[:127],
        note_to_payer=str(data.get("note_to_payer") or "")[:255],
    )
    if issue:
        return _unprocessable(issue)
    return JsonResponse(refund_json(request, refund), status=201)


@require_GET
@api_endpoint()
def refund_detail(request, refund_id):
    refund = SandboxRefund.objects.select_related("order").filter(pk=refund_id, order__expired=False).first()
    if refund is None:
        return _not_found()
    return JsonResponse(refund_json(request, refund))


@require_GET
@api_endpoint()
def webhook_event(request, event_id):
    webhook = SandboxWebhook.objects.filter(event_id=event_id).first()
    if webhook is None:
        return _not_found()
    return JsonResponse(json.loads(webhook.body))


@require_POST
@api_endpoint()
def webhook_event_resend(request, event_id):
    webhook = SandboxWebhook.objects.filter(event_id=event_id).first()
    if webhook is None:
        return _not_found()
    requeue(webhook)
    return JsonResponse(json.loads(webhook.body), status=202)


@require_POST
@api_endpoint()
def verify_webhook_signature(request):
    try:
        data = _json_body(request, required=True)
    except _Malformed:
        return _malformed()
    required = (
        "auth_algo",
        "cert_url",
        "transmission_id",
        "transmission_sig",
        "transmission_time",
        "webhook_id",
        "webhook_event",
    )
    if not all(data.get(name) for name in required) or not isinstance(data["webhook_event"], dict):
        return _bad_request("MISSING_REQUIRED_PARAMETER")
    cert = urlparse(str(data["cert_url"]))
    genuine = (
        data["auth_algo"] == signing.AUTH_ALGO
        and cert.path == reverse("paypal_sandbox:cert", args=[signing.identity().cert_name])
        and data["webhook_id"] == conf.get("WEBHOOK_ID")
        and signing.verify(
            data["transmission_id"],
            data["transmission_time"],
            data["webhook_id"],
            signing.canonical_body(data["webhook_event"]),
            data["transmission_sig"],
        )
    )
    return JsonResponse({"verification_status": "SUCCESS" if genuine else "FAILURE"})
