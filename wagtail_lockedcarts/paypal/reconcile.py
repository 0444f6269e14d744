"""The one convergent path from "PayPal knows something" to a cart transition.

The return page, the webhook, the scheduled sweep and the admin's *Check PayPal now* button all
call :func:`reconcile_paypal_order`. It never trusts what the caller was told: it GETs the order
from PayPal, captures it if it is approved and still belongs to a frozen cart (with the attempt's
stable ``PayPal-Request-Id``, so concurrent or repeated calls capture once), reduces PayPal's
answer to a :class:`~wagtail_lockedcarts.lifecycle.PaymentResult` and lets
:mod:`~wagtail_lockedcarts.lifecycle` decide. Duplicates and re-orderings therefore converge,
and when PayPal cannot be reached nothing changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log

from wagtail_lockedcarts import lifecycle, rules
from wagtail_lockedcarts.lifecycle import PaymentOutcome, PaymentResult
from wagtail_lockedcarts.models import Cart, PaymentAttempt, PaymentAttemptStatus
from wagtail_lockedcarts.models.validators import clean_card, clean_payer_email
from wagtail_lockedcarts.paypal.client import PayPalError, PayPalUnavailable, get_client

# Capture answers (422 issues PayPal's Orders v2 spec lists for capture) that mean "the payer's
# money did not move; let them try again". ORDER_EXPIRED is not one: PayPal names it for
# authorize only, never for capture.
DECLINE_ISSUES = {
    "INSTRUMENT_DECLINED",
    "PAYER_ACTION_REQUIRED",
    "TRANSACTION_REFUSED",
    "PAYER_CANNOT_PAY",
    "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED",
}
CAPTURE_OUTCOMES = {
    "COMPLETED": PaymentOutcome.COMPLETED,
    "PENDING": PaymentOutcome.PENDING,
    "DECLINED": PaymentOutcome.DECLINED,
    "FAILED": PaymentOutcome.DECLINED,
    "REFUNDED": PaymentOutcome.REVERSED,
    "REVERSED": PaymentOutcome.REVERSED,
}
# Preference when an order carries several captures (e.g. a declined one, then a retry).
CAPTURE_PRIORITY = ["COMPLETED", "PENDING", "PARTIALLY_REFUNDED", "REFUNDED", "DECLINED", "FAILED"]
FROZEN = rules.FROZEN


@dataclass
class ReconcileReport:
    """What PayPal said about one order and what, if anything, it changed."""

    paypal_order_id: str = ""
    cart: Cart | None = None
    order_status: str = ""
    capture_status: str = ""
    reason: str = ""
    outcome: lifecycle.TransitionResult | None = None
    result: PaymentResult | None = None
    reachable: bool = True
    error: str = ""
    summary: str = ""

    @property
    def found(self):
        return self.cart is not None

    @property
    def changed(self):
        return bool(self.outcome and self.outcome.changed)


# ------------------------------------------------------------------------------------------
# mapping PayPal's order to the facts we may store


def _capture_of(order):
    units = order.get("purchase_units") or [{}]
    captures = ((units[0] or {}).get("payments") or {}).get("captures") or []
    captures = [c for c in captures if isinstance(c, dict)]
    if not captures:
        return {}
    ranked = sorted(
        captures,
        key=lambda c: CAPTURE_PRIORITY.index(c.get("status")) if c.get("status") in CAPTURE_PRIORITY else 99,
    )
    return ranked[0]


def _decimal(value):
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


def payment_result_from_order(order, paypal_order_id=None, declined_issue=""):
    """Reduce a PayPal order representation to a :class:`PaymentResult`.

    Only the card brand and last four digits, the payer e-mail, ids, statuses and the captured
    amount are kept; everything else in PayPal's answer (expiry, BIN details, addresses) is dropped.
    """
    order = order or {}
    order_id = order.get("id") or paypal_order_id or ""
    order_status = order.get("status") or ""
    capture = _capture_of(order)
    capture_status = capture.get("status") or ""
    reason = ((capture.get("status_details") or {}).get("reason")) or ""

    if declined_issue:
        outcome, reason = PaymentOutcome.DECLINED, declined_issue
    elif capture_status in CAPTURE_OUTCOMES:
        outcome = CAPTURE_OUTCOMES[capture_status]
    elif order_status == "VOIDED":
        outcome = PaymentOutcome.DECLINED
    else:
        # CREATED / PAYER_ACTION_REQUIRED / SAVED / APPROVED-but-not-ours-to-capture, or a
        # partially refunded capture: nothing a cart transition should act on.
        outcome = PaymentOutcome.UNKNOWN

    amount_info = capture.get("amount") or {}
    source = order.get("payment_source") or {}
    card = source.get("card") or {}
    brand, last4 = clean_card(card.get("brand"), card.get("last_digits")) if card else ("", "")
    payer_email = (
        ((source.get("paypal") or {}).get("email_address")) or ((order.get("payer") or {}).get("email_address")) or ""
    )
    return PaymentResult(
        outcome=outcome,
        paypal_order_id=order_id,
        capture_id=capture.get("id") or "",
        amount=_decimal(amount_info.get("value")) if amount_info else None,
        currency=(amount_info.get("currency_code") or "").upper(),
        paypal_status=order_status,
        capture_status=capture_status,
        status_reason=reason,
        card_brand=brand,
        card_last4=last4,
        payer_email=clean_payer_email(payer_email),
    )


# ------------------------------------------------------------------------------------------
# the convergent function


#: How long PayPal keeps an order nobody approved. A 404 sooner than this is not taken for
#: expiry (a shop pointed at the wrong PayPal account sees 404s too).
UNAPPROVED_ORDER_LIFETIME = timedelta(hours=3)


def expired_unpaid(error, attempt):
    """PayPal answering 404 for an order it issued to us more than
    :data:`UNAPPROVED_ORDER_LIFETIME` ago, which we never saw approved or captured, is its
    definitive word: the payer never approved it and it expired, so it can never be paid. (An
    approved order that expires is reported, not forgotten.) Any other refusal, a younger order,
    and an order we know was approved stay "no answer"."""
    return (
        error.status_code == 404
        and attempt is not None
        and attempt.created_at <= timezone.now() - UNAPPROVED_ORDER_LIFETIME
        and attempt.status == PaymentAttemptStatus.CREATED
        and not attempt.capture_id
        and not attempt.capture_status
    )


def _find(paypal_order_id):
    attempt = PaymentAttempt.objects.select_related("cart").filter(paypal_order_id=paypal_order_id).first()
    if attempt is not None:
        return attempt.cart, attempt
    return Cart.objects.filter(paypal_order_id=paypal_order_id).order_by("-pk").first(), None


def _capture_key(cart, attempt, paypal_order_id):
    if attempt is not None:
        return attempt.capture_request_id
    # No attempt row (an integration that set the order id itself): still stable per order.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"wagtail-lockedcarts:{cart.pk}:{paypal_order_id}:capture")


def _should_capture(cart, order):
    """Take the money only for the checkout the cart is still frozen for."""
    if order.get("status") != "APPROVED" or _capture_of(order):
        return False
    return cart is not None and cart.paypal_order_id == order.get("id") and rules.is_frozen(cart)


def reconcile_paypal_order(paypal_order_id, user=None, client=None):
    """Ask PayPal about one order and apply its answer to the cart it belongs to.

    Safe to call any number of times and concurrently: the capture is idempotent and every
    transition is a compare-and-set in :mod:`lifecycle`.
    """
    report = ReconcileReport(paypal_order_id=paypal_order_id or "")
    cart, attempt = _find(paypal_order_id) if paypal_order_id else (None, None)
    if cart is None and attempt is None:
        report.summary = str(_("No cart uses PayPal order %(order)s.") % {"order": paypal_order_id or "–"})
        return report
    # A payment whose cart was deleted is still asked about: its record must learn the outcome.
    report.cart = cart
    client = client or get_client()
    declined_issue = ""
    try:
        order = client.get_order(paypal_order_id)
        if _should_capture(cart, order):
            try:
                order = client.capture_order(paypal_order_id, _capture_key(cart, attempt, paypal_order_id))
            except PayPalError as error:
                if error.issue in DECLINE_ISSUES:
                    declined_issue = error.issue
                elif error.issue in ("ORDER_ALREADY_CAPTURED", "ORDER_NOT_APPROVED", "DUPLICATE_INVOICE_ID"):
                    order = client.get_order(paypal_order_id)
                else:
                    raise
    except PayPalUnavailable as error:
        report.reachable = False
        report.error = error.reason
        report.summary = str(
            _("PayPal could not be reached (%(reason)s); nothing was changed.") % {"reason": error.reason}
        )
        return report
    except PayPalError as error:
        if not expired_unpaid(error, attempt):
            report.error = error.issue
            report.summary = str(
                _("PayPal refused to report on order %(order)s (%(issue)s); nothing was changed.")
                % {"order": paypal_order_id, "issue": error.issue}
            )
            return report
        result = PaymentResult(
            outcome=PaymentOutcome.CANCELLED,
            paypal_order_id=paypal_order_id,
            paypal_status="EXPIRED",
            status_reason=error.issue,
        )
    else:
        result = payment_result_from_order(order, paypal_order_id, declined_issue)
    report.result = result
    report.order_status, report.capture_status, report.reason = (
        result.paypal_status,
        result.capture_status,
        result.status_reason,
    )
    report.outcome = lifecycle.apply_payment_result(cart, result, user=user)
    if report.outcome.cart is not None:
        report.cart = report.outcome.cart
    report.summary = _summary(report)
    return report


def _summary(report):
    parts = [
        str(
            _("PayPal order %(order)s: %(status)s")
            % {"order": report.paypal_order_id, "status": report.order_status or "–"}
        )
    ]
    if report.capture_status:
        capture = str(_("capture %(status)s") % {"status": report.capture_status})
        if report.reason:
            capture += f" ({report.reason})"
        parts.append(capture)
    elif report.reason:
        parts.append(report.reason)
    cart = report.cart
    if cart is not None:
        verb = _("cart now %(state)s") if report.changed else _("cart unchanged (%(state)s)")
        parts.append(str(verb % {"state": cart.state_in_sentence}))
    return "; ".join(parts)


def reconcile_cart(cart, user=None, client=None):
    """Reconcile a cart's current PayPal order (or its newest attempt's, if it was cleared)."""
    order_id = cart.paypal_order_id
    if not order_id:
        attempt = (
            cart.payment_attempts.exclude(paypal_order_id__isnull=True)
            .exclude(paypal_order_id="")
            .order_by("-created_at", "-pk")
            .first()
        )
        order_id = attempt.paypal_order_id if attempt else ""
    if not order_id:
        return ReconcileReport(cart=cart, summary=str(_("This cart never reached PayPal; nothing to check.")))
    return reconcile_paypal_order(order_id, user=user, client=client)


def check_paypal_now(cart, user, client=None):
    """The admin's *Check PayPal now*: reconcile and leave an audit entry saying what PayPal said.

    A transition logs itself through :mod:`lifecycle`; when nothing changed (or PayPal was not
    reachable) the summary is logged here, so every check is visible in the cart's history.
    """
    report = reconcile_cart(cart, user=user, client=client)
    if not report.changed:
        target = Cart.objects.filter(pk=cart.pk).first()
        if target is not None:
            log(instance=target, action=lifecycle.LOG_RECONCILE, user=user, data={"summary": report.summary})
    return report
