"""Unit specifications of the PayPal client and of mapping PayPal's order to a PaymentResult.

These use a fake transport (the end-to-end path is covered against the sandbox elsewhere).
"""

import json
from decimal import Decimal

import pytest
import requests

from wagtail_lockedcarts.lifecycle import PaymentOutcome
from wagtail_lockedcarts.paypal.client import PayPalClient, PayPalError, PayPalUnavailable, approval_url
from wagtail_lockedcarts.paypal.reconcile import payment_result_from_order
from wagtail_lockedcarts.paypal.webhooks import order_id_for_event


class FakeResponse:
    def __init__(self, status, payload=None):
        self.status_code = status
        self.content = json.dumps(payload).encode() if payload is not None else b""
        self._payload = payload

    def json(self):
        if self._payload is None:
            raise ValueError("no body")
        return self._payload


class FakeSession:
    """Records calls; answers from a queue (a response, or an exception to raise)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


TOKEN = FakeResponse(200, {"access_token": "T1", "expires_in": 3600})


def client(*answers):
    return PayPalClient(session=FakeSession(*answers))


def test_every_call_has_explicit_connect_and_read_timeouts(paypal_settings):
    paypal = client(TOKEN, FakeResponse(200, {"id": "ORDER1", "status": "APPROVED"}))

    paypal.get_order("ORDER1")

    assert [call[2]["timeout"] for call in paypal.session.calls] == [(1.5, 7.0), (1.5, 7.0)]


def test_the_token_is_fetched_once_and_reused_until_it_expires(paypal_settings):
    paypal = client(TOKEN, FakeResponse(200, {"id": "A"}), FakeResponse(200, {"id": "B"}))

    paypal.get_order("A")
    paypal.get_order("B")

    urls = [call[1] for call in paypal.session.calls]
    assert urls == [
        "https://paypal.invalid/v1/oauth2/token",
        "https://paypal.invalid/v2/checkout/orders/A",
        "https://paypal.invalid/v2/checkout/orders/B",
    ]
    assert paypal.session.calls[0][2]["data"] == {"grant_type": "client_credentials"}
    assert paypal.session.calls[1][2]["headers"]["Authorization"] == "Bearer T1"


def test_a_rejected_token_is_refreshed_once(paypal_settings):
    paypal = client(
        TOKEN,
        FakeResponse(401, {"error": "invalid_token"}),
        FakeResponse(200, {"access_token": "T2", "expires_in": 3600}),
        FakeResponse(200, {"id": "A"}),
    )

    assert paypal.get_order("A") == {"id": "A"}
    assert paypal.session.calls[-1][2]["headers"]["Authorization"] == "Bearer T2"


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectTimeout("slow"),
        requests.ReadTimeout("slow"),
        requests.ConnectionError("refused"),
        FakeResponse(500, {}),
        FakeResponse(503),
    ],
)
def test_timeouts_connection_errors_and_5xx_are_unknown_not_failed(paypal_settings, failure):
    paypal = client(TOKEN, failure)

    with pytest.raises(PayPalUnavailable) as caught:
        paypal.capture_order("A", "key")

    assert not isinstance(caught.value, PayPalError)


def test_a_4xx_carries_paypals_issue_name(paypal_settings):
    paypal = client(
        TOKEN,
        FakeResponse(
            422, {"name": "UNPROCESSABLE_ENTITY", "details": [{"issue": "INSTRUMENT_DECLINED"}], "debug_id": "abc"}
        ),
    )

    with pytest.raises(PayPalError) as caught:
        paypal.capture_order("A", "key")

    assert (caught.value.status_code, caught.value.issue, caught.value.debug_id) == (422, "INSTRUMENT_DECLINED", "abc")


def test_capture_and_create_send_the_idempotency_key(paypal_settings):
    paypal = client(TOKEN, FakeResponse(201, {"id": "A"}), FakeResponse(200, {"id": "A", "links": []}))

    paypal.capture_order("A", "capture-key")
    paypal.create_order(
        request_id="create-key",
        amount=Decimal("12.5"),
        currency="EUR",
        reference=7,
        invoice_id="cart-7-1",
        return_url="https://shop/r",
        cancel_url="https://shop/c",
    )

    capture_call, create_call = paypal.session.calls[1], paypal.session.calls[2]
    assert capture_call[2]["headers"]["PayPal-Request-Id"] == "capture-key"
    assert create_call[2]["headers"]["PayPal-Request-Id"] == "create-key"
    body = json.loads(create_call[2]["data"])
    assert body["intent"] == "CAPTURE"
    assert body["purchase_units"][0] == {
        "reference_id": "7",
        "custom_id": "7",
        "invoice_id": "cart-7-1",
        "amount": {"currency_code": "EUR", "value": "12.50"},
    }
    assert body["payment_source"]["paypal"]["experience_context"]["return_url"] == "https://shop/r"


@pytest.mark.parametrize("order_id", ["../../v1/oauth2/token", "A/capture", "A?x=1", "", "A" * 65])
def test_an_order_id_paypal_could_not_have_issued_never_reaches_the_network(paypal_settings, order_id):
    paypal = client()

    with pytest.raises(PayPalError):
        paypal.get_order(order_id)

    assert paypal.session.calls == []


HEADERS = {
    "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/CERT",
    "PAYPAL-TRANSMISSION-ID": "tid",
    "PAYPAL-TRANSMISSION-SIG": "sig",
    "PAYPAL-TRANSMISSION-TIME": "2026-01-01T00:00:00Z",
}


def test_verification_posts_the_raw_body_and_our_webhook_id(paypal_settings):
    raw = b'{"id":"WH-1",  "webhook_id":"WH-ATTACKER", "resource":{"id":"A"}}'
    paypal = client(TOKEN, FakeResponse(200, {"verification_status": "SUCCESS"}))

    assert paypal.verify_webhook_signature(HEADERS, raw) is True

    sent = paypal.session.calls[1][2]["data"]
    assert raw in sent
    assert json.loads(sent)["webhook_id"] == "WH-TEST"
    assert json.loads(sent)["transmission_sig"] == "sig"


@pytest.mark.parametrize("raw", [b'{"a":1}, "webhook_id": "WH-ATTACKER"', b"[1]", b"\xff", b"not json"])
def test_a_body_that_is_not_one_json_object_fails_without_a_postback(paypal_settings, raw):
    paypal = client()

    assert paypal.verify_webhook_signature(HEADERS, raw) is False
    assert paypal.session.calls == []


def test_verification_failure_is_false(paypal_settings):
    paypal = client(TOKEN, FakeResponse(200, {"verification_status": "FAILURE"}))

    assert paypal.verify_webhook_signature(HEADERS, b"{}") is False


def test_the_approval_link_is_payer_action_or_approve():
    assert approval_url({"links": [{"rel": "self", "href": "s"}, {"rel": "payer-action", "href": "p"}]}) == "p"
    assert approval_url({"links": [{"rel": "approve", "href": "a"}]}) == "a"


def order(status="COMPLETED", capture=None, source=None):
    data = {
        "id": "ORDER1",
        "status": status,
        "purchase_units": [{"amount": {"currency_code": "EUR", "value": "10.00"}}],
    }
    if capture:
        data["purchase_units"][0]["payments"] = {"captures": capture if isinstance(capture, list) else [capture]}
    if source:
        data["payment_source"] = source
    return data


def capture(status, reason=None, value="10.00"):
    data = {"id": "CAP1", "status": status, "amount": {"currency_code": "EUR", "value": value}}
    if reason:
        data["status_details"] = {"reason": reason}
    return data


@pytest.mark.parametrize(
    "paypal_order, outcome",
    [
        (order(capture=capture("COMPLETED")), PaymentOutcome.COMPLETED),
        (order(capture=capture("PENDING", "ECHECK")), PaymentOutcome.PENDING),
        (order(capture=capture("DECLINED")), PaymentOutcome.DECLINED),
        (order(capture=capture("FAILED")), PaymentOutcome.DECLINED),
        (order("VOIDED"), PaymentOutcome.DECLINED),
        (order("CREATED"), PaymentOutcome.UNKNOWN),
        (order("PAYER_ACTION_REQUIRED"), PaymentOutcome.UNKNOWN),
        (order("APPROVED"), PaymentOutcome.UNKNOWN),
        (order(capture=capture("REFUNDED")), PaymentOutcome.REVERSED),
        (order(capture=[capture("DECLINED"), capture("COMPLETED")]), PaymentOutcome.COMPLETED),
    ],
)
def test_paypal_statuses_map_to_payment_outcomes(paypal_order, outcome):
    assert payment_result_from_order(paypal_order).outcome == outcome


def test_a_capture_refused_with_instrument_declined_is_a_decline():
    result = payment_result_from_order(order("APPROVED"), declined_issue="INSTRUMENT_DECLINED")

    assert (result.outcome, result.status_reason) == (PaymentOutcome.DECLINED, "INSTRUMENT_DECLINED")


def test_the_mapping_keeps_amount_reason_and_card_brand_and_last_four_only():
    card = {
        "card": {
            "brand": "VISA",
            "last_digits": "4242",
            "expiry": "2031-12",
            "bin_details": {"bin": "424242"},
            "name": "A B",
        }
    }

    result = payment_result_from_order(order(capture=capture("PENDING", "ECHECK", value="9.99"), source=card))

    assert (result.amount, result.currency, result.status_reason) == (Decimal("9.99"), "EUR", "ECHECK")
    assert (result.card_brand, result.card_last4, result.capture_id) == ("VISA", "4242", "CAP1")
    assert "2031" not in repr(result) and "424242" not in repr(result)


def test_digits_that_are_not_a_last_four_are_dropped():
    card = {"card": {"brand": "VISA", "last_digits": "4111111111111111"}}

    result = payment_result_from_order(order(capture=capture("COMPLETED"), source=card))

    assert (result.card_brand, result.card_last4) == ("", "")


def test_the_payer_email_comes_from_the_paypal_wallet():
    result = payment_result_from_order(
        order(capture=capture("COMPLETED"), source={"paypal": {"email_address": "p@example.com"}})
    )

    assert result.payer_email == "p@example.com"


@pytest.mark.parametrize(
    "event, order_id",
    [
        ({"event_type": "CHECKOUT.ORDER.APPROVED", "resource": {"id": "O1"}}, "O1"),
        (
            {
                "event_type": "PAYMENT.CAPTURE.COMPLETED",
                "resource": {"id": "C1", "supplementary_data": {"related_ids": {"order_id": "O2"}}},
            },
            "O2",
        ),
        ({"event_type": "PAYMENT.CAPTURE.DENIED", "resource": {"id": "C1"}}, ""),
        ({"event_type": "CHECKOUT.PAYMENT-APPROVAL.REVERSED", "resource": {"order_id": "O3"}}, "O3"),
        ({"event_type": "CUSTOMER.DISPUTE.CREATED", "resource": {"id": "D1"}}, ""),
        ({"event_type": "CHECKOUT.ORDER.APPROVED", "resource": {"id": "../etc"}}, ""),
    ],
)
def test_events_name_the_order_to_reconcile(event, order_id):
    assert order_id_for_event(event) == order_id
