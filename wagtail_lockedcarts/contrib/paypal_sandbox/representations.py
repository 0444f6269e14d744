"""PayPal's JSON shapes for orders, captures, refunds, errors and webhook events.

Ids, patterns, error names, messages and issue descriptions follow PayPal's published OpenAPI
documents (Orders v2, Payments v2, Webhooks v1); ``tests/test_paypal_contract.py`` validates
them against those documents.
"""

import secrets
import string
from datetime import UTC
from decimal import Decimal

from django.http import JsonResponse
from django.urls import reverse

from wagtail_lockedcarts.money import PAYPAL_CURRENCIES

from .models import OrderStatus

ALPHABET = string.ascii_uppercase + string.digits
# PayPal account ids (payer_id, merchant_id, account_id): ``^[2-9A-HJ-NP-Z]{13}$``.
ACCOUNT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MERCHANT_ID = "7SANDBXM3RCHN"  # 13 characters of ACCOUNT_ALPHABET
MERCHANT_EMAIL = "merchant@example.com"

# The spec's fixed ``message`` per error ``name``.
ERROR_MESSAGES = {
    "INVALID_REQUEST": "Request is not well-formed, syntactically incorrect, or violates schema.",
    "AUTHENTICATION_FAILURE": (
        "Authentication failed due to missing authorization header, or invalid authentication credentials."
    ),
    "NOT_AUTHORIZED": "Authorization failed due to insufficient permissions.",
    "RESOURCE_NOT_FOUND": "The specified resource does not exist.",
    "UNPROCESSABLE_ENTITY": (
        "The requested action could not be performed, semantically incorrect, or failed business validation."
    ),
    "INTERNAL_SERVER_ERROR": "An internal server error occurred.",
    "SERVICE_UNAVAILABLE": "Service Unavailable.",
}
# The spec's fixed ``description`` per issue (Orders v2 and Payments v2 error schemas).
ISSUE_DESCRIPTIONS = {
    "MALFORMED_REQUEST_JSON": "The request JSON is not well formed.",
    "INVALID_PARAMETER_VALUE": "A parameter value is not valid.",
    "INVALID_PARAMETER_SYNTAX": "The value of a field does not conform to the expected format.",
    "MISSING_REQUIRED_PARAMETER": "A required parameter is missing.",
    "NOT_SUPPORTED": "This field is not currently supported.",
    "MAX_VALUE_EXCEEDED": "Should be less than or equal to 999999999999999.99.",
    "INVALID_RESOURCE_ID": "Specified resource ID does not exist. Please check the resource ID and try again.",
    "CANNOT_BE_ZERO_OR_NEGATIVE": (
        "Must be greater than zero. If the currency supports decimals, only two decimal place precision is supported."
    ),
    "DECIMAL_PRECISION": "If the currency supports decimals, only two decimal place precision is supported.",
    "DECIMALS_NOT_SUPPORTED": (
        "Currency does not support decimals. Please refer to "
        "https://developer.paypal.com/docs/api/reference/currency-codes/ for more information."
    ),
    "INVALID_CURRENCY_CODE": (
        "Currency code is invalid or is not currently supported. Please refer "
        "https://developer.paypal.com/api/rest/reference/currency-codes/ for list of supported currency codes."
    ),
    "DUPLICATE_INVOICE_ID": (
        "Duplicate Invoice ID detected. To avoid a potential duplicate transaction your account setting requires "
        "that Invoice Id be unique for each transaction."
    ),
    "ORDER_ALREADY_CAPTURED": "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.",
    "ORDER_NOT_APPROVED": (
        "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url "
        "returned as part of the HATEOAS links within the Create Order call or provide a valid `payment_source` "
        "in the request."
    ),
    "INSTRUMENT_DECLINED": (
        "The instrument presented  was either declined by the processor or bank, or it can't be used for this payment."
    ),
    "PAYER_ACTION_REQUIRED": "Transaction cannot complete successfully, instruct the buyer to return to PayPal.",
    "TRANSACTION_REFUSED": "The request was refused.",
    "PAYER_CANNOT_PAY": (
        "Payer cannot pay for this transaction. Please contact the payer to find other ways to pay for this "
        "transaction."
    ),
    "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED": "You have exceeded the maximum number of payment attempts.",
    "CAPTURE_FULLY_REFUNDED": "The capture has already been fully refunded",
    "REFUND_AMOUNT_EXCEEDED": (
        "The refund amount must be less than or equal to the capture amount that has not yet been refunded."
    ),
    "REFUND_CAPTURE_CURRENCY_MISMATCH": "Refund must be in the same currency as the capture",
    "REFUND_NOT_ALLOWED": "Capture cannot be refunded.",
    "PENDING_CAPTURE": (
        "Cannot initiate a refund as the capture is pending. Capture is typically pending when the payer has "
        "funded the transaction using e-check/bank funded."
    ),
}


def new_id(length=17):
    """Order, capture and refund ids: 17 upper-case letters and digits, like ``5O190127TN364715T``."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_account_id():
    return "".join(secrets.choice(ACCOUNT_ALPHABET) for _ in range(13))


def iso(value):
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def paypal_value(value, currency):
    """``"1500"`` for JPY, ``"12.50"`` for EUR: PayPal's own number of decimals."""
    places = PAYPAL_CURRENCIES.get(currency, 2)
    return f"{Decimal(value).quantize(Decimal(1).scaleb(-places)):f}"


def money(value, currency):
    return {"currency_code": currency, "value": paypal_value(value, currency)}


def error(status, name, issue="", description="", field=None, value=None):
    """PayPal's error envelope: ``name``, ``message``, ``details[]``, ``debug_id``, ``links``.

    The 5xx shapes carry no ``details`` (the spec's ``error_500``/``error_503``).
    """
    body = {"name": name, "message": ERROR_MESSAGES.get(name, name), "debug_id": secrets.token_hex(7)[:13]}
    if issue:
        detail = {"issue": issue, "description": description or ISSUE_DESCRIPTIONS.get(issue, issue)}
        if field is not None:
            detail.update(field=field, location="body")
            if value is not None:
                detail["value"] = str(value)
        body["details"] = [detail]
    body["links"] = [
        {
            "href": f"https://developer.paypal.com/api/rest/reference/orders/v2/errors/#{(issue or name).lower()}",
            "rel": "information_link",
            "method": "GET",
        }
    ]
    return JsonResponse(body, status=status)


def server_error(status):
    if status == 503:
        return error(503, "SERVICE_UNAVAILABLE")
    return error(status, "INTERNAL_SERVER_ERROR")


def link(request, name, args, rel, method="GET"):
    return {
        "href": request.build_absolute_uri(reverse(f"paypal_sandbox:{name}", args=args)),
        "rel": rel,
        "method": method,
    }


def order_url(request, order, suffix=""):
    return request.build_absolute_uri(reverse("paypal_sandbox:order", args=[order.id])) + suffix


def approval_link(request, order):
    return request.build_absolute_uri(reverse("paypal_sandbox:approve")) + f"?token={order.id}"


def capture_status_details(order):
    if order.capture_reason:
        return {"reason": order.capture_reason}
    return None


def capture_json(request, order, with_order_link=True, related_ids=False):
    capture = {
        "id": order.capture_id,
        "status": order.capture_status,
        "amount": money(order.captured_amount, order.currency),
        "final_capture": True,
        "seller_protection": {
            "status": "ELIGIBLE",
            "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
        },
        "create_time": iso(order.captured_at),
        "update_time": iso(order.updated_at),
        "links": [link(request, "capture_detail", [order.capture_id], "self")],
    }
    for field in ("invoice_id", "custom_id"):
        if getattr(order, field):
            capture[field] = getattr(order, field)
    details = capture_status_details(order)
    if details:
        capture["status_details"] = details
    if order.capture_status in ("COMPLETED", "PARTIALLY_REFUNDED"):
        capture["links"].append(link(request, "capture_refund", [order.capture_id], "refund", "POST"))
    if with_order_link:
        capture["links"].append({"href": order_url(request, order), "rel": "up", "method": "GET"})
    if related_ids:
        capture["supplementary_data"] = {"related_ids": {"order_id": order.id}}
        capture["payee"] = {"email_address": MERCHANT_EMAIL, "merchant_id": MERCHANT_ID}
    return capture


def refund_json(request, refund):
    order = refund.order
    data = {
        "id": refund.id,
        "status": "COMPLETED",
        "amount": money(refund.amount, order.currency),
        "seller_payable_breakdown": {
            "gross_amount": money(refund.amount, order.currency),
            "net_amount": money(refund.amount, order.currency),
            "total_refunded_amount": money(order.refunded_amount, order.currency),
        },
        "payer": {"email_address": MERCHANT_EMAIL, "merchant_id": MERCHANT_ID},
        "create_time": iso(refund.created_at),
        "update_time": iso(refund.created_at),
        "links": [
            link(request, "refund_detail", [refund.id], "self"),
            link(request, "capture_detail", [order.capture_id], "up"),
        ],
    }
    if refund.invoice_id:
        data["invoice_id"] = refund.invoice_id
    if refund.note_to_payer:
        data["note_to_payer"] = refund.note_to_payer
    return data


def payment_source(order):
    if order.payment_kind == "card":
        # Real PayPal also sends expiry, type and BIN details: the merchant must drop them.
        return {
            "card": {
                "name": "Sandbox Buyer",
                "last_digits": order.card_last4,
                "brand": order.card_brand,
                "type": "CREDIT",
                "expiry": "2031-12",
                "bin_details": {"bin": "411111", "issuing_bank": "SANDBOX BANK", "bin_country_code": "DE"},
            }
        }
    if order.payment_kind == "paypal":
        return {
            "paypal": {
                "email_address": order.payer_email,
                "account_id": order.payer_id,
                "account_status": "VERIFIED",
                "name": {"given_name": "Sandbox", "surname": "Buyer"},
                "address": {"country_code": "DE"},
            }
        }
    return {}


def order_json(request, order):
    unit = {
        "reference_id": order.reference_id or "default",
        "amount": money(order.amount, order.currency),
        "payee": {"email_address": MERCHANT_EMAIL, "merchant_id": MERCHANT_ID},
    }
    for field in ("custom_id", "invoice_id", "description"):
        if getattr(order, field):
            unit[field] = getattr(order, field)
    if order.capture_id:
        unit["payments"] = {"captures": [capture_json(request, order, with_order_link=False)]}
        refunds = list(order.refunds.all())
        if refunds:
            unit["payments"]["refunds"] = [refund_json(request, refund) for refund in refunds]
    data = {
        "id": order.id,
        "intent": order.intent,
        "status": order.status,
        "purchase_units": [unit],
        "create_time": iso(order.created_at),
        "update_time": iso(order.updated_at),
        "links": [{"href": order_url(request, order), "rel": "self", "method": "GET"}],
    }
    source = payment_source(order)
    if source:
        data["payment_source"] = source
    if order.payer_id:
        data["payer"] = {
            "name": {"given_name": "Sandbox", "surname": "Buyer"},
            "email_address": order.payer_email,
            "payer_id": order.payer_id,
        }
    if order.status in (OrderStatus.CREATED, OrderStatus.PAYER_ACTION_REQUIRED):
        rel = "approve" if order.legacy_context else "payer-action"
        data["links"].append({"href": approval_link(request, order), "rel": rel, "method": "GET"})
    if order.status == OrderStatus.APPROVED:
        data["links"].append({"href": order_url(request, order, "/capture"), "rel": "capture", "method": "POST"})
    return data


def event_json(request, event_id, event_type, resource_type, resource, summary, create_time):
    """A webhook event as PayPal sends it (Webhooks v1 ``event``); ``self`` resolves in the sandbox."""
    return {
        "id": event_id,
        "event_version": "1.0",
        "create_time": create_time,
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": summary or event_type,
        "resource": resource,
        "links": [
            link(request, "webhook_event", [event_id], "self"),
            link(request, "webhook_event_resend", [event_id], "resend", "POST"),
        ],
    }


def new_event_id():
    """``WH-`` and two 17-character groups, like ``WH-58D329510W468432D-8HN650336L201105X``."""
    return f"WH-{new_id(17)}-{new_id(17)}"
