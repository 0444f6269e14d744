"""Amounts follow PayPal's minor units per currency (JPY, HUF and TWD have none at PayPal)."""

from decimal import Decimal

import pytest

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.money import (
    AmountNotExpressible,
    UnsupportedCurrency,
    amounts_match,
    decimals,
    format_money,
    quantize,
    to_paypal_value,
)


@pytest.mark.parametrize(
    ("currency", "places"),
    [("EUR", 2), ("USD", 2), ("GBP", 2), ("JPY", 0), ("HUF", 0), ("TWD", 0), ("jpy", 0)],
)
def test_paypals_decimals_per_currency_not_iso_4217s(currency, places):
    assert decimals(currency) == places


def test_a_currency_paypal_does_not_accept_is_refused():
    with pytest.raises(UnsupportedCurrency):
        decimals("XYZ")
    with pytest.raises(UnsupportedCurrency):
        to_paypal_value("10", "XYZ")


@pytest.mark.parametrize(
    ("amount", "currency", "value"),
    [
        (Decimal("42"), "JPY", "42"),
        (Decimal("1500.00"), "JPY", "1500"),
        (Decimal("1500.00"), "HUF", "1500"),
        (Decimal("99.00"), "TWD", "99"),
        (Decimal("12.5"), "EUR", "12.50"),
        (Decimal("12.50"), "EUR", "12.50"),
        ("7", "USD", "7.00"),
    ],
)
def test_the_value_sent_to_paypal_has_the_currencys_decimals(amount, currency, value):
    assert to_paypal_value(amount, currency) == value


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("1500.50", "JPY"), ("0.5", "HUF"), ("12.345", "EUR"), ("NaN", "EUR"), ("Infinity", "EUR"), ("abc", "EUR")],
)
def test_an_amount_the_currency_cannot_express_is_refused_not_rounded(amount, currency):
    with pytest.raises(AmountNotExpressible):
        to_paypal_value(amount, currency)


def test_amounts_match_numerically_in_the_same_currency_only():
    assert amounts_match("1500", "JPY", Decimal("1500.00"), "JPY")
    assert amounts_match("12.50", "eur", Decimal("12.5"), "EUR")
    assert not amounts_match("12.49", "EUR", Decimal("12.50"), "EUR")
    assert not amounts_match("12.50", "USD", Decimal("12.50"), "EUR")
    assert not amounts_match(None, "EUR", Decimal("12.50"), "EUR")
    assert not amounts_match("12.50", "", Decimal("12.50"), "EUR")


def test_quantize_rounds_half_up_to_the_minor_unit_for_display():
    assert quantize("1500.5", "JPY") == Decimal("1501")
    assert quantize("2.345", "EUR") == Decimal("2.35")


def test_display_uses_the_currencys_decimals(settings):
    settings.USE_THOUSAND_SEPARATOR = False
    assert format_money(Decimal("1500.00"), "JPY") == "1500 JPY"
    assert format_money(Decimal("12.5"), "EUR") == "12.50 EUR"
    assert format_money(None, "EUR") == ""


def test_a_price_the_cart_currency_cannot_express_is_refused_when_the_line_is_created(make_cart, shop):
    from wagtail_lockedcarts.models import Cart, CartLine

    cart = make_cart(lines=())
    Cart.objects.filter(pk=cart.pk).update(currency="JPY")
    cart.refresh_from_db()

    with pytest.raises(AmountNotExpressible) as refused:
        lifecycle.add_line(cart, shop[0].cart_key, 1)  # 12.50

    assert "JPY" in str(refused.value.message)
    assert not CartLine.objects.filter(cart=cart).exists()


def test_a_whole_price_is_accepted_in_a_zero_decimal_currency(make_cart, shop):
    cart = make_cart(lines=())
    cart.currency = "JPY"
    cart.save(update_fields=["currency"])

    line = lifecycle.add_line(cart, shop[1].cart_key, 2)  # 25.00

    assert line.unit_price == Decimal("25")


def test_the_shopper_and_the_admin_see_yen_without_decimals(client, admin_client, shop, settings):
    from django.urls import reverse

    from wagtail_lockedcarts.models import Cart

    settings.USE_THOUSAND_SEPARATOR = False
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "DEFAULT_CURRENCY": "JPY"}
    client.post(reverse("wagtail_lockedcarts:add_line"), {"product": shop[1].cart_key, "quantity": 3})
    cart = Cart.objects.get()

    shopper_page = client.get(reverse("wagtail_lockedcarts:cart")).content.decode()
    admin_page = admin_client.get(f"/admin/lockedcarts/carts/inspect/{cart.pk}/").content.decode()

    assert cart.currency == "JPY"
    for page in (shopper_page, admin_page):
        assert "75 JPY" in page and "25 JPY" in page
        assert "75.00" not in page and "25.00" not in page


def test_the_cart_json_gives_yen_in_whole_units_and_euros_in_cents(client, shop, settings):
    """A JSON client (a shop's script) shows what it is given: "75", never "75.00" yen."""
    from django.urls import reverse

    add = reverse("wagtail_lockedcarts:add_line")
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "DEFAULT_CURRENCY": "JPY"}
    payload = client.post(add, {"product": shop[1].cart_key, "quantity": 3}, HTTP_ACCEPT="application/json").json()

    assert payload["cart"]["currency"] == "JPY"
    assert payload["cart"]["total"] == "75"
    assert (payload["cart"]["lines"][0]["unit_price"], payload["cart"]["lines"][0]["line_total"]) == ("25", "75")

    client.cookies.clear()
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "DEFAULT_CURRENCY": "EUR"}
    payload = client.post(add, {"product": shop[0].cart_key, "quantity": 1}, HTTP_ACCEPT="application/json").json()
    assert (payload["cart"]["currency"], payload["cart"]["total"]) == ("EUR", "12.50")


@pytest.mark.parametrize(
    ("amount", "currency", "plain"),
    [(Decimal("1500.00"), "JPY", "1500"), (Decimal("12.5"), "EUR", "12.50"), (Decimal("7"), "XYZ", "7.00")],
)
def test_plain_amounts_use_the_currencys_minor_units(amount, currency, plain):
    from wagtail_lockedcarts.money import plain_amount

    assert plain_amount(amount, currency) == plain


@pytest.mark.parametrize(
    ("currency", "ids"),
    [("EUR", []), ("JPY", []), ("XYZ", ["wagtail_lockedcarts.E016"]), ("eur", ["wagtail_lockedcarts.E016"])],
)
def test_a_default_currency_paypal_does_not_accept_is_an_error_at_start_up(settings, currency, ids):
    from wagtail_lockedcarts.checks import check_default_currency

    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "DEFAULT_CURRENCY": currency}

    assert [message.id for message in check_default_currency()] == ids
