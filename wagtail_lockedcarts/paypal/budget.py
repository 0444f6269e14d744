"""How long one web request may wait on PayPal in total (``PAYPAL["REQUEST_BUDGET"]``).

Each PayPal call has its own (connect, read) timeouts, but a request that makes several calls
in a row (a bulk action, a token refresh then a capture) could still hold a worker for their
sum. The budget starts when Django starts handling a request (``request_started``) and ends with
it; outside requests (the task queue, management commands) there is none. A call is started only
if its worst case fits in what is left: its timeouts are shortened to fit, and when less than
:data:`MIN_CALL_SECONDS` would remain for reading, the call is refused as *unknown*.
"""

import contextvars
import time
from contextlib import contextmanager

from django.core.signals import request_finished, request_started

from wagtail_lockedcarts import conf

MIN_CALL_SECONDS = 1.0

_deadline = contextvars.ContextVar("wagtail_lockedcarts_paypal_deadline", default=None)


class BudgetExhausted(Exception):
    pass


def start(seconds=None):
    """Start a budget of ``seconds`` (default: the setting) for the current context."""
    if seconds is None:
        seconds = conf.get("PAYPAL").get("REQUEST_BUDGET")
    _deadline.set(time.monotonic() + float(seconds) if seconds else None)


def stop():
    _deadline.set(None)


@contextmanager
def limited(seconds):
    """A budget for a block of code (tests, or work outside the request/response cycle)."""
    token = _deadline.set(time.monotonic() + float(seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining():
    """Seconds left, or None without a budget."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def timeouts(connect, read):
    """(connect, read) timeouts whose sum fits in the budget; raises BudgetExhausted."""
    left = remaining()
    if left is None:
        return connect, read
    connect = min(connect, left / 2)
    read = min(read, left - connect)
    if read < MIN_CALL_SECONDS:
        raise BudgetExhausted()
    return connect, read


def _on_request_started(sender, **kwargs):
    start()


def _on_request_finished(sender, **kwargs):
    stop()


def connect_request_signals():
    request_started.connect(_on_request_started, dispatch_uid="wagtail_lockedcarts.paypal_budget_start")
    request_finished.connect(_on_request_finished, dispatch_uid="wagtail_lockedcarts.paypal_budget_stop")
