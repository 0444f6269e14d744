"""The statuses of carts and orders and why a cart is locked.

They live apart from the models so that :mod:`wagtail_lockedcarts.rules`, which says what each
status allows, and the models, which ask those rules, both import them without importing each
other.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CartStatus(models.TextChoices):
    OPEN = "open", _("Open")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    LOCKED = "locked", _("Locked")
    ORDERED = "ordered", _("Ordered")


class LockReason(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Pending payment")
    NO_RETURN = "no_return", _("No return from PayPal")
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount mismatch")
    SUPERSEDED_PAYMENT = "superseded_payment", _("Paid for an earlier checkout")


class OrderStatus(models.TextChoices):
    ON_HOLD = "on_hold", _("On hold")
    SUBMITTED = "submitted", _("Submitted")
    EXPORTED = "exported", _("Exported")
    #: PayPal took the money back (denied, declined, reversed or refunded) after the order existed.
    PAYMENT_REVERSED = "payment_reversed", _("Payment reversed")
