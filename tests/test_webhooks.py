"""The webhook listener: only genuine, new events cause a reconcile; everything else changes nothing."""

import json
import logging
import socket
from urllib.parse import urlparse

import pytest
from django.core.signals import request_started
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests.faults import fail_first_call
from wagtail_lockedcarts import conf
from wagtail_lockedcarts.models import Cart, CartStatus, Order, WebhookEvent
from wagtail_lockedcarts.paypal.client import PayPalClient
from wagtail_lockedcarts.paypal.webhooks import _process, order_id_for_event, paypal_webhook


@pytest.fixture
def approved(paypal_sandbox, shop, cart_settings):
    """A shopper who approved the payment and closed the window: only the webhook can help."""
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(shopper, "Pay and close the window (never return)")
    webhook = paypal_sandbox.webhooks(event_type="CHECKOUT.ORDER.APPROVED")[0]
    return shopper, webhook


def assert_nothing_changed(shopper):
    assert shopper.cart().status == CartStatus.AWAITING_PAYMENT
    assert not Order.objects.exists()
    assert not WebhookEvent.objects.exists()


def test_a_webhook_delivered_twenty_times_makes_one_order_and_one_event_row(paypal_sandbox, approved):
    shopper, webhook = approved

    statuses = [paypal_sandbox.post_webhook(*paypal_sandbox.signed(webhook)).status_code for _ in range(20)]

    assert statuses == [200] * 20
    assert Order.objects.count() == 1 and shopper.cart().status == CartStatus.ORDERED
    assert WebhookEvent.objects.filter(event_id=webhook.event_id).count() == 1
    assert WebhookEvent.objects.get().processed_at is not None


def test_a_forged_signature_is_rejected_without_detail(paypal_sandbox, approved):
    shopper, webhook = approved
    body, headers = paypal_sandbox.signed(webhook)
    headers["PAYPAL-TRANSMISSION-SIG"] = "Zm9yZ2Vk" + headers["PAYPAL-TRANSMISSION-SIG"][8:]

    response = paypal_sandbox.post_webhook(body, headers)

    assert response.status_code == 400 and response.text == ""
    assert_nothing_changed(shopper)


def test_a_tampered_body_is_rejected(paypal_sandbox, approved, shop):
    shopper, webhook = approved
    body, headers = paypal_sandbox.signed(webhook)
    event = json.loads(body)
    event["resource"]["purchase_units"][0]["amount"]["value"] = "0.01"

    response = paypal_sandbox.post_webhook(json.dumps(event, separators=(",", ":")).encode(), headers)

    assert response.status_code == 400
    assert_nothing_changed(shopper)


def test_a_signature_for_another_webhook_id_is_rejected(paypal_sandbox, approved):
    from wagtail_lockedcarts.contrib.paypal_sandbox.webhooks import signed_request

    shopper, webhook = approved
    body, headers = signed_request(webhook, webhook_id="WH-SOMEONE-ELSE")

    assert paypal_sandbox.post_webhook(body, headers).status_code == 400
    assert_nothing_changed(shopper)


@pytest.mark.parametrize(
    "header",
    [
        "PAYPAL-TRANSMISSION-SIG",
        "PAYPAL-TRANSMISSION-ID",
        "PAYPAL-CERT-URL",
        "PAYPAL-AUTH-ALGO",
        "PAYPAL-TRANSMISSION-TIME",
    ],
)
def test_missing_signature_headers_are_rejected(paypal_sandbox, approved, header):
    shopper, webhook = approved
    body, headers = paypal_sandbox.signed(webhook)
    del headers[header]

    assert paypal_sandbox.post_webhook(body, headers).status_code == 400
    assert_nothing_changed(shopper)


def test_an_oversized_body_is_refused_before_it_is_read(paypal_sandbox, approved):
    shopper, webhook = approved
    _body, headers = paypal_sandbox.signed(webhook)
    body = b"{" + b" " * conf.get("WEBHOOK_MAX_BYTES") + b"}"

    assert paypal_sandbox.post_webhook(body, {**headers, "Connection": "close"}).status_code == 413
    assert_nothing_changed(shopper)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_not_allowed(paypal_sandbox, approved, method):
    shopper, webhook = approved
    body, headers = paypal_sandbox.signed(webhook)

    assert paypal_sandbox.post_webhook(body, headers, method=method).status_code == 405
    assert_nothing_changed(shopper)


def test_an_event_about_an_order_no_cart_knows_is_acknowledged_and_ignored(paypal_sandbox, shop, cart_settings):
    order = PayPalClient().create_order(
        request_id="a0f4c1b2-0000-4000-8000-000000000001",
        amount="5.00",
        currency="EUR",
        reference="elsewhere",
        invoice_id="not-ours-1",
        return_url="https://example.com/return",
        cancel_url="https://example.com/cancel",
    )
    paypal_sandbox.approve(paypal_sandbox.api_base + f"/checkoutnow?token={order['id']}", "Pay")
    carts_before = list(Cart.objects.values_list("pk", "status", "version"))

    assert paypal_sandbox.deliver_webhooks() == [("CHECKOUT.ORDER.APPROVED", 200)]

    assert list(Cart.objects.values_list("pk", "status", "version")) == carts_before
    assert paypal_sandbox.order(order["id"]).capture_id == ""
    assert not Order.objects.exists()


def test_paypal_unreachable_while_processing_answers_503_and_the_retry_is_processed(paypal_sandbox, approved):
    shopper, webhook = approved
    body, headers = paypal_sandbox.signed(webhook)
    paypal_sandbox.set_faults(fail_next=1, path_contains="/v2/checkout/orders/")

    first = paypal_sandbox.post_webhook(body, headers)

    assert first.status_code == 503
    assert_nothing_changed(shopper)

    retry = paypal_sandbox.post_webhook(body, headers)

    assert retry.status_code == 200
    assert shopper.cart().status == CartStatus.ORDERED
    assert WebhookEvent.objects.filter(event_id=webhook.event_id).count() == 1


def test_signature_verification_unreachable_answers_503(paypal_sandbox, approved):
    shopper, webhook = approved
    paypal_sandbox.set_faults(fail_next=2, path_contains="/v1/notifications/")

    assert paypal_sandbox.post_webhook(*paypal_sandbox.signed(webhook)).status_code == 503
    assert_nothing_changed(shopper)


def test_a_reversed_approval_reopens_the_cart_without_taking_money(paypal_sandbox, approved):
    shopper, webhook = approved
    order_id = shopper.cart().paypal_order_id

    paypal_sandbox.reverse_approval(order_id)
    deliveries = paypal_sandbox.deliver_webhooks()

    assert deliveries == [("CHECKOUT.ORDER.APPROVED", 200), ("CHECKOUT.PAYMENT-APPROVAL.REVERSED", 200)]
    assert shopper.cart().status == CartStatus.OPEN
    assert paypal_sandbox.order(order_id).capture_id == ""


def test_the_webhook_url_needs_no_csrf_token_but_only_accepts_post(paypal_sandbox, approved):
    shopper, webhook = approved
    url = reverse("wagtail_lockedcarts:paypal_webhook")

    assert shopper.get(url).status_code == 405
    assert paypal_sandbox.deliver_webhooks()[0] == ("CHECKOUT.ORDER.APPROVED", 200)


def test_a_declared_oversized_body_is_answered_413_without_waiting_for_it(paypal_sandbox):
    """A sender that announces more than the limit gets 413 at once: the listener never starts
    reading (or waiting for) a body it would refuse anyway."""
    url = urlparse(paypal_sandbox.base_url)
    declared = conf.get("WEBHOOK_MAX_BYTES") + 1
    request = (
        f"POST {reverse('wagtail_lockedcarts:paypal_webhook')} HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n{{"
    ).encode()
    with socket.create_connection((url.hostname, url.port), timeout=20) as connection:
        connection.sendall(request)  # one byte of the body, and then nothing
        status_line = connection.makefile("rb").readline()
    assert status_line.split()[1] == b"413"
    assert not WebhookEvent.objects.exists()


def order_api_calls(paths):
    return [path for path in paths if "/paypal-sandbox/v2/checkout/orders/" in path]


def test_a_redelivered_event_is_not_processed_again(paypal_sandbox, approved):
    """PayPal re-delivers an event it thinks we missed; once processed, it costs no PayPal call."""
    shopper, webhook = approved
    seen = []

    def record(sender, environ, **kwargs):
        seen.append(environ.get("PATH_INFO", ""))

    request_started.connect(record)
    try:
        assert paypal_sandbox.post_webhook(*paypal_sandbox.signed(webhook)).status_code == 200
        assert order_api_calls(seen), "the first delivery asks PayPal about the order"
        assert shopper.cart().status == CartStatus.ORDERED
        seen.clear()

        # Each of PayPal's re-deliveries is a new transmission of the same event.
        statuses = [paypal_sandbox.post_webhook(*paypal_sandbox.signed(webhook)).status_code for _ in range(3)]
    finally:
        request_started.disconnect(record)

    assert statuses == [200] * 3
    assert order_api_calls(seen) == []
    assert WebhookEvent.objects.filter(event_id=webhook.event_id).count() == 1


def test_an_event_id_another_provider_already_processed_does_not_hide_a_paypal_event(paypal_sandbox, approved):
    """Event ids are unique per provider only: PayPal's event is new even if another provider used its id."""
    shopper, webhook = approved
    WebhookEvent.objects.create(provider="other", event_id=webhook.event_id, processed_at=timezone.now())

    response = paypal_sandbox.post_webhook(*paypal_sandbox.signed(webhook))

    assert (response.status_code, response.text) == (200, "")
    assert shopper.cart().status == CartStatus.ORDERED and Order.objects.count() == 1
    recorded = WebhookEvent.objects.filter(event_id=webhook.event_id).order_by("provider")
    assert [(event.provider, event.processed_at is not None) for event in recorded] == [
        ("other", True),
        ("paypal", True),
    ]


# ------------------------------------------------------------------------------------------
# Which order an event names (order_id_for_event, one function: plain dicts in)


def capture_event(event_type, order_id):
    return {"event_type": event_type, "resource": {"supplementary_data": {"related_ids": {"order_id": order_id}}}}


@pytest.mark.parametrize(
    ("event", "order_id"),
    [
        ({"event_type": "CHECKOUT.ORDER.APPROVED", "resource": {"id": "5O190127TN364715T"}}, "5O190127TN364715T"),
        ({"event_type": "CHECKOUT.ORDER.COMPLETED", "resource": {"id": "ORDER-2"}}, "ORDER-2"),
        ({"event_type": "CHECKOUT.ORDER.VOIDED", "resource": {"id": "ORDER-3"}}, "ORDER-3"),
        (capture_event("PAYMENT.CAPTURE.COMPLETED", "ORDER-4"), "ORDER-4"),
        (capture_event("PAYMENT.CAPTURE.REFUNDED", "ORDER-5"), "ORDER-5"),
        (
            {"event_type": "CHECKOUT.PAYMENT-APPROVAL.REVERSED", "resource": {"order_id": "ORDER-6", "id": "X"}},
            "ORDER-6",
        ),
        ({"event_type": "CHECKOUT.PAYMENT-APPROVAL.REVERSED", "resource": {"id": "ORDER-7"}}, "ORDER-7"),
    ],
)
def test_each_handled_event_names_its_paypal_order(event, order_id):
    assert order_id_for_event(event) == order_id


@pytest.mark.parametrize(
    "event",
    [
        {"event_type": "BILLING.SUBSCRIPTION.CREATED", "resource": {"id": "I-123"}},
        {"resource": {"id": "ORDER-1"}},
        {"event_type": None, "resource": {"id": "ORDER-1"}},
        {"event_type": "CHECKOUT.ORDER.APPROVED", "resource": "ORDER-1"},
        {"event_type": "CHECKOUT.ORDER.APPROVED", "resource": {"id": "../../v1/oauth2"}},
        {"event_type": "CHECKOUT.ORDER.APPROVED", "resource": {"id": 12345}},
        {"event_type": "CHECKOUT.ORDER.APPROVED", "resource": {"id": "A" * 65}},
        {"event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {"id": "CAPTURE-1"}},
        {"event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {"supplementary_data": {"related_ids": None}}},
        {"event_type": "CHECKOUT.PAYMENT-APPROVAL.REVERSED", "resource": {}},
    ],
)
def test_an_event_naming_no_order_we_handle_names_none(event):
    assert order_id_for_event(event) == ""


# ------------------------------------------------------------------------------------------
# A genuine delivery's body (_process, after the signature was checked)


def process(event):
    return _process(json.dumps(event).encode() if not isinstance(event, bytes) else event)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"id": ""}', b'{"id": 7}', b'{"event_type": "X"}'])
def test_a_body_that_is_not_an_event_with_an_id_is_refused_and_not_recorded(db, body):
    response = process(body)

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_an_event_without_a_type_is_recorded_with_an_empty_type(db, cart_settings):
    assert process({"id": "WH-NO-TYPE"}).status_code == 200

    assert WebhookEvent.objects.get().event_type == ""


def test_an_event_about_an_order_paypal_answers_with_an_error_is_left_for_paypals_retry(paypal_sandbox, make_cart):
    cart = make_cart(status=CartStatus.AWAITING_PAYMENT)  # its PayPal order id is unknown to the sandbox

    response = process(
        {"id": "WH-ERR", "event_type": "CHECKOUT.ORDER.APPROVED", "resource": {"id": cart.paypal_order_id}}
    )

    assert response.status_code == 503 and not WebhookEvent.objects.exists()
    cart.refresh_from_db()
    assert cart.status == CartStatus.AWAITING_PAYMENT


def test_an_event_is_recorded_with_its_type_order_and_time_once_processed(db, cart_settings):
    response = process({"id": "WH-1", "event_type": "CHECKOUT.ORDER.APPROVED", "resource": {"id": "ORDER-NOBODY"}})

    event = WebhookEvent.objects.get()
    assert (response.status_code, response.content) == (200, b"")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert (event.provider, event.event_id, event.event_type, event.resource_id) == (
        "paypal",
        "WH-1",
        "CHECKOUT.ORDER.APPROVED",
        "ORDER-NOBODY",
    )
    assert event.processed_at is not None


def test_an_event_of_a_type_we_do_not_handle_is_acknowledged_and_recorded(db):
    response = process({"id": "WH-2", "event_type": "BILLING.PLAN.CREATED", "resource": {"id": "P-1"}})

    assert response.status_code == 200
    assert WebhookEvent.objects.values_list("event_type", "resource_id").get() == ("BILLING.PLAN.CREATED", "")


def test_a_second_delivery_of_a_processed_event_is_answered_as_a_duplicate(db):
    event = {"id": "WH-3", "event_type": "BILLING.PLAN.CREATED"}
    process(event)

    response = process(event)

    assert (response.status_code, response.content) == (200, b"duplicate")
    assert WebhookEvent.objects.count() == 1


def test_overlong_event_ids_and_types_are_cut_to_what_the_table_holds(db):
    process({"id": "E" * 200, "event_type": "T" * 100})
    process({"id": "E" * 128 + "different tail", "event_type": "T"})

    event = WebhookEvent.objects.get()
    assert (event.event_id, event.event_type) == ("E" * 128, "T" * 64)


def test_a_content_length_that_is_not_a_number_is_refused(db, rf):
    request = rf.post(reverse("wagtail_lockedcarts:paypal_webhook"), b"{}", content_type="application/json")
    request.META["CONTENT_LENGTH"] = "twelve"

    assert paypal_webhook(request).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_an_empty_delivery_is_refused(db, rf):
    request = rf.post(reverse("wagtail_lockedcarts:paypal_webhook"), b"", content_type="application/json")

    assert paypal_webhook(request).status_code == 400


def test_other_methods_are_told_that_only_post_is_allowed(db, rf):
    response = paypal_webhook(rf.get(reverse("wagtail_lockedcarts:paypal_webhook")))

    assert (response.status_code, response["Allow"]) == (405, "POST")


def test_a_body_longer_than_declared_is_refused_by_its_real_size(db, rf, settings):
    """Under ASGI the body is read whatever Content-Length said (chunked uploads declare none)."""
    request = rf.post(reverse("wagtail_lockedcarts:paypal_webhook"), b"{}", content_type="application/json")
    request._body = b"{" + b" " * conf.get("WEBHOOK_MAX_BYTES") + b"}"

    assert paypal_webhook(request).status_code == 413
    assert not WebhookEvent.objects.exists()


def test_a_delivery_whose_processing_failed_is_answered_500_and_its_retry_is_applied(
    paypal_sandbox, approved, monkeypatch
):
    """PayPal retries the same transmission after a 500: it must not be refused as a replay."""
    from django.db import OperationalError

    from wagtail_lockedcarts import lifecycle

    shopper, webhook = approved
    body, headers = paypal_sandbox.signed(webhook)
    fail_first_call(monkeypatch, lifecycle, "apply_payment_result", OperationalError("database is locked"))

    assert paypal_sandbox.post_webhook(body, headers).status_code == 500
    assert not WebhookEvent.objects.exists() and shopper.cart().status == CartStatus.AWAITING_PAYMENT
    assert paypal_sandbox.post_webhook(body, headers).status_code == 200
    assert shopper.cart().status == CartStatus.ORDERED and Order.objects.count() == 1


def test_a_delivery_that_fails_while_being_recorded_can_be_retried(paypal_sandbox, approved, monkeypatch):
    """An error after PayPal was asked (recording the event) propagates as a 500; the retry of the
    same transmission is still accepted."""
    shopper, webhook = approved
    body, headers = paypal_sandbox.signed(webhook)
    fail_first_call(monkeypatch, WebhookEvent.objects, "get_or_create", RuntimeError("disk full"))

    assert paypal_sandbox.post_webhook(body, headers).status_code == 500
    assert paypal_sandbox.post_webhook(body, headers).status_code == 200
    assert WebhookEvent.objects.filter(event_id=webhook.event_id).count() == 1


def test_a_body_of_exactly_the_limit_is_not_refused_for_its_size(db, rf):
    limit = conf.get("WEBHOOK_MAX_BYTES")
    url = reverse("wagtail_lockedcarts:paypal_webhook")
    at_limit = rf.post(url, b"{" + b" " * (limit - 2) + b"}", content_type="application/json")
    over = rf.post(url, b"{" + b" " * (limit - 2) + b"}", content_type="application/json")
    over._body = over.body + b" "
    over.META["CONTENT_LENGTH"] = str(limit)

    assert paypal_webhook(at_limit).status_code == 400  # unsigned: refused by the signature gate
    assert paypal_webhook(over).status_code == 413


# ------------------------------------------------------------------------------------------
# survivors of the full mutation run of this module


def test_each_new_event_is_processed_and_recorded_not_only_the_first(db):
    first = process({"id": "WH-EVENT-1", "event_type": "BILLING.PLAN.CREATED", "resource": {}})
    second = process({"id": "WH-EVENT-2", "event_type": "BILLING.PLAN.CREATED", "resource": {}})

    assert [(response.status_code, response.content) for response in (first, second)] == [(200, b""), (200, b"")]
    assert sorted(WebhookEvent.objects.values_list("event_id", flat=True)) == ["WH-EVENT-1", "WH-EVENT-2"]


def test_a_refused_delivery_is_logged_with_its_reason(db, caplog):
    request = RequestFactory().post(
        reverse("wagtail_lockedcarts:paypal_webhook"), data=b'{"id": "WH-1"}', content_type="application/json"
    )

    with caplog.at_level(logging.INFO, logger="wagtail_lockedcarts.paypal"):
        response = paypal_webhook(request)

    assert response.status_code == 400
    assert "Rejected a PayPal webhook: missing or oversized signature headers" in caplog.text
