"""Validators that keep card data to brand + last four digits (PCI DSS req. 3)."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, validate_email
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

LAST4_PATTERN = r"^[0-9]{4}$"

validate_last4 = RegexValidator(
    LAST4_PATTERN, _("Only the last four digits of a card may be stored."), code="card_last4"
)

currency_code_validator = RegexValidator(
    r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code."), code="currency"
)


def validate_card_brand(value):
    """Accept a brand name only: anything digit-like could be a card number and is refused."""
    if re.search(r"\d", value or ""):
        raise ValidationError(_("A card brand must not contain digits."), code="card_brand")
    if value and value.upper() not in CARD_BRANDS:
        raise ValidationError(_("Unknown card brand %(brand)s."), code="card_brand", params={"brand": value})


def card_constraints(prefix):
    """Database guarantees that no more than brand + last four digits can ever be stored."""
    from django.db.models import CheckConstraint, Q

    return [
        CheckConstraint(
            condition=Q(card_last4="") | Q(card_last4__regex=LAST4_PATTERN),
            name=f"{prefix}_card_last4_only",
        ),
        CheckConstraint(
            condition=~Q(card_brand__regex=r"[0-9]"),
            name=f"{prefix}_card_brand_no_digits",
        ),
    ]


def clean_card(brand, last4):
    """Return (brand, last4) if they are storable, else ("", "") — never a longer number."""
    brand = (brand or "").strip().upper()[:20]
    last4 = (last4 or "").strip()
    try:
        validate_last4(last4)
        validate_card_brand(brand)
    except ValidationError:
        return "", ""
    return brand, last4


def clean_payer_email(value):
    """PayPal's payer e-mail if it is a valid address of at most 254 characters, else "".

    It is shown in listings, e-mails and CSV exports, so a value that is not an address (markup,
    a spreadsheet formula, a megabyte of text) is dropped rather than stored."""
    value = value.strip() if isinstance(value, str) else ""
    if not value or len(value) > 254:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value
