"""Who moved money on a planned order: the run named by the action key in a note, or by the claim.

An action key is `bc-<run-id>-<order legacy id>` (`plan.keys`); notes carry it as `[key]` (refunds,
cancels) or as the whole note (gift cards). A refund without a key is attributed to the run whose
claim is on the order when that is another run (SPEC §7a); otherwise it was made by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipeline.money import Money, in_currency

_KEY = re.compile(r"\[(bc-\d{8}-\d{6}-[^\]\s]*-\d+)\]")
_WHOLE = re.compile(r"bc-\d{8}-\d{6}-\S*-\d+")


@dataclass(frozen=True)
class Maker:
    """The run and action key a money movement is attributed to ("" when no run made it)."""

    run_id: str
    action_key: str


NOBODY = Maker("", "")


def key_in(note: str | None) -> str | None:
    """The action key a note carries, or None."""
    text = (note or "").strip()
    found = _KEY.search(text)
    if found:
        return found.group(1)
    return text if _WHOLE.fullmatch(text) else None


def maker(key: str) -> Maker:
    """The run of an action key: `bc-<run-id>-<legacy id>` → `<run-id>`."""
    return Maker(key.removeprefix("bc-").rsplit("-", 1)[0], key)


def order_of(key: str) -> str:
    """The order legacy id an action key names."""
    return key.rsplit("-", 1)[-1]


def rate(order: Mapping[str, Any]) -> Decimal | None:
    """The order's own rate: shop money ÷ presentment money of its total (None when unknown or zero)."""
    total = order.get("totalPriceSet") or {}
    shown, shop = Money.of(total.get("presentmentMoney")), Money.of(total.get("shopMoney"))
    if shown is None or shop is None or not shown.amount:
        return None
    return shop.amount / shown.amount


def in_shop(amount: Money, order: Mapping[str, Any]) -> tuple[Money | None, bool]:
    """`amount` in the shop's currency and whether it was converted at the order's own rate."""
    shop_currency = order.get("currencyCode")
    if not shop_currency or amount.currency == shop_currency:
        return (amount if shop_currency else None), False
    factor = rate(order)
    if factor is None or amount.currency != order.get("presentmentCurrencyCode"):
        return None, False
    return Money(in_currency(amount.amount * factor, str(shop_currency)), str(shop_currency)), True
