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
from wagtail_lockedcarts.exceptions import CartNotEditable, EmptyCart, InvalidTransition
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
    PendingPaymentPolicy,
)
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
    LOG_RECONCILE,
    LOG_RELEASE,
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
    won = Cart.objects.filter(pk=cart.pk, status__in=expected).update(version=models.F("version") + 1, **changes)
    if won:
        for name, value in changes.items():
            setattr(cart, name, value)
        cart.version += 1
    return bool(won)


def _on_commit(func):
    transaction.on_commit(func)


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
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())


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
        attempt = PaymentAttempt.objects.create(cart=cart, amount=amount, currency=cart.currency)
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
}


def apply_payment_result(cart, result: PaymentResult, user=None):
    """Apply what PayPal said to the cart it belongs to. Idempotent and order-independent.

    completed → ordered (order created once; an amount/currency differing from the cart locks
    with ``amount_mismatch`` instead); pending → the site's policy (lock, or order on hold);
    declined / cancelled → open again; unknown → unchanged.
    """
    with transaction.atomic():
        cart = _locked_cart(cart)
        if cart is None:
            return TransitionResult(None, False, message=_("The cart no longer exists."))
        _record_paypal_facts(cart, result)
        attempt_status = _ATTEMPT_STATUS.get(result.outcome)
        if attempt_status:
            PaymentAttempt.objects.filter(paypal_order_id=result.paypal_order_id).update(
                status=attempt_status, status_reason=result.status_reason[:64], updated_at=timezone.now()
            )
        current = cart.paypal_order_id == result.paypal_order_id
        if result.outcome == PaymentOutcome.COMPLETED:
            outcome = _on_completed(cart, result, current, user)
        elif result.outcome == PaymentOutcome.PENDING:
            outcome = _on_pending(cart, result, current, user)
        elif result.outcome in (PaymentOutcome.DECLINED, PaymentOutcome.CANCELLED):
            outcome = _on_failed(cart, result, current, user)
        else:
            outcome = TransitionResult(cart, False, order=_existing_order(cart))
        return outcome


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
    order = _make_order(cart, OrderStatus.SUBMITTED, user=user, action=LOG_RECONCILE, expected=rules.FROZEN)
    return TransitionResult(cart, order is not None, order=order or _existing_order(cart))


def _on_pending(cart, result, current, user):
    if not current or cart.status == CartStatus.ORDERED:
        return TransitionResult(cart, False, order=_existing_order(cart))
    if result.amount is not None and not _amount_matches(cart, result):
        return _lock(cart, [CartStatus.AWAITING_PAYMENT, CartStatus.LOCKED], LockReason.AMOUNT_MISMATCH, user, result)
    policy = settings_for(cart).pending_payment_policy
    if policy == PendingPaymentPolicy.HOLD and cart.status == CartStatus.AWAITING_PAYMENT:
        order = _make_order(
            cart, OrderStatus.ON_HOLD, user=user, action=LOG_RECONCILE, expected=[CartStatus.AWAITING_PAYMENT]
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


def confirm_order(cart, user=None):
    """Admin *Confirm Order*: locked → ordered and submitted to export.

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
        order = _make_order(
            cart, OrderStatus.SUBMITTED, user=user, action=LOG_CONFIRM, expected=rules.CART_ACTIONS["confirm"]
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


def delete_cart(cart, user=None):
    """Admin *Delete Cart*: the row goes, a snapshot stays in the audit log (written first)."""
    with transaction.atomic():
        cart = _locked_cart(cart)
        if cart is None:
            return TransitionResult(None, False, message=_("This cart was already deleted."))
        if not rules.cart_allows("delete", cart):
            raise InvalidTransition(_("Ordered carts and carts in the middle of a payment cannot be deleted."))
        data = snapshot(cart)
        log(instance=cart, action=LOG_DELETE, user=user, data=data, deleted=True)
        deleted, _detail = Cart.objects.filter(pk=cart.pk, status__in=rules.CART_ACTIONS["delete"]).delete()
        cart_id = data["cart_id"]
        _on_commit(lambda: signals.cart_deleted.send(sender=Cart, cart_id=cart_id, snapshot=data, user=user))
        return TransitionResult(None, bool(deleted), extra={"snapshot": data})


# --------------------------------------------------------------------------------------------
# orders


def _make_order(cart, status, user, action, expected):
    """Turn the (row-locked) cart into its one order. Returns None if another path won.

    The compare-and-set comes first: only its winner inserts the order, and ``Order.cart`` being
    unique turns any path that slipped past both guards into an error, never a second order.
    """
    if not _compare_and_set(cart, expected, status=CartStatus.ORDERED, lock_reason="", locked_at=None):
        return None
    now = timezone.now()
    order = Order.objects.create(
        cart=cart,
        cart_reference=cart.pk,
        site_id=cart.site_id,
        user_id=cart.user_id,
        status=status,
        total=cart.amount if cart.amount is not None else cart.compute_total(),
        currency=cart.currency,
        customer_name=str(cart.customer_label)[:255],
        email=cart.customer_email or cart.payer_email,
        paypal_order_id=cart.paypal_order_id,
        paypal_capture_id=cart.paypal_capture_id,
        card_brand=cart.card_brand,
        card_last4=cart.card_last4,
        submitted_at=now if status == OrderStatus.SUBMITTED else None,
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product_key=line.product_key,
                sku=line.sku,
                title=line.title,
                unit_price=line.unit_price,
                quantity=line.quantity,
            )
            for line in cart.lines.all()
        ]
    )
    log(instance=cart, action=action, user=user, data={"order": order.pk, "order_status": status})
    log(instance=order, action=LOG_ORDER, user=user, data={"cart": cart.pk, "status": status})
    _on_commit(lambda: signals.order_created.send(sender=Order, order=order, cart=cart, user=user))
    if status == OrderStatus.SUBMITTED:
        _schedule_export(order)
    return order


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
