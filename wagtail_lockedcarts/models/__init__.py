from .carts import LOCK_REASON_IN_SENTENCE, STATUS_IN_SENTENCE, Cart, CartLine, CartQuerySet, CartStatus, LockReason
from .orders import Order, OrderLine, OrderStatus
from .payments import PaymentAttempt, PaymentAttemptStatus, WebhookEvent
from .notifications import DigestRun
from .settings import LockedCartSettings, PendingPaymentPolicy
from .sites import of_site

__all__ = [
    "Cart",
    "CartLine",
    "CartQuerySet",
    "CartStatus",
    "LockReason",
    "LOCK_REASON_IN_SENTENCE",
    "STATUS_IN_SENTENCE",
    "Order",
    "OrderLine",
    "OrderStatus",
    "PaymentAttempt",
    "PaymentAttemptStatus",
    "WebhookEvent",
    "DigestRun",
    "LockedCartSettings",
    "PendingPaymentPolicy",
    "of_site",
]
