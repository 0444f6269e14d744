"""The Orders v2 subset: OAuth token, create / get / capture order, verify-webhook-signature."""

import base64
import binascii
import json
import secrets
import time
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import wraps
from urllib.parse import urlparse

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import conf, control, signing
from .models import Disposition, OrderStatus, SandboxOrder, SandboxToken
from .representations import error, new_id, order_json
from .webhooks import queue_capture_event


def basic_credentials_ok(request):
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
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
                    return error(
                        fault[1], "INTERNAL_SERVER_ERROR", "INTERNAL_SERVER_ERROR", "An internal server error occurred."
                    )
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


def _json_body(request):
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _bad_request(issue, description):
    return error(
        400,
        "INVALID_REQUEST",
        issue,
        description,
        "Request is not well-formed, syntactically incorrect, or violates schema.",
    )


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


@api_endpoint()
def orders(request):
    if request.method != "POST":
        return error(
            405,
            "METHOD_NOT_SUPPORTED",
            "METHOD_NOT_SUPPORTED",
            "The server does not implement the requested HTTP method.",
        )
    data = _json_body(request)
    if data is None:
        return error(400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
    request_id = request.headers.get("PayPal-Request-Id") or None
    if request_id:
        existing = SandboxOrder.objects.filter(request_id=request_id).first()
        if existing:
            return JsonResponse(order_json(request, existing), status=200)
    if data.get("intent") != "CAPTURE":
        return _bad_request("INVALID_PARAMETER_VALUE", "The sandbox supports intent CAPTURE only.")
    units = data.get("purchase_units")
    if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
        return _bad_request("MISSING_REQUIRED_PARAMETER", "Exactly one purchase unit is required.")
    unit = units[0]
    amount = unit.get("amount") or {}
    try:
        value = Decimal(str(amount.get("value")))
    except InvalidOperation:
        return _bad_request("INVALID_PARAMETER_VALUE", "purchase_units[0].amount.value is invalid.")
    currency = str(amount.get("currency_code") or "")
    if value <= 0 or value != value.quantize(Decimal("0.01")) or len(currency) != 3:
        return _bad_request("INVALID_PARAMETER_VALUE", "purchase_units[0].amount is invalid.")
    experience = ((data.get("payment_source") or {}).get("paypal") or {}).get("experience_context")
    legacy = experience is None
    context = (data.get("application_context") or {}) if legacy else experience
    order = SandboxOrder(
        id=new_id(),
        request_id=request_id,
        status=OrderStatus.CREATED if legacy else OrderStatus.PAYER_ACTION_REQUIRED,
        amount=value,
        currency=currency.upper(),
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
        and SandboxOrder.objects.filter(invoice_id=order.invoice_id, capture_status="COMPLETED").exists()
    ):
        return error(422, "UNPROCESSABLE_ENTITY", "DUPLICATE_INVOICE_ID", "Invoice ID was previously used.")
    try:
        with transaction.atomic():
            order.save(force_insert=True)
    except IntegrityError:
        existing = SandboxOrder.objects.filter(request_id=request_id).first()
        if existing is None:
            raise
        return JsonResponse(order_json(request, existing), status=200)
    return JsonResponse(
        order_json(request, order), status=200 if order.status == OrderStatus.PAYER_ACTION_REQUIRED else 201
    )


def _not_found():
    return error(
        404,
        "RESOURCE_NOT_FOUND",
        "INVALID_RESOURCE_ID",
        "Specified resource ID does not exist. Please check the resource ID and try again.",
        "The specified resource does not exist.",
    )


@require_GET
@api_endpoint()
def order_detail(request, order_id):
    order = SandboxOrder.objects.filter(pk=order_id).first()
    if order is None:
        return _not_found()
    return JsonResponse(order_json(request, order))


def _unprocessable(issue, description):
    return error(
        422,
        "UNPROCESSABLE_ENTITY",
        issue,
        description,
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
    )


@require_POST
@api_endpoint()
def capture(request, order_id):
    request_id = request.headers.get("PayPal-Request-Id", "")
    with transaction.atomic():
        order = SandboxOrder.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            return _not_found()
        if order.capture_id:
            if request_id and request_id == order.capture_request_id:
                return JsonResponse(order_json(request, order), status=201)
            return _unprocessable(
                "ORDER_ALREADY_CAPTURED",
                "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.",
            )
        if order.status != OrderStatus.APPROVED:
            return _unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.")
        if order.disposition == Disposition.DECLINE_INSTRUMENT:
            return _unprocessable(
                "INSTRUMENT_DECLINED",
                "The instrument presented was either declined by the processor or bank, or it can't be used for this payment.",
            )
        status, reason = {
            Disposition.COMPLETE: ("COMPLETED", ""),
            Disposition.PENDING: ("PENDING", "ECHECK"),
            Disposition.DECLINE_CAPTURE: ("DECLINED", ""),
        }[order.disposition]
        order.capture_id = new_id()
        order.capture_request_id = request_id
        order.capture_status, order.capture_reason = status, reason
        order.captured_amount = (
            order.capture_amount_override if order.capture_amount_override is not None else order.amount
        )
        order.captured_at = timezone.now()
        order.status = OrderStatus.COMPLETED
        order.save()
        queue_capture_event(request, order)
    return JsonResponse(order_json(request, order), status=201)


@require_POST
@api_endpoint()
def verify_webhook_signature(request):
    data = _json_body(request)
    required = (
        "auth_algo",
        "cert_url",
        "transmission_id",
        "transmission_sig",
        "transmission_time",
        "webhook_id",
        "webhook_event",
    )
    if data is None or not all(data.get(name) for name in required) or not isinstance(data["webhook_event"], dict):
        return _bad_request("MISSING_REQUIRED_PARAMETER", "A required field is missing.")
    cert = urlparse(str(data["cert_url"]))
    genuine = (
        data["auth_algo"] == signing.AUTH_ALGO
        and cert.path.startswith(reverse("paypal_sandbox:cert", args=["X"])[:-1])
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
