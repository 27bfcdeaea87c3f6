"""Money: a `Decimal` with its ISO 4217 currency, and the one rule for summing it per currency and method."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipeline.currencies import decimals

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount with its ISO 4217 currency. Never a float."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money amount must be a Decimal, not {type(self.amount).__name__}")

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> Money | None:
        """Shopify's MoneyV2 (`{"amount": "12.5", "currencyCode": "EUR"}`), or None."""
        if not value:
            return None
        return cls(Decimal(str(value["amount"])), str(value["currencyCode"]))

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def in_currency(amount: Decimal, currency: str) -> Decimal:
    """`amount` with exactly the currency's decimals (JPY `5` → `5`, EUR `5` → `5.00`)."""
    return amount.quantize(Decimal(1).scaleb(-decimals(currency)))


def exact(amount: Decimal, currency: str | None) -> Decimal:
    """`amount` written with its currency's decimals (`393.1` EUR → `393.10`, `77990.0` JPY → `77990`).

    The one rule every report follows; a digit beyond the currency's decimals is kept, never rounded
    away, so a wrong amount shows as wrong. Without a currency: two decimals.
    """
    places = decimals(currency) if currency else 2
    quantum = Decimal(1).scaleb(-places)
    shown = amount.quantize(quantum)
    return shown if shown == amount else amount


def totals(items: Iterable[tuple[str, str, Decimal]]) -> dict[tuple[str, str], Decimal]:
    """(currency, method, amount) items summed per (currency, method), sorted by currency then method."""
    sums: dict[tuple[str, str], Decimal] = {}
    for currency, method, amount in items:
        sums[(currency, method)] = sums.get((currency, method), ZERO) + amount
    return dict(sorted(sums.items()))


def per_currency(sums: Mapping[tuple[str, str], Decimal]) -> dict[str, Decimal]:
    """`totals`' sums (per currency and method) summed again per currency, sorted by currency."""
    result: dict[str, Decimal] = {}
    for (currency, _method), amount in sums.items():
        result[currency] = result.get(currency, ZERO) + amount
    return dict(sorted(result.items()))
