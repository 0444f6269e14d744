import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wagtail_lockedcarts.models.validators import (
    card_constraints,
    currency_code_validator,
    validate_card_brand,
    validate_last4,
)

#: PayPal capture statuses meaning PayPal holds (or will hold) the payer's money.
MONEY_HELD_CAPTURE_STATUSES = ("COMPLETED", "PENDING")
#: Money-held payments no order accounts for and no admin has resolved: the only rows
#: ``unmatched()`` must look at, indexed so the dashboard does not grow with the shop's history.
UNMATCHED_CANDIDATES = Q(capture_status__in=MONEY_HELD_CAPTURE_STATUSES, has_order=False, resolution="")


class PaymentResolution(models.TextChoices):
    ORDERED = "ordered", _("Order created from the paid snapshot")
    REFUNDED = "refunded", _("Refunded at PayPal")
    OTHER = "other", _("Resolved otherwise (see note)")


class PaymentAttemptQuerySet(models.QuerySet):
    def money_held(self):
        """PayPal holds the payer's money (capture completed) or will (capture pending)."""
        return self.filter(capture_status__in=MONEY_HELD_CAPTURE_STATUSES)

    def unmatched(self):
        """Payments PayPal holds money for that no order accounts for and whose cart is gone or
        has moved on to another checkout, until an admin resolves them."""
        return self.filter(
            UNMATCHED_CANDIDATES,
            Q(cart__isnull=True) | ~Q(cart__paypal_order_id=models.F("paypal_order_id")),
        )


class PaymentAttemptStatus(models.TextChoices):
    CREATED = "created", _("Created")
    APPROVED = "approved", _("Approved")
    COMPLETED = "completed", _("Completed")
    PENDING = "pending", _("Pending")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", pgettext_lazy("payment", "Cancelled")
    FAILED = "failed", _("Failed to start")
    UNKNOWN = "unknown", _("Unknown")


class PaymentAttempt(models.Model):
    """One trip to PayPal. Holds the idempotency keys so retries never pay or capture twice."""

    # SET_NULL: the record of a payment outlives its cart (a deleted cart's money is still there).
    cart = models.ForeignKey(
        "wagtail_lockedcarts.Cart",
        related_name="payment_attempts",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    cart_reference = models.PositiveBigIntegerField(_("cart number"), null=True, blank=True)
    site = models.ForeignKey("wagtailcore.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    provider = models.CharField(_("provider"), max_length=20, default="paypal")
    paypal_order_id = models.CharField(_("PayPal order id"), max_length=64, null=True, blank=True, unique=True)
    request_id = models.UUIDField(_("create request id"), default=uuid.uuid4, editable=False)
    capture_request_id = models.UUIDField(_("capture request id"), default=uuid.uuid4, editable=False)
    amount = models.DecimalField(_("amount sent to PayPal"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_code_validator])
    paid_lines = models.JSONField(
        _("lines at checkout"),
        default=list,
        blank=True,
        help_text=_("The snapshot of the cart's lines sent to be paid; never changed afterwards."),
    )
    customer_name = models.CharField(_("customer name"), max_length=255, blank=True)
    customer_email = models.EmailField(_("customer e-mail"), blank=True)
    captured_amount = models.DecimalField(_("amount PayPal captured"), max_digits=12, decimal_places=2, null=True)
    captured_currency = models.CharField(_("captured currency"), max_length=3, blank=True)
    capture_id = models.CharField(_("PayPal capture id"), max_length=64, blank=True)
    capture_status = models.CharField(_("PayPal capture status"), max_length=32, blank=True)
    card_brand = models.CharField(_("card brand"), max_length=20, blank=True, validators=[validate_card_brand])
    card_last4 = models.CharField(_("card last 4"), max_length=4, blank=True, validators=[validate_last4])
    #: Set by lifecycle in the transaction that makes an order from this payment, so
    #: ``unmatched()`` reads the few money-held payments without an order (a partial index)
    #: instead of anti-joining every payment ever taken against every order.
    has_order = models.BooleanField(_("has an order"), default=False, editable=False)
    resolution = models.CharField(_("resolution"), max_length=20, choices=PaymentResolution.choices, blank=True)
    resolution_note = models.TextField(_("resolution note"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PaymentAttemptStatus.choices,
        default=PaymentAttemptStatus.CREATED,
    )
    status_reason = models.CharField(_("status reason"), max_length=64, blank=True)
    approve_url = models.URLField(_("approval URL"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PaymentAttemptQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment attempt")
        verbose_name_plural = _("payment attempts")
        ordering = ["-created_at"]
        permissions = [("resolve_payment", _("Can resolve an unmatched payment"))]
        indexes = [
            models.Index(fields=["capture_status"], name="lockedcarts_attempt_capture"),
            models.Index(fields=["id"], name="lockedcarts_attempt_no_order", condition=UNMATCHED_CANDIDATES),
        ]
        constraints = [*card_constraints("lockedcarts_attempt")]

    def __str__(self):
        return f"{self.provider} {self.paypal_order_id or '—'} ({self.get_status_display()})"

    @property
    def money_held(self):
        return self.capture_status in MONEY_HELD_CAPTURE_STATUSES

    @property
    def masked_card(self):
        if not self.card_last4:
            return ""
        return f"{(self.card_brand or '').title()} ••••{self.card_last4}".strip()


class PaymentEvent(models.Model):
    """One change in what PayPal reported about a payment: the attempt's history, append-only."""

    attempt = models.ForeignKey(PaymentAttempt, related_name="events", on_delete=models.CASCADE)
    at = models.DateTimeField(_("at"), auto_now_add=True)
    order_status = models.CharField(_("PayPal order status"), max_length=32, blank=True)
    capture_status = models.CharField(_("PayPal capture status"), max_length=32, blank=True)
    capture_id = models.CharField(_("PayPal capture id"), max_length=64, blank=True)
    amount = models.DecimalField(_("captured amount"), max_digits=12, decimal_places=2, null=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    reason = models.CharField(_("reason"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.order_status}/{self.capture_status} {self.amount or ''} {self.currency}".strip()


class WebhookEvent(models.Model):
    """A received webhook, stored only to drop re-deliveries (no payload: it carries PII)."""

    provider = models.CharField(max_length=20, default="paypal")
    event_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=64, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="lockedcarts_webhook_event_once")]

    def __str__(self):
        return f"{self.provider}:{self.event_id}"
