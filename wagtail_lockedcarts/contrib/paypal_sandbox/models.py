"""The sandbox's own state: what PayPal would keep on its side."""

from decimal import Decimal

from django.db import models

from wagtail_lockedcarts.money import PAYPAL_CURRENCIES


class SandboxToken(models.Model):
    token = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=128)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"token for {self.client_id}"


class OrderStatus(models.TextChoices):
    CREATED = "CREATED"
    PAYER_ACTION_REQUIRED = "PAYER_ACTION_REQUIRED"
    APPROVED = "APPROVED"
    COMPLETED = "COMPLETED"
    VOIDED = "VOIDED"


class Disposition(models.TextChoices):
    """What the payer chose on the approval page, i.e. what the capture will do."""

    NONE = "", "Not approved"
    COMPLETE = "complete", "Capture completes"
    PENDING = "pending", "Capture pending (eCheck)"
    # The capture call is refused with a 422; ``SandboxOrder.refusal`` names the issue.
    DECLINE_INSTRUMENT = "decline_instrument", "Capture refused (422)"
    DECLINE_CAPTURE = "decline_capture", "Capture created with status DECLINED"
    FAIL_CAPTURE = "fail_capture", "Capture created with status FAILED"


# The 422 issues PayPal's Orders v2 spec lists for a refused capture that the shop handles.
CAPTURE_REFUSALS = (
    "INSTRUMENT_DECLINED",
    "PAYER_ACTION_REQUIRED",
    "TRANSACTION_REFUSED",
    "PAYER_CANNOT_PAY",
    "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED",
)


class SandboxOrder(models.Model):
    id = models.CharField(primary_key=True, max_length=17)
    request_id = models.CharField(max_length=108, unique=True, null=True, blank=True)
    intent = models.CharField(max_length=16, default="CAPTURE")
    status = models.CharField(max_length=24, choices=OrderStatus.choices, default=OrderStatus.CREATED)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    reference_id = models.CharField(max_length=256, blank=True)
    custom_id = models.CharField(max_length=127, blank=True)
    invoice_id = models.CharField(max_length=127, blank=True)
    description = models.CharField(max_length=127, blank=True)
    brand_name = models.CharField(max_length=127, blank=True)
    return_url = models.TextField(blank=True)
    cancel_url = models.TextField(blank=True)
    legacy_context = models.BooleanField(default=False)

    payment_kind = models.CharField(max_length=8, blank=True)  # "paypal" or "card"
    payer_id = models.CharField(max_length=13, blank=True)
    payer_email = models.EmailField(blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)
    refusal = models.CharField(max_length=64, blank=True, default="INSTRUMENT_DECLINED")
    capture_amount_override = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    capture_id = models.CharField(max_length=17, blank=True)
    capture_request_id = models.CharField(max_length=108, blank=True)
    capture_status = models.CharField(max_length=20, blank=True)
    capture_reason = models.CharField(max_length=64, blank=True)
    captured_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)

    # An order that expired (never approved in time) is gone at PayPal: every lookup is a 404.
    expired = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.id} {self.status} {self.amount} {self.currency}"

    @property
    def display_amount(self):
        """The amount as PayPal writes it: ``1500`` JPY, ``12.50`` EUR."""
        places = PAYPAL_CURRENCIES.get(self.currency, 2)
        return f"{Decimal(self.amount).quantize(Decimal(1).scaleb(-places)):f}"

    @property
    def refunded_amount(self):
        return sum((refund.amount for refund in self.refunds.all()), 0)

    @property
    def refundable_amount(self):
        if self.capture_status not in ("COMPLETED", "PARTIALLY_REFUNDED") or self.captured_amount is None:
            return 0
        return self.captured_amount - self.refunded_amount


class SandboxRefund(models.Model):
    """A refund of the order's capture: by the merchant (``refund``) or by PayPal (``reversal``)."""

    class Kind(models.TextChoices):
        REFUND = "refund"
        REVERSAL = "reversal"

    id = models.CharField(primary_key=True, max_length=17)
    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="refunds")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REFUND)
    request_id = models.CharField(max_length=108, unique=True, null=True, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    invoice_id = models.CharField(max_length=127, blank=True)
    note_to_payer = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.kind} {self.id} of {self.amount} {self.order.currency}"


class SandboxControl(models.Model):
    """Fault injection for the next API calls (a single row, pk=1)."""

    fail_next = models.PositiveIntegerField(default=0)
    fail_status = models.PositiveIntegerField(default=500)
    delay_next = models.PositiveIntegerField(default=0)
    delay_seconds = models.FloatField(default=0)
    # Only API calls whose path contains this text are affected ("" = every API call).
    path_contains = models.CharField(max_length=100, blank=True)

    def __str__(self):
        return f"fail next {self.fail_next} ({self.fail_status}), delay next {self.delay_next} by {self.delay_seconds}s"


class SandboxWebhook(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued"
        DELIVERED = "delivered"
        FAILED = "failed"

    event_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=64)
    order = models.ForeignKey(SandboxOrder, null=True, on_delete=models.SET_NULL, related_name="webhooks")
    body = models.TextField()
    cert_url = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.event_type} {self.event_id} ({self.state})"
