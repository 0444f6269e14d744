from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_lockedcarts.models.sites import of_site
from wagtail_lockedcarts.models.states import OrderStatus
from wagtail_lockedcarts.models.validators import (
    card_constraints,
    currency_code_validator,
    validate_card_brand,
    validate_last4,
)


def not_confirmed_condition(now=None, site=None, site_settings=None):
    """``Q`` for "not confirmed": submitted longer ago than the site's ``not_confirmed_grace_hours``.

    Per site (one settings read each; sites are few), or for ``site`` alone. Orders without a
    site use the default site's grace period.
    """
    from wagtail.models import Site

    from wagtail_lockedcarts.models.settings import LockedCartSettings

    now = now or timezone.now()
    pairs = (
        [(site, site_settings or LockedCartSettings.for_site(site))]
        if site is not None
        else [(each, LockedCartSettings.for_site(each)) for each in Site.objects.all()]
    )
    condition = Q(pk__in=[])
    for each, each_settings in pairs:
        condition |= of_site(each) & Q(submitted_at__lt=now - timedelta(hours=each_settings.not_confirmed_grace_hours))
    return condition & Q(status=OrderStatus.SUBMITTED)


class OrderQuerySet(models.QuerySet):
    def not_confirmed(self, now=None, site=None, *, older_than=None):
        """Submitted to export but not acknowledged within the site's grace period (or, with
        ``older_than``, before that moment whatever the site)."""
        if older_than is not None:
            return self.filter(status=OrderStatus.SUBMITTED, submitted_at__lt=older_than)
        return self.filter(not_confirmed_condition(now, site))

    def search(self, term):
        """Orders by number, whole PayPal id, whole e-mail address, or any part of the customer's
        name or e-mail: the same rules as :meth:`CartQuerySet.search`, each arm served by its
        own index."""
        from wagtail_lockedcarts.models.carts import EMAIL_SHAPE, PAYPAL_ID_SHAPE

        term = (term or "").strip()
        if not term:
            return self
        exact = models.Q(pk=int(term)) if term.isdigit() and len(term) < 19 else models.Q(pk__in=[])
        if PAYPAL_ID_SHAPE.fullmatch(term):
            value = term.upper()
            return self.filter(exact | models.Q(paypal_order_id=value) | models.Q(paypal_capture_id=value))
        if EMAIL_SHAPE.fullmatch(term):
            return self.filter(exact | models.Q(email__iexact=term))
        base = Order._default_manager.order_by()
        arms = [base.filter(**{f"{name}__icontains": term}).values("pk") for name in ORDER_SEARCH_FIELDS]
        return self.filter(exact | models.Q(pk__in=arms[0].union(*arms[1:])))


#: Order columns searched by substring (trigram-indexed on PostgreSQL).
ORDER_SEARCH_FIELDS = ("customer_name", "email")


class Order(models.Model):
    """An order made from exactly one cart (``cart`` is unique: a second order cannot exist)."""

    cart = models.OneToOneField(
        "wagtail_lockedcarts.Cart",
        verbose_name=_("cart"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order",
    )
    cart_reference = models.PositiveBigIntegerField(_("cart number"), null=True, blank=True)
    site = models.ForeignKey("wagtailcore.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lockedcarts_orders",
    )
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_code_validator])
    customer_name = models.CharField(_("customer name"), max_length=255, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    paypal_order_id = models.CharField(_("PayPal order id"), max_length=64, blank=True)
    paypal_capture_id = models.CharField(_("PayPal capture id"), max_length=64, blank=True)
    card_brand = models.CharField(_("card brand"), max_length=20, blank=True, validators=[validate_card_brand])
    card_last4 = models.CharField(_("card last 4"), max_length=4, blank=True, validators=[validate_last4])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)
    payment = models.OneToOneField(
        "wagtail_lockedcarts.PaymentAttempt",
        verbose_name=_("payment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order",
    )
    amount_override_reason = models.TextField(
        _("amount difference accepted because"),
        blank=True,
        help_text=_("Given by the admin who confirmed an order whose total differs from what PayPal captured."),
    )
    payment_problem = models.CharField(_("payment problem"), max_length=64, blank=True)
    payment_problem_at = models.DateTimeField(_("payment problem at"), null=True, blank=True)
    exported_before_problem = models.BooleanField(_("exported before the payment was reversed"), default=False)
    export_attempts = models.PositiveIntegerField(_("export attempts"), default=0)
    last_export_error = models.CharField(_("last export error"), max_length=500, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]
        permissions = [
            ("release_order", _("Can release an order on hold")),
            ("export_order", _("Can retry an order export")),
        ]
        indexes = [
            models.Index(fields=["status", "submitted_at"], name="lockedcarts_order_status"),
            # The Orders listing's default order (newest first), walked backwards.
            models.Index(fields=["created_at", "id"], name="lockedcarts_order_list"),
            models.Index(fields=["paypal_order_id"], name="lockedcarts_order_paypal"),
            models.Index(fields=["paypal_capture_id"], name="lockedcarts_order_capture"),
            models.Index(fields=["site", "status"], name="lockedcarts_order_site"),
        ]
        constraints = [*card_constraints("lockedcarts_order")]

    def __str__(self):
        return _("Order %(number)s") % {"number": self.number}

    @property
    def number(self):
        return self.pk

    @property
    def masked_card(self):
        if not self.card_last4:
            return ""
        return f"{(self.card_brand or '').title()} ••••{self.card_last4}".strip()


class OrderLine(models.Model):
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    product_key = models.CharField(_("product"), max_length=255)
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=255)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.quantity} × {self.title}"

    @property
    def line_total(self):
        return (self.unit_price * self.quantity).quantize(Decimal("0.01"))
