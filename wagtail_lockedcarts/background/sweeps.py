"""The checkout sweep: what happens to checkouts nobody came back from.

A cart ``awaiting_payment`` for longer than its site's ``checkout_timeout_minutes`` is first
reconciled with PayPal when the site has ``reconcile_with_paypal`` on (PayPal's answer beats a
guess: the payment may have completed while the shopper closed the window). Whatever PayPal
could not settle — no definitive answer, PayPal unreachable, or not asked because the run's time
budget or lookup limit was spent — is locked with reason ``no_return`` in the same run, so a slow
PayPal never stops the sweep from making progress. Later runs, webhooks and *Check PayPal now*
still resolve a locked cart.

Batches are pk ranges of at most ``batch_size`` carts, so memory stays bounded whatever the
backlog. Locking goes through :func:`lifecycle.lock_stale_checkouts` with the batch's ids: it
re-checks status and staleness under ``SELECT … FOR UPDATE SKIP LOCKED``, so a cart PayPal just
settled is left alone and several clusters sweeping at once share the work instead of
fighting over it. Two clusters may both ask PayPal about the same cart; the reconcile function
is idempotent, so that costs an HTTP call, never a wrong state. No row lock is held during an
HTTP call.

The sweep also re-queues exports that were never attempted: an order is ``submitted`` in the
same transaction that queues its export with ``on_commit``, and a process that dies between the
commit and the enqueue leaves an order nobody will export. Orders whose export *failed* are not
touched here (django-q2's ``retry``/``max_attempts`` and the admin's *Retry export* handle
them, and the daily notification lists them as not confirmed).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import F
from django.utils import timezone
from wagtail.models import ModelLogEntry, Site

from wagtail_lockedcarts import conf, lifecycle
from wagtail_lockedcarts.exceptions import InvalidTransition
from wagtail_lockedcarts.models import Cart, CartStatus, LockedCartSettings, Order, OrderStatus
from wagtail_lockedcarts.paypal import budget as paypal_budget
from wagtail_lockedcarts.paypal.reconcile import reconcile_cart

logger = logging.getLogger("wagtail_lockedcarts")

# An order submitted this long ago whose export never started has lost its queued task.
# Long enough that a busy queue is not double-fed; at most one re-queue per order per window.
STUCK_EXPORT_AFTER = timedelta(minutes=30)


@dataclass
class SweepReport:
    examined: int = 0
    reconciled: int = 0
    locked: int = 0
    paypal_unavailable: int = 0
    exports_requeued: int = 0
    batches: int = 0
    lookups: int = 0
    not_asked: int = 0
    rechecked: int = 0
    seconds: float = 0.0
    errors: list = field(default_factory=list)

    def __str__(self):
        return (
            f"examined {self.examined}, settled by PayPal {self.reconciled}, locked {self.locked}, "
            f"PayPal without answer {self.paypal_unavailable}, not asked (budget) {self.not_asked}, "
            f"locked carts asked again {self.rechecked}, exports re-queued {self.exports_requeued}, "
            f"{self.seconds:.1f} s"
        )


class LookupBudget:
    """How many PayPal lookups one sweep run may still start, and until when.

    A lookup is only started when its worst case (a GET and a capture, each waiting the client's
    full connect + read timeout) still ends before the deadline, so the run always leaves itself
    the time to lock what it did not reach, well inside django-q2's task timeout.
    """

    def __init__(self, seconds=None, max_lookups=None, clock=time.monotonic):
        self.clock = clock
        self.seconds = float(seconds if seconds is not None else time_budget())
        self.deadline = clock() + self.seconds
        self.remaining = int(max_lookups if max_lookups is not None else conf.get("SWEEP_MAX_LOOKUPS"))
        paypal = conf.get("PAYPAL")
        self.worst_lookup = 2 * (float(paypal.get("CONNECT_TIMEOUT") or 5) + float(paypal.get("READ_TIMEOUT") or 20))

    def take(self):
        if self.remaining <= 0 or self.clock() + self.worst_lookup > self.deadline:
            return False
        self.remaining -= 1
        return True


def time_budget():
    """``SWEEP_TIME_BUDGET``, capped at three quarters of django-q2's task ``timeout``."""
    from django.conf import settings

    budget = float(conf.get("SWEEP_TIME_BUDGET"))
    task_timeout = (getattr(settings, "Q_CLUSTER", None) or {}).get("timeout")
    if task_timeout:
        budget = min(budget, 0.75 * float(task_timeout))
    return budget


def _reconcile_function():
    """The PayPal area's ``reconcile_cart`` (a seam tests replace)."""
    return reconcile_cart


def _sites_that_reconcile():
    """Site ids (None standing for carts without a site) whose settings ask PayPal first."""
    ids = set()
    for site in Site.objects.all():
        if LockedCartSettings.for_site(site).reconcile_with_paypal:
            ids.add(site.pk)
            if site.is_default_site:
                ids.add(None)
    return ids


def sweep_checkouts(now=None, *, use_paypal=True, batch_size=None, requeue_exports=True, budget=None):
    """Reconcile (within the run's :class:`LookupBudget`) or lock every stale checkout; returns a
    :class:`SweepReport`. Every stale cart PayPal did not settle is locked in this run."""
    started = time.monotonic()
    budget = budget or LookupBudget()
    now = now or timezone.now()
    batch_size = int(batch_size or conf.get("SWEEP_BATCH_SIZE"))
    report = SweepReport()
    reconcile = _reconcile_function() if use_paypal else None
    reconciling_sites = _sites_that_reconcile() if reconcile else set()
    # Every PayPal call of this run also has its timeouts cut to the run's deadline.
    with paypal_budget.limited(max(0.0, budget.deadline - budget.clock())):
        _sweep(now, batch_size, report, reconcile, reconciling_sites, budget)
        if reconcile is not None:
            _recheck_locked(now, reconcile, reconciling_sites, report, budget)
    if requeue_exports:
        report.exports_requeued = requeue_lost_exports(now, limit=batch_size)
    report.seconds = time.monotonic() - started
    if report.examined or report.exports_requeued:
        logger.info("Checkout sweep: %s", report)
    return report


def _sweep(now, batch_size, report, reconcile, reconciling_sites, budget):
    """Batch by batch: ask PayPal while the budget lasts, then lock whatever is still stale."""
    stale = Cart.objects.stale(now)
    last_pk = 0
    while True:
        rows = list(stale.filter(pk__gt=last_pk).order_by("pk").values_list("pk", "site_id")[:batch_size])
        if not rows:
            break
        report.batches += 1
        report.examined += len(rows)
        last_pk = rows[-1][0]
        ask_paypal = [pk for pk, site_id in rows if site_id in reconciling_sites]
        if ask_paypal:
            _reconcile_batch(reconcile, ask_paypal, report, budget)
        report.locked += lifecycle.lock_stale_checkouts(now, batch_size=batch_size, cart_ids=[pk for pk, _site in rows])
        if len(rows) < batch_size:
            break


def _recheck_locked(now, reconcile, reconciling_sites, report, budget):
    """Ask PayPal again about locked carts whose payment it may still decide (no return, pending),
    each at most once per ``LOCKED_RECHECK_MINUTES``, least recently asked first, with whatever
    lookups the run has left after the stale checkouts. A payment that settled, failed or
    expired while its webhook was lost then resolves without a person."""
    if budget.remaining <= 0:
        return
    rows = (
        Cart.objects.awaiting_paypal_decision(now)
        .order_by(F("paypal_checked_at").asc(nulls_first=True), "pk")
        .values_list("pk", "site_id")[: budget.remaining]
    )
    cart_ids = [pk for pk, site_id in rows if site_id in reconciling_sites]
    if cart_ids:
        report.rechecked += len(cart_ids)
        _reconcile_batch(reconcile, cart_ids, report, budget, status=CartStatus.LOCKED)


def _reconcile_batch(reconcile, cart_ids, report, budget, status=CartStatus.AWAITING_PAYMENT):
    carts = Cart.objects.filter(pk__in=cart_ids, status=status).select_related("site", "user").order_by("pk")
    for cart in carts:
        if not budget.take():
            report.not_asked += 1
            continue
        report.lookups += 1
        try:
            result = reconcile(cart)
        except Exception as error:  # one cart's trouble must not stop the sweep
            logger.exception("Reconciling cart %s with PayPal failed", cart.pk)
            report.errors.append(f"cart {cart.pk}: {type(error).__name__}: {error}")
            report.paypal_unavailable += 1
            continue
        if result is not None and not getattr(result, "reachable", True):
            report.paypal_unavailable += 1
        outcome = getattr(result, "outcome", None)
        if outcome is not None and outcome.changed:
            report.reconciled += 1


def requeue_lost_exports(now=None, limit=200):
    """Queue the export again (via :func:`lifecycle.retry_export`) for orders it never reached.

    Orders with ``export_attempts == 0`` submitted more than :data:`STUCK_EXPORT_AFTER` ago, and
    not re-queued within that window already (read from the audit log), at most ``limit``.
    """
    now = now or timezone.now()
    cutoff = now - STUCK_EXPORT_AFTER
    orders = list(
        Order.objects.filter(status=OrderStatus.SUBMITTED, export_attempts=0, submitted_at__lt=cutoff).order_by("pk")[
            :limit
        ]
    )
    if not orders:
        return 0
    recently_queued = set(
        ModelLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Order),
            action=lifecycle.LOG_EXPORT,
            object_id__in=[str(order.pk) for order in orders],
            timestamp__gte=cutoff,
        ).values_list("object_id", flat=True)
    )
    queued = 0
    for order in orders:
        if str(order.pk) in recently_queued:
            continue
        try:
            lifecycle.retry_export(order, user=None)
        except InvalidTransition:
            continue  # exported or changed meanwhile
        queued += 1
    return queued
