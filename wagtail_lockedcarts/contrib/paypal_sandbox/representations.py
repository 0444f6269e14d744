"""PayPal's JSON shapes for orders, captures, errors and webhook events."""

import secrets
import string
from datetime import UTC

from django.http import JsonResponse
from django.urls import reverse

from .models import OrderStatus

ALPHABET = string.ascii_uppercase + string.digits


def new_id(length=17):
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def iso(value):
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def money(value, currency):
    return {"currency_code": currency, "value": f"{value:.2f}"}


def error(status, name, issue, description, message=""):
    """PayPal's error envelope: ``name``, ``message``, ``details[].issue``, ``debug_id``, ``links``."""
    return JsonResponse(
        {
            "name": name,
            "message": message or description,
            "debug_id": new_id(13).lower(),
            "details": [{"issue": issue, "description": description}],
            "links": [
                {
                    "href": f"https://developer.paypal.com/api/rest/reference/orders/v2/errors/#{issue.lower()}",
                    "rel": "information_link",
                    "method": "GET",
                }
            ],
        },
        status=status,
    )


def order_url(request, order, suffix=""):
    return request.build_absolute_uri(reverse("paypal_sandbox:order", args=[order.id])) + suffix


def approval_link(request, order):
    return request.build_absolute_uri(reverse("paypal_sandbox:approve")) + f"?token={order.id}"


def capture_json(request, order, with_order_link=True):
    capture = {
        "id": order.capture_id,
        "status": order.capture_status,
        "amount": money(order.captured_amount, order.currency),
        "final_capture": True,
        "invoice_id": order.invoice_id,
        "custom_id": order.custom_id,
        "seller_protection": {
            "status": "ELIGIBLE",
            "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
        },
        "create_time": iso(order.captured_at),
        "update_time": iso(order.updated_at),
        "links": [
            {
                "href": request.build_absolute_uri(f"/v2/payments/captures/{order.capture_id}"),
                "rel": "self",
                "method": "GET",
            },
        ],
    }
    if order.capture_reason:
        capture["status_details"] = {"reason": order.capture_reason}
    if with_order_link:
        capture["links"].append({"href": order_url(request, order), "rel": "up", "method": "GET"})
    return capture


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
        "payee": {"email_address": "merchant@example.com", "merchant_id": "SANDBOXMERCHANT"},
    }
    for field in ("custom_id", "invoice_id", "description"):
        if getattr(order, field):
            unit[field] = getattr(order, field)
    if order.capture_id:
        unit["payments"] = {"captures": [capture_json(request, order, with_order_link=False)]}
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
