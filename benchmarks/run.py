"""Benchmark of the hot paths at two table sizes; run through ``make benchmark``.

Each measurement is timed ``BENCH_REPEAT`` times (median reported) after two warm-up runs, and
run once more under ``CaptureQueriesContext``: that run gives the query count and the SQL that
is then ``EXPLAIN``-ed on the same database. What matters is the ratio large/small within one
run: close to 1 means the operation does not grow with the shop's history.

Environment: ``BENCH_SMALL`` (10000), ``BENCH_LARGE`` (1000000), ``BENCH_REPEAT`` (15),
``BENCH_REPEAT_SLOW`` (7, for the background jobs), ``BENCH_OUT`` (benchmarks/results/latest.md),
``BENCH_PROPOSALS`` (0; 1 also times the proposed fixes of :mod:`benchmarks.proposals`).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from wagtail.models import ModelLogEntry, Site  # noqa: E402

from benchmarks import fill  # noqa: E402

T0 = float(os.environ.get("BENCH_T0") or time.time())
SMALL = int(os.environ.get("BENCH_SMALL", 10_000))
LARGE = int(os.environ.get("BENCH_LARGE", 1_000_000))
REPEAT = int(os.environ.get("BENCH_REPEAT", 15))
REPEAT_SLOW = int(os.environ.get("BENCH_REPEAT_SLOW", 7))
OUT = os.environ.get("BENCH_OUT", os.path.join(os.path.dirname(__file__), "results", "latest.md"))
TIME_CAP = float(os.environ.get("BENCH_TIME_CAP", 30))  # seconds of timed runs per measurement
RATIO_FLAG = 3.0
#: Issue 13's targets for the admin pages: growth 10k → 1M, and cost relative to the floor.
GROWTH_TARGET = 1.2
SEARCH_GROWTH_TARGET = 1.5
FLOOR_TARGET = 1.3
BIG_TABLES = {fill.CART: "cart", fill.LINE: "cartline", fill.ORDER: "order", fill.PAYMENT: "paymentattempt"}
OUR_PREFIX = "wagtail_lockedcarts_"
SCAN_NODES = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Bitmap Index Scan"}


def log(message):
    print(f"[{time.time() - T0:7.1f}s] {message}", flush=True)


# --------------------------------------------------------------------------------------------
# the shop the benchmark talks to


@dataclass
class World:
    site: Site
    products: list
    shopper_client: Client
    guest_client: Client
    admin_client: Client
    product_url: str
    product_key: str
    locked_cart_id: int
    locked_paypal_id: str
    locked_customer: str
    sweep_ids: list


def build_shop():
    from shop.models import ProductPage, ShopIndexPage

    site = Site.objects.get(is_default_site=True)
    root = site.root_page.specific
    index = ShopIndexPage(title="Bench shop", slug="bench-shop")
    root.add_child(instance=index)
    products = []
    for n, (sku, price) in enumerate((("B-MUG", "12.50"), ("B-TEE", "25.00"), ("B-CAP", "19.90"))):
        page = ProductPage(title=f"Bench product {n}", slug=sku.lower(), sku=sku, price=price)
        index.add_child(instance=page)
        products.append(page)
    return site, products


def build_world():
    from wagtail_lockedcarts.models import Cart, CartStatus

    site, products = build_shop()
    User = get_user_model()
    admin = User.objects.create_superuser("bench_admin", "admin@example.com", "x")
    shopper = User.objects.create_user("bench_shopper", "shopper@example.com", "x")
    product_key = products[0].cart_key

    shopper_client = Client()
    shopper_client.force_login(shopper)
    for page in products:
        response = shopper_client.post(
            "/cart/add/", {"product": page.cart_key, "quantity": 2}, HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 200, response.content
    guest_client = Client()
    response = guest_client.post("/cart/add/", {"product": product_key, "quantity": 1}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    admin_client = Client()
    admin_client.force_login(admin)

    backlog_users = fill.add_users(1, 400, prefix="bench_backlog")
    fill.add_backlog(site.pk, [p.pk for p in products], backlog_users)
    locked = Cart.objects.filter(status=CartStatus.LOCKED).order_by("-locked_at").first()
    sweep_ids = list(
        Cart.objects.filter(
            status=CartStatus.AWAITING_PAYMENT, checkout_started_at__lt=timezone.now() - timedelta(days=1)
        ).values_list("pk", flat=True)
    )
    assert len(sweep_ids) == fill.SWEEP, len(sweep_ids)
    return World(
        site=site,
        products=products,
        shopper_client=shopper_client,
        guest_client=guest_client,
        admin_client=admin_client,
        product_url=products[0].url,
        product_key=product_key,
        locked_cart_id=locked.pk,
        locked_paypal_id=locked.paypal_order_id,
        locked_customer=locked.customer_name,
        sweep_ids=sweep_ids,
    )


# --------------------------------------------------------------------------------------------
# measurements


@dataclass
class Measurement:
    key: str
    area: str
    label: str
    run: object  # callable() -> value passed to check
    check: object = None  # callable(value) raising AssertionError when the result is wrong
    setup: object = None  # untimed, before every run
    teardown: object = None  # untimed, after every run
    repeat: int = REPEAT
    hot: bool = True  # a request path: a Seq Scan on our big tables is a finding


@dataclass
class Result:
    median_ms: float
    min_ms: float
    queries: int
    our_queries: int
    scans: list = field(default_factory=list)  # (node, relation, index) on our tables, all queries
    main: dict = field(default_factory=dict)  # the costliest query on our tables
    runs: int = 0


def _ok(status=200, contains=None):
    def check(response):
        assert response.status_code == status, f"HTTP {response.status_code}"
        if contains:
            assert contains.encode() in response.content, f"{contains!r} not in response"

    return check


def measurements(world):
    from wagtail_lockedcarts import lifecycle
    from wagtail_lockedcarts.background import notifications

    shopper, guest, admin = world.shopper_client, world.guest_client, world.admin_client
    json_accept = {"HTTP_ACCEPT": "application/json"}

    def reset_sweep():
        from wagtail_lockedcarts.models import Cart

        Cart.objects.filter(pk__in=world.sweep_ids).update(
            status="awaiting_payment",
            lock_reason="",
            locked_at=None,
            checkout_started_at=timezone.now() - timedelta(days=2),
        )
        ModelLogEntry.objects.filter(
            action=lifecycle.LOG_LOCK, object_id__in=[str(pk) for pk in world.sweep_ids]
        ).delete()

    def expect(count):
        def check(value):
            assert value == count, f"locked {value}, expected {count}"

        return check

    def check_notification(notification):
        assert notification.counts["locked"] == fill.LOCKED, notification.counts
        assert notification.counts["stale"] == fill.SWEEP + fill.LOCKED_NO_RETURN, notification.counts
        assert f"Unmatched payments ({fill.UNMATCHED})" in notification.text, notification.text[:2000]
        assert notification.html and notification.text

    def build_and_render():
        return notifications.render_daily_notification(notifications.build_daily_notification(world.site))

    return [
        Measurement(
            "S1",
            "storefront",
            "Login page, guest with a cart (lazy request.cart: no cart query)",
            lambda: guest.get("/accounts/login/"),
            _ok(),
        ),
        Measurement(
            "S2",
            "storefront",
            "Product page, guest with a cart (header cart via session key)",
            lambda: guest.get(world.product_url),
            _ok(contains='data-cart-count="1"'),
        ),
        Measurement(
            "S3",
            "storefront",
            "Cart page, signed-in shopper with 3 lines",
            lambda: shopper.get("/cart/"),
            _ok(contains="Bench product 2"),
        ),
        Measurement(
            "S4",
            "storefront",
            "Add to cart (POST, JSON), signed-in shopper",
            lambda: shopper.post("/cart/add/", {"product": world.product_key, "quantity": 1}, **json_accept),
            _ok(),
        ),
        Measurement(
            "A1",
            "admin",
            "Dashboard (summary count, unmatched payments, locked carts panel)",
            lambda: admin.get("/admin/"),
            _ok(contains=f"{fill.UNMATCHED} unmatched payments"),
        ),
        Measurement(
            "A2",
            "admin",
            "Cart Management, Locked Carts filter, first page",
            lambda: admin.get("/admin/lockedcarts/carts/?cart_filter=locked"),
            _ok(contains=world.locked_customer),
        ),
        Measurement(
            "A3",
            "admin",
            "Cart Management, search by PayPal order id",
            lambda: admin.get("/admin/lockedcarts/carts/", {"q": world.locked_paypal_id}),
            _ok(contains=world.locked_customer),
        ),
        Measurement(
            "A4",
            "admin",
            "Cart Details (inspect) of a locked cart",
            lambda: admin.get(f"/admin/lockedcarts/carts/inspect/{world.locked_cart_id}/"),
            _ok(contains=world.locked_paypal_id),
        ),
        Measurement(
            "F0",
            "floor",
            "Wagtail's stock snippet listing of a trivial model (plain Meta.ordering), same number of rows (the floor)",
            lambda: admin.get("/admin/snippets/benchmarks/stockrow/"),
            _ok(contains="Stock row"),
            hot=False,
        ),
        Measurement(
            "F0u",
            "floor",
            "the same without Meta.ordering: Wagtail orders by the latest log entry of every row (not a floor)",
            lambda: admin.get("/admin/snippets/benchmarks/unorderedstockrow/"),
            _ok(contains="Stock row"),
            hot=False,
        ),
        *listing_measurements(world, admin),
        Measurement(
            "B1",
            "background",
            f"Checkout sweep: lock_stale_checkouts() locks {fill.SWEEP} stale carts",
            lambda: lifecycle.lock_stale_checkouts(),
            expect(fill.SWEEP),
            teardown=reset_sweep,
            repeat=REPEAT_SLOW,
            hot=False,
        ),
        Measurement(
            "B2",
            "background",
            "Checkout sweep with nothing stale (the usual 5-minute run)",
            lambda: lifecycle.lock_stale_checkouts(),
            expect(0),
            setup=lambda: lifecycle.lock_stale_checkouts(),
            teardown=reset_sweep,
            repeat=REPEAT_SLOW,
            hot=False,
        ),
        Measurement(
            "B3",
            "background",
            "Daily notification for one site: build_daily_notification + render_daily_notification",
            build_and_render,
            check_notification,
            repeat=REPEAT_SLOW,
            hot=False,
        ),
    ]


#: Cart Management and Orders pages at both sizes: (key, label, url, query, expected text).
CARTS_URL = "/admin/lockedcarts/carts/"
ORDERS_URL = "/admin/lockedcarts/orders/"
#: A customer and a user of the history present at both sizes (fill.add_history / add_users numbering).
SEARCH_N = 77


def listing_measurements(world, admin):
    pages = [
        ("L1", "Cart Management, unfiltered (the sidebar link)", CARTS_URL, {}, "Locked Customer"),
        ("L2", "Cart Management, page 2", CARTS_URL, {"p": 2}, "Locked Customer"),
        ("L3", "Cart Management, last page offered", CARTS_URL, {"p": 100_000}, "Customer"),
        ("L4", "Cart Filter: Awaiting payment", CARTS_URL, {"cart_filter": "awaiting_payment"}, "Checkout Customer"),
        ("L5", "Cart Filter: Open", CARTS_URL, {"cart_filter": "open"}, "Customer"),
        ("L6", "sorted by customer", CARTS_URL, {"ordering": "customer_name"}, "Customer"),
        ("L7", "sorted by status", CARTS_URL, {"ordering": "status"}, "Customer"),
        ("L8", "sorted by locked at, oldest first", CARTS_URL, {"ordering": "locked_at"}, "Locked Customer"),
        (
            "L9",
            "sorted by total (the stored, indexed cart total)",
            CARTS_URL,
            {"ordering": "-sort_total"},
            "Customer",
        ),
        ("Q1", "search: whole customer e-mail", CARTS_URL, {"q": f"customer{SEARCH_N}@example.com"}, "Customer"),
        # "Last77" also matches Last770…, Last7700…: more users at 1M than at 10k.
        ("Q2", "search: a user's last name (more matches at 1M)", CARTS_URL, {"q": f"Last{SEARCH_N}"}, "Customer"),
        ("Q3", "search: a user's full name", CARTS_URL, {"q": f"First{SEARCH_N} Last{SEARCH_N}"}, "Customer"),
        (
            "Q4",
            "search: customer name on the cart (more matches at 1M)",
            CARTS_URL,
            {"q": f"Customer {SEARCH_N}"},
            "Customer",
        ),
        ("O1", "Orders, unfiltered", ORDERS_URL, {}, "Order"),
        ("O2", "Orders, page 2", ORDERS_URL, {"p": 2}, "Order"),
        ("O3", "Orders filter: On hold", ORDERS_URL, {"order_filter": "on_hold"}, "Order Customer"),
        ("O4", "Orders filter: Submitted", ORDERS_URL, {"order_filter": "submitted"}, "Order Customer"),
        ("O5", "Orders filter: Exported", ORDERS_URL, {"order_filter": "exported"}, "Customer"),
        ("O6", "Orders filter: Not confirmed", ORDERS_URL, {"order_filter": "not_confirmed"}, "Order Customer"),
        ("O7", "Orders search: customer e-mail", ORDERS_URL, {"q": f"customer{SEARCH_N}@example.com"}, "Customer"),
    ]
    return [
        Measurement(
            key,
            "search" if key.startswith("Q") or key == "O7" else "admin",
            label,
            (lambda url=url, query=query: admin.get(url, query)),
            _ok(contains=expected),
        )
        for key, label, url, query, expected in pages
    ]


def _once(m, capture=False):
    if m.setup:
        m.setup()
    try:
        if capture:
            with CaptureQueriesContext(connection) as ctx:
                value = m.run()
            return value, ctx.captured_queries, 0.0
        start = time.perf_counter()
        value = m.run()
        return value, None, time.perf_counter() - start
    finally:
        if m.teardown:
            m.teardown()


def use_database(wrapper):
    """Make ``wrapper`` Django's default connection (both stay open: no reconnect in a timing)."""
    connections["default"] = wrapper
    wrapper.ensure_connection()


def measure(m, databases):
    """Measure ``m`` on every database, interleaving the timed runs.

    Runs alternate small/large (order swapped every round), so a burst of load from other
    processes on a shared machine hits both sizes alike instead of skewing the ratio. A slow
    measurement stops after ``TIME_CAP`` seconds of timed runs (at least three rounds).
    """
    captured, values, times = {}, {}, {size: [] for size in databases}
    for size, db in databases.items():
        use_database(db)
        for _ in range(2):
            value, _q, _t = _once(m)
            if m.check:
                try:
                    m.check(value)
                except AssertionError as failed:
                    raise AssertionError(f"{m.key} at {size}: {failed}") from failed
        _value, captured[size], _t = _once(m, capture=True)
    began = time.perf_counter()
    order = list(databases)
    for round_ in range(m.repeat):
        for size in order if round_ % 2 == 0 else reversed(order):
            use_database(databases[size])
            values[size], _q, elapsed = _once(m)
            times[size].append(elapsed * 1000)
        if round_ >= 2 and time.perf_counter() - began > TIME_CAP:
            break
    results = {}
    for size, db in databases.items():
        use_database(db)
        if m.check:
            m.check(values[size])
        ours = [q["sql"] for q in captured[size] if OUR_PREFIX in q["sql"]]
        scans, main = explain_all(ours)
        results[size] = Result(
            median_ms=statistics.median(times[size]),
            min_ms=min(times[size]),
            queries=len(captured[size]),
            our_queries=len(ours),
            scans=scans,
            main=main,
            runs=len(times[size]),
        )
    return results


# --------------------------------------------------------------------------------------------
# plans


def _walk(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _walk(child)


def explain(sql):
    """(plan JSON, executed?) — SELECTs run with ANALYZE, writes are only planned."""
    head = sql.lstrip().split(None, 1)[0].upper()
    if head not in ("SELECT", "WITH", "UPDATE", "DELETE", "INSERT"):
        return None, False
    analyze = head in ("SELECT", "WITH")
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {sql}")
        raw = cursor.fetchone()[0]
    data = raw if isinstance(raw, list) else json.loads(raw)
    return data[0], analyze


def explain_all(sqls):
    scans, main = [], {}
    for n, sql in enumerate(sqls, 1):
        result, analyzed = explain(sql)
        if result is None:
            continue
        plan = result["Plan"]
        nodes = []
        for node in _walk(plan):
            if node["Node Type"] in SCAN_NODES:
                relation = node.get("Relation Name", "")
                index = node.get("Index Name", "")
                if relation.startswith(OUR_PREFIX) or index.startswith(("lockedcarts", OUR_PREFIX)):
                    nodes.append((node["Node Type"], relation, index))
        scans.extend((n, *node) for node in nodes)
        cost = result.get("Execution Time", plan.get("Total Cost", 0) / 1000) if analyzed else -1
        if not main or cost > main["ms"]:
            main = {"n": n, "ms": cost, "sql": sql, "nodes": nodes, "top": plan["Node Type"]}
    return scans, main


def seq_scans_on_big_tables(result):
    return sorted({rel for _n, node, rel, _i in result.scans if node == "Seq Scan" and rel in BIG_TABLES})


def describe_scans(result):
    parts = []
    for node, relation, index in dict.fromkeys((node, rel, idx) for _n, node, rel, idx in result.scans):
        short = BIG_TABLES.get(relation, relation.replace(OUR_PREFIX, ""))
        if node == "Seq Scan":
            parts.append(f"**Seq Scan {short}**" if relation in BIG_TABLES else f"Seq Scan {short}")
        elif node == "Bitmap Heap Scan":
            continue  # its Bitmap Index Scan names the index
        else:
            parts.append(f"{node.replace(' Scan', '')} {index}")
    return ", ".join(parts) or "—"


# --------------------------------------------------------------------------------------------
# report


def machine_facts():
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
        cursor.execute("SHOW work_mem")
        work_mem = cursor.fetchone()[0]
    cpu = ""
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            kb = int(handle.readline().split()[1])
            memory = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or str(os.cpu_count())
    import wagtail

    return {
        "nproc": nproc,
        "CPU": cpu,
        "memory": memory,
        "PostgreSQL": f"{pg} (shared_buffers {buffers}, work_mem {work_mem}, fsync off)",
        "Python": platform.python_version(),
        "Django / Wagtail": f"{django.get_version()} / {wagtail.__version__}",
    }


def fmt_size(n):
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def proposals_note(phase):
    return f", proposals in {phase['proposals_s']:.1f} s" if "proposals_s" in phase else ""


def render(results, ms, facts, sizes, phases, total_seconds, proposal_lines=()):
    small, large = sizes
    s, l = fmt_size(small), fmt_size(large)  # noqa: E741
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `make benchmark` on {timezone.now():%Y-%m-%d %H:%M} UTC. "
        f"Carts: **{s}** vs **{l}** in two databases (the large one a copy of the small one plus history); "
        f"median of up to {REPEAT} runs ({REPEAT_SLOW} for background jobs, fewer when a measurement "
        f"exceeds {TIME_CAP:g} s) after 2 warm-ups, small and large runs interleaved. The ratio is what "
        "travels between machines; absolute times are this machine's.",
        "",
        "| | Measurement | median "
        + s
        + " (ms) | median "
        + l
        + " (ms) | ratio "
        + l
        + "/"
        + s
        + " | runs | queries "
        + s
        + " / "
        + l
        + " (on our tables) | scans on our tables at "
        + l
        + " | × floor "
        + s
        + " / "
        + l
        + " | flags |",
        "|---|---|---:|---:|---:|---:|---|---|---|---|",
    ]
    floor = {size: results[size].get("F0") for size in sizes}
    findings = []
    for m in ms:
        a, b = results[small][m.key], results[large][m.key]
        ratio = b.median_ms / a.median_ms if a.median_ms else float("inf")
        flags = []
        if ratio > RATIO_FLAG:
            flags.append(f"⚠ ratio > {RATIO_FLAG:g}")
        if (a.queries, a.our_queries) != (b.queries, b.our_queries):
            flags.append("⚠ query count differs")
        seq = seq_scans_on_big_tables(b)
        if seq:
            flags.append(("⚠ " if m.hot else "") + "Seq Scan " + ", ".join(BIG_TABLES[t] for t in seq))
        if m.key == "S1" and b.our_queries:
            flags.append("⚠ touches the cart")
        vs_floor = ""
        if m.area in ("admin", "search") and floor[small] and floor[large]:
            fa, fb = a.median_ms / floor[small].median_ms, b.median_ms / floor[large].median_ms
            vs_floor = f"{fa:.2f} / {fb:.2f}"
            growth_target = SEARCH_GROWTH_TARGET if m.area == "search" else GROWTH_TARGET
            if ratio > growth_target:
                flags.append(f"✗ growth > {growth_target:g}")
            if max(fa, fb) > FLOOR_TARGET:
                flags.append(f"✗ > {FLOOR_TARGET:g}× floor")
        if flags and any(f.startswith(("⚠", "✗")) for f in flags):
            findings.append((m, a, b, ratio, flags))
        lines.append(
            f"| {m.key} | {m.label} | {a.median_ms:.1f} | {b.median_ms:.1f} | **{ratio:.2f}** | {a.runs} | "
            f"{a.queries} ({a.our_queries}) / {b.queries} ({b.our_queries}) | {describe_scans(b)} | "
            f"{vs_floor} | {'; '.join(flags) or 'ok'} |"
        )
    lines += [
        "",
        f"× floor: the page's median over the stock listing's (F0) at the same size. Targets (issue 13): "
        f"admin pages grow ≤ {GROWTH_TARGET:g}×, searches ≤ {SEARCH_GROWTH_TARGET:g}×, and cost ≤ {FLOOR_TARGET:g}× the "
        "floor; ✗ marks a miss. "
        f"Flags: ⚠ ratio > {RATIO_FLAG:g} (grows with table size); ⚠ Seq Scan on the cart, cart line or "
        "order table in a request path; query counts must be equal at both sizes. "
        "“our tables” = `wagtail_lockedcarts_*`; the scans column lists every scan node of every such "
        "query (EXPLAIN ANALYZE for SELECTs, EXPLAIN for writes).",
        "",
        "## Flagged",
        "",
    ]
    if not findings:
        lines.append("Nothing: every measurement is independent of table size and index-backed.")
    for m, a, b, ratio, flags in findings:
        lines.append(
            f"- **{m.key} {m.label}**: {a.median_ms:.1f} ms → {b.median_ms:.1f} ms (×{ratio:.1f}); {'; '.join(flags)}."
        )
    lines += ["", "## Costliest query on our tables, per measurement (at " + l + ")", ""]
    for m in ms:
        b = results[large][m.key]
        a = results[small][m.key]
        if not b.main:
            lines.append(f"- **{m.key}**: no query on our tables.")
            continue
        sql = " ".join(b.main["sql"].split())
        if len(sql) > 600:
            sql = sql[:600] + " …"
        timing = (
            f"{b.main['ms']:.2f} ms at {l}, {a.main.get('ms', 0):.2f} ms at {s}"
            if b.main["ms"] >= 0
            else "write, planned only"
        )
        nodes = (
            ", ".join(
                f"{n}" + (f" on {r.replace(OUR_PREFIX, '')}" if r else "") + (f" using {i}" if i else "")
                for n, r, i in b.main["nodes"]
            )
            or b.main["top"]
        )
        lines += [f"- **{m.key}** query #{b.main['n']} ({timing}): {nodes}", f"  `{sql}`"]
    if proposal_lines:
        lines += [
            "",
            "## Proposed fixes, measured (at " + l + ")",
            "",
            "The flagged query next to the query a fix would run (benchmarks/proposals.py), same data, "
            "same result checked; indexes created in the throwaway database for the measurement only.",
            "",
            *proposal_lines,
        ]
    if phases[large].get("indexes"):
        lines += [
            "",
            f"## Indexes on the cart table at {l}",
            "",
            "Scans counted by PostgreSQL in the large database over the whole run (fill, measurements, "
            "EXPLAIN ANALYZE; proposals' own indexes dropped). An index nobody scans still costs every cart "
            "INSERT/UPDATE.",
            "",
            "| index | size | scans |",
            "|---|---:|---:|",
            *(f"| {name} | {size} | {scans:,} |" for name, size, scans in phases[large]["indexes"]),
        ]
    lines += ["", "## Data", ""]
    for size in sizes:
        facts_size = phases[size]["tables"]
        rows = ", ".join(
            f"{name.replace(OUR_PREFIX, '')}: {count:,} rows ({disk})"
            for name, (count, disk) in ((k, v) for k, v in facts_size.items() if k != "statuses")
        )
        lines.append(
            f"- **{fmt_size(size)}** — {rows}; cart statuses {facts_size['statuses']}; filled in {phases[size]['fill_s']:.1f} s."
        )
    phase = phases[sizes[1]]
    lines += [
        f"- Both sizes measured together in {phase['measure_s']:.1f} s{proposals_note(phase)}; "
        f"1-min load average up to {phase['load']:.1f} on {os.cpu_count()} CPUs (the machine is shared).",
        f"- Fixed backlog at both sizes: {fill.LOCKED} locked, {fill.AWAITING} awaiting payment, {fill.SWEEP} stale checkouts, "
        f"{fill.ON_HOLD} orders on hold, {fill.NOT_CONFIRMED} submitted but not confirmed (see benchmarks/fill.py).",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in facts.items()),
        f"- Whole run (PostgreSQL start to report): **{total_seconds / 60:.1f} min**",
        "",
    ]
    return "\n".join(lines)


def grow(world, size, added):
    """Add history until the default database holds ``size`` carts; VACUUM ANALYZE."""
    from wagtail_lockedcarts.models import Cart

    start = time.time()
    log(f"filling to {size:,} carts")
    missing = size - Cart.objects.count()
    if missing > 0:
        fill.add_history(world.site.pk, [p.pk for p in world.products], added + 1, missing)
    fill.add_stock_rows(size)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    phase = {"fill_s": time.time() - start, "tables": fill.table_facts()}
    log(f"{phase['tables'][fill.CART][0]:,} carts in {phase['fill_s']:.1f} s")
    return max(missing, 0), phase


def clone_database(source, target):
    """``CREATE DATABASE target TEMPLATE source``: the large data set starts as an exact copy of
    the small one (same ids, sessions, backlog), so the two differ only in history."""
    import psycopg

    params = connection.get_connection_params()
    connection.close()
    params = {k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target}"')
        admin.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    settings_dict = {**connections.settings["default"], "NAME": target}
    return connections["default"].__class__(settings_dict, "default")


def main():
    log(f"migrating ({settings.DATABASES['default']['NAME']})")
    call_command("migrate", verbosity=0, interactive=False)
    world = build_world()
    ms = measurements(world)
    phases = {}
    small_db = connections["default"]
    added, phases[SMALL] = grow(world, SMALL, 0)
    small_name = small_db.settings_dict["NAME"]
    large_db = clone_database(small_name, f"{small_name}_large")
    use_database(large_db)
    _added, phases[LARGE] = grow(world, LARGE, added)
    databases = {SMALL: small_db, LARGE: large_db}
    log("measuring both sizes, interleaved")
    results = {SMALL: {}, LARGE: {}}
    began, load = time.time(), os.getloadavg()[0]
    for m in ms:
        pair = measure(m, databases)
        load = max(load, os.getloadavg()[0])
        for size, r in pair.items():
            results[size][m.key] = r
        a, b = pair[SMALL], pair[LARGE]
        log(
            f"  {m.key} {a.median_ms:8.2f} ms -> {b.median_ms:8.2f} ms  x{b.median_ms / a.median_ms:5.2f}  "
            f"{a.runs} runs  {a.queries}/{b.queries} queries ({a.our_queries}/{b.our_queries} ours)  {describe_scans(b)}"
        )
    for size in databases:
        phases[size]["measure_s"] = time.time() - began
        phases[size]["load"] = load
    use_database(large_db)
    proposal_lines = []
    if os.environ.get("BENCH_PROPOSALS", "0") != "0":
        from benchmarks import proposals

        log("proposed fixes")
        start = time.time()
        proposal_lines = proposals.run(world.site, world.locked_paypal_id, explain, log)
        phases[LARGE]["proposals_s"] = time.time() - start
    phases[LARGE]["indexes"] = fill.index_usage()
    report = render(results, ms, machine_facts(), (SMALL, LARGE), phases, time.time() - T0, proposal_lines)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as handle:
        handle.write(report)
    print()
    print(report)
    log(f"written to {OUT}")


if __name__ == "__main__":
    sys.exit(main())
