import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wagtail_lockedcarts.models.validators import currency_code_validator


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

    cart = models.ForeignKey("wagtail_lockedcarts.Cart", related_name="payment_attempts", on_delete=models.CASCADE)
    provider = models.CharField(_("provider"), max_length=20, default="paypal")
    paypal_order_id = models.CharField(_("PayPal order id"), max_length=64, null=True, blank=True, unique=True)
    request_id = models.UUIDField(_("create request id"), default=uuid.uuid4, editable=False)
    capture_request_id = models.UUIDField(_("capture request id"), default=uuid.uuid4, editable=False)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_code_validator])
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

    class Meta:
        verbose_name = _("payment attempt")
        verbose_name_plural = _("payment attempts")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.provider} {self.paypal_order_id or '—'} ({self.get_status_display()})"


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
