"""Fast, deterministic data for the benchmark: PostgreSQL ``INSERT … SELECT generate_series``.

Two kinds of rows:

* **The backlog** (inserted once, identical at every size): the carts an admin has to look at —
  ``LOCKED`` locked carts, ``AWAITING`` fresh checkouts, ``SWEEP`` stale checkouts the sweep
  measurement locks and puts back, orders on hold and orders not confirmed. Keeping it fixed
  means a ratio large/small measures the effect of *table size* alone, which is the question
  ("does this get slower as the shop's history grows?"). At 1M carts the mix is ~99.7 %
  ordered/open; at 10k the fixed backlog is a larger share, which only makes the small run
  slightly pessimistic.
* **The history** (``add_history``), grown from one size to the next: 75 % ordered (each with
  an exported order and its payment record), 25 % open; half of the carts belong to users (one user per ten carts),
  half to guest sessions; 40 % have one to three lines. ``created_at`` spreads over two years.

Nothing here goes through the ORM row by row: a million carts take seconds, not hours.
"""

from django.contrib.auth import get_user_model
from django.db import connection

from wagtail_lockedcarts.models import Cart, CartLine, Order, PaymentAttempt

LOCKED = 2000
AWAITING = 200
SWEEP = 500
#: The locked carts the fill gives reason ``no_return`` (the CASE in :func:`add_backlog`'s locked insert):
#: the daily notification also lists them as checkouts without an answer from PayPal.
LOCKED_NO_RETURN = sum(1 for i in range(1, LOCKED + 1) if i % 20 and i % 3)
ON_HOLD = 200
NOT_CONFIRMED = 100
#: Completed payments whose cart was deleted before an order was made: the dashboard's
#: "unmatched payments" count and the daily notification list them.
UNMATCHED = 20

CART = Cart._meta.db_table
LINE = CartLine._meta.db_table
ORDER = Order._meta.db_table
PAYMENT = PaymentAttempt._meta.db_table
USER = get_user_model()._meta.db_table

CART_COLUMNS = (
    "site_id, user_id, session_key, status, lock_reason, locked_at, currency, amount, "
    "checkout_started_at, paypal_order_id, paypal_capture_id, paypal_status, paypal_capture_status, "
    "paypal_status_reason, paypal_checked_at, card_brand, card_last4, payer_email, customer_name, "
    "customer_email, created_at, updated_at, version, stored_total"
)
ORDER_COLUMNS = (
    "cart_id, cart_reference, site_id, user_id, status, total, currency, customer_name, email, "
    "paypal_order_id, paypal_capture_id, card_brand, card_last4, created_at, submitted_at, "
    "exported_at, export_attempts, last_export_error, amount_override_reason, exported_before_problem, "
    "payment_problem, payment_id"
)
PAYMENT_COLUMNS = (
    "cart_id, cart_reference, site_id, provider, paypal_order_id, request_id, capture_request_id, amount, "
    "currency, paid_lines, customer_name, customer_email, captured_amount, captured_currency, capture_id, "
    "capture_status, card_brand, card_last4, has_order, resolution, resolution_note, status, status_reason, "
    "approve_url, created_at, updated_at"
)


# A deterministic "random" number in [0, m) for row i (Knuth's multiplicative hash).
def _h(expr, m):
    return f"((({expr})::bigint * 2654435761) % {m})"


def _paypal_id(expr, prefix):
    return f"'{prefix}' || upper(substr(md5(({expr})::text || '{prefix}'), 1, 15))"


def _execute(sql, params=None):
    """Run ``sql``; ``%s`` are placeholders, every other ``%`` is SQL's modulo."""
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("%", "%%").replace("%%s", "%s"), params or [])
        return cursor.rowcount


def _max_id(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        return cursor.fetchone()[0]


def add_users(first, count, prefix="bench_u"):
    """``count`` customers ``<prefix><first>…``; returns (lowest id, highest id)."""
    low = _max_id(USER) + 1
    _execute(
        f"""INSERT INTO {USER} (password, last_login, is_superuser, username, first_name, last_name,
               email, is_staff, is_active, date_joined)
            SELECT '!', NULL, false, %s || i, 'First' || i, 'Last' || i,
                   'customer' || i || '@example.com', false, true, now() - interval '2 years'
            FROM generate_series(%s, %s) AS i""",
        [prefix, first, first + count - 1],
    )
    return low, _max_id(USER)


def _lines_for(min_cart_id, product_pks, share_sql):
    """One to three lines for the carts above ``min_cart_id`` selected by ``share_sql``."""
    products = "ARRAY[" + ",".join(str(pk) for pk in product_pks) + "]"
    n = len(product_pks)
    return _execute(
        f"""INSERT INTO {LINE} (cart_id, product_key, sku, title, unit_price, quantity)
            SELECT c.id, 'shop.productpage:' || ({products})[1 + ((c.id + j) % {n})],
                   'SKU-' || ((c.id + j) % {n}), 'Product ' || ((c.id + j) % {n}),
                   (5 + ((c.id + j) % {n}) * 3.5)::numeric(12,2), 1 + {_h("c.id + j", 3)}
            FROM {CART} c, generate_series(0, 2) AS j
            WHERE c.id > %s AND ({share_sql}) AND j <= {_h("c.id", 3)}""",
        [min_cart_id],
    )


def _payments_for(min_cart_id, where_sql, has_order):
    """The payment record of each cart above ``min_cart_id`` selected by ``where_sql`` (as lifecycle
    keeps one per trip to PayPal), so what reads payments is measured against a shop's history."""
    return _execute(
        f"""INSERT INTO {PAYMENT} ({PAYMENT_COLUMNS})
            SELECT c.id, c.id, c.site_id, 'paypal', c.paypal_order_id, gen_random_uuid(), gen_random_uuid(),
                   c.amount, c.currency, '[]', c.customer_name, c.customer_email, c.amount, c.currency,
                   coalesce(nullif(c.paypal_capture_id, ''), {_paypal_id("c.id", "P")}), c.paypal_capture_status,
                   c.card_brand, c.card_last4, {"true" if has_order else "false"}, '', '',
                   CASE WHEN c.paypal_capture_status = 'PENDING' THEN 'pending' ELSE 'completed' END, '', '',
                   c.checkout_started_at, c.checkout_started_at
            FROM {CART} c WHERE c.id > %s AND ({where_sql}) ORDER BY c.id""",
        [min_cart_id],
    )


def _orders_with_payments(min_cart_id, select_sql):
    """Orders for the ordered carts above ``min_cart_id``, each linked to its cart's payment record."""
    _payments_for(min_cart_id, "c.status = 'ordered'", has_order=True)
    _execute(
        f"""INSERT INTO {ORDER} ({ORDER_COLUMNS})
            SELECT {select_sql}, p.id
            FROM {CART} c JOIN {PAYMENT} p ON p.paypal_order_id = c.paypal_order_id
            WHERE c.id > %s AND c.status = 'ordered' ORDER BY c.id""",
        [min_cart_id],
    )


def add_backlog(site_id, product_pks, user_range):
    """The fixed set of carts and orders that need an admin (see the module docstring)."""
    low, high = user_range
    span = high - low + 1
    start = _max_id(CART)
    user_expr = f"CASE WHEN i % 2 = 0 THEN {low} + {_h('i', span)} END"
    common = f"""%s, {user_expr}, CASE WHEN i % 2 = 1 THEN md5('bl' || i) ELSE '' END"""
    # Locked: reasons mixed like production (mostly no return, some pending eCheck).
    _execute(
        f"""INSERT INTO {CART} ({CART_COLUMNS})
            SELECT {common}, 'locked',
                   CASE WHEN i % 20 = 0 THEN 'amount_mismatch' WHEN i % 3 = 0 THEN 'pending_payment'
                        ELSE 'no_return' END,
                   now() - (i * interval '37 minutes'), 'EUR', (10 + i % 90)::numeric(12,2),
                   now() - (i * interval '37 minutes') - interval '1 hour', {_paypal_id("i", "L")},
                   '', CASE WHEN i % 3 = 0 THEN 'COMPLETED' ELSE 'APPROVED' END,
                   CASE WHEN i % 3 = 0 THEN 'PENDING' ELSE '' END,
                   CASE WHEN i % 3 = 0 THEN 'ECHECK' ELSE '' END, NULL,
                   CASE WHEN i % 3 = 0 THEN 'VISA' ELSE '' END,
                   CASE WHEN i % 3 = 0 THEN lpad((i % 10000)::text, 4, '0') ELSE '' END,
                   'payer' || i || '@example.com', 'Locked Customer ' || i, 'locked' || i || '@example.com',
                   now() - (i * interval '37 minutes') - interval '2 hours', now(), 2, (10 + i % 90)::numeric(12,2)
            FROM generate_series(1, %s) AS i""",
        [site_id, LOCKED],
    )
    # Awaiting payment: fresh (within the timeout) and stale (the sweep's work).
    for count, age, prefix in ((AWAITING, "interval '1 minute' * (i % 10)", "A"), (SWEEP, "interval '2 days'", "S")):
        _execute(
            f"""INSERT INTO {CART} ({CART_COLUMNS})
                SELECT {common}, 'awaiting_payment', '', NULL, 'EUR', (10 + i % 90)::numeric(12,2),
                       now() - {age}, {_paypal_id("i", prefix)}, '', 'CREATED', '', '', NULL, '', '',
                       '', 'Checkout Customer ' || i, 'checkout' || i || '@example.com',
                       now() - {age} - interval '10 minutes', now(), 1, (10 + i % 90)::numeric(12,2)
                FROM generate_series(1, %s) AS i""",
            [site_id, count],
        )
    _lines_for(start, product_pks, "true")
    # Orders that need attention: on hold, submitted long ago and never confirmed.
    for count, status, sub in ((ON_HOLD, "on_hold", "NULL"), (NOT_CONFIRMED, "submitted", "now() - interval '3 days'")):
        first = _max_id(CART)
        _execute(
            f"""INSERT INTO {CART} ({CART_COLUMNS})
                SELECT {common}, 'ordered', '', NULL, 'EUR', (10 + i % 90)::numeric(12,2),
                       now() - interval '3 days', {_paypal_id("i", status[:2].upper())},
                       {_paypal_id("i", "C")}, 'COMPLETED', '{"PENDING" if status == "on_hold" else "COMPLETED"}',
                       '', NULL, '', '', '', 'Order Customer ' || i, 'order' || i || '@example.com',
                       now() - interval '3 days', now(), 3, (10 + i % 90)::numeric(12,2)
                FROM generate_series(1, %s) AS i""",
            [site_id, count],
        )
        _orders_with_payments(
            first,
            f"""c.id, c.id, c.site_id, c.user_id, '{status}', c.amount, c.currency,
                c.customer_name, c.customer_email, c.paypal_order_id, c.paypal_capture_id,
                '', '', c.checkout_started_at, {sub}, NULL, {1 if status == "submitted" else 0}, '', '', false, ''""",
        )
    # A locked cart's pending capture is money held for its current checkout: not unmatched.
    _payments_for(start, "c.status = 'locked' AND c.paypal_capture_status = 'PENDING'", has_order=False)
    first = _max_id(CART)
    _execute(
        f"""INSERT INTO {CART} ({CART_COLUMNS})
            SELECT {common}, 'ordered', '', NULL, 'EUR', (10 + i % 90)::numeric(12,2),
                   now() - interval '1 day', {_paypal_id("i", "U")}, {_paypal_id("i", "UC")}, 'COMPLETED',
                   'COMPLETED', '', NULL, '', '', '', 'Unmatched Customer ' || i, 'unmatched' || i || '@example.com',
                   now() - interval '1 day', now(), 3, (10 + i % 90)::numeric(12,2)
            FROM generate_series(1, %s) AS i""",
        [site_id, UNMATCHED],
    )
    _payments_for(first, "true", has_order=False)
    _execute(f"UPDATE {PAYMENT} SET cart_id = NULL WHERE cart_id > %s", [first])
    _execute(f"DELETE FROM {CART} WHERE id > %s", [first])


def add_history(site_id, product_pks, first_index, count):
    """``count`` ordered/open carts (+ users, lines, exported orders). Returns rows added."""
    users_low, users_high = add_users(first_index, max(1, count // 10))
    span = users_high - users_low + 1
    start = _max_id(CART)
    created = f"now() - interval '1 second' * {_h('i', 63_072_000)} - interval '1 hour'"
    _execute(
        f"""INSERT INTO {CART} ({CART_COLUMNS})
            SELECT CASE WHEN i % 50 = 0 THEN NULL ELSE %s END,
                   CASE WHEN i % 2 = 0 THEN {users_low} + {_h("i", span)} END,
                   CASE WHEN i % 2 = 1 THEN md5('h' || i) ELSE '' END,
                   CASE WHEN i % 4 = 0 THEN 'open' ELSE 'ordered' END, '', NULL, 'EUR',
                   CASE WHEN i % 4 = 0 THEN NULL ELSE (5 + i % 200)::numeric(12,2) END,
                   CASE WHEN i % 4 = 0 THEN NULL ELSE {created} + interval '5 minutes' END,
                   CASE WHEN i % 4 = 0 THEN '' ELSE {_paypal_id("i", "H")} END,
                   CASE WHEN i % 4 = 0 THEN '' ELSE {_paypal_id("i", "K")} END,
                   CASE WHEN i % 4 = 0 THEN '' ELSE 'COMPLETED' END,
                   CASE WHEN i % 4 = 0 THEN '' ELSE 'COMPLETED' END, '', NULL,
                   CASE WHEN i % 4 <> 0 AND i % 3 = 0 THEN 'MASTERCARD' ELSE '' END,
                   CASE WHEN i % 4 <> 0 AND i % 3 = 0 THEN lpad((i % 10000)::text, 4, '0') ELSE '' END,
                   CASE WHEN i % 4 = 0 THEN '' ELSE 'payer' || i || '@example.com' END,
                   'Customer ' || i, 'customer' || i || '@example.com',
                   {created}, {created}, 1, CASE WHEN i % 4 = 0 THEN 0 ELSE (5 + i % 200)::numeric(12,2) END
            FROM generate_series(%s, %s) AS i""",
        [site_id, first_index, first_index + count - 1],
    )
    _orders_with_payments(
        start,
        """c.id, c.id, c.site_id, c.user_id, 'exported', c.amount, c.currency,
           c.customer_name, c.customer_email, c.paypal_order_id, c.paypal_capture_id,
           c.card_brand, c.card_last4, c.checkout_started_at, c.checkout_started_at,
           c.checkout_started_at + interval '10 minutes', 1, '', '', false, ''""",
    )
    _lines_for(start, product_pks, "c.id % 10 < 4")
    _open_totals(start)
    return count


def _open_totals(min_cart_id):
    """An open cart's stored total is the sum of its lines (frozen carts got their amount)."""
    _execute(
        f"""UPDATE {CART} c SET stored_total = s.total
            FROM (SELECT cart_id, sum(unit_price * quantity) AS total FROM {LINE}
                  WHERE cart_id > %s GROUP BY cart_id) s
            WHERE c.id = s.cart_id AND c.status = 'open'""",
        [min_cart_id],
    )


def add_stock_rows(size):
    """Grow the floor's tables (benchmarks.models) to ``size`` rows, like the cart table."""
    from benchmarks.models import StockRow, UnorderedStockRow

    for model in (StockRow, UnorderedStockRow):
        table = model._meta.db_table
        have = _max_id(table)
        if size > have:
            _execute(
                f"INSERT INTO {table} (title) SELECT 'Stock row ' || i FROM generate_series(%s, %s) AS i",
                [have + 1, size],
            )


def analyze():
    with connection.cursor() as cursor:
        for table in (CART, LINE, ORDER, USER):
            cursor.execute(f"ANALYZE {table}")


def table_facts():
    """Row counts and on-disk sizes of the tables the benchmark grows."""
    facts = {}
    with connection.cursor() as cursor:
        for table in (CART, LINE, ORDER, USER):
            cursor.execute(f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{table}')) FROM {table}")
            facts[table] = cursor.fetchone()
        cursor.execute(f"SELECT status, count(*) FROM {CART} GROUP BY status ORDER BY status")
        facts["statuses"] = dict(cursor.fetchall())
    return facts


def index_usage():
    """Size and number of scans of every index on the cart table, read from a fresh connection
    (closing the benchmark's connection flushes its pending statistics)."""
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT indexrelname, pg_size_pretty(pg_relation_size(indexrelid)), idx_scan
               FROM pg_stat_user_indexes WHERE relname = %s ORDER BY indexrelname""",
            [CART],
        )
        return cursor.fetchall()
