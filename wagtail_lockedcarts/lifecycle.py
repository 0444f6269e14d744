"""The cart and order state machine: the only module that writes ``Cart.status`` / ``Order.status``.

Views, bulk actions, webhooks, tasks and commands call these functions and nothing else, so each
business rule is written once. Every transition:

* runs inside ``transaction.atomic()`` and takes the cart row with ``select_for_update()`` (so an
  edit, a checkout, a payment result and an admin action on the same cart are serialised), then
  writes with a compare-and-set ``UPDATE … WHERE status = <expected>`` as a second guard;
* returns a :class:`TransitionResult` instead of raising when it lost a race — the loser re-reads and
  reports the state the winner left, and never creates a second order (``Order.cart`` is unique
  as a last line of defence);
* writes a Wagtail audit-log entry (``user=None`` means the system did it);
* defers side effects (signals, export tasks) to ``transaction.on_commit``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.log_actions import log
from wagtail.models import Site

from wagtail_lockedcarts import rules, signals
from wagtail_lockedcarts.exceptions import (
    AmountDiffers,
    CartNotEditable,
    EmptyCart,
    InvalidTransition,
    PaymentHeldAtPayPal,
)
from wagtail_lockedcarts.models import (
    Cart,
    CartLine,
    CartStatus,
    LockedCartSettings,
    LockReason,
    Order,
    OrderLine,
    OrderStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
    PaymentEvent,
    PaymentResolution,
    PendingPaymentPolicy,
)
from wagtail_lockedcarts.models.carts import stored_total_expression
from wagtail_lockedcarts.models.validators import clean_card
from wagtail_lockedcarts.money import amounts_match, validate_amount
from wagtail_lockedcarts.products import resolve_product

# Re-exported: callers have long read these from lifecycle; the rules live in rules.py.
from wagtail_lockedcarts.rules import (  # noqa: F401
    CUSTOMER_FIELDS,
    LOG_CHECKOUT,
    LOG_CONFIRM,
    LOG_DELETE,
    LOG_EXPORT,
    LOG_LOCK,
    LOG_ORDER,
    LOG_PAYMENT_REVERSED,
    LOG_RECONCILE,
    LOG_RELEASE,
    LOG_RESOLVE_PAYMENT,
    LOG_UNLOCK,
    MAX_LINE_QUANTITY,
)

logger = logging.getLogger("wagtail_lockedcarts")


class PaymentOutcome(models.TextChoices):
    """What PayPal's answer about one payment means for the cart (a :class:`TransitionResult` is
    what a transition then did)."""

    COMPLETED = "completed", _("Completed")
    PENDING = "pending", _("Pending")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", pgettext_lazy("payment", "Cancelled")
    REVERSED = "reversed", _("Reversed or refunded")
    UNKNOWN = "unknown", _("No definitive answer")


@dataclass(frozen=True)
class PaymentResult:
    """What PayPal said about one PayPal order, already reduced to the facts we may store."""

    outcome: str
    paypal_order_id: str
    capture_id: str = ""
    amount: Decimal | None = None
    currency: str = ""
    paypal_status: str = ""
    capture_status: str = ""
    status_reason: str = ""
    card_brand: str = ""
    card_last4: str = ""
    payer_email: str = ""


@dataclass
class TransitionResult:
    """The state a transition left behind. ``changed`` is False for refusals lost to a race."""

    cart: Cart | None
    changed: bool
    order: Order | None = None
    message: str = ""
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# helpers


def settings_for(cart_or_site):
    site = getattr(cart_or_site, "site", cart_or_site)
    if site is None:
        site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    return LockedCartSettings.for_site(site)


def _locked_cart(cart_or_pk):
    pk = getattr(cart_or_pk, "pk", cart_or_pk)
    return Cart.objects.select_for_update().filter(pk=pk).first()


def _compare_and_set(cart, expected, **changes):
    """UPDATE the cart only if it is still in ``expected``; refresh ``cart`` on success."""
    expected = [expected] if isinstance(expected, str) else list(expected)
    changes.setdefault("updated_at", timezone.now())
    total = {}
    if "status" in changes or "amount" in changes:
        new = {name: changes[name] for name in ("status", "amount") if name in changes}
        total = {"stored_total": stored_total_expression(**new)}
    won = Cart.objects.filter(pk=cart.pk, status__in=expected).update(
        version=models.F("version") + 1, **changes, **total
    )
    if won:
        for name, value in changes.items():
            setattr(cart, name, value)
        cart.version += 1
        if total:
            cart.__dict__.pop("stored_total", None)  # read again on first use
    return bool(won)


def _on_commit(func):
    transaction.on_commit(func)


def _lines_snapshot(cart):
    """The lines as sent to be paid: what an order made from this payment contains."""
    return [
        {
            "product_key": line.product_key,
            "sku": line.sku,
            "title": line.title,
            "unit_price": str(line.unit_price),
            "quantity": line.quantity,
        }
        for line in cart.lines.all()
    ]


def snapshot(cart):
    """What the audit log keeps of a cart: enough to answer a customer, no card data beyond last 4."""
    return {
        "cart_id": cart.pk,
        "status": cart.status,
        "lock_reason": cart.lock_reason,
        "customer": str(cart.customer_label),
        "email": cart.customer_email or cart.payer_email,
        "total": str(cart.total),
        "currency": cart.currency,
        "paypal_order_id": cart.paypal_order_id,
        "paypal_capture_id": cart.paypal_capture_id,
        "card": cart.masked_card,
        "lines": [
            {
                "product": line.product_key,
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
            }
            for line in cart.lines.all()
        ],
    }


# --------------------------------------------------------------------------------------------
# shopper edits (open carts only)


def _editable(cart_or_pk):
    cart = _locked_cart(cart_or_pk)
    if cart is None:
        raise InvalidTransition(_("That cart no longer exists."))
    if not rules.is_editable(cart):
        raise CartNotEditable(cart)
    return cart


def _touch(cart):
    """After the lines changed: the cart's ``updated_at`` and its stored total, in one UPDATE."""
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now(), stored_total=stored_total_expression())
    cart.__dict__.pop("stored_total", None)


def add_line(cart, product_key, quantity=1):
    """Add ``quantity`` of a product; the price is resolved server-side, never taken from input."""
    quantity = int(quantity)
    if quantity < 1 or quantity > MAX_LINE_QUANTITY:
        raise InvalidTransition(_("Choose a quantity between 1 and %(max)s.") % {"max": MAX_LINE_QUANTITY})
    product = resolve_product(product_key)
    with transaction.atomic():
        cart = _editable(cart)
        validate_amount(product.unit_price, cart.currency)
        line = CartLine.objects.select_for_update().filter(cart=cart, product_key=product.key).first()
        if line:
            line.quantity = min(line.quantity + quantity, MAX_LINE_QUANTITY)
            line.unit_price, line.title, line.sku = product.unit_price, product.title, product.sku
            line.save(update_fields=["quantity", "unit_price", "title", "sku"])
        else:
            line = CartLine.objects.create(
                cart=cart,
                product_key=product.key,
                title=product.title,
                sku=product.sku,
                unit_price=product.unit_price,
                quantity=quantity,
            )
        _touch(cart)
    return line


def update_line(cart, line_id, quantity):
    """Set a line's quantity; 0 removes it."""
    quantity = int(quantity)
    if quantity < 0 or quantity > MAX_LINE_QUANTITY:
        raise InvalidTransition(_("Choose a quantity between 0 and %(max)s.") % {"max": MAX_LINE_QUANTITY})
    with transaction.atomic():
        cart = _editable(cart)
        line = CartLine.objects.filter(cart=cart, pk=line_id).first()
        if line is None:
            raise InvalidTransition(_("That item is no longer in your cart."))
        if quantity == 0:
            line.delete()
            line = None
        else:
            line.quantity = quantity
            line.save(update_fields=["quantity"])
        _touch(cart)
    return line


def remove_line(cart, line_id):
    return update_line(cart, line_id, 0)


def merge_carts(source, target):
    """Move an anonymous cart's lines into the shopper's cart on login (both must be open)."""
    with transaction.atomic():
        first, second = sorted([source.pk, target.pk])
        locked = {c.pk: c for c in Cart.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
        source, target = locked.get(source.pk), locked.get(target.pk)
        if not source or not target or source.pk == target.pk:
            return target
        if not rules.is_editable(source) or not rules.is_editable(target):
            return target
        existing = {line.product_key: line for line in target.lines.select_for_update()}
        for line in source.lines.all():
            if line.product_key in existing:
                kept = existing[line.product_key]
                kept.quantity = min(kept.quantity + line.quantity, MAX_LINE_QUANTITY)
                kept.save(update_fields=["quantity"])
            else:
                CartLine.objects.create(
                    cart=target,
                    product_key=line.product_key,
                    title=line.title,
                    sku=line.sku,
                    unit_price=line.unit_price,
                    quantity=line.quantity,
                )
        Cart.objects.filter(pk=source.pk, status=CartStatus.OPEN).delete()
        _touch(target)
    return target


def update_customer(cart, user=None, **changes):
    """An editor corrects who an open cart belongs to (name, e-mail — nothing else).

    Guarded by status like every write here, so it can never overwrite a status a checkout set
    while the editor had the form open. Logged as ``wagtail.edit``.
    """
    unknown = set(changes) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValueError(f"not customer fields: {sorted(unknown)}")
    with transaction.atomic():
        won = Cart.objects.filter(pk=cart.pk, status__in=rules.CART_ACTIONS["change"]).update(
            updated_at=timezone.now(), **changes
        )
        if not won:
            raise InvalidTransition(_("The cart left the open state while you edited it; nothing was saved."))
        cart.refresh_from_db()
        log(instance=cart, action="wagtail.edit", user=user, content_changed=True)
    return cart


# --------------------------------------------------------------------------------------------
# checkout


def begin_checkout(cart):
    """open → awaiting_payment: freeze the lines and the amount, and open a payment attempt.

    The PayPal order is created afterwards, outside the transaction (no network call while a row
    lock is held); :func:`attach_paypal_order` or :func:`abort_checkout` finishes the step.
    """
    with transaction.atomic():
        cart = _editable(cart)
        amount = cart.compute_total()
        if not cart.lines.exists() or amount <= 0:
            raise EmptyCart()
        now = timezone.now()
        _compare_and_set(
            cart,
            CartStatus.OPEN,
            status=CartStatus.AWAITING_PAYMENT,
            amount=amount,
            checkout_started_at=now,
            paypal_order_id="",
            paypal_capture_id="",
            paypal_status="",
            paypal_capture_status="",
            paypal_status_reason="",
        )
        attempt = PaymentAttempt.objects.create(
            cart=cart,
            cart_reference=cart.pk,
            site_id=cart.site_id,
            amount=amount,
            currency=cart.currency,
            paid_lines=_lines_snapshot(cart),
            customer_name=str(cart.customer_label)[:255],
            customer_email=cart.customer_email or "",
        )
        log(instance=cart, action=LOG_CHECKOUT, user=None, data={"amount": str(amount), "currency": cart.currency})
    return attempt


def attach_paypal_order(attempt, paypal_order_id, approve_url=""):
    """Remember the PayPal order on the attempt and the cart before the shopper is redirected."""
    with transaction.atomic():
        cart = _locked_cart(attempt.cart_id)
        PaymentAttempt.objects.filter(pk=attempt.pk).update(
            paypal_order_id=paypal_order_id, approve_url=approve_url, updated_at=timezone.now()
        )
        attempt.paypal_order_id, attempt.approve_url = paypal_order_id, approve_url
        if cart is not None:
            _compare_and_set(
                cart, CartStatus.AWAITING_PAYMENT, paypal_order_id=paypal_order_id, paypal_status="CREATED"
            )
    return attempt


def abort_checkout(cart, reason=""):
    """awaiting_payment → open when no payment can have started (PayPal refused to create one)."""
    with transaction.atomic():
        cart = _locked_cart(cart)
        if cart is None or cart.status != CartStatus.AWAITING_PAYMENT:
            return TransitionResult(cart, False)
        _reopen(cart, CartStatus.AWAITING_PAYMENT)
        PaymentAttempt.objects.filter(cart=cart, status=PaymentAttemptStatus.CREATED).update(
            status=PaymentAttemptStatus.FAILED, status_reason=reason[:64], updated_at=timezone.now()
        )
        return TransitionResult(cart, True)


def _reopen(cart, expected):
    return _compare_and_set(
        cart,
        expected,
        status=CartStatus.OPEN,
        lock_reason="",
        locked_at=None,
        amount=None,
        checkout_started_at=None,
        paypal_order_id="",
        paypal_capture_id="",
    )


# --------------------------------------------------------------------------------------------
# payment results (from the return page, webhooks, reconciliation, "Check PayPal now")


_ATTEMPT_STATUS = {
    PaymentOutcome.COMPLETED: PaymentAttemptStatus.COMPLETED,
    PaymentOutcome.PENDING: PaymentAttemptStatus.PENDING,
    PaymentOutcome.DECLINED: PaymentAttemptStatus.DECLINED,
    PaymentOutcome.CANCELLED: PaymentAttemptStatus.CANCELLED,
    PaymentOutcome.REVERSED: PaymentAttemptStatus.DECLINED,
}


def apply_payment_result(cart, result: PaymentResult, user=None):
    """Apply what PayPal said to the payment record and the cart it belongs to. Idempotent and
    order-independent.

    The payment record (attempt) always learns PayPal's facts, even when its cart is gone. An order
    made from a payment PayPal took back moves to ``payment_reversed``. Then, for the cart:
    completed → ordered (order created once, from the paid snapshot; an amount/currency differing
    from the cart locks with ``amount_mismatch`` instead); pending → the site's policy (lock, or
    order on hold); declined / cancelled / reversed → open again; unknown → unchanged.
    """
    with transaction.atomic():
        # The cart row first, then the payment record: the admin actions take them in this order,
        # so the two never wait on each other (a deadlock on PostgreSQL otherwise).
        cart = _locked_cart(cart) if cart is not None else None
        attempt = _record_attempt(result)
        reversed_order = _order_follows_payment(attempt, result, user)
        if cart is None:
            return TransitionResult(
                None, reversed_order is not None, order=reversed_order, message=_("The cart no longer exists.")
            )
        _record_paypal_facts(cart, result)
        current = cart.paypal_order_id == result.paypal_order_id
        if result.outcome == PaymentOutcome.COMPLETED:
            outcome = _on_completed(cart, result, current, user)
        elif result.outcome == PaymentOutcome.PENDING:
            outcome = _on_pending(cart, result, current, user)
        elif result.outcome in (PaymentOutcome.DECLINED, PaymentOutcome.CANCELLED, PaymentOutcome.REVERSED):
            outcome = _on_failed(cart, result, current, user)
        else:
            outcome = TransitionResult(cart, False, order=_existing_order(cart))
        if reversed_order is not None:
            outcome.changed, outcome.order = True, reversed_order
        return outcome


def _record_attempt(result):
    """Keep PayPal's facts on the payment record, and a history row whenever they change."""
    attempt = PaymentAttempt.objects.select_for_update().filter(paypal_order_id=result.paypal_order_id).first()
    if attempt is None:
        return None
    changes = {"updated_at": timezone.now()}
    status = _ATTEMPT_STATUS.get(result.outcome)
    if status:
        changes.update(status=status, status_reason=result.status_reason[:64])
    if result.capture_status:
        changes["capture_status"] = result.capture_status[:32]
        if result.capture_id:
            changes["capture_id"] = result.capture_id[:64]
        if result.amount is not None:
            changes.update(captured_amount=result.amount, captured_currency=result.currency[:3])
    brand, last4 = clean_card(result.card_brand, result.card_last4)
    if last4:
        changes.update(card_brand=brand, card_last4=last4)
    facts = (result.paypal_status, result.capture_status, result.capture_id, result.amount, result.status_reason)
    last = attempt.events.order_by("-at", "-pk").first()
    known = (last.order_status, last.capture_status, last.capture_id, last.amount, last.reason) if last else None
    if result.outcome != PaymentOutcome.UNKNOWN or result.paypal_status:
        if known is None or _facts_differ(known, facts):
            PaymentEvent.objects.create(
                attempt=attempt,
                order_status=result.paypal_status[:32],
                capture_status=result.capture_status[:32],
                capture_id=result.capture_id[:64],
                amount=result.amount if result.capture_status else None,
                currency=result.currency[:3] if result.capture_status else "",
                reason=result.status_reason[:64],
            )
    PaymentAttempt.objects.filter(pk=attempt.pk).update(**changes)
    for name, value in changes.items():
        setattr(attempt, name, value)
    return attempt


def _facts_differ(known, facts):
    (k_order, k_capture, k_id, k_amount, k_reason), (order, capture, capture_id, amount, reason) = known, facts
    if (k_order, k_capture, k_id, k_reason) != (order, capture, capture_id, reason):
        return True
    if capture and amount is not None and (k_amount is None or Decimal(k_amount) != Decimal(amount)):
        return True
    return False


def _order_follows_payment(attempt, result, user):
    """PayPal took the money back (denied, declined, refunded, reversed) after an order was made
    from it: the order moves to ``payment_reversed`` and can no longer be released or exported."""
    if result.capture_status not in rules.MONEY_TAKEN_BACK:
        return None
    condition = models.Q(paypal_order_id=result.paypal_order_id)
    if attempt is not None:
        condition |= models.Q(payment=attempt)
    order = Order.objects.select_for_update().filter(condition).first()
    if order is None or order.status not in rules.ORDERS_FOLLOWING_PAYMENT:
        return None
    previous = order.status
    reason = result.capture_status + (f" ({result.status_reason})" if result.status_reason else "")
    won = Order.objects.filter(pk=order.pk, status=previous).update(
        status=OrderStatus.PAYMENT_REVERSED,
        payment_problem=reason[:64],
        payment_problem_at=timezone.now(),
        exported_before_problem=previous == OrderStatus.EXPORTED,
    )
    if not won:
        return None
    order.refresh_from_db()
    log(
        instance=order,
        action=LOG_PAYMENT_REVERSED,
        user=user,
        data={"previous_status": previous, "capture_status": result.capture_status, "reason": result.status_reason},
    )
    return order


def _record_paypal_facts(cart, result):
    """Store the last known PayPal status and the card as brand + last 4 only."""
    changes = {"paypal_checked_at": timezone.now()}
    if cart.paypal_order_id == result.paypal_order_id or not cart.paypal_order_id:
        changes.update(
            paypal_status=result.paypal_status[:32],
            paypal_capture_status=result.capture_status[:32],
            paypal_status_reason=result.status_reason[:64],
        )
        if result.capture_id:
            changes["paypal_capture_id"] = result.capture_id[:64]
        brand, last4 = clean_card(result.card_brand, result.card_last4)
        if last4:
            changes["card_brand"], changes["card_last4"] = brand, last4
        if result.payer_email:
            changes["payer_email"] = result.payer_email[:254]
    Cart.objects.filter(pk=cart.pk).update(**changes)
    for name, value in changes.items():
        setattr(cart, name, value)


def _amount_matches(cart, result):
    if result.amount is None or cart.amount is None:
        return False
    return amounts_match(result.amount, result.currency, cart.amount, cart.currency)


def _on_completed(cart, result, current, user):
    if cart.status == CartStatus.ORDERED:
        order = _existing_order(cart)
        if order and order.status == OrderStatus.ON_HOLD and current and _amount_matches(cart, result):
            release_order(order, user=user, reason="payment_completed")
            order.refresh_from_db()
            return TransitionResult(cart, True, order=order)
        return TransitionResult(cart, False, order=order)
    if not current:
        # Money arrived for a checkout the cart has since moved on from: never order the new lines.
        return _lock(
            cart,
            [CartStatus.OPEN, CartStatus.AWAITING_PAYMENT, CartStatus.LOCKED],
            LockReason.SUPERSEDED_PAYMENT,
            user,
            result,
        )
    if not _amount_matches(cart, result):
        return _lock(cart, [CartStatus.AWAITING_PAYMENT, CartStatus.LOCKED], LockReason.AMOUNT_MISMATCH, user, result)
    if rules.needs_admin_decision(cart):
        return TransitionResult(cart, False, message=_("This cart needs an admin's decision."))
    if not rules.is_frozen(cart):
        return TransitionResult(cart, False)
    order = _make_order(
        cart,
        OrderStatus.SUBMITTED,
        user=user,
        action=LOG_RECONCILE,
        expected=rules.FROZEN,
        payment=_attempt_for(result.paypal_order_id),
    )
    return TransitionResult(cart, order is not None, order=order or _existing_order(cart))


def _on_pending(cart, result, current, user):
    if not current or cart.status == CartStatus.ORDERED:
        return TransitionResult(cart, False, order=_existing_order(cart))
    if result.amount is not None and not _amount_matches(cart, result):
        return _lock(cart, [CartStatus.AWAITING_PAYMENT, CartStatus.LOCKED], LockReason.AMOUNT_MISMATCH, user, result)
    policy = settings_for(cart).pending_payment_policy
    if policy == PendingPaymentPolicy.HOLD and cart.status == CartStatus.AWAITING_PAYMENT:
        order = _make_order(
            cart,
            OrderStatus.ON_HOLD,
            user=user,
            action=LOG_RECONCILE,
            expected=[CartStatus.AWAITING_PAYMENT],
            payment=_attempt_for(result.paypal_order_id),
        )
        return TransitionResult(cart, order is not None, order=order or _existing_order(cart))
    if cart.status == CartStatus.LOCKED and cart.lock_reason == LockReason.PENDING_PAYMENT:
        return TransitionResult(cart, False)
    if cart.status == CartStatus.LOCKED and cart.lock_reason == LockReason.NO_RETURN:
        # Now we know why no answer came: say so, without a second lock event.
        _compare_and_set(cart, CartStatus.LOCKED, lock_reason=LockReason.PENDING_PAYMENT)
        log(
            instance=cart,
            action=LOG_RECONCILE,
            user=user,
            data={"lock_reason": LockReason.PENDING_PAYMENT, "paypal_status": result.capture_status},
        )
        return TransitionResult(cart, True)
    return _lock(cart, [CartStatus.AWAITING_PAYMENT], LockReason.PENDING_PAYMENT, user, result)


def _on_failed(cart, result, current, user):
    if not current or cart.status == CartStatus.ORDERED:
        return TransitionResult(cart, False, order=_existing_order(cart))
    if not rules.payment_failure_reopens(cart):
        return TransitionResult(cart, False)
    was_locked = cart.status == CartStatus.LOCKED
    if not _reopen(cart, cart.status):
        return TransitionResult(cart, False)
    log(
        instance=cart,
        action=LOG_UNLOCK if was_locked else LOG_RECONCILE,
        user=user,
        data={"paypal_outcome": result.outcome, "reason": result.status_reason},
    )
    if was_locked:
        _on_commit(lambda: signals.cart_unlocked.send(sender=Cart, cart=cart, user=user))
    return TransitionResult(cart, True)


def _existing_order(cart):
    return Order.objects.filter(cart_id=cart.pk).first()


def _attempt_for(paypal_order_id):
    return PaymentAttempt.objects.filter(paypal_order_id=paypal_order_id, order__isnull=True).first()


# --------------------------------------------------------------------------------------------
# what PayPal holds, and whether it matches the cart


@dataclass(frozen=True)
class AmountCheck:
    """The cart total next to what PayPal captured, for the admin's side-by-side view."""

    cart_total: Decimal | None
    cart_currency: str
    payment: PaymentAttempt | None
    captured: Decimal | None
    captured_currency: str

    @property
    def known(self):
        return self.captured is not None

    @property
    def matches(self):
        """True/False when PayPal reported a captured amount, None when it has not (yet)."""
        if not self.known or self.cart_total is None:
            return None
        return amounts_match(self.captured, self.captured_currency, self.cart_total, self.cart_currency)


def paid_payment(cart):
    """The payment an order made from ``cart`` accounts for: money PayPal holds that no order has
    taken yet, the cart's current checkout first."""
    attempts = list(
        PaymentAttempt.objects.money_held().filter(cart=cart, order__isnull=True, resolution="").order_by("-pk")
    )
    for attempt in attempts:
        if cart.paypal_order_id and attempt.paypal_order_id == cart.paypal_order_id:
            return attempt
    return attempts[0] if attempts else None


def amount_check(cart):
    payment = paid_payment(cart)
    return AmountCheck(
        cart_total=cart.total,
        cart_currency=cart.currency,
        payment=payment,
        captured=payment.captured_amount if payment else None,
        captured_currency=(payment.captured_currency or payment.currency) if payment else "",
    )


def money_at_paypal(cart):
    """The payment PayPal holds, or may still capture (approved), for ``cart``; None if none."""
    held = paid_payment(cart)
    if held is not None:
        return held
    if cart.paypal_order_id and cart.paypal_status in rules.MAY_STILL_BE_CAPTURED:
        return PaymentAttempt.objects.filter(paypal_order_id=cart.paypal_order_id).first()
    return None


# --------------------------------------------------------------------------------------------
# locking


def _lock(cart, expected, reason, user=None, result=None):
    now = timezone.now()
    if not _compare_and_set(cart, expected, status=CartStatus.LOCKED, lock_reason=reason, locked_at=now):
        return TransitionResult(cart, False)
    data = {"reason": reason}
    if result is not None:
        data.update(
            paypal_status=result.paypal_status, capture_status=result.capture_status, status_reason=result.status_reason
        )
    log(instance=cart, action=LOG_LOCK, user=user, data=data)
    _on_commit(lambda: signals.cart_locked.send(sender=Cart, cart=cart, reason=reason))
    return TransitionResult(cart, True)


def lock_cart(cart, reason, user=None):
    """awaiting_payment → locked, e.g. when PayPal never answered."""
    with transaction.atomic():
        cart = _locked_cart(cart)
        if cart is None:
            return TransitionResult(None, False)
        if cart.status == CartStatus.LOCKED:
            return TransitionResult(cart, False)
        return _lock(cart, [CartStatus.AWAITING_PAYMENT], reason, user)


def stale_checkouts(now=None):
    """Carts awaiting payment for longer than their site's checkout timeout, oldest first."""
    return Cart.objects.stale(now).order_by("checkout_started_at", "pk")


def lock_stale_checkouts(now=None, batch_size=200, cart_ids=None):
    """Lock (``no_return``) every checkout that outlived its site's timeout, in fixed-cost batches.

    Each batch is one transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` (so several clusters share
    the work), one compare-and-set ``UPDATE`` and one bulk insert of audit entries — the number of
    queries per batch does not grow with the batch size. Returns the number of carts locked.
    """
    now = now or timezone.now()
    queryset = stale_checkouts(now)
    if cart_ids is not None:
        queryset = queryset.filter(pk__in=list(cart_ids))
    locked_total, last_pk = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                queryset.filter(pk__gt=last_pk)
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                break
            last_pk = batch[-1]
            Cart.objects.filter(pk__in=batch, status=CartStatus.AWAITING_PAYMENT).update(
                status=CartStatus.LOCKED,
                lock_reason=LockReason.NO_RETURN,
                locked_at=now,
                updated_at=now,
                version=models.F("version") + 1,
            )
            carts = list(
                Cart.objects.filter(pk__in=batch, status=CartStatus.LOCKED, locked_at=now).select_related("user")
            )
            _bulk_log(carts, LOG_LOCK, {"reason": LockReason.NO_RETURN}, now)
            locked_total += len(carts)
            for cart in carts:
                _on_commit(
                    lambda cart=cart: signals.cart_locked.send(sender=Cart, cart=cart, reason=LockReason.NO_RETURN)
                )
        if len(batch) < batch_size:
            break
    return locked_total


def _bulk_log(carts, action, data, timestamp):
    """The audit entries ``log()`` would write for each cart, in one INSERT per batch.

    Wagtail has no bulk ``log()``; this asks its log registry for the cart's log entry model and
    takes the user and UUID of the active :class:`~wagtail.log_actions.LogContext`, as ``log()``
    does, and only replaces its one INSERT per row (the sweep's cost must not grow with a batch).
    """
    from django.contrib.contenttypes.models import ContentType
    from wagtail.log_actions import get_active_log_context
    from wagtail.log_actions import registry as log_registry

    log_model = log_registry.get_log_model_for_model(Cart)
    if log_model is None or not carts:
        return
    context = get_active_log_context()
    content_type = ContentType.objects.get_for_model(Cart, for_concrete_model=False)
    log_model.objects.bulk_create(
        [
            log_model(
                content_type=content_type,
                label=log_model.objects.get_instance_title(cart)[:255],
                action=action,
                data=data,
                timestamp=timestamp,
                object_id=str(cart.pk),
                user=context.user,
                uuid=context.uuid,
            )
            for cart in carts
        ]
    )


# --------------------------------------------------------------------------------------------
# admin actions


def confirm_order(cart, user=None, override_reason=""):
    """Admin *Confirm Order*: locked → ordered and submitted to export.

    The order is made from what PayPal was paid for (the paid snapshot) when there is one. When
    the cart total differs from the amount PayPal captured, the admin must accept the difference
    with a reason (``override_reason``), which the audit log and the order keep.
    Confirming an already-ordered cart returns its existing order (``changed=False``).
    """
    with transaction.atomic():
        cart = _locked_cart(cart)
        if cart is None:
            raise InvalidTransition(_("This cart no longer exists; it may have been deleted."))
        if cart.status == CartStatus.ORDERED:
            return TransitionResult(
                cart, False, order=_existing_order(cart), message=_("This cart was already confirmed.")
            )
        if not rules.cart_allows("confirm", cart):
            raise InvalidTransition(_("Only locked carts can be confirmed as orders."))
        check = amount_check(cart)
        override_reason = (override_reason or "").strip()
        if check.matches is False and not override_reason:
            raise AmountDiffers()
        order = _make_order(
            cart,
            OrderStatus.SUBMITTED,
            user=user,
            action=LOG_CONFIRM,
            expected=rules.CART_ACTIONS["confirm"],
            payment=check.payment or _attempt_for(cart.paypal_order_id) if cart.paypal_order_id else check.payment,
            override_reason=override_reason if check.matches is False else "",
            log_data={
                "cart_total": str(check.cart_total),
                "captured": str(check.captured) if check.known else "",
                "captured_currency": check.captured_currency,
                **({"override_reason": override_reason} if check.matches is False else {}),
            },
        )
        return TransitionResult(cart, order is not None, order=order or _existing_order(cart))


def unlock_cart(cart, user=None):
    """Admin *Unlock Cart*: locked → open; the shopper goes on with the same cart."""
    with transaction.atomic():
        cart = _locked_cart(cart)
        if cart is None:
            raise InvalidTransition(_("This cart no longer exists; it may have been deleted."))
        if not rules.cart_allows("unlock", cart):
            raise InvalidTransition(_("Only locked carts can be unlocked."))
        previous_reason = cart.lock_reason
        _reopen(cart, rules.CART_ACTIONS["unlock"])
        PaymentAttempt.objects.filter(
            cart=cart,
            status__in=[PaymentAttemptStatus.CREATED, PaymentAttemptStatus.UNKNOWN, PaymentAttemptStatus.APPROVED],
        ).update(status=PaymentAttemptStatus.CANCELLED, updated_at=timezone.now())
        log(instance=cart, action=LOG_UNLOCK, user=user, data={"previous_reason": previous_reason})
        _on_commit(lambda: signals.cart_unlocked.send(sender=Cart, cart=cart, user=user))
        return TransitionResult(cart, True)


def delete_cart(cart, user=None, acknowledge_payment=False):
    """Admin *Delete Cart*: the row goes, a snapshot stays in the audit log (written first).

    The payment records stay: a payment PayPal holds (or may still capture) is shown as unmatched
    instead of vanishing, and deleting such a cart needs ``acknowledge_payment``.
    """
    with transaction.atomic():
        cart = _locked_cart(cart)
        if cart is None:
            return TransitionResult(None, False, message=_("This cart was already deleted."))
        if not rules.cart_allows("delete", cart):
            raise InvalidTransition(_("Ordered carts and carts in the middle of a payment cannot be deleted."))
        held = money_at_paypal(cart)
        if held is not None and not acknowledge_payment:
            raise PaymentHeldAtPayPal(payment_held_message(held))
        data = snapshot(cart)
        if held is not None:
            data["payment_at_paypal"] = {
                "paypal_order_id": held.paypal_order_id,
                "amount": str(held.captured_amount if held.captured_amount is not None else held.amount),
                "currency": held.captured_currency or held.currency,
                "capture_status": held.capture_status or "APPROVED",
            }
        log(instance=cart, action=LOG_DELETE, user=user, data=data, deleted=True)
        deleted, _detail = Cart.objects.filter(pk=cart.pk, status__in=rules.CART_ACTIONS["delete"]).delete()
        cart_id = data["cart_id"]
        _on_commit(lambda: signals.cart_deleted.send(sender=Cart, cart_id=cart_id, snapshot=data, user=user))
        return TransitionResult(None, bool(deleted), extra={"snapshot": data})


def payment_held_message(attempt):
    from wagtail_lockedcarts.money import format_money

    amount = attempt.captured_amount if attempt.captured_amount is not None else attempt.amount
    currency = attempt.captured_currency or attempt.currency
    if attempt.capture_status == "COMPLETED":
        text = _("PayPal holds %(amount)s for this cart (capture completed, PayPal order %(order)s).")
    elif attempt.capture_status == "PENDING":
        text = _("PayPal will hold %(amount)s for this cart (capture pending, PayPal order %(order)s).")
    else:
        text = _("The payer approved %(amount)s for this cart at PayPal (PayPal order %(order)s).")
    return text % {"amount": format_money(amount, currency), "order": attempt.paypal_order_id}


# --------------------------------------------------------------------------------------------
# orders


def _make_order(cart, status, user, action, expected, payment=None, override_reason="", log_data=None):
    """Turn the (row-locked) cart into its one order. Returns None if another path won.

    With a ``payment``, the order is made from what was sent to be paid (its snapshot of lines and
    total) and linked to it, never from the live cart. The compare-and-set comes first: only its
    winner inserts the order, and ``Order.cart`` / ``Order.payment`` being unique turns any path
    that slipped past both guards into an error, never a second order.
    """
    if not _compare_and_set(cart, expected, status=CartStatus.ORDERED, lock_reason="", locked_at=None):
        return None
    order = _create_order(
        payment=payment,
        cart=cart,
        status=status,
        user=user,
        override_reason=override_reason,
    )
    log(instance=cart, action=action, user=user, data={"order": order.pk, "order_status": status, **(log_data or {})})
    return order


def _create_order(payment, cart, status, user, override_reason=""):
    now = timezone.now()
    from_payment = payment is not None and bool(payment.paid_lines)
    if from_payment:
        lines = [
            OrderLine(
                product_key=line["product_key"],
                sku=line.get("sku", ""),
                title=line["title"],
                unit_price=Decimal(line["unit_price"]),
                quantity=int(line["quantity"]),
            )
            for line in payment.paid_lines
        ]
        total, currency = payment.amount, payment.currency
    else:
        lines = [
            OrderLine(
                product_key=line.product_key,
                sku=line.sku,
                title=line.title,
                unit_price=line.unit_price,
                quantity=line.quantity,
            )
            for line in cart.lines.all()
        ]
        total = cart.amount if cart.amount is not None else cart.compute_total()
        currency = cart.currency
    same_checkout = cart is not None and payment is not None and payment.paypal_order_id == cart.paypal_order_id
    order = Order.objects.create(
        cart=cart,
        cart_reference=cart.pk if cart is not None else payment.cart_reference,
        site_id=cart.site_id if cart is not None else payment.site_id,
        user_id=cart.user_id if cart is not None else None,
        payment=payment,
        status=status,
        total=total,
        currency=currency,
        customer_name=str(cart.customer_label if cart is not None else payment.customer_name)[:255],
        email=(cart.customer_email or cart.payer_email) if cart is not None else payment.customer_email,
        paypal_order_id=payment.paypal_order_id if payment is not None else cart.paypal_order_id,
        paypal_capture_id=(payment.capture_id if payment is not None else "")
        or (cart.paypal_capture_id if cart is not None and (payment is None or same_checkout) else ""),
        card_brand=(
            payment.card_brand if payment is not None and payment.card_last4 else cart.card_brand if cart else ""
        ),
        card_last4=(
            payment.card_last4 if payment is not None and payment.card_last4 else cart.card_last4 if cart else ""
        ),
        amount_override_reason=override_reason,
        submitted_at=now if status == OrderStatus.SUBMITTED else None,
    )
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    if payment is not None:
        PaymentAttempt.objects.filter(pk=payment.pk).update(has_order=True)
        payment.has_order = True
    log(
        instance=order,
        action=LOG_ORDER,
        user=user,
        data={
            "cart": order.cart_reference,
            "status": status,
            "from_paid_snapshot": from_payment,
            **({"override_reason": override_reason} if override_reason else {}),
        },
    )
    _on_commit(lambda: signals.order_created.send(sender=Order, order=order, cart=cart, user=user))
    if status == OrderStatus.SUBMITTED:
        _schedule_export(order)
    return order


def resolve_payment(attempt, user, resolution, note):
    """An admin resolves an unmatched payment, with a note: by creating the order from its paid
    snapshot, or by recording that it was refunded at PayPal (or otherwise settled)."""
    note = (note or "").strip()
    if not note:
        raise InvalidTransition(_("Say in a note how this payment was resolved."))
    if resolution not in PaymentResolution.values:
        raise InvalidTransition(_("Choose how this payment was resolved."))
    with transaction.atomic():
        attempt = PaymentAttempt.objects.select_for_update().filter(pk=attempt.pk).first()
        if attempt is None or not PaymentAttempt.objects.unmatched().filter(pk=attempt.pk).exists():
            raise InvalidTransition(_("This payment is not unmatched (any more)."))
        order = None
        if resolution == PaymentResolution.ORDERED:
            if not attempt.paid_lines:
                raise InvalidTransition(_("This payment has no snapshot of lines to make an order from."))
            captured = attempt.captured_amount
            differs = captured is not None and not amounts_match(
                captured, attempt.captured_currency or attempt.currency, attempt.amount, attempt.currency
            )
            status = OrderStatus.SUBMITTED if attempt.capture_status == "COMPLETED" else OrderStatus.ON_HOLD
            order = _create_order(attempt, None, status, user, override_reason=note if differs else "")
        PaymentAttempt.objects.filter(pk=attempt.pk).update(
            resolution=resolution, resolution_note=note, resolved_at=timezone.now(), resolved_by=user
        )
        attempt.refresh_from_db()
        log(
            instance=attempt,
            action=LOG_RESOLVE_PAYMENT,
            user=user,
            data={"resolution": resolution, "note": note, "order": order.pk if order else None},
        )
        return TransitionResult(None, True, order=order)


def _schedule_export(order):
    """Ask for the export once the submission commits. The queue subscribes to the signal
    (``background.tasks``), so the domain never imports it."""
    order_id = order.pk
    _on_commit(lambda: signals.order_submitted.send(sender=Order, order_id=order_id))


def release_order(order, user=None, reason="admin"):
    """on_hold → submitted (pending payment cleared, or an admin decided): export follows."""
    with transaction.atomic():
        won = Order.objects.filter(pk=order.pk, status__in=rules.ORDER_ACTIONS["release"]).update(
            status=OrderStatus.SUBMITTED, submitted_at=timezone.now()
        )
        if not won:
            current = Order.objects.filter(pk=order.pk).first()
            if current is None or rules.order_allows("release", current):
                raise InvalidTransition(_("This order no longer exists."))
            return TransitionResult(None, False, order=current, message=_("This order is not on hold."))
        order.refresh_from_db()
        log(instance=order, action=LOG_RELEASE, user=user, data={"reason": reason})
        _schedule_export(order)
        return TransitionResult(None, True, order=order)


def retry_export(order, user=None):
    """Queue the export again for a submitted order (the exporter must be idempotent)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order.pk).first()
        if order is None or not rules.order_allows("export", order):
            raise InvalidTransition(_("Only submitted orders can be exported again."))
        log(instance=order, action=LOG_EXPORT, user=user, data={"retry": True})
        _schedule_export(order)
        return TransitionResult(None, True, order=order)


def export_order(order_id):
    """Run the site's exporter for one submitted order; submitted → exported on success.

    On failure the order stays ``submitted`` with the error recorded, and the exception is
    re-raised so the task queue retries it.
    """
    from wagtail_lockedcarts.export import get_exporter

    order = Order.objects.filter(pk=order_id).first()
    if order is None or not rules.order_allows("export", order):
        return False
    Order.objects.filter(pk=order_id).update(export_attempts=models.F("export_attempts") + 1)
    try:
        get_exporter()(order)
    except Exception as error:
        Order.objects.filter(pk=order_id).update(last_export_error=f"{type(error).__name__}: {error}"[:500])
        logger.warning("Export of order %s failed: %s", order_id, error)
        raise
    with transaction.atomic():
        won = Order.objects.filter(pk=order_id, status__in=rules.ORDER_ACTIONS["export"]).update(
            status=OrderStatus.EXPORTED, exported_at=timezone.now(), last_export_error=""
        )
        if won:
            log(instance=order, action=LOG_EXPORT, user=None, data={"status": OrderStatus.EXPORTED})
    return bool(won)
