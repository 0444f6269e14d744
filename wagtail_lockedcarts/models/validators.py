"""Validators that keep card data to brand + last four digits (PCI DSS req. 3)."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

CARD_BRANDS = {
    "VISA",
    "MASTERCARD",
    "AMEX",
    "DISCOVER",
    "JCB",
    "DINERS",
    "MAESTRO",
    "UNIONPAY",
    "ELO",
    "HIPER",
    "CB_NATIONALE",
    "CETELEM",
    "CONFIG",
    "STAR",
    "SOLO",
    "SWITCH",
    "CHINA_UNION_PAY",
    "UNKNOWN",
}

validate_last4 = RegexValidator(
    r"^\d{4}$", _("Only the last four digits of a card may be stored."), code="card_last4"
)

currency_code_validator = RegexValidator(
    r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code."), code="currency"
)


def validate_card_brand(value):
    """Accept a brand name only: anything digit-like could be a card number and is refused."""
    if re.search(r"\d", value or ""):
        raise ValidationError(_("A card brand must not contain digits."), code="card_brand")
    if value and value.upper() not in CARD_BRANDS:
        raise ValidationError(
            _("Unknown card brand %(brand)s."), code="card_brand", params={"brand": value}
        )
