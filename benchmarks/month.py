"""A month of checkouts: how many carts still need a person, and proof that no money is lost.

The support article this product replaces makes every shopper who does not come back from PayPal,
and every pending payment, a person's job. This simulation plays ``N`` shoppers through a month
with the real parts: the storefront views over HTTP, the PayPal client against the offline sandbox,
signed webhook deliveries, the checkout sweep and the daily notification as the scheduled tasks
call them, and an admin who works through *Locked Carts* once a day. Time is simulated with
``time-machine`` (every thread sees the simulated clock), so a month runs in minutes.

Run it with ``make month`` (``--shoppers``, ``--seed``; the outcome mix and failure rates are
the :class:`Mix` fields). ``tests/test_month.py`` runs a few hundred shoppers with a fixed seed on
PostgreSQL and asserts that every money invariant is exactly zero.
"""

from __future__ import annotations

import heapq
import itertools
import random
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

#: PayPal gives up on a webhook delivery after this many failed attempts.
WEBHOOK_ATTEMPTS = 25

#: What a shopper does at PayPal, with the approval page's button for it.
OUTCOMES = {
    "pays_and_returns": "Pay",
    "pays_and_closes_window": "Pay and close the window (never return)",
    "abandons_at_paypal": None,
    "cancels": "Cancel and return",
    "declined": "Decline",
    "echeck_settles": "Pay – pending (eCheck)",
    "echeck_fails": "Pay – pending (eCheck)",
    "pays_then_refunded": "Pay",
}


@dataclass
class Mix:
    """The month's shoppers and failures. Rates of :data:`OUTCOMES` add up to 1."""

    pays_and_returns: float = 0.62
    pays_and_closes_window: float = 0.08
    abandons_at_paypal: float = 0.10
    cancels: float = 0.08
    declined: float = 0.04
    echeck_settles: float = 0.04
    echeck_fails: float = 0.01
    pays_then_refunded: float = 0.03
    #: a webhook delivery that never arrives
    lost_webhook_rate: float = 0.05
    #: PayPal outages in the month, each lasting between the two bounds (minutes)
    outages: int = 3
    outage_minutes: tuple = (10, 240)
    #: days on which no qcluster runs (no sweep, no daily notification, no export)
    qcluster_down_days: int = 1
    #: shoppers whose payment is pending and who come back to shop meanwhile
    keeps_shopping_while_pending: float = 0.5
    #: shoppers holding a frozen cart who, while PayPal cannot be reached, press cancel (PayPal's
    #: "Cancel and return" in a tab left open, or *Cancel this payment* on the cart page)
    cancels_while_paypal_unreachable: float = 0.5
    #: eCheck settles (or fails) this many days after the payment
    echeck_days: tuple = (3, 5)
    refund_days: tuple = (1, 10)
    #: an order nobody approved disappears at PayPal after this many hours (an assumption:
    #: PayPal states no exact lifetime in the Orders v2 specification)
    unapproved_order_expires_hours: float = 3
    sweep_every_minutes: int = 10
    admin_works_at_hour: int = 9

    def outcome_rates(self):
        return {name: getattr(self, name) for name in OUTCOMES}


@dataclass
class Report:
    shoppers: int
    seed: int
    days: int
    mix: dict
    checkouts: int = 0
    outcomes: Counter = field(default_factory=Counter)
    needed_a_person: Counter = field(default_factory=Counter)
    article_rule: Counter = field(default_factory=Counter)
    waits_hours: list = field(default_factory=list)
    per_day_product: Counter = field(default_factory=Counter)
    per_day_article: Counter = field(default_factory=Counter)
    emails_per_site_day: Counter = field(default_factory=Counter)
    invariants: dict = field(default_factory=dict)
    lost_webhooks: int = 0
    reversed_after_export: int = 0
    webhook_answers: Counter = field(default_factory=Counter)
    outage_minutes: int = 0
    cancels_while_unreachable: int = 0
    seconds: float = 0.0
    seconds_in: Counter = field(default_factory=Counter)

    @property
    def needed(self):
        return sum(self.needed_a_person.values())

    @property
    def article(self):
        return sum(self.article_rule.values())

    def summary(self):
        ratio = self.needed / self.article if self.article else 0.0
        waits = sorted(self.waits_hours)
        emails = list(self.emails_per_site_day.values())
        return {
            "shoppers": self.shoppers,
            "checkouts": self.checkouts,
            "needed_a_person": self.needed,
            "article_rule": self.article,
            "ratio": round(ratio, 4),
            "by_reason": dict(self.needed_a_person),
            "article_by_reason": dict(self.article_rule),
            "wait_hours_median": round(statistics.median(waits), 1) if waits else None,
            "wait_hours_max": round(waits[-1], 1) if waits else None,
            "daily_emails_max_per_site_day": max(emails) if emails else 0,
            "days_with_email": len(emails),
            "invariants": self.invariants,
            "lost_webhooks": self.lost_webhooks,
            "orders_reversed_after_export": self.reversed_after_export,
            "webhook_answers": {str(status): count for status, count in self.webhook_answers.items()},
            "outage_minutes": self.outage_minutes,
            "cancels_while_unreachable": self.cancels_while_unreachable,
            "seconds": round(self.seconds, 1),
            "seconds_in": {name: round(value, 1) for name, value in self.seconds_in.most_common()},
        }


class Month:
    """One simulated month. ``sandbox`` is a :class:`tests.fixtures_paypal.SandboxHelper` bound
    to a live server of the example site; ``clock`` a started ``time_machine.travel``."""

    START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)

    def __init__(self, sandbox, products, clock, *, shoppers=10_000, seed=1, days=30, mix=None, start=None):
        self.sandbox, self.products, self.clock = sandbox, products, clock
        self.mix = mix or Mix()
        self.rng = random.Random(seed)
        self.days = days
        self.start = start or self.START
        self.end = self.start + timedelta(days=days)
        self.report = Report(shoppers=shoppers, seed=seed, days=days, mix=asdict(self.mix))
        self.queue, self.seq = [], itertools.count()
        self.now = self.start
        self.outage_until = None
        self.outages = []
        self.tabs = {}
        self.down_days = set()
        self.retry_at = {}

    # ---- the event loop ------------------------------------------------------------------

    def at(self, when, action, *args):
        heapq.heappush(self.queue, (when, next(self.seq), action, args))

    def run(self):
        from django.contrib.auth import get_user_model

        started = time.monotonic()
        self.admin, _created = get_user_model().objects.get_or_create(
            username="month-admin", defaults={"email": "shop-admin@example.com", "is_superuser": True, "is_staff": True}
        )
        rates = self.mix.outcome_rates()
        names, weights = list(rates), list(rates.values())
        for _ in range(self.report.shoppers):
            when = self.start + timedelta(seconds=self.rng.uniform(0, self.days * 86400))
            self.at(when, self.shopper_arrives, self.rng.choices(names, weights)[0])
        for _ in range(self.mix.outages):
            when = self.start + timedelta(seconds=self.rng.uniform(0, self.days * 86400))
            self.at(when, self.outage_begins, self.rng.uniform(*self.mix.outage_minutes))
        candidates = range(1, max(self.days - 1, 1))
        self.down_days = set(self.rng.sample(candidates, min(self.mix.qcluster_down_days, len(candidates))))
        tail = timedelta(days=max(self.mix.echeck_days[1], self.mix.refund_days[1]) + 2)
        tick = timedelta(minutes=self.mix.sweep_every_minutes)
        t = self.start
        while t <= self.end + tail:
            self.at(t, self.tick)
            t += tick
        while self.queue:
            when, _seq, action, args = heapq.heappop(self.queue)
            self.move_to(when)
            began = time.monotonic()
            action(*args)
            self.report.seconds_in[action.__name__] += time.monotonic() - began
        self.report.invariants = self.invariants()
        self.report.reversed_after_export = reversed_after_export()
        self.report.seconds = time.monotonic() - started
        return self.report

    def move_to(self, when):
        if when > self.now:
            self.now = when
            self.clock.move_to(when)

    def qcluster_up(self):
        return (self.now - self.start).days not in self.down_days

    def paypal_down(self):
        return self.outage_until is not None and self.now < self.outage_until

    # ---- PayPal's side -------------------------------------------------------------------

    def outage_begins(self, minutes):
        self.outage_until = self.now + timedelta(minutes=minutes)
        self.outages.append((self.now, self.outage_until))
        self.report.outage_minutes += int(minutes)
        self.sandbox.set_faults(fail_next=10**9, fail_status=503)
        self.at(self.outage_until, self.outage_ends)
        for order_id in self.frozen_tabs():
            if self.rng.random() < self.mix.cancels_while_paypal_unreachable:
                self.at(self.now + timedelta(minutes=self.rng.uniform(1, minutes * 0.9)), self.press_cancel, order_id)

    def outage_ends(self):
        if self.outage_until and self.now >= self.outage_until:
            self.outage_until = None
            self.sandbox.set_faults()

    def deliver_webhooks(self):
        """PayPal sends what is queued; a few deliveries are lost for good."""
        from wagtail_lockedcarts.contrib.paypal_sandbox.models import SandboxWebhook
        from wagtail_lockedcarts.contrib.paypal_sandbox.webhooks import deliver

        if self.paypal_down():
            return
        pending = SandboxWebhook.objects.exclude(state=SandboxWebhook.State.DELIVERED).order_by("pk")
        for webhook in pending:
            if self.retry_at.get(webhook.pk, self.now) > self.now:
                continue
            lost = webhook.attempts == 0 and self.rng.random() < self.mix.lost_webhook_rate
            if lost or webhook.attempts >= WEBHOOK_ATTEMPTS:
                SandboxWebhook.objects.filter(pk=webhook.pk).update(state=SandboxWebhook.State.DELIVERED)
                self.report.lost_webhooks += 1
                continue
            status = deliver(webhook)
            self.report.webhook_answers[status] += 1
            # PayPal retries a failed delivery with a growing delay, up to 25 times in about 3 days.
            self.retry_at[webhook.pk] = self.now + timedelta(minutes=min(2**webhook.attempts, 360))

    def settle_later(self, order_id, fails):
        days = self.rng.uniform(*self.mix.echeck_days)
        self.at(self.now + timedelta(days=days), self.settle, order_id, fails)

    def settle(self, order_id, fails):
        if self.paypal_down():
            self.at(self.outage_until + timedelta(minutes=1), self.settle, order_id, fails)
            return
        if fails:
            self.sandbox.decline_pending(order_id, event="PAYMENT.CAPTURE.DENIED")
        else:
            self.sandbox.settle(order_id)

    def expire(self, order_id):
        if self.paypal_down():
            self.at(self.outage_until + timedelta(minutes=1), self.expire, order_id)
            return
        self.sandbox.expire(order_id)

    def refund(self, order_id):
        if self.paypal_down():
            self.at(self.outage_until + timedelta(minutes=1), self.refund, order_id)
            return
        self.sandbox.refund(order_id)

    # ---- the shopper ---------------------------------------------------------------------

    def shopper_arrives(self, outcome, shopper=None, again=False):
        from django.urls import reverse

        shopper = shopper or self.sandbox.shopper()
        for product in self.rng.sample(self.products, self.rng.randint(1, min(3, len(self.products)))):
            response = shopper.post(
                reverse("wagtail_lockedcarts:add_line"),
                {"product": product.cart_key, "quantity": self.rng.randint(1, 3)},
            )
            if response.status_code != 302:
                return  # the cart is frozen (an earlier payment): the shop said so
        response = shopper.checkout()
        location = response.headers.get("Location", "")
        if response.status_code != 302 or "/paypal-sandbox/" not in location:
            if not again:  # PayPal could not be reached: the shopper tries once more later
                self.at(self.now + timedelta(minutes=30), self.retry_checkout, outcome, shopper)
            return
        self.report.checkouts += 1
        self.report.outcomes[outcome] += 1
        shopper.approve_url = location
        order_id = location.split("token=")[1].split("&")[0]
        self.tabs[order_id] = shopper
        button = OUTCOMES[outcome]
        returned = False
        if button is not None:
            response = self.sandbox.approve(location, button, session=shopper.session)
            back = response.headers.get("Location", "")
            if response.status_code == 302 and back:
                result = shopper.get(back)
                returned = result.status_code < 500 and not self.paypal_down()
        if outcome in ("echeck_settles", "echeck_fails"):
            self.settle_later(order_id, fails=outcome == "echeck_fails")
            self.count_article("pending")
            if self.rng.random() < self.mix.keeps_shopping_while_pending:
                self.at(self.now + timedelta(hours=1), self.shopper_arrives, "pays_and_returns", shopper, True)
        elif outcome == "abandons_at_paypal":
            self.at(self.now + timedelta(hours=self.mix.unapproved_order_expires_hours), self.expire, order_id)
        elif outcome == "pays_then_refunded":
            self.at(self.now + timedelta(days=self.rng.uniform(*self.mix.refund_days)), self.refund, order_id)
        if not returned and outcome not in ("echeck_settles", "echeck_fails"):
            self.count_article("no_return")

    def retry_checkout(self, outcome, shopper):
        self.shopper_arrives(outcome, shopper, again=True)

    def frozen_tabs(self):
        """PayPal orders whose shopper still holds a frozen cart for them (the rest are forgotten)."""
        from wagtail_lockedcarts.models import Cart
        from wagtail_lockedcarts.rules import FROZEN

        frozen = set(
            Cart.objects.filter(paypal_order_id__in=list(self.tabs), status__in=FROZEN).values_list(
                "paypal_order_id", flat=True
            )
        )
        self.tabs = {order_id: shopper for order_id, shopper in self.tabs.items() if order_id in frozen}
        return sorted(frozen)

    def press_cancel(self, order_id):
        """The shopper gives up while PayPal cannot be reached: PayPal's cancel redirect (a GET to
        the shop's cancel URL). The shop must not take "unreachable" for "cancelled"."""
        from django.urls import reverse

        shopper = self.tabs.get(order_id)
        if shopper is None or not self.paypal_down():
            return
        self.report.cancels_while_unreachable += 1
        shopper.get(f"{reverse('wagtail_lockedcarts:paypal_cancel')}?token={order_id}")

    def count_article(self, reason):
        self.report.article_rule[reason] += 1
        self.report.per_day_article[(self.now - self.start).days] += 1

    # ---- the shop's background work and its admin ----------------------------------------

    def tick(self):
        from wagtail_lockedcarts.background.notifications import send_due_daily_notifications
        from wagtail_lockedcarts.background.sweeps import sweep_checkouts

        self.deliver_webhooks()
        if self.qcluster_up():
            if self.sweep_has_work():
                sweep_checkouts()
            if self.now.minute < self.mix.sweep_every_minutes:
                before = self._outbox_size()
                send_due_daily_notifications()
                if self._outbox_size() > before:
                    self.report.emails_per_site_day[(self.now.date().isoformat())] += self._outbox_size() - before
        local_hour = self._local(self.now).hour
        if local_hour == self.mix.admin_works_at_hour and self.now.minute < self.mix.sweep_every_minutes:
            self.admin_works()

    def sweep_has_work(self):
        """The sweep on an idle shop changes nothing; skipping it keeps a simulated month short."""
        from wagtail_lockedcarts.models import Cart, CartStatus, Order, OrderStatus

        return (
            Cart.objects.filter(status__in=[CartStatus.AWAITING_PAYMENT, CartStatus.LOCKED]).exists()
            or Order.objects.filter(status=OrderStatus.SUBMITTED).exists()
        )

    def _outbox_size(self):
        from django.core import mail

        return len(getattr(mail, "outbox", []))

    def _local(self, when):
        from django.utils import timezone

        return timezone.localtime(when)

    def admin_works(self):
        """The morning round: every item the dashboard lists that PayPal has decided."""
        from wagtail_lockedcarts import lifecycle
        from wagtail_lockedcarts.exceptions import LockedCartsError
        from wagtail_lockedcarts.models import Cart, CartStatus
        from wagtail_lockedcarts.paypal.reconcile import check_paypal_now

        for cart in Cart.objects.filter(status=CartStatus.LOCKED).order_by("pk"):
            reason, locked_at = cart.lock_reason, cart.locked_at
            if not check_paypal_now(cart, self.admin).reachable:
                continue  # Cart Details says PayPal could not be asked: the admin waits for its answer
            cart = Cart.objects.filter(pk=cart.pk).first()
            if cart is None or cart.status != CartStatus.LOCKED:
                self.needed_person(reason, locked_at)
                continue
            decision = self.admin_decides(cart)
            if decision is None:
                continue
            try:
                if decision == "confirm":
                    lifecycle.confirm_order(cart, user=self.admin)
                else:
                    lifecycle.unlock_cart(cart, user=self.admin)
            except LockedCartsError:
                continue
            self.needed_person(reason, locked_at)
        self.resolve_unmatched_payments()

    def admin_decides(self, cart):
        """What the admin reads on Cart Details: PayPal captured the amount → confirm; PayPal
        has no payment → unlock; PayPal has not decided → wait."""
        status = (cart.paypal_capture_status or "").upper()
        if status == "COMPLETED":
            return "confirm"
        if status == "PENDING":
            return None
        return "unlock"

    def resolve_unmatched_payments(self):
        """Unmatched payments are a person's job by definition: the admin records each one."""
        for payment in unmatched_payments():
            if resolve_unmatched_payment(payment, self.admin):
                self.needed_person("unmatched_payment", payment.updated_at)

    def needed_person(self, reason, since):
        self.report.needed_a_person[reason or "unknown"] += 1
        self.report.per_day_product[(self.now - self.start).days] += 1
        if since is not None:
            self.report.waits_hours.append((self.now - since).total_seconds() / 3600)

    def invariants(self):
        found = money_invariants(sweep_interval=timedelta(minutes=self.mix.sweep_every_minutes))
        found["changed_while_paypal_unreachable"] = changed_while_unreachable(self.outages)
        return found


# ---- the money invariants -------------------------------------------------------------------


def unmatched_payments():
    """Payments PayPal holds that no order accounts for, as Cart Management lists them."""
    from wagtail_lockedcarts.models import PaymentAttempt

    return list(PaymentAttempt.objects.unmatched().order_by("pk"))


def resolve_unmatched_payment(payment, user):
    """What the admin does with one: a completed capture becomes the order it paid for."""
    from wagtail_lockedcarts import lifecycle
    from wagtail_lockedcarts.models import PaymentResolution

    if payment.capture_status != "COMPLETED":
        return False
    lifecycle.resolve_payment(payment, user, PaymentResolution.ORDERED, "Paid at PayPal; order made from the snapshot.")
    return True


def reversed_after_export():
    """Orders PayPal took the money back from after they were exported: the dashboard lists them
    for a person (goods may have shipped), reported apart from the carts."""
    from wagtail_lockedcarts.models import Order, OrderStatus

    return Order.objects.filter(status=OrderStatus.PAYMENT_REVERSED).exclude(exported_at=None).count()


def money_invariants(sweep_interval=timedelta(minutes=10), now=None):
    """Counts that must be exactly zero, read from the shop's tables and PayPal's (the sandbox's).

    * ``orders_lost``: a capture PayPal completed that belongs to no order and is not listed as
      an unmatched payment;
    * ``double_orders``: a cart or a capture with more than one order;
    * ``wrong_totals``: an order whose total differs from what PayPal captured, with no
      override an admin recorded;
    * ``stuck_awaiting_payment``: a cart still awaiting payment past its site's timeout plus one
      sweep.
    """
    from django.db.models import Count
    from django.utils import timezone

    from wagtail_lockedcarts.contrib.paypal_sandbox.models import SandboxOrder
    from wagtail_lockedcarts.models import Order

    now = now or timezone.now()
    captured = {
        order.capture_id: order
        for order in SandboxOrder.objects.exclude(capture_id="").exclude(captured_at=None)
        if order.capture_status not in ("DECLINED", "FAILED")
    }
    orders = list(
        Order.objects.exclude(paypal_capture_id="").values("paypal_capture_id", "total", "pk", "amount_override_reason")
    )
    by_capture = defaultdict(list)
    for order in orders:
        by_capture[order["paypal_capture_id"]].append(order)
    unmatched = {payment.capture_id for payment in unmatched_payments()}
    lost = [
        capture_id
        for capture_id, paypal in captured.items()
        if paypal.capture_status in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED", "REVERSED")
        and not by_capture.get(capture_id)
        and capture_id not in unmatched
    ]
    double = sum(1 for found in by_capture.values() if len(found) > 1)
    double += (
        Order.objects.exclude(cart_reference=None)
        .values("cart_reference")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    wrong = [
        order["pk"]
        for capture_id, found in by_capture.items()
        for order in found
        if capture_id in captured
        and captured[capture_id].captured_amount is not None
        and order["total"] != captured[capture_id].captured_amount
        and not order["amount_override_reason"]
    ]
    return {
        "orders_lost": len(lost),
        "double_orders": double,
        "wrong_totals": len(wrong),
        "stuck_awaiting_payment": _stuck(now, sweep_interval),
    }


def changed_while_unreachable(outages):
    """Payment facts recorded while PayPal could not be reached. Only PayPal's definitive answer
    changes a payment's state, and during an outage PayPal gives none: every such row means the
    shop took "unreachable" for an answer (for example for "cancelled")."""
    from wagtail_lockedcarts.models import PaymentEvent

    return sum(PaymentEvent.objects.filter(at__gt=start, at__lt=end).count() for start, end in outages)


def _stuck(now, sweep_interval):
    from wagtail_lockedcarts.lifecycle import stale_checkouts

    return stale_checkouts(now - sweep_interval).count()


# ---- the report ---------------------------------------------------------------------------


def write_report(report, path=RESULTS / "month.md", chart=RESULTS / "month.png"):
    summary = report.summary()
    RESULTS.mkdir(parents=True, exist_ok=True)
    draw_chart(report, chart)
    mix = report.mix
    lines = [
        "# A month of checkouts",
        "",
        f"Of **{summary['checkouts']:,}** checkouts by {summary['shoppers']:,} shoppers, "
        f"**{summary['needed_a_person']:,}** needed a person; the support article's rule would have "
        f"needed **{summary['article_rule']:,}** ({summary['ratio']:.1%} of it). "
        f"Seed {report.seed}, {report.days} days, run time {summary['seconds']:.0f} s.",
        "",
        "| needed a person, by reason | carts |",
        "|---|---:|",
        *[f"| {reason} | {count} |" for reason, count in sorted(summary["by_reason"].items())],
        "",
        "| the article's rule, by reason | carts |",
        "|---|---:|",
        *[f"| {reason} | {count} |" for reason, count in sorted(summary["article_by_reason"].items())],
        "",
        f"Waiting for a person: median {summary['wait_hours_median']} h, longest {summary['wait_hours_max']} h.",
        f"Daily notifications: at most {summary['daily_emails_max_per_site_day']} per site per day, "
        f"on {summary['days_with_email']} days.",
        "",
        "| invariant (must be 0) | count |",
        "|---|---:|",
        *[f"| {name} | {value} |" for name, value in summary["invariants"].items()],
        "",
        f"Webhook deliveries answered: {summary['webhook_answers']}. "
        f"Orders whose payment was reversed after export (listed for a person, apart from the carts): "
        f"{summary['orders_reversed_after_export']}.",
        "",
        f"Failures played: {summary['lost_webhooks']} lost webhook deliveries, "
        f"{summary['outage_minutes']} minutes of PayPal outage, {mix['qcluster_down_days']} day(s) without qcluster, "
        f"{summary['cancels_while_unreachable']} cancels pressed while PayPal could not be reached.",
        "",
        "The mix (rates of shoppers; see `benchmarks/month.py` `Mix`):",
        "",
        *[f"- {name}: {mix[name]}" for name in OUTCOMES],
        f"- keeps shopping while a payment is pending: {mix['keeps_shopping_while_pending']}",
        f"- presses cancel on a frozen cart while PayPal cannot be reached: {mix['cancels_while_paypal_unreachable']}",
        f"- lost webhook deliveries: {mix['lost_webhook_rate']}; outages: {mix['outages']} of "
        f"{mix['outage_minutes'][0]}–{mix['outage_minutes'][1]} min",
        "",
        f"![carts needing a person per day]({chart.name})",
        "",
    ]
    path.write_text("\n".join(lines))
    return path


def draw_chart(report, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    last = max([report.days - 1, *report.per_day_product, *report.per_day_article])
    days = list(range(last + 1))
    product = [report.per_day_product.get(d, 0) for d in days]
    article = [report.per_day_article.get(d, 0) for d in days]
    figure, axes = plt.subplots(figsize=(8, 3.2), dpi=110)
    axes.bar([d - 0.2 for d in days], article, width=0.4, label="the article's rule", color="#c0c0c0")
    axes.bar([d + 0.2 for d in days], product, width=0.4, label="wagtail-lockedcarts", color="#007d7e")
    axes.set_xlabel("day of the month")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("carts needing a person")
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


if __name__ == "__main__":
    import argparse
    import os
    import sys

    import pytest

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=30)
    options = parser.parse_args()
    os.environ.update(
        LOCKEDCARTS_MONTH_SHOPPERS=str(options.shoppers),
        LOCKEDCARTS_MONTH_SEED=str(options.seed),
        LOCKEDCARTS_MONTH_DAYS=str(options.days),
        LOCKEDCARTS_MONTH_REPORT="1",
    )
    sys.exit(pytest.main(["-q", "-s", "-p", "no:cacheprovider", "tests/test_month.py"]))
