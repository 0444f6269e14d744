"""Amounts in the currencies PayPal accepts, with PayPal's own minor units.

PayPal refuses an amount with more decimals than the currency allows (422
``DECIMALS_NOT_SUPPORTED``), and its table is not ISO 4217's: HUF and TWD have two minor digits
in ISO but none at PayPal. So the table below is PayPal's (developer.paypal.com, "Currency
codes"), and every place that sends, compares, validates or shows an amount goes through here.

Nothing here rounds money that is sent or compared: an amount the currency cannot express is an
error, never silently changed. :func:`quantize` (rounding half up) is for display only.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from wagtail_lockedcarts.exceptions import LockedCartsError

# PayPal's supported currencies -> number of decimals PayPal accepts.
PAYPAL_CURRENCIES = {
    "AUD": 2,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 0,
    "ILS": 2,
    "JPY": 0,
    "MXN": 2,
    "MYR": 2,
    "NOK": 2,
    "NZD": 2,
    "PHP": 2,
    "PLN": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TWD": 0,
    "USD": 2,
}


class UnsupportedCurrency(LockedCartsError):
    """PayPal does not accept this currency at all."""

    default_message = _("PayPal does not accept payments in this currency.")

    def __init__(self, currency):
        self.currency = currency
        super().__init__(_("PayPal does not accept payments in %(currency)s.") % {"currency": str(currency or "–")})


class AmountNotExpressible(LockedCartsError):
    """An amount with more decimals than the currency has (e.g. 12.50 JPY), or not a number."""

    def __init__(self, amount, currency):
        self.amount, self.currency = amount, currency
        places = PAYPAL_CURRENCIES.get(str(currency).upper())
        if places == 0:
            message = _("The price %(amount)s cannot be charged in %(currency)s, which has no decimals.")
        else:
            message = _("The price %(amount)s cannot be charged in %(currency)s.")
        super().__init__(message % {"amount": amount, "currency": currency})


def is_supported(currency):
    return str(currency or "").upper() in PAYPAL_CURRENCIES


def decimals(currency):
    """PayPal's number of decimals for ``currency``; :class:`UnsupportedCurrency` if it has none."""
    try:
        return PAYPAL_CURRENCIES[str(currency or "").upper()]
    except KeyError:
        raise UnsupportedCurrency(currency) from None


def exponent(currency):
    """``Decimal("1")`` for JPY, ``Decimal("0.01")`` for EUR: the currency's smallest unit."""
    return Decimal(1).scaleb(-decimals(currency))


def _decimal(amount):
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, TypeError, ValueError):
        return None
    return value if value.is_finite() else None


def is_expressible(amount, currency):
    """True if ``amount`` is a finite number with no more decimals than ``currency`` allows."""
    value = _decimal(amount)
    return value is not None and is_supported(currency) and value == value.quantize(exponent(currency))


def validate_amount(amount, currency):
    """Refuse (with a message fit for a shopper) an amount PayPal could never be asked to charge."""
    decimals(currency)
    if not is_expressible(amount, currency):
        raise AmountNotExpressible(amount, currency)
    return _decimal(amount)


def quantize(amount, currency):
    """``amount`` to the currency's minor unit, rounding half up: for display, never for charging."""
    value = _decimal(amount)
    if value is None:
        raise AmountNotExpressible(amount, currency)
    return value.quantize(exponent(currency), rounding=ROUND_HALF_UP)


def to_paypal_value(amount, currency):
    """The ``amount.value`` string PayPal expects: ``"1500"`` for JPY, ``"12.50"`` for EUR.

    An amount the currency cannot express raises :class:`AmountNotExpressible` instead of being
    rounded: a silently different charge is worse than a refused one.
    """
    value = validate_amount(amount, currency)
    return f"{value.quantize(exponent(currency)):f}"


def amounts_match(amount, currency, expected_amount, expected_currency):
    """Same currency and numerically the same amount (``"1500"`` JPY equals ``1500.00`` JPY).

    No rounding: a captured amount that differs by a cent from the expected one does not match.
    """
    if not currency or not expected_currency or str(currency).upper() != str(expected_currency).upper():
        return False
    value, expected = _decimal(amount), _decimal(expected_amount)
    return value is not None and expected is not None and value == expected


def format_amount(amount, currency):
    """Localised ``"1.500"`` (JPY) / ``"12,50"`` (EUR): the number alone, in the currency's decimals.

    Currencies PayPal does not know are shown with two decimals rather than failing a page.
    """
    if amount is None:
        return ""
    value = _decimal(amount)
    if value is None:
        return str(amount)
    places = PAYPAL_CURRENCIES.get(str(currency or "").upper(), 2)
    return number_format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), places)


def plain_amount(amount, currency):
    """``"75"`` (JPY) / ``"12.50"`` (EUR): the amount in the currency's minor units, unlocalised,
    for machine-readable answers (the storefront's JSON), so a client never shows "75.00" yen.
    Currencies PayPal does not know keep two decimals, as :func:`format_amount` shows them."""
    if amount is None:
        return None
    value = _decimal(amount)
    if value is None:
        return str(amount)
    places = PAYPAL_CURRENCIES.get(str(currency or "").upper(), 2)
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"


def format_money(amount, currency):
    """Localised ``"1.500 JPY"`` / ``"12,50 EUR"`` with the currency's own number of decimals."""
    if amount is None:
        return ""
    return f"{format_amount(amount, currency)} {currency or ''}".strip()
