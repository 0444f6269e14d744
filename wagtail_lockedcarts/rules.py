"""The business rules, each written once: which action fits which state, which statuses are
frozen, what an admin may edit, the quantity limits and the audit-log action names.

Permissions, lifecycle guards, reconciliation, model properties and views ask this module, so
changing a rule means changing one line here. It holds data and small predicates only: no
queries, no side effects.
"""

from wagtail_lockedcarts.models.payments import MONEY_HELD_CAPTURE_STATUSES
from wagtail_lockedcarts.models.states import CartStatus, LockReason, OrderStatus

# --------------------------------------------------------------------------------------------
# carts

#: Statuses in which the cart's lines and amount are frozen for a payment (a checkout began).
FROZEN = (CartStatus.AWAITING_PAYMENT, CartStatus.LOCKED)

#: The only status in which the shopper may change lines or start a checkout.
EDITABLE = (CartStatus.OPEN,)

#: Lock reasons that only an admin's decision ends: no payment answer reopens or orders them.
ADMIN_DECISION_REASONS = (LockReason.AMOUNT_MISMATCH, LockReason.SUPERSEDED_PAYMENT)

#: Lock reasons PayPal's definitive "declined"/"cancelled" may end by reopening the cart.
REOPENABLE_REASONS = (LockReason.NO_RETURN, LockReason.PENDING_PAYMENT)

#: Which cart states each action fits, whoever asks. An action missing here fits every state.
CART_ACTIONS = {
    "confirm": (CartStatus.LOCKED,),
    "unlock": (CartStatus.LOCKED,),
    "delete": (CartStatus.OPEN, CartStatus.LOCKED),
    "change": EDITABLE,
    "check": FROZEN,
    "add": (),
}

#: Actions that also need a PayPal order to talk about.
CART_ACTIONS_NEEDING_PAYPAL = ("check",)

#: The customer fields an admin may correct on an open cart; everything else belongs to lifecycle.
CUSTOMER_FIELDS = ("customer_name", "customer_email")

#: The most of one product a cart line may hold.
MAX_LINE_QUANTITY = 999


def cart_allows(action, cart):
    """Whether ``action`` fits ``cart``'s current state."""
    if action not in CART_ACTIONS:
        return True
    if action in CART_ACTIONS_NEEDING_PAYPAL and not cart.paypal_order_id:
        return False
    return cart.status in CART_ACTIONS[action]


def is_frozen(cart):
    return cart.status in FROZEN


def is_editable(cart):
    return cart.status in EDITABLE


def needs_admin_decision(cart):
    return cart.status == CartStatus.LOCKED and cart.lock_reason in ADMIN_DECISION_REASONS


def payment_failure_reopens(cart):
    """A definitive decline/cancel reopens a cart still waiting, or locked only for lack of an answer."""
    return cart.status == CartStatus.AWAITING_PAYMENT or (
        cart.status == CartStatus.LOCKED and cart.lock_reason in REOPENABLE_REASONS
    )


# --------------------------------------------------------------------------------------------
# payments

#: PayPal holds (or will hold) the payer's money: such a payment is never dropped silently.
MONEY_HELD = MONEY_HELD_CAPTURE_STATUSES

#: PayPal order statuses after which a capture may still arrive (the payer approved).
MAY_STILL_BE_CAPTURED = ("APPROVED",)

#: PayPal order statuses in which the payer's cancel is definitive: no money can have moved.
#: Anything else (approved, completed, or no answer at all) goes through reconciliation instead.
CANCELLABLE_PAYPAL_STATUSES = ("CREATED", "SAVED", "PAYER_ACTION_REQUIRED", "VOIDED")

#: Capture statuses meaning the money did not arrive or went back to the payer: an order made
#: from such a payment must not ship.
MONEY_TAKEN_BACK = ("DECLINED", "FAILED", "REFUNDED", "REVERSED")

#: Order states a payment taken back moves to ``payment_reversed``.
ORDERS_FOLLOWING_PAYMENT = (OrderStatus.ON_HOLD, OrderStatus.SUBMITTED, OrderStatus.EXPORTED)


# --------------------------------------------------------------------------------------------
# orders

#: Which order states each action fits. Orders are never added, edited or deleted in the admin.
ORDER_ACTIONS = {
    "release": (OrderStatus.ON_HOLD,),
    "export": (OrderStatus.SUBMITTED,),
    "add": (),
    "change": (),
    "delete": (),
}


def order_allows(action, order):
    """Whether ``action`` fits ``order``'s current state."""
    if action not in ORDER_ACTIONS:
        return True
    return order.status in ORDER_ACTIONS[action]


# --------------------------------------------------------------------------------------------
# audit-log action names (registered with labels in admin/log_actions.py)

LOG_LOCK = "wagtail_lockedcarts.lock"
LOG_UNLOCK = "wagtail_lockedcarts.unlock"
LOG_CONFIRM = "wagtail_lockedcarts.confirm"
LOG_DELETE = "wagtail_lockedcarts.delete"
LOG_RECONCILE = "wagtail_lockedcarts.reconcile"
LOG_CHECKOUT = "wagtail_lockedcarts.checkout"
LOG_ORDER = "wagtail_lockedcarts.order"
LOG_RELEASE = "wagtail_lockedcarts.release"
LOG_EXPORT = "wagtail_lockedcarts.export"
LOG_PAYMENT_REVERSED = "wagtail_lockedcarts.payment_reversed"
LOG_RESOLVE_PAYMENT = "wagtail_lockedcarts.resolve_payment"
