from wagtail_lockedcarts.models.carts import (
    LOCK_REASON_IN_SENTENCE,
    STATUS_IN_SENTENCE,
    Cart,
    CartLine,
    CartQuerySet,
    CartStatus,
    LockReason,
    attach_line_totals,
    stale_condition,
    unanswered_condition,
)
from wagtail_lockedcarts.models.notifications import DailyNotificationRun
from wagtail_lockedcarts.models.orders import Order, OrderLine, OrderQuerySet, OrderStatus, not_confirmed_condition
from wagtail_lockedcarts.models.payments import (
    MONEY_HELD_CAPTURE_STATUSES,
    PaymentAttempt,
    PaymentAttemptStatus,
    PaymentEvent,
    PaymentResolution,
    WebhookEvent,
)
from wagtail_lockedcarts.models.settings import LockedCartSettings, PendingPaymentPolicy
from wagtail_lockedcarts.models.sites import of_site
from wagtail_lockedcarts.models.transmissions import WebhookTransmission

__all__ = [
    "Cart",
    "CartLine",
    "CartQuerySet",
    "attach_line_totals",
    "CartStatus",
    "LockReason",
    "LOCK_REASON_IN_SENTENCE",
    "STATUS_IN_SENTENCE",
    "Order",
    "OrderLine",
    "OrderQuerySet",
    "OrderStatus",
    "not_confirmed_condition",
    "stale_condition",
    "unanswered_condition",
    "PaymentAttempt",
    "PaymentAttemptStatus",
    "PaymentEvent",
    "PaymentResolution",
    "MONEY_HELD_CAPTURE_STATUSES",
    "WebhookEvent",
    "WebhookTransmission",
    "DailyNotificationRun",
    "LockedCartSettings",
    "PendingPaymentPolicy",
    "of_site",
]
