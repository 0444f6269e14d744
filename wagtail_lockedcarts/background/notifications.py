"""The daily notification e-mail: what needs an admin's attention on one site, once a local day.

**When.** The hourly task (see :mod:`wagtail_lockedcarts.background.schedules`) calls
:func:`send_due_daily_notifications`: for every site whose *Email System Messages* setting is on and whose
``notification_hour`` has come in the site's local day (``settings.TIME_ZONE``), it sends that day's
e-mail unless a :class:`~wagtail_lockedcarts.models.DailyNotificationRun` for ``(site, date)`` exists.

**Once.** The ``(site, date)`` row is claimed *before* sending, in its own transaction; the unique
constraint makes exactly one of several clusters, retries or threads win. If sending fails the
claim is deleted again, so the next run (django-q2's redelivery after ``retry``, or the next hour)
sends it. The e-mail is therefore sent at most once per site and day; the one window left is a
process killed after the SMTP server accepted the message and before the claim was marked sent
— the claim then stays, and nothing is sent twice.

**Catch-up.** After downtime only *today's* e-mail is sent, once: the lists show the current
state (everything still locked or on hold), so the missed days' e-mails would repeat today's
with older numbers. Missed dates are never claimed; ``lockedcarts_send_digest --date`` can still
send one by hand.

**Nothing to report.** No e-mail (``SEND_EMPTY_DAILY_NOTIFICATION`` changes that); the day is still claimed
(``recipients == 0``) so the check is made once, at the site's hour, like the e-mail would be.

**To whom.** ``LockedCartSettings.recipient_list``; when empty, the e-mail addresses of the active
superusers — the people who can act on every cart — so switching the setting on is enough to
start receiving it.

**What it lists.** Money problems first (unmatched payments, payments reversed after export;
only when there are any), then locked carts, checkouts without an answer from PayPal, orders on
hold and orders submitted but not confirmed. "Checkouts without an answer from PayPal" lists every
cart whose shopper went to PayPal and about which PayPal has said nothing definitive, and that
nobody has resolved: the carts the sweep locked for ``no_return`` *and* the stale checkouts it has
not locked yet. Counting only the second kind would make the section an alarm that is empty
whenever the worker runs (the sweep locks a stale checkout within minutes), and would say nothing
about the carts that need a look at PayPal for want of an answer — which persist until PayPal
answers or an admin acts. The locked ones therefore appear under both headings (each row says
"No return from PayPal" or "Not locked yet"); the subject counts them once, as locked carts, and
names only the checkouts not locked yet, the sign of a stopped or lagging worker. The sweep's rules
are untouched: it still locks what PayPal could not settle, and only PayPal's answer changes a
payment.

**Times.** Each row gives the clock time in the site's time zone with its abbreviation
("… 2:05 p.m. CET") and the age ("3 hours ago").

**Cost.** A fixed number of queries per site whatever the list sizes: two aggregates for the
counts, one query per list (capped at ``DAILY_NOTIFICATION_MAX_ITEMS`` with "and N more").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date as date_type

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.models import Site

from wagtail_lockedcarts import conf
from wagtail_lockedcarts.admin import display
from wagtail_lockedcarts.models import (
    Cart,
    CartStatus,
    DailyNotificationRun,
    LockedCartSettings,
    Order,
    OrderStatus,
    PaymentAttempt,
    not_confirmed_condition,
    of_site,
    stale_condition,
    unanswered_condition,
)
from wagtail_lockedcarts.money import format_money

logger = logging.getLogger("wagtail_lockedcarts")

TEMPLATE_SUBJECT = "wagtail_lockedcarts/emails/daily_notification_subject.txt"
TEMPLATE_TEXT = "wagtail_lockedcarts/emails/daily_notification.txt"
TEMPLATE_HTML = "wagtail_lockedcarts/emails/daily_notification.html"


class DeliveryStatus:
    SENT = "sent"
    EMPTY = "empty"  # nothing to report: day claimed, no e-mail
    DISABLED = "disabled"  # Email System Messages is off
    NOT_DUE = "not_due"  # before the site's hour
    ALREADY_CLAIMED = "already_claimed"  # sent (or being sent) by another run
    NO_RECIPIENTS = "no_recipients"
    FAILED = "failed"  # sending raised; the claim was released
    DRY_RUN = "dry_run"


class DeliveryError(Exception):
    """Raised by the task when a site's e-mail could not be sent (so django-q2 retries it)."""


# --------------------------------------------------------------------------------------------
# content


@dataclass
class NotificationItem:
    label: str
    url: str
    age: str
    total: str
    reason: str = ""
    detail: str = ""
    #: The clock time the age counts from, in the site's time zone with its abbreviation.
    when: str = ""


@dataclass
class NotificationSection:
    key: str
    title: str
    count: int
    items: list
    list_url: str
    summary: str
    #: One sentence under the title saying what the rows have in common and what to do.
    note: str = ""

    @property
    def more(self):
        return max(0, self.count - len(self.items))


@dataclass
class DailyNotification:
    site: Site
    date: date_type
    generated_at: object
    sections: list
    subject: str = ""
    text: str = ""
    html: str = ""

    @property
    def total(self):
        return sum(section.count for section in self.sections)

    @property
    def is_empty(self):
        return self.total == 0

    @property
    def counts(self):
        return {section.key: section.count for section in self.sections}


@dataclass
class DeliveryResult:
    site: Site
    date: date_type
    status: str
    recipients: list = field(default_factory=list)
    notification: DailyNotification | None = None
    error: str = ""


def local_now(now=None):
    """``now`` in the site's time zone (``settings.TIME_ZONE``), whatever zone is active."""
    return timezone.localtime(now or timezone.now(), timezone.get_default_timezone())


def _order_detail(order):
    if order.status == OrderStatus.SUBMITTED:
        return order.last_export_error or str(_("The export has not answered yet."))
    parts = [order.masked_card, order.paypal_order_id]
    cart = order.cart
    if cart is not None and (cart.paypal_status or cart.paypal_capture_status):
        parts.append(display.paypal_status_text(cart))
    return " · ".join(part for part in parts if part)


def _age(since, now):
    return timesince(since, now, depth=2) if since else ""


def clock_time(value):
    """``value`` as a clock time in the site's time zone, with the zone's abbreviation
    ("Nov. 29, 2026, 2:05 p.m. CET"): the e-mail is read away from the admin, where "3 hours
    ago" soon stops being true and a bare time leaves the zone to guess."""
    if not value:
        return ""
    local = local_now(value)
    return f"{date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


MONEY_SECTIONS = ("unmatched_payments", "reversed_after_export")


def build_daily_notification(site, now=None, date=None, site_settings=None):
    """Collect what needs attention on ``site`` right now (fixed number of queries).

    Labels are made in ``settings.LANGUAGE_CODE`` whatever language the caller has active
    (a worker, a cron job and an admin's request must produce the same e-mail).
    """
    with translation.override(settings.LANGUAGE_CODE):
        return _build_daily_notification(site, now, date, site_settings)


def _build_daily_notification(site, now, date, site_settings):
    now = now or timezone.now()
    date = date or local_now(now).date()
    site_settings = site_settings or LockedCartSettings.for_site(site)
    limit = max(0, int(conf.get("DAILY_NOTIFICATION_MAX_ITEMS")))

    # The status filters let the (site, status) index skip the ordered/open majority.
    carts = Cart.objects.filter(of_site(site), status__in=[CartStatus.LOCKED, CartStatus.AWAITING_PAYMENT])
    unanswered_q = unanswered_condition(now, site, site_settings)
    cart_counts = carts.aggregate(
        locked=models.Count("pk", filter=models.Q(status=CartStatus.LOCKED)),
        unanswered=models.Count("pk", filter=unanswered_q),
        not_locked_yet=models.Count("pk", filter=stale_condition(now, site, site_settings)),
    )
    orders = Order.objects.filter(of_site(site), status__in=[OrderStatus.ON_HOLD, OrderStatus.SUBMITTED])
    unconfirmed_q = not_confirmed_condition(now, site, site_settings)
    order_counts = orders.aggregate(
        on_hold=models.Count("pk", filter=models.Q(status=OrderStatus.ON_HOLD)),
        unconfirmed=models.Count("pk", filter=unconfirmed_q),
    )

    def cart_items(queryset, since_field, count, last_asked=False):
        """``last_asked`` adds when the shop last asked PayPal (the sweep asks again hourly), so
        a reader sees that an unanswered cart is being followed up, not forgotten."""
        if not count or not limit:
            return []
        # Frozen carts carry their checkout amount: no join over the lines is needed.
        rows = queryset.select_related("user").order_by(since_field, "pk")[:limit]
        return [
            NotificationItem(
                label=str(cart),
                url=display.cart_url("inspect", cart, absolute=True),
                age=_age(getattr(cart, since_field), now),
                when=clock_time(getattr(cart, since_field)),
                total=format_money(cart.total, cart.currency),
                reason=_cart_reason(cart),
                detail=" · ".join(
                    part
                    for part in (cart.masked_card, cart.paypal_order_id, _last_asked(cart) if last_asked else "")
                    if part
                ),
            )
            for cart in rows
        ]

    def order_items(queryset, since_field, count, reason=None):
        """Each row says why it is listed (``reason``, else the order's own payment problem) and
        what to check: card and PayPal order for an order on hold, the export's last error for one
        not confirmed."""
        if not count or not limit:
            return []
        rows = queryset.select_related("cart").order_by(since_field, "pk")[:limit]
        return [
            NotificationItem(
                label=" – ".join(part for part in (str(order), order.customer_name) if part),
                url=display.order_url("inspect", order, absolute=True),
                age=_age(getattr(order, since_field), now),
                when=clock_time(getattr(order, since_field)),
                total=format_money(order.total, order.currency),
                reason=str(reason or order.payment_problem),
                detail=_order_detail(order),
            )
            for order in rows
        ]

    unmatched_payments = PaymentAttempt.objects.unmatched().filter(of_site(site))
    unmatched = unmatched_payments.count()
    reversed_orders = Order.objects.filter(
        of_site(site), status=OrderStatus.PAYMENT_REVERSED, exported_before_problem=True
    )
    reversed_after_export = reversed_orders.count()

    def payment_items(queryset, count):
        if not count or not limit:
            return []
        return [
            NotificationItem(
                label=" – ".join(
                    part for part in (payment.paypal_order_id, payment.customer_name or payment.customer_email) if part
                ),
                url=display.resolve_payment_url(payment, absolute=True),
                age=_age(payment.updated_at, now),
                when=clock_time(payment.updated_at),
                total=format_money(
                    payment.captured_amount if payment.captured_amount is not None else payment.amount,
                    payment.captured_currency or payment.currency,
                ),
                reason=payment.capture_status,
            )
            for payment in queryset.order_by("pk")[:limit]
        ]

    locked, unanswered = cart_counts["locked"], cart_counts["unanswered"]
    not_locked_yet = cart_counts["not_locked_yet"]
    on_hold, unconfirmed = order_counts["on_hold"], order_counts["unconfirmed"]
    carts_list = display.cart_list_url(absolute=True)
    sections = [
        NotificationSection(
            key="unmatched_payments",
            title=_("Unmatched payments"),
            count=unmatched,
            items=payment_items(unmatched_payments, unmatched),
            list_url=display.unmatched_payments_url(absolute=True),
            summary=ngettext("%(count)s unmatched payment", "%(count)s unmatched payments", unmatched)
            % {"count": unmatched},
        ),
        NotificationSection(
            key="reversed_after_export",
            title=_("Payment reversed after export"),
            count=reversed_after_export,
            items=order_items(reversed_orders, "payment_problem_at", reversed_after_export),
            list_url=display.order_list_url("payment_reversed", absolute=True),
            summary=ngettext(
                "%(count)s order whose payment was reversed after export",
                "%(count)s orders whose payment was reversed after export",
                reversed_after_export,
            )
            % {"count": reversed_after_export},
        ),
        NotificationSection(
            key="locked",
            title=_("Locked carts"),
            count=locked,
            items=cart_items(carts.filter(status=CartStatus.LOCKED), "locked_at", locked),
            list_url=display.locked_carts_url(absolute=True),
            summary=ngettext("%(count)s locked cart", "%(count)s locked carts", locked) % {"count": locked},
        ),
        NotificationSection(
            key="stale",
            title=_("Checkouts without an answer from PayPal"),
            count=unanswered,
            items=cart_items(carts.filter(unanswered_q), "checkout_started_at", unanswered, last_asked=True),
            # All carts while some are not locked yet; else exactly the no-return locks.
            list_url=carts_list if not_locked_yet else display.no_return_carts_url(absolute=True),
            # The locked ones are counted once, as locked carts; the subject names only those the
            # sweep has not locked yet (a stopped or lagging worker).
            summary=ngettext(
                "%(count)s checkout without an answer", "%(count)s checkouts without an answer", not_locked_yet
            )
            % {"count": not_locked_yet}
            if not_locked_yet
            else "",
            note=_(
                "The shopper went to PayPal and PayPal has not said whether they paid. The checkout "
                "sweep locks these carts and asks PayPal again every hour; use Check PayPal now on "
                "the cart to decide sooner. A cart shown as not locked yet means the background "
                "worker has not run since its checkout timed out."
            ),
        ),
        NotificationSection(
            key="on_hold",
            title=_("Orders on hold"),
            count=on_hold,
            items=order_items(
                orders.filter(status=OrderStatus.ON_HOLD), "created_at", on_hold, _("Payment pending at PayPal")
            ),
            list_url=display.order_list_url("on_hold", absolute=True),
            summary=ngettext("%(count)s order on hold", "%(count)s orders on hold", on_hold) % {"count": on_hold},
        ),
        NotificationSection(
            key="not_confirmed",
            title=_("Orders submitted but not confirmed"),
            count=unconfirmed,
            items=order_items(orders.filter(unconfirmed_q), "submitted_at", unconfirmed, _("Export not acknowledged")),
            list_url=display.order_list_url("not_confirmed", absolute=True),
            summary=ngettext("%(count)s order not confirmed", "%(count)s orders not confirmed", unconfirmed)
            % {"count": unconfirmed},
        ),
    ]
    # Money problems are listed first, and only when there are any (never silent, never noise).
    sections = [section for section in sections if section.count or section.key not in MONEY_SECTIONS]
    return DailyNotification(site=site, date=date, generated_at=now, sections=sections)


def _last_asked(cart):
    if cart.paypal_checked_at:
        return str(_("PayPal last asked %(when)s") % {"when": clock_time(cart.paypal_checked_at)})
    return str(_("PayPal not asked yet"))


def _cart_reason(cart):
    if cart.lock_reason:
        return str(cart.get_lock_reason_display())
    if cart.status == CartStatus.AWAITING_PAYMENT:
        return str(_("Not locked yet"))
    return ""


def render_daily_notification(notification, site_settings=None):
    """Fill ``notification.subject``, ``.text`` and ``.html`` from the overridable templates."""
    with translation.override(settings.LANGUAGE_CODE):
        summary = ", ".join(
            str(section.summary) for section in notification.sections if section.count and section.summary
        )
        context = {
            "notification": notification,
            "digest": notification,  # what site templates written before the rename call it
            "site": notification.site,
            "site_name": notification.site.site_name or notification.site.hostname,
            "sections": notification.sections,
            "summary": summary,
            "date": date_format(notification.date, "DATE_FORMAT"),
            "generated_at": local_now(notification.generated_at),
            "generated_at_clock": clock_time(notification.generated_at),
            "admin_url": display.admin_home_url(absolute=True),
            "settings_url": display.settings_url(notification.site, absolute=True),
            "site_settings": site_settings,
        }
        subject = render_to_string(TEMPLATE_SUBJECT, context)
        notification.subject = " ".join(subject.split())
        notification.text = render_to_string(TEMPLATE_TEXT, context)
        notification.html = render_to_string(TEMPLATE_HTML, context)
    return notification


# --------------------------------------------------------------------------------------------
# sending


def recipients_for(site_settings):
    """The site's recipients, or the active superusers' addresses when none are set."""
    recipients = site_settings.recipient_list
    if recipients:
        return recipients
    User = get_user_model()
    email_field = User.get_email_field_name()
    addresses = (
        User._default_manager.filter(is_superuser=True, is_active=True)
        .exclude(**{email_field: ""})
        .order_by("pk")
        .values_list(email_field, flat=True)
    )
    return list(dict.fromkeys(address for address in addresses if address))


def _claim(site, date):
    """Insert the ``(site, date)`` row in its own transaction; None when someone else has it."""
    try:
        with transaction.atomic():
            return DailyNotificationRun.objects.create(site=site, date=date)
    except IntegrityError:
        return None


def _is_due(site_settings, date, now):
    local = local_now(now)
    if date < local.date():
        return True
    return date == local.date() and local.hour >= site_settings.notification_hour


def send_daily_notification(site, *, now=None, date=None, force=False, dry_run=False, connection=None):
    """Send one site's daily notification for ``date`` (default: today, local) if it is due and unclaimed.

    ``force`` sends even before the hour, when already sent and when there is nothing to report
    (operators testing their mail setup); the site's *Email System Messages* switch still
    applies. ``dry_run`` builds and renders the e-mail and returns it, claiming and sending
    nothing, whatever the switch, the hour or the claims say.
    """
    now = now or timezone.now()
    date = date or local_now(now).date()
    site_settings = LockedCartSettings.for_site(site)
    if dry_run:
        notification = render_daily_notification(
            build_daily_notification(site, now, date, site_settings), site_settings
        )
        return DeliveryResult(site, date, DeliveryStatus.DRY_RUN, recipients_for(site_settings), notification)
    if not site_settings.email_system_messages:
        return DeliveryResult(site, date, DeliveryStatus.DISABLED)
    if not force:
        if not _is_due(site_settings, date, now):
            return DeliveryResult(site, date, DeliveryStatus.NOT_DUE)
        if DailyNotificationRun.objects.filter(site=site, date=date).exists():
            return DeliveryResult(site, date, DeliveryStatus.ALREADY_CLAIMED)
    recipients = recipients_for(site_settings)
    if not recipients:
        logger.warning(
            "Daily notification for site %s not sent: no recipients and no active superuser with an e-mail address.",
            site,
        )
        return DeliveryResult(site, date, DeliveryStatus.NO_RECIPIENTS)

    claim = _claim(site, date)
    if claim is None and not force:
        return DeliveryResult(site, date, DeliveryStatus.ALREADY_CLAIMED)
    try:
        notification = build_daily_notification(site, now, date, site_settings)
        if notification.is_empty and not (force or conf.get("SEND_EMPTY_DAILY_NOTIFICATION")):
            DailyNotificationRun.objects.filter(pk=claim.pk).update(sent_at=timezone.now(), recipients=0)
            return DeliveryResult(site, date, DeliveryStatus.EMPTY, notification=notification)
        render_daily_notification(notification, site_settings)
        message = EmailMultiAlternatives(
            subject=notification.subject,
            body=notification.text,
            from_email=conf.get("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL,
            to=recipients,
            headers={"Auto-Submitted": "auto-generated"},
            connection=connection,
        )
        message.attach_alternative(notification.html, "text/html")
        message.send(fail_silently=False)
    except Exception as error:
        if claim is not None:
            DailyNotificationRun.objects.filter(pk=claim.pk).delete()
        logger.exception("Daily notification for site %s (%s) could not be sent", site, date)
        return DeliveryResult(site, date, DeliveryStatus.FAILED, recipients, error=f"{type(error).__name__}: {error}")
    DailyNotificationRun.objects.filter(site=site, date=date).update(sent_at=timezone.now(), recipients=len(recipients))
    return DeliveryResult(site, date, DeliveryStatus.SENT, recipients, notification)


def send_due_daily_notifications(now=None, sites=None):
    """Send every due, unclaimed daily notification (one per site); returns a list of results."""
    now = now or timezone.now()
    sites = Site.objects.order_by("pk") if sites is None else sites
    return [send_daily_notification(site, now=now) for site in sites]
