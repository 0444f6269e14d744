import re
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wagtail_lockedcarts.models.sites import of_site
from wagtail_lockedcarts.models.states import CartStatus, LockReason
from wagtail_lockedcarts.models.validators import (
    card_constraints,
    currency_code_validator,
    validate_card_brand,
    validate_last4,
)

#: The same labels inside a sentence ("Cart locked: pending payment"): separate msgids, so each
#: language decides its own capitalisation instead of code lower-casing a translation.
STATUS_IN_SENTENCE = {
    CartStatus.OPEN: pgettext_lazy("in a sentence", "open"),
    CartStatus.AWAITING_PAYMENT: pgettext_lazy("in a sentence", "awaiting payment"),
    CartStatus.LOCKED: pgettext_lazy("in a sentence", "locked"),
    CartStatus.ORDERED: pgettext_lazy("in a sentence", "ordered"),
}
LOCK_REASON_IN_SENTENCE = {
    LockReason.PENDING_PAYMENT: pgettext_lazy("in a sentence", "pending payment"),
    LockReason.NO_RETURN: pgettext_lazy("in a sentence", "no return from PayPal"),
    LockReason.AMOUNT_MISMATCH: pgettext_lazy("in a sentence", "amount mismatch"),
    LockReason.SUPERSEDED_PAYMENT: pgettext_lazy("in a sentence", "paid for an earlier checkout"),
}


class NullsLastIndex(models.Index):
    """An index with ``DESC NULLS LAST`` keys (the listing's "never-locked carts last").

    SQLite cannot declare ``NULLS LAST`` in an index, and needs not: there ``DESC`` already puts
    NULLs last. Elsewhere the keys are created without the modifier, same columns and order.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = [
            models.OrderBy(e.expression, descending=e.descending) if isinstance(e, models.OrderBy) else e
            for e in self.expressions
        ]
        return models.Index(*plain, name=self.name, condition=self.condition).create_sql(
            model, schema_editor, using=using, **kwargs
        )


def attach_line_totals(carts):
    """Set ``lines_total`` on each of ``carts`` (a listing's page) with one grouped query.

    A listing computes line totals for the rows it shows, not in the SQL that sorts and pages
    the whole table: there a correlated subquery would run for every cart before the LIMIT.
    """
    carts = list(carts)
    ids = [cart.pk for cart in carts]
    totals = {}
    if ids:
        money = models.DecimalField(max_digits=14, decimal_places=2)
        totals = dict(
            CartLine.objects.filter(cart_id__in=ids)
            .order_by()
            .values("cart_id")
            .annotate(total=Sum(F("unit_price") * F("quantity"), output_field=money))
            .values_list("cart_id", "total")
        )
    for cart in carts:
        cart.lines_total = totals.get(cart.pk) or Decimal("0")
    return carts


MONEY = models.DecimalField(max_digits=14, decimal_places=2)


def stored_total_expression(**new):
    """What ``Cart.stored_total`` holds, as SQL for an ``UPDATE`` of the cart row: the frozen
    checkout ``amount`` once checkout began, else the sum of the lines (the same rule as
    :attr:`Cart.total`).

    ``new`` holds the ``status`` and/or ``amount`` the same ``UPDATE`` writes: its ``SET`` clauses
    see the row as it was, so the new values must be put into the expression, not read back.
    """
    line_sum = (
        CartLine.objects.filter(cart=models.OuterRef("pk"))
        .order_by()
        .values("cart")
        .annotate(sum=Sum(F("unit_price") * F("quantity"), output_field=MONEY))
        .values("sum")
    )
    lines = Coalesce(models.Subquery(line_sum, output_field=MONEY), models.Value(Decimal("0")), output_field=MONEY)
    if "status" in new:
        if new["status"] == CartStatus.OPEN:
            return lines
        frozen = Q()
    else:
        frozen = ~Q(status=CartStatus.OPEN)
    if "amount" in new:
        if new["amount"] is None:
            return lines
        amount = models.Value(Decimal(new["amount"]), output_field=MONEY)
    else:
        amount, frozen = F("amount"), frozen & Q(amount__isnull=False)
    if not frozen:
        return amount
    return models.Case(models.When(frozen, then=amount), default=lines, output_field=MONEY)


class CartQuerySet(models.QuerySet):
    def active(self):
        """Carts a shopper can still see as theirs: anything not yet turned into an order."""
        return self.exclude(status=CartStatus.ORDERED)

    def locked(self):
        return self.filter(status=CartStatus.LOCKED)

    def with_totals(self):
        """Annotate line totals in SQL so listings cost one query whatever the page size."""
        return self.annotate(
            lines_total=Sum(models.F("lines__unit_price") * models.F("lines__quantity")),
            line_count=Count("lines"),
        )

    def stale(self, now=None, site=None, site_settings=None):
        """Checkouts awaiting payment for longer than their site's ``checkout_timeout_minutes``."""
        return self.filter(stale_condition(now, site, site_settings))

    def unanswered(self, now=None, site=None, site_settings=None):
        """Checkouts PayPal has given no definitive answer about and nobody has resolved: locked
        for "no return", or still awaiting payment past the timeout (see
        :func:`unanswered_condition`)."""
        return self.filter(unanswered_condition(now, site, site_settings))

    def awaiting_paypal_decision(self, now=None):
        """Locked carts whose lock PayPal's answer can still end (``rules.REOPENABLE_REASONS``)
        and that nobody asked PayPal about, nor locked, within ``LOCKED_RECHECK_MINUTES``: the
        sweep asks again."""
        from wagtail_lockedcarts import conf, rules

        now = now or timezone.now()
        asked_before = now - timedelta(minutes=int(conf.get("LOCKED_RECHECK_MINUTES")))
        return self.filter(
            Q(paypal_checked_at__isnull=True) | Q(paypal_checked_at__lt=asked_before),
            status=CartStatus.LOCKED,
            lock_reason__in=rules.REOPENABLE_REASONS,
            locked_at__lt=asked_before,
        ).exclude(paypal_order_id="")

    def for_admin(self):
        """Carts as exports and the modeladmin list them: the customer's user joined, the live
        ``lines_total`` of each row (one query whatever the page size) and ``sort_total``, the
        stored total (:attr:`Cart.stored_total`) that the ``lockedcarts_list_total`` index sorts."""
        line_sum = (
            CartLine.objects.filter(cart=models.OuterRef("pk"))
            .order_by()
            .values("cart")
            .annotate(sum=models.Sum(models.F("unit_price") * models.F("quantity"), output_field=MONEY))
            .values("sum")
        )
        lines_total = Coalesce(
            models.Subquery(line_sum, output_field=MONEY), models.Value(Decimal("0")), output_field=MONEY
        )
        return self.select_related("user").annotate(lines_total=lines_total, sort_total=F("stored_total"))

    def search(self, term):
        """Carts matching an admin's search ``term``.

        * digits only: also the cart number;
        * shaped like a PayPal id (letters and digits, at least one digit, no spaces or "@"):
          only a whole order/capture id, through their b-tree indexes — an admin pastes those
          whole, and a substring match on them would read every cart;
        * a whole e-mail address: that address (in any case) on the cart, as the payer's, or on
          the customer's user record, through b-tree indexes (migration 0009) — a pasted address
          shares its common trigrams ("@example.com") with most carts, so the substring search
          would read a posting list as long as the shop's history;
        * anything else: any part of the customer's name or e-mail on the cart, the payer's
          e-mail, or the first, last or full name or e-mail of the customer's user record.

        The substring arms are combined with ``UNION`` rather than ``OR``: on PostgreSQL each arm
        is served by its own ``pg_trgm`` GIN index (migration 0005), whereas one ``OR`` across the
        joined user table can only be answered by reading every cart.
        """
        term = (term or "").strip()
        if not term:
            return self
        exact = Q(pk=int(term)) if term.isdigit() and len(term) < 19 else Q(pk__in=[])
        if PAYPAL_ID_SHAPE.fullmatch(term):
            value = term.upper()
            return self.filter(exact | Q(paypal_order_id=value) | Q(paypal_capture_id=value))
        base = Cart._default_manager.order_by()
        if EMAIL_SHAPE.fullmatch(term):
            arms = [base.filter(**{f"{name}__iexact": term}).values("pk") for name in CART_EMAIL_FIELDS]
        else:
            arms = [base.filter(**{f"{name}__icontains": term}).values("pk") for name in CART_SEARCH_FIELDS]
        users = user_search_queryset(term)
        if users is not None:
            arms.append(base.filter(user__in=users).values("pk"))
        return self.filter(exact | Q(pk__in=arms[0].union(*arms[1:])))


def _sites_with_settings(site=None, site_settings=None):
    from wagtail.models import Site

    from wagtail_lockedcarts.models.settings import LockedCartSettings

    if site is not None:
        return [(site, site_settings or LockedCartSettings.for_site(site))]
    return [(each, LockedCartSettings.for_site(each)) for each in Site.objects.all()]


def stale_condition(now=None, site=None, site_settings=None):
    """``Q`` for "stale checkout": awaiting payment longer than the site's checkout timeout.

    Per site (one settings read each; sites are few), or for ``site`` alone.
    """
    now = now or timezone.now()
    condition = Q(pk__in=[])
    for each, each_settings in _sites_with_settings(site, site_settings):
        cutoff = now - timedelta(minutes=each_settings.checkout_timeout_minutes)
        condition |= of_site(each) & Q(checkout_started_at__lt=cutoff)
    return condition & Q(status=CartStatus.AWAITING_PAYMENT)


def unanswered_condition(now=None, site=None, site_settings=None):
    """``Q`` for "checkout without an answer from PayPal": the shopper left for PayPal and PayPal
    has not said whether they paid — carts the sweep locked for ``no_return`` (a definitive
    answer would have reopened, ordered or re-locked them) and stale checkouts the sweep has not
    locked yet (a stopped or lagging worker)."""
    locked = Q(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN)
    if site is not None:
        locked &= of_site(site)
    return stale_condition(now, site, site_settings) | locked


#: Cart columns searched by substring (trigram-indexed on PostgreSQL).
CART_SEARCH_FIELDS = ("customer_name", "customer_email", "payer_email")
#: Cart columns a whole e-mail address is looked up in (b-tree indexed on PostgreSQL).
CART_EMAIL_FIELDS = ("customer_email", "payer_email")
#: Searched by whole value only (PayPal ids are upper-case letters and digits).
EXACT_SEARCH_FIELDS = ("paypal_order_id", "paypal_capture_id")
PAYPAL_ID_SHAPE = re.compile(r"(?=.*\d)[A-Za-z0-9-]{8,64}")
#: A whole e-mail address: something, one "@", a domain with a dot; no spaces.
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def user_name_fields():
    """The user model's name and e-mail columns that exist (a custom user model may lack some)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    names = {field.name for field in User._meta.get_fields()}
    email = User.get_email_field_name()
    return [name for name in ("first_name", "last_name", email) if name in names]


def user_full_name():
    """``first_name || ' ' || last_name`` as an expression; the same expression is indexed."""
    return Concat(F("first_name"), models.Value(" "), F("last_name"), output_field=models.CharField())


def user_search_queryset(term):
    """Ids of users whose first, last or full name or e-mail contains ``term`` (or whose e-mail is
    ``term``, a whole address); a UNION of one indexable arm per column (see
    :meth:`CartQuerySet.search`)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    fields = user_name_fields()
    if not fields:
        return None
    base = User._default_manager.order_by()
    if EMAIL_SHAPE.fullmatch(term):
        email = User.get_email_field_name()
        return base.filter(**{f"{email}__iexact": term}).values("pk") if email in fields else None
    arms = [base.filter(**{f"{name}__icontains": term}).values("pk") for name in fields]
    if {"first_name", "last_name"} <= set(fields) and " " in term:
        arms.append(
            base.alias(lockedcarts_full_name=user_full_name())
            .filter(lockedcarts_full_name__icontains=term)
            .values("pk")
        )
    return arms[0].union(*arms[1:])


class Cart(models.Model):
    """A shopper's cart. Its ``status`` is written only by :mod:`wagtail_lockedcarts.lifecycle`."""

    site = models.ForeignKey(
        "wagtailcore.Site",
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # the (site, status) index serves every lookup by site
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lockedcarts_carts",
    )
    session_key = models.CharField(_("session key"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=CartStatus.choices, default=CartStatus.OPEN)
    lock_reason = models.CharField(_("lock reason"), max_length=20, choices=LockReason.choices, blank=True)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_code_validator], default="EUR")
    amount = models.DecimalField(
        _("amount at checkout"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The total sent to PayPal when checkout began."),
    )
    checkout_started_at = models.DateTimeField(_("checkout started at"), null=True, blank=True)
    stored_total = models.DecimalField(
        _("total"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        editable=False,
    )
    paypal_order_id = models.CharField(_("PayPal order id"), max_length=64, blank=True)
    paypal_capture_id = models.CharField(_("PayPal capture id"), max_length=64, blank=True)
    paypal_status = models.CharField(_("PayPal order status"), max_length=32, blank=True)
    paypal_capture_status = models.CharField(_("PayPal capture status"), max_length=32, blank=True)
    paypal_status_reason = models.CharField(_("PayPal status reason"), max_length=64, blank=True)
    paypal_checked_at = models.DateTimeField(_("PayPal last checked at"), null=True, blank=True)
    card_brand = models.CharField(_("card brand"), max_length=20, blank=True, validators=[validate_card_brand])
    card_last4 = models.CharField(_("card last 4"), max_length=4, blank=True, validators=[validate_last4])
    payer_email = models.EmailField(_("payer e-mail"), blank=True)
    customer_name = models.CharField(_("customer name"), max_length=255, blank=True)
    customer_email = models.EmailField(_("customer e-mail"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(default=0, editable=False)

    objects = CartQuerySet.as_manager()

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        ordering = ["-created_at"]
        # delete_cart is Django's default delete permission; these two are our own.
        permissions = [
            ("confirm_cart", _("Can confirm a locked cart as an order")),
            ("unlock_cart", _("Can unlock a locked cart")),
        ]
        indexes = [
            # Listing orders (Cart Management): each sort an index walks, so a page costs the same
            # at 10k and 1M carts. The tie-breaker id runs in the same direction as the sort key.
            NullsLastIndex(
                F("status"), F("locked_at").desc(nulls_last=True), F("id").desc(), name="lockedcarts_status_locked"
            ),
            NullsLastIndex(F("locked_at").desc(nulls_last=True), F("id").desc(), name="lockedcarts_list_locked"),
            models.Index(fields=["locked_at", "id"], name="lockedcarts_list_locked_asc"),
            models.Index(fields=["status", "id"], name="lockedcarts_list_status"),
            models.Index(fields=["customer_name", "id"], name="lockedcarts_list_customer"),
            # Sort by Total, both directions (a backward walk for descending).
            models.Index(fields=["stored_total", "id"], name="lockedcarts_list_total"),
            models.Index(fields=["status", "checkout_started_at"], name="lockedcarts_status_ckout"),
            models.Index(fields=["site", "status"], name="lockedcarts_site_status"),
            # The storefront's lookup on every request that uses the cart: newest active cart.
            models.Index(
                fields=["user", "-created_at"], condition=~Q(status="ordered"), name="lockedcarts_user_active"
            ),
            models.Index(
                fields=["session_key", "-created_at"],
                condition=~Q(status="ordered"),
                name="lockedcarts_session_active",
            ),
            models.Index(fields=["paypal_order_id"], name="lockedcarts_paypal_order"),
            models.Index(fields=["paypal_capture_id"], name="lockedcarts_paypal_capture"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[c.value for c in CartStatus]),
                name="lockedcarts_cart_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="locked") | ~Q(lock_reason=""),
                name="lockedcarts_locked_has_reason",
            ),
            *card_constraints("lockedcarts_cart"),
        ]

    def __str__(self):
        return _("Cart %(pk)s – %(customer)s") % {"pk": self.pk, "customer": self.customer_label}

    @property
    def customer_label(self):
        if self.customer_name:
            return self.customer_name
        if self.user_id and self.user:
            return self.user.get_full_name() or self.user.get_username()
        return self.customer_email or self.payer_email or _("Guest")

    @property
    def state_in_sentence(self):
        """ "locked – pending payment", for messages that mention the cart's state mid-sentence."""
        state = str(STATUS_IN_SENTENCE.get(self.status, self.status))
        if self.status == CartStatus.LOCKED and self.lock_reason:
            state = f"{state} – {LOCK_REASON_IN_SENTENCE.get(self.lock_reason, self.lock_reason)}"
        return state

    @property
    def is_editable(self):
        from wagtail_lockedcarts import rules

        return rules.is_editable(self)

    @property
    def is_locked(self):
        return self.status == CartStatus.LOCKED

    @property
    def masked_card(self):
        """Brand and last four digits, the most a PCI-compliant screen may show."""
        if not self.card_last4:
            return ""
        return f"{(self.card_brand or '').title()} ••••{self.card_last4}".strip()

    def compute_total(self):
        lines = getattr(self, "_prefetched_objects_cache", {}).get("lines")
        if lines is not None:
            return sum((line.line_total for line in lines), Decimal("0.00"))
        total = self.lines.aggregate(total=Sum(models.F("unit_price") * models.F("quantity")))["total"]
        return (total or Decimal("0")).quantize(Decimal("0.01"))

    @property
    def total(self):
        """The frozen checkout amount once checkout began, otherwise the live line total."""
        if self.amount is not None and self.status != CartStatus.OPEN:
            return self.amount
        annotated = getattr(self, "lines_total", None)
        if annotated is not None:
            return annotated.quantize(Decimal("0.01"))
        return self.compute_total()


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, related_name="lines", on_delete=models.CASCADE)
    product_key = models.CharField(_("product"), max_length=255)
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=255)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product_key"], name="lockedcarts_line_once"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="lockedcarts_line_qty"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.title}"

    @property
    def line_total(self):
        return (self.unit_price * self.quantity).quantize(Decimal("0.01"))
