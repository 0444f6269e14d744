from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, ObjectList, TabbedInterface
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting


class PendingPaymentPolicy(models.TextChoices):
    LOCK = "lock", _("Never process pending payments — lock the cart")
    HOLD = "hold", _("Process as an order on hold")


def split_recipients(value):
    return [part.strip() for part in (value or "").replace(";", ",").replace("\n", ",").split(",") if part.strip()]


def validate_recipients(value):
    for address in split_recipients(value):
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                _("%(address)s is not a valid e-mail address."),
                code="invalid_recipient",
                params={"address": address},
            ) from None


@register_setting(icon="lock")
class LockedCartSettings(BaseSiteSetting):
    """Per-site policy. Credentials never live here: they come from Django settings/environment."""

    email_system_messages = models.BooleanField(
        _("Email System Messages"),
        default=False,
        help_text=_("Send a daily notification e-mail listing locked carts and orders that need attention."),
    )
    email_recipients = models.TextField(
        _("recipients"),
        blank=True,
        validators=[validate_recipients],
        help_text=_("E-mail addresses, separated by commas or new lines. Empty: the site's superusers."),
    )
    notification_hour = models.PositiveSmallIntegerField(
        _("hour of the daily notification"),
        default=8,
        validators=[MaxValueValidator(23)],
        help_text=_("Local time (the site's TIME_ZONE), 0–23."),
    )
    pending_payment_policy = models.CharField(
        _("pending payments"),
        max_length=10,
        choices=PendingPaymentPolicy.choices,
        default=PendingPaymentPolicy.LOCK,
    )
    checkout_timeout_minutes = models.PositiveIntegerField(
        _("minutes before an unanswered checkout locks"),
        default=60,
        validators=[MinValueValidator(1)],
    )
    reconcile_with_paypal = models.BooleanField(
        _("reconcile with PayPal"),
        default=True,
        help_text=_("Ask PayPal for the outcome before locking an unanswered checkout."),
    )
    not_confirmed_grace_hours = models.PositiveIntegerField(
        _("hours before a submitted order counts as not confirmed"),
        default=24,
        validators=[MinValueValidator(1)],
    )

    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    FieldPanel("email_system_messages"),
                    FieldPanel("email_recipients"),
                    FieldPanel("notification_hour"),
                ],
                heading=_("Emails"),
            ),
            ObjectList(
                [
                    FieldPanel("pending_payment_policy"),
                    FieldPanel("checkout_timeout_minutes"),
                    FieldPanel("reconcile_with_paypal"),
                    FieldPanel("not_confirmed_grace_hours"),
                ],
                heading=_("Payments"),
            ),
        ]
    )

    class Meta:
        verbose_name = _("Locked carts")

    @property
    def recipient_list(self):
        return split_recipients(self.email_recipients)
