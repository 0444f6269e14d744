"""The flagged queries next to proposed rewrites, timed and EXPLAINed on the large data set.

Product code is not changed here: each proposal is the query a fix would run, plus the index it
would need (created in the benchmark's throwaway database and dropped again). The numbers are
what a reviewer needs to decide: current vs proposed median and the plan of each.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import Q

from wagtail_lockedcarts.models import Cart, CartStatus, Order, OrderStatus

REPEAT = 7


@dataclass
class Proposal:
    key: str
    title: str
    current: object  # callable() -> evaluated result
    proposed: object
    indexes: list = field(default_factory=list)  # CREATE INDEX statements the proposal needs
    note: str = ""


TIME_CAP = 10.0  # seconds per side; a 5-second query is timed three times, not seven


def _timed(func):
    func()
    times, began = [], time.perf_counter()
    for _ in range(REPEAT):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
        if len(times) >= 3 and time.perf_counter() - began > TIME_CAP:
            break
    return statistics.median(times)


def _plan_summary(func, explain):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        func()
    parts = []
    for query in ctx.captured_queries:
        result, _analyzed = explain(query["sql"])
        if result is None:
            continue
        from benchmarks.run import _walk

        nodes = []
        for node in _walk(result["Plan"]):
            if node["Node Type"] in ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Index Scan"):
                target = node.get("Index Name") or node.get("Relation Name", "")
                nodes.append(f"{node['Node Type']} {target.replace('wagtail_lockedcarts_', '')}")
        parts.append(", ".join(dict.fromkeys(nodes)) or result["Plan"]["Node Type"])
    return len(ctx.captured_queries), " ; ".join(parts)


def _search_fields_q(field_names, term):
    condition = Q()
    for name in field_names:
        condition |= Q(**{f"{name}__icontains": term})
    return condition


SEARCH_FIELDS = [
    "customer_name",
    "customer_email",
    "payer_email",
    "user__email",
    "paypal_order_id",
    "paypal_capture_id",
]
CART_TEXT_FIELDS = [f for f in SEARCH_FIELDS if "__" not in f]


def proposals(site, term):
    User = get_user_model()
    site_q = Q(site=site) | Q(site__isnull=True)

    def search_current():
        # CartIndexView.search_queryset + the paginator's COUNT, first page of 25.
        qs = Cart.objects.select_related("user").filter(_search_fields_q(SEARCH_FIELDS, term)).order_by("-pk")
        return qs.count(), list(qs[:25])

    def search_exact_ids():
        value = term.strip().upper()
        qs = (
            Cart.objects.select_related("user")
            .filter(Q(paypal_order_id=value) | Q(paypal_capture_id=value))
            .order_by("-pk")
        )
        return qs.count(), list(qs[:25])

    def search_trigram_union():
        arms = [Cart.objects.filter(**{f"{name}__icontains": term}).values("pk") for name in CART_TEXT_FIELDS]
        arms.append(Cart.objects.filter(user__in=User.objects.filter(email__icontains=term).values("pk")).values("pk"))
        ids = arms[0].union(*arms[1:])
        qs = Cart.objects.select_related("user").filter(pk__in=ids).order_by("-pk")
        return qs.count(), list(qs[:25])

    def notification_counts_current():
        carts = Cart.objects.filter(site_q).aggregate(
            locked=models.Count("pk", filter=Q(status=CartStatus.LOCKED)),
            stale=models.Count("pk", filter=Q(status=CartStatus.AWAITING_PAYMENT)),
        )
        orders = Order.objects.filter(site_q).aggregate(
            on_hold=models.Count("pk", filter=Q(status=OrderStatus.ON_HOLD)),
            unconfirmed=models.Count("pk", filter=Q(status=OrderStatus.SUBMITTED)),
        )
        return carts, orders

    def notification_counts_proposed():
        carts = Cart.objects.filter(site_q, status__in=[CartStatus.LOCKED, CartStatus.AWAITING_PAYMENT]).aggregate(
            locked=models.Count("pk", filter=Q(status=CartStatus.LOCKED)),
            stale=models.Count("pk", filter=Q(status=CartStatus.AWAITING_PAYMENT)),
        )
        orders = Order.objects.filter(site_q, status__in=[OrderStatus.ON_HOLD, OrderStatus.SUBMITTED]).aggregate(
            on_hold=models.Count("pk", filter=Q(status=OrderStatus.ON_HOLD)),
            unconfirmed=models.Count("pk", filter=Q(status=OrderStatus.SUBMITTED)),
        )
        return carts, orders

    def notification_items_current():
        qs = Cart.objects.filter(site_q, status=CartStatus.LOCKED).select_related("user").with_totals()
        return [cart.total for cart in qs.order_by("locked_at", "pk")[:50]]

    def notification_items_proposed():
        qs = Cart.objects.filter(site_q, status=CartStatus.LOCKED).for_admin()
        return [cart.total for cart in qs.order_by("locked_at", "pk")[:50]]

    def listing_current():
        # CartIndexView.order_queryset for the default "-locked_at": DESC NULLS LAST, then -pk.
        qs = Cart.objects.filter(status=CartStatus.LOCKED).for_admin()
        return [c.pk for c in qs.order_by(models.F("locked_at").desc(nulls_last=True), "-pk")[:25]]

    def listing_proposed():
        qs = Cart.objects.filter(status=CartStatus.LOCKED).for_admin()
        return [c.pk for c in qs.order_by("-locked_at", "-pk")[:25]]

    trgm = "CREATE INDEX IF NOT EXISTS bench_trgm_{col} ON {table} USING gin (UPPER({col}::text) gin_trgm_ops)"
    return [
        Proposal(
            "P1",
            "A3 search, exact PayPal id match (`paypal_order_id = q OR paypal_capture_id = q`)",
            search_current,
            search_exact_ids,
            indexes=[f"CREATE INDEX IF NOT EXISTS bench_paypal_capture ON {Cart._meta.db_table} (paypal_capture_id)"],
            note="PayPal order and capture ids are opaque tokens: nobody searches for a fragment of one.",
        ),
        Proposal(
            "P2",
            "A3 search, substring kept: pg_trgm GIN on UPPER(field) + UNION of per-field lookups",
            search_current,
            search_trigram_union,
            indexes=["CREATE EXTENSION IF NOT EXISTS pg_trgm"]
            + [trgm.format(col=col, table=Cart._meta.db_table) for col in CART_TEXT_FIELDS]
            + [trgm.format(col="email", table=User._meta.db_table)],
            note="An OR across a LEFT JOINed auth_user column can't use any index; a UNION of arms can.",
        ),
        Proposal(
            "P3",
            "B3 daily notification counts: restrict the aggregates to the statuses they count",
            notification_counts_current,
            notification_counts_proposed,
        ),
        Proposal(
            "P5",
            "A2 locked listing page: ORDER BY locked_at DESC (index order) instead of DESC NULLS LAST",
            listing_current,
            listing_proposed,
            note="Locked carts always have locked_at; NULLS LAST does not match the (status, locked_at) "
            "index, so every locked cart is read, its two line-total subqueries run, then 25 are kept.",
        ),
        Proposal(
            "P4",
            "B3 daily notification lists: line totals by correlated subquery (CartQuerySet.for_admin) instead of with_totals()",
            notification_items_current,
            notification_items_proposed,
        ),
    ]


def run(site, term, explain, log):
    """Markdown lines for the report."""
    lines = [
        "| | Proposal | current (ms) | proposed (ms) | speed-up | index build (s) | current plan | proposed plan |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    created = []
    for p in proposals(site, term):
        assert _normalise(p.current()) == _normalise(p.proposed()), f"{p.key}: proposed result differs"
        current_ms = _timed(p.current)
        _n, current_plan = _plan_summary(p.current, explain)
        build = time.perf_counter()
        with connection.cursor() as cursor:
            for statement in p.indexes:
                cursor.execute(statement)
                if statement.startswith("CREATE INDEX"):
                    created.append(statement.split("EXISTS ")[1].split()[0])
            if p.indexes:
                cursor.execute(f"ANALYZE {Cart._meta.db_table}")
        build_s = time.perf_counter() - build
        assert _normalise(p.current()) == _normalise(p.proposed()), f"{p.key}: proposed result differs"
        proposed_ms = _timed(p.proposed)
        _n, proposed_plan = _plan_summary(p.proposed, explain)
        log(f"  {p.key} {current_ms:9.2f} ms -> {proposed_ms:8.2f} ms  ({proposed_plan})")
        lines.append(
            f"| {p.key} | {p.title}{' — ' + p.note if p.note else ''} | {current_ms:.1f} | {proposed_ms:.2f} | "
            f"×{current_ms / proposed_ms:.0f} | {build_s:.1f} | {current_plan} | {proposed_plan} |"
        )
    with connection.cursor() as cursor:
        for name in created:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    return lines


def _normalise(value):
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], list):
        return value[0], [getattr(item, "pk", item) for item in value[1]]
    return value
