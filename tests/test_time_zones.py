"""Every time an admin reads is in the site's time zone (``TIME_ZONE``, Europe/Berlin in these
settings): Cart and Order Details, the listings, the history, the CSV/XLSX exports and the daily
e-mail. A cart locked at 23:30 UTC on 1 March was locked at 00:30 on 2 March in Berlin.
"""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.models import Cart, CartStatus, Order

pytestmark = pytest.mark.django_db

CARTS = "/admin/lockedcarts/carts/"
ORDERS = "/admin/lockedcarts/orders/"
LOCKED_UTC = datetime(2026, 3, 1, 23, 30, 15, 123456, tzinfo=UTC)
# Django's default DATETIME_FORMAT ("N j, Y, P") in Berlin (UTC+1 in March).
LOCKED_LOCAL_TEXT = "March 2, 2026, 12:30 a.m."
LOCKED_UTC_TEXT = "March 1, 2026, 11:30 p.m."


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    timezone.deactivate()
    return settings


@pytest.fixture
def locked_cart(make_cart, berlin):
    cart = make_cart(status=CartStatus.LOCKED, lines=[(0, 1)], customer_name="Nina Night")
    Cart.objects.filter(pk=cart.pk).update(
        locked_at=LOCKED_UTC, created_at=LOCKED_UTC, checkout_started_at=LOCKED_UTC, paypal_checked_at=LOCKED_UTC
    )
    return cart


def test_cart_details_show_times_in_the_site_time_zone(admin_client, locked_cart):
    html = admin_client.get(f"{CARTS}inspect/{locked_cart.pk}/").content.decode()

    assert html.count(LOCKED_LOCAL_TEXT) >= 4  # locked, PayPal checked, checkout started, created
    assert LOCKED_UTC_TEXT not in html


def test_order_details_show_times_in_the_site_time_zone(admin_client, locked_cart):
    order = lifecycle.confirm_order(locked_cart).order
    Order.objects.filter(pk=order.pk).update(created_at=LOCKED_UTC, submitted_at=LOCKED_UTC)

    html = admin_client.get(f"{ORDERS}inspect/{order.pk}/").content.decode()

    assert html.count(LOCKED_LOCAL_TEXT) >= 2
    assert LOCKED_UTC_TEXT not in html


def test_the_listing_shows_the_lock_time_in_the_site_time_zone(admin_client, locked_cart):
    html = admin_client.get(CARTS, {"cart_filter": "locked"}).content.decode()

    # Wagtail's date column: relative text, the exact local time in its tooltip.
    assert "March 2, 2026" in html or "2 March 2026" in html or "Mar. 2, 2026" in html
    assert "00:30" in html or "12:30 a.m." in html


def csv_rows(response):
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(content)))


def test_the_csv_export_has_site_local_times_to_the_second(admin_client, locked_cart):
    response = admin_client.get(CARTS, {"cart_filter": "locked", "export": "csv"})

    (row,) = csv_rows(response)
    assert row["Locked at"] == "2026-03-02 00:30:15"
    assert row["Created at"] == "2026-03-02 00:30:15"


def test_the_xlsx_export_has_site_local_times(admin_client, locked_cart):
    from openpyxl import load_workbook

    response = admin_client.get(CARTS, {"cart_filter": "locked", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    headings = [cell.value for cell in sheet[1]]
    locked_at = sheet[2][headings.index("Locked at")].value

    assert locked_at.replace(microsecond=0) == datetime(2026, 3, 2, 0, 30, 15)


def test_the_order_csv_export_has_site_local_times(admin_client, locked_cart):
    order = lifecycle.confirm_order(locked_cart).order
    Order.objects.filter(pk=order.pk).update(created_at=LOCKED_UTC)

    (row,) = csv_rows(admin_client.get(ORDERS, {"export": "csv"}))

    assert row["Created at"] == "2026-03-02 00:30:15"


def test_the_history_shows_the_lock_in_the_site_time_zone(admin_client, locked_cart):
    from wagtail.models import ModelLogEntry

    ModelLogEntry.objects.filter(object_id=str(locked_cart.pk), action="wagtail_lockedcarts.lock").update(
        timestamp=LOCKED_UTC
    )

    html = admin_client.get(f"{CARTS}history/{locked_cart.pk}/").content.decode()

    assert "00:30" in html or "12:30 a.m." in html
    assert "23:30" not in html and "11:30 p.m." not in html


def test_the_daily_email_dates_its_report_in_the_site_time_zone(locked_cart, site):
    from wagtail_lockedcarts.background.notifications import build_daily_notification, render_daily_notification

    # 23:30 UTC on 1 March is already 2 March in Berlin: the e-mail is the report of 2 March.
    digest = render_daily_notification(build_daily_notification(site, now=LOCKED_UTC))

    assert digest.date.isoformat() == "2026-03-02"
    assert "March 2, 2026" in digest.subject or "March 2, 2026" in digest.text
