"""No web request waits on PayPal longer than ``PAYPAL["REQUEST_BUDGET"]``: a call that could
push it past the budget is not started, and later calls get shorter timeouts."""

import time

import pytest
import requests
from django.core.signals import request_finished, request_started

from wagtail_lockedcarts.paypal import budget
from wagtail_lockedcarts.paypal.client import PayPalClient, PayPalUnavailable


def test_a_request_gets_the_configured_budget_and_loses_it_when_it_ends(db, settings):
    settings.WAGTAIL_LOCKEDCARTS = {
        **settings.WAGTAIL_LOCKEDCARTS,
        "PAYPAL": {**settings.WAGTAIL_LOCKEDCARTS["PAYPAL"], "REQUEST_BUDGET": 7.0},
    }
    request_started.send(sender=None)
    try:
        assert 6.5 < budget.remaining() <= 7.0
    finally:
        request_finished.send(sender=None)
    assert budget.remaining() is None


def test_without_a_budget_the_clients_own_timeouts_apply():
    assert budget.timeouts(5.0, 20.0) == (5.0, 20.0)


def test_timeouts_are_shortened_to_fit_what_is_left_and_a_call_that_cannot_fit_is_refused():
    with budget.limited(6.0):
        connect, read = budget.timeouts(5.0, 20.0)
        assert connect + read <= 6.0 and read >= budget.MIN_CALL_SECONDS
    with budget.limited(1.5):
        with pytest.raises(budget.BudgetExhausted):
            budget.timeouts(5.0, 20.0)


@pytest.fixture
def started_calls(monkeypatch):
    calls = []
    send = requests.Session.send

    def counting_send(session, prepared, **kwargs):
        calls.append(prepared.url)
        return send(session, prepared, **kwargs)

    monkeypatch.setattr(requests.Session, "send", counting_send)
    return calls


def test_three_calls_to_a_slow_paypal_stay_within_the_budget(paypal_sandbox, started_calls):
    """The reported case: three carts checked one after another while PayPal takes 20 s each
    took a minute. Here PayPal takes 2 s per call and the budget is 2.5 s."""
    client = PayPalClient()
    orders = [
        client.create_order(
            request_id=f"a0f4c1b2-0000-4000-8000-00000000000{index}",
            amount="5.00",
            currency="EUR",
            reference=f"budget-{index}",
            invoice_id=f"budget-{index}",
            return_url="https://example.com/return",
            cancel_url="https://example.com/cancel",
        )["id"]
        for index in range(3)
    ]
    paypal_sandbox.set_faults(delay_next=3, delay_seconds=2.0, path_contains="/v2/checkout/orders/")
    started_calls.clear()

    answers = []
    started = time.monotonic()
    with budget.limited(2.5):
        for order_id in orders:
            try:
                answers.append(client.get_order(order_id)["status"])
            except PayPalUnavailable as error:
                answers.append(error.reason)
    elapsed = time.monotonic() - started

    assert elapsed < 2.5
    assert answers == ["timeout", "budget", "budget"]
    assert len(started_calls) == 1  # the two calls that could not fit were never sent
    paypal_sandbox.wait_idle(timeout=10)
