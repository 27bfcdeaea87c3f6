"""Decimal money helpers: currency decimals, Shopify's amount printing, shop-currency conversion."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

#: ISO 4217 minor units that differ from 2 (only the ones a seeded shop may use).
_DECIMALS = {"JPY": 0, "KRW": 0, "ISK": 0, "HUF": 2, "KWD": 3, "BHD": 3}

#: how Shopify's default money formats print a currency in messages (shop settings in reality).
_SYMBOL = {
    "USD": "$",
    "CAD": "$",
    "AUD": "$",
    "NZD": "$",
    "SGD": "$",
    "HKD": "$",
    "MXN": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CHF": "CHF ",
    "SEK": "kr ",
    "DKK": "kr ",
    "NOK": "kr ",
}

ZERO = Decimal("0")


def decimals(currency: str) -> int:
    """Minor-unit digits of a currency (2 unless listed)."""
    return _DECIMALS.get(currency, 2)


def q(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, banker's rounding as Shopify's Ruby BigDecimal does."""
    exp = Decimal(1).scaleb(-decimals(currency))
    return amount.quantize(exp, rounding=ROUND_HALF_EVEN)


def to_shop(amount: Decimal, rate: Decimal, shop_currency: str) -> Decimal:
    """Presentment amount × the order's fixed rate, rounded to the shop currency."""
    return q(amount * rate, shop_currency)


def fmt_amount(amount: Decimal) -> str:
    """Shopify's `Decimal` printing: trailing zeros dropped, at least one decimal ("15.0", "16.99")."""
    text = format(amount.normalize(), "f")
    if "." not in text:
        text += ".0"
    return "0.0" if text in ("-0.0", "-0") else text


def fmt_plain(amount: Decimal, currency: str) -> str:
    """Fixed minor units ("12.50"): the simulator's own JSON files, not Shopify's wire format."""
    return format(q(amount, currency), "f")


def fmt_message(amount: Decimal, currency: str) -> str:
    """Money inside a user-error message: "$25.00" (recorded 2025-01-refund-create-over-refund)."""
    number = format(q(amount, currency), ",f")
    symbol = _SYMBOL.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def parse_money(value: object) -> Decimal:
    """A `Money`/`Decimal` scalar from the wire (string or number) as a Decimal, never via float."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        value = repr(value)
    return Decimal(str(value).strip())
