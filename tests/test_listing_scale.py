"""Admin listings at scale: every page of Cart Management and Orders costs the same number of
queries whatever the number of carts, sorts by what an index walks, computes line totals for the
shown rows only, stops counting past ``LISTING_COUNT_LIMIT`` ("more than 10,000"), and searches
names and e-mails by any part (cart fields and the customer's user record) through indexes.

Timings live in ``benchmarks/`` (``make benchmark``); here the shapes that make them flat."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_lockedcarts.models import Cart, CartLine, CartStatus, LockReason, Order, OrderStatus, PaymentAttempt
from wagtail_lockedcarts.models.sites import of_site

pytestmark = pytest.mark.django_db

CARTS = "/admin/lockedcarts/carts/"
ORDERS = "/admin/lockedcarts/orders/"

STATUSES = [CartStatus.OPEN, CartStatus.AWAITING_PAYMENT, CartStatus.LOCKED, CartStatus.ORDERED]


@pytest.fixture
def many_carts(site, django_user_model):
    """many_carts(n) → n more carts in every status, half of them a user's, each with a line;
    every ordered cart with its exported order. Bulk INSERTs: only for measuring the listings."""
    users = [
        django_user_model.objects.create_user(f"many{i}", f"many{i}@example.com", "x", first_name="F", last_name="L")
        for i in range(3)
    ]
    made = [0]

    def factory(count):
        now = timezone.now()
        start = made[0]
        made[0] += count
        carts = []
        for i in range(start, start + count):
            status = STATUSES[i % 4]
            carts.append(
                Cart(
                    site=site,
                    user=users[i % 3] if i % 2 else None,
                    status=status,
                    lock_reason=LockReason.NO_RETURN if status == CartStatus.LOCKED else "",
                    locked_at=now - timedelta(minutes=i) if status in (CartStatus.LOCKED, CartStatus.ORDERED) else None,
                    amount=None if status == CartStatus.OPEN else Decimal("10.00") + i,
                    stored_total=Decimal("8.00") if status == CartStatus.OPEN else Decimal("10.00") + i,
                    currency="EUR",
                    customer_name=f"Many customer {i}",
                    customer_email=f"many.customer{i}@example.com",
                    paypal_order_id="" if status == CartStatus.OPEN else f"MANY{i:08d}",
                )
            )
        Cart.objects.bulk_create(carts)
        carts = list(Cart.objects.filter(customer_name__startswith="Many customer").order_by("pk")[start:])
        CartLine.objects.bulk_create(
            CartLine(cart=c, product_key=f"many:{c.pk}", title="Item", unit_price=Decimal("4.00"), quantity=2)
            for c in carts
        )
        Order.objects.bulk_create(
            Order(
                cart=c,
                cart_reference=c.pk,
                site=site,
                status=[OrderStatus.EXPORTED, OrderStatus.SUBMITTED, OrderStatus.ON_HOLD][c.pk % 3],
                total=c.amount,
                currency="EUR",
                customer_name=c.customer_name,
                email=c.customer_email,
                submitted_at=now - timedelta(days=3),
            )
            for c in carts
            if c.status == CartStatus.ORDERED
        )
        return carts

    return factory


def query_count(client, url, params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, (url, params, response.status_code)
    return len(captured), response


CART_PAGES = [
    {},
    {"p": "2"},
    {"p": "3"},
    {"cart_filter": "locked"},
    {"cart_filter": "awaiting_payment"},
    {"cart_filter": "open"},
    {"ordering": "locked_at"},
    {"ordering": "-locked_at"},
    {"ordering": "customer_name"},
    {"ordering": "-customer_name"},
    {"ordering": "status"},
    {"ordering": "-status"},
    {"ordering": "-sort_total"},
    {"q": "many.customer1"},
    {"q": "Many customer"},
    {"q": "F L"},
]
ORDER_PAGES = [
    {},
    {"p": "2"},
    {"order_filter": "on_hold"},
    {"order_filter": "submitted"},
    {"order_filter": "exported"},
    {"order_filter": "not_confirmed"},
    {"ordering": "created_at"},
    {"q": "Many customer"},
]


@pytest.mark.parametrize("params", CART_PAGES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "all")
def test_every_cart_listing_page_costs_the_same_queries_at_two_sizes(admin_client, many_carts, params, settings):
    settings.WAGTAIL_LOCKEDCARTS = {"LISTING_COUNT_LIMIT": 200}
    many_carts(80)
    query_count(admin_client, CARTS, params)  # warm per-process caches
    small, _ = query_count(admin_client, CARTS, params)
    many_carts(400)
    large, response = query_count(admin_client, CARTS, params)
    assert small == large, (small, large)
    assert response.context["object_list"], "the page under test lists carts"


@pytest.mark.parametrize("params", ORDER_PAGES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "all")
def test_every_order_listing_page_costs_the_same_queries_at_two_sizes(admin_client, many_carts, params, settings):
    settings.WAGTAIL_LOCKEDCARTS = {"LISTING_COUNT_LIMIT": 50}
    many_carts(240)
    query_count(admin_client, ORDERS, params)
    small, _ = query_count(admin_client, ORDERS, params)
    many_carts(400)
    large, response = query_count(admin_client, ORDERS, params)
    assert small == large, (small, large)
    assert response.context["object_list"]


def test_the_listing_shows_stored_totals_and_reads_no_lines(admin_client, many_carts):
    many_carts(20)  # 10 with locked_at first, then open and awaiting ones
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(CARTS)
    shown = response.context["object_list"]
    line_queries = [q["sql"] for q in captured if "wagtail_lockedcarts_cartline" in q["sql"]]
    assert line_queries == []
    open_cart = next(cart for cart in shown if cart.status == CartStatus.OPEN)
    assert open_cart.stored_total == open_cart.total == Decimal("8.00")  # 2 × 4.00
    locked = next(cart for cart in shown if cart.status == CartStatus.LOCKED)
    assert locked.stored_total == locked.total == locked.amount  # the frozen checkout amount
    assert "8.00 EUR" in response.content.decode()


@pytest.mark.parametrize("ordering", ["sort_total", "-sort_total"])
def test_sorting_by_total_orders_by_the_stored_total_then_cart_number(admin_client, many_carts, ordering):
    many_carts(12)
    response = admin_client.get(CARTS, {"ordering": ordering})
    shown = [(cart.stored_total, cart.pk) for cart in response.context["object_list"]]
    assert shown == sorted(shown, reverse=ordering.startswith("-"))
    assert len({total for total, _pk in shown}) < len(shown)  # ties (the open carts) broken by number


def test_default_listing_shows_the_latest_locks_first_then_the_rest_newest_first(admin_client, many_carts):
    carts = many_carts(12)
    response = admin_client.get(CARTS)
    listed = [cart.pk for cart in response.context["object_list"]]
    with_lock = sorted((c for c in carts if c.locked_at), key=lambda c: (c.locked_at, c.pk), reverse=True)
    without = sorted((c.pk for c in carts if not c.locked_at), reverse=True)
    assert listed == [c.pk for c in with_lock] + without


def test_past_the_limit_the_listing_says_more_than_and_does_not_count_on(admin_client, many_carts, settings):
    settings.WAGTAIL_LOCKEDCARTS = {"LISTING_COUNT_LIMIT": 30}
    many_carts(40)
    response = admin_client.get(CARTS)
    paginator = response.context["paginator"]
    assert paginator.is_capped and paginator.count == 30
    html = response.content.decode()
    assert "More than 30 carts" in html
    assert paginator.num_pages == 2  # 25 per page: the pages up to the limit
    filtered = admin_client.get(CARTS, {"cart_filter": "open"})  # 10 open carts: counted exactly
    assert filtered.context["paginator"].count == 10 and not filtered.context["paginator"].is_capped
    searched = admin_client.get(CARTS, {"q": "Many customer"})
    assert "There are more than 30 matches" in searched.content.decode()


def test_below_the_limit_the_count_is_exact(admin_client, many_carts):
    many_carts(7)
    response = admin_client.get(CARTS, {"q": "Many customer"})
    assert response.context["paginator"].count == 7
    assert "There are 7 matches" in response.content.decode()


# search ----------------------------------------------------------------------------------------


@pytest.fixture
def named_carts(make_cart, django_user_model):
    """Carts whose customer is known only through the user record, or only on the cart."""
    keller = django_user_model.objects.create_user(
        "bk", "bob.k@shop.example", "x", first_name="Bob", last_name="Keller"
    )
    dubois = django_user_model.objects.create_user(
        "md", "marie@maison.example", "x", first_name="Marie", last_name="Dubois"
    )
    carts = {
        "keller": make_cart(status=CartStatus.LOCKED, user=keller),
        "dubois": make_cart(user=dubois),
        "guest": make_cart(customer_name="Anna Guest", customer_email="anna@guest.example"),
    }
    return carts


def found(client, url, term):
    response = client.get(url + "results/", {"q": term})
    assert response.status_code == 200
    return sorted(obj.pk for obj in response.context["object_list"])


@pytest.mark.parametrize(
    "term, who",
    [
        ("Keller", ["keller"]),
        ("kell", ["keller"]),
        ("Bob Keller", ["keller"]),
        ("b kel", ["keller"]),
        ("bob.k@shop", ["keller"]),
        ("Dubois", ["dubois"]),
        ("marie dubois", ["dubois"]),
        ("maison.example", ["dubois"]),
        ("Anna Guest", ["guest"]),
        ("anna@guest", ["guest"]),
        ("Keller Bob", []),
    ],
)
def test_search_finds_carts_by_any_part_of_the_customers_name_or_email(admin_client, named_carts, term, who):
    assert found(admin_client, CARTS, term) == sorted(named_carts[key].pk for key in who)


@pytest.mark.parametrize(
    "term, who",
    [
        ("BOB.K@shop.example", ["keller"]),  # on the user record only, any case
        ("anna@guest.example", ["guest"]),  # on the cart
        ("payer@pay.example", ["dubois"]),  # the payer's
        ("k@shop.example", []),  # a whole address is not a part of a longer one
        ("na@guest.example", []),
    ],
)
def test_a_whole_email_address_finds_the_carts_with_exactly_that_address(admin_client, named_carts, term, who):
    Cart.objects.filter(pk=named_carts["dubois"].pk).update(payer_email="Payer@Pay.example")
    assert found(admin_client, CARTS, term) == sorted(named_carts[key].pk for key in who)


def test_a_whole_email_address_finds_the_orders_with_exactly_that_address(admin_client, make_order):
    order = make_order(OrderStatus.SUBMITTED, customer_email="Olga@Orders.example")
    make_order(OrderStatus.SUBMITTED, customer_email="volga@orders.example")
    assert found(admin_client, ORDERS, "olga@orders.EXAMPLE") == [order.pk]


def test_search_by_cart_number(admin_client, named_carts):
    cart = named_carts["dubois"]
    assert cart.pk in found(admin_client, CARTS, str(cart.pk))


def test_order_search_by_name_part_number_and_whole_paypal_id(admin_client, make_order):
    order = make_order(OrderStatus.SUBMITTED, customer_name="Olga Ordered", customer_email="olga@orders.example")
    other = make_order(OrderStatus.EXPORTED, customer_name="Someone Else")
    assert found(admin_client, ORDERS, "lga ord") == [order.pk]
    assert found(admin_client, ORDERS, "olga@orders") == [order.pk]
    assert order.pk in found(admin_client, ORDERS, str(order.pk))
    assert found(admin_client, ORDERS, order.paypal_order_id.lower()) == [order.pk]
    assert other.pk not in found(admin_client, ORDERS, order.paypal_order_id[-6:])


# PostgreSQL: the indexes serve these shapes ------------------------------------------------------


def plan(queryset, off=("seqscan", "sort", "incremental_sort")):
    """The plan PostgreSQL picks with the ``off`` methods made prohibitively dear: on a test's
    few rows it then uses an index only if one matches the query's expressions (and order)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        for method in off:
            cursor.execute(f"SET enable_{method} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        text = "\n".join(row[0] for row in cursor.fetchall())
        for method in off:
            cursor.execute(f"RESET enable_{method}")
    return text


#: Lookups: only bitmap scans allowed, so a full walk of the primary key can't stand in.
LOOKUP = ("seqscan", "indexscan")


def listing_queryset(client, url, params):
    response = client.get(url, params)
    return response.context["view"].get_queryset()


@pytest.mark.parametrize(
    "params, index",
    [
        ({}, "lockedcarts_list_locked"),
        ({"ordering": "locked_at"}, "lockedcarts_list_locked_asc"),
        ({"ordering": "customer_name"}, "lockedcarts_list_customer"),
        ({"ordering": "-customer_name"}, "lockedcarts_list_customer"),
        ({"ordering": "status"}, "lockedcarts_list_status"),
        ({"ordering": "-status"}, "lockedcarts_list_status"),
        ({"ordering": "sort_total"}, "lockedcarts_list_total"),
        ({"ordering": "-sort_total"}, "lockedcarts_list_total"),
        # a Cart Filter: either index gives its order (which one is the planner's call by size)
        ({"cart_filter": "locked"}, "lockedcarts_status_locked|lockedcarts_list_locked"),
        ({"cart_filter": "open"}, "lockedcarts_status_locked|lockedcarts_list_locked"),
    ],
)
def test_postgres_each_cart_listing_order_is_walked_on_an_index(postgres, admin_client, many_carts, params, index):
    many_carts(8)
    text = plan(listing_queryset(admin_client, CARTS, params)[25:50])
    assert any(f"using {name} on" in text for name in index.split("|")), text
    assert "Sort" not in text, text


def test_postgres_orders_newest_first_walk_an_index(postgres, admin_client, many_carts):
    many_carts(8)
    text = plan(listing_queryset(admin_client, ORDERS, {})[25:50])
    assert "lockedcarts_order_list" in text and "Sort" not in text, text


@pytest.mark.parametrize(
    "term, indexes",
    [
        # (the customer_name arm: on a few hundred rows a full walk of the small b-tree
        # lockedcarts_list_customer is cheaper; the benchmark's EXPLAIN at 1M shows its GIN index)
        ("anna@guest", ["lockedcarts_trgm_cust_email", "lockedcarts_trgm_payer_email"]),
        ("Keller", ["lockedcarts_utrgm_first_name", "lockedcarts_utrgm_last_name", "lockedcarts_utrgm_email"]),
        ("Bob Keller", ["lockedcarts_utrgm_full"]),
    ],
)
def test_postgres_name_and_email_search_uses_trigram_indexes(postgres, named_carts, many_carts, term, indexes):
    many_carts(400)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    text = plan(Cart.objects.search(term).order_by("-pk")[:25], off=LOOKUP)
    for index in indexes:
        assert index in text, (index, text)
    assert "Seq Scan on wagtail_lockedcarts_cart" not in text and "Seq Scan on auth_user" not in text, text


def test_postgres_a_whole_email_address_is_looked_up_on_b_tree_indexes(postgres, named_carts, make_order):
    carts = plan(Cart.objects.search("bob.k@shop.example").order_by("-pk")[:25], off=LOOKUP)
    for index in ("lockedcarts_email_customer", "lockedcarts_email_payer", "lockedcarts_email_user"):
        assert index in carts, (index, carts)
    orders = plan(Order.objects.search("olga@orders.example").order_by("-pk")[:25], off=LOOKUP)
    assert "lockedcarts_email_order" in orders, orders
    assert "trgm" not in carts + orders


def test_postgres_order_search_uses_trigram_and_paypal_indexes(postgres, make_order):
    make_order(OrderStatus.SUBMITTED, customer_name="Olga Ordered")
    text = plan(Order.objects.search("olga").order_by("-pk")[:25], off=LOOKUP)
    assert "lockedcarts_otrgm_customer_name" in text and "lockedcarts_otrgm_email" in text, text
    text = plan(Order.objects.search("PAYID12345678").order_by("-pk")[:25], off=LOOKUP)
    assert "lockedcarts_order_paypal" in text and "lockedcarts_order_capture" in text, text


def test_postgres_dashboard_panel_walks_the_status_index(postgres, many_carts, rf, superuser):
    from wagtail_lockedcarts.admin.components import LockedCartsPanel

    many_carts(8)
    request = rf.get("/admin/")
    request.user = superuser
    with CaptureQueriesContext(connection) as captured:
        assert LockedCartsPanel(request).carts
    (sql,) = [q["sql"] for q in captured if "\"status\" = 'locked'" in q["sql"] and "LIMIT" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        text = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_sort")
    assert "lockedcarts_status_locked" in text and "Sort" not in text, text


def test_postgres_unmatched_payments_are_found_on_the_partial_index_not_by_an_anti_join(postgres, site):
    """The dashboard counts them on every admin home page: only money-held payments without an
    order are read, however many payments the shop has taken."""
    text = plan(PaymentAttempt.objects.unmatched(), off=LOOKUP)
    assert "lockedcarts_attempt_no_order" in text, text
    # The daily notification lists the first of them in order: the same index gives the order.
    first = plan(PaymentAttempt.objects.unmatched().filter(of_site(site)).order_by("pk")[:10])
    assert "lockedcarts_attempt_no_order" in first and "Sort" not in first, first


def searched_page(client, url, params):
    """(the page's carts, the SQL of the listing's query) for a search."""
    response = client.get(url, params)
    assert response.status_code == 200
    return [obj.pk for obj in response.context["object_list"]], str(response.context["view"].get_queryset().query)


@pytest.mark.parametrize("url", [CARTS, ORDERS])
def test_postgres_a_search_with_few_matches_pages_through_their_listed_ids(
    postgres, admin_client, many_carts, settings, url
):
    settings.WAGTAIL_LOCKEDCARTS = {"LISTING_COUNT_LIMIT": 30}  # ids listed up to 5 × 30
    many_carts(60)
    shown, sql = searched_page(admin_client, url, {"q": "Many customer 1"})  # of 1, 10–19
    assert "= ANY(" in sql and "UNION" not in sql, sql
    model = Cart if url == CARTS else Order
    assert sorted(shown) == sorted(model.objects.search("Many customer 1").values_list("pk", flat=True))
    text = plan(listing_queryset(admin_client, url, {"q": "Many customer 1"}))
    assert "Seq Scan" not in text, text


@pytest.mark.parametrize("url", [CARTS, ORDERS])
def test_postgres_a_search_with_very_many_matches_keeps_the_indexed_subquery(
    postgres, admin_client, many_carts, settings, url
):
    settings.WAGTAIL_LOCKEDCARTS = {"LISTING_COUNT_LIMIT": 2}  # ids listed up to 10
    many_carts(60)
    response = admin_client.get(url, {"q": "Many customer"})
    _shown, sql = searched_page(admin_client, url, {"q": "Many customer"})
    assert "UNION" in sql and "= ANY(" not in sql, sql
    assert "more than 2 matches" in response.content.decode()


def test_a_narrowed_search_finds_what_the_subquery_finds(admin_client, many_carts, monkeypatch):
    """Same rows, same order, on either path (SQLite keeps the subquery)."""
    from wagtail_lockedcarts.admin import pagination

    many_carts(40)
    narrow, _ = searched_page(admin_client, CARTS, {"q": "Many customer 1", "ordering": "customer_name"})
    monkeypatch.setattr(pagination, "NARROW_FACTOR", 0)  # never list ids: the subquery
    wide, _ = searched_page(admin_client, CARTS, {"q": "Many customer 1", "ordering": "customer_name"})
    assert wide == narrow and len(narrow) == 11


def test_listing_urls_are_reversed_once_and_still_right(site, settings):
    """Rows reuse one reversed URL per name; the key put into it gives Django's own URL, and a
    changed URLconf or script prefix is not served from the cache."""
    from django.urls import reverse, set_script_prefix

    from wagtail_lockedcarts.admin import display

    for view in ("inspect", "history", "unlock_cart"):
        url_name = display.viewset_for(Cart).get_url_name(view)
        for pk in (7, 1234567):
            assert display.cart_url(view, pk) == reverse(url_name, args=(pk,))
    assert display.cart_url("list") == reverse(display.viewset_for(Cart).get_url_name("list"))
    set_script_prefix("/shop/")
    try:
        assert display.cart_url("inspect", 7).startswith("/shop/admin/")
    finally:
        set_script_prefix("/")
    assert display.cart_url("inspect", 7).startswith("/admin/")
