"""Which orders and lines a stock-out affects (pure): the search sent to Shopify, then the rule.

`--status unfulfilled`: open orders, the units not yet fulfilled; `open`: open orders, every unit
still on the order; `any`: every order, every unit still on it. Test orders are left out (plan would
block them). An order is affected when one of the SKUs has units in it; `all_lines_affected` says
whether those units are everything left on the order (then plan cancels it whole).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

STATUSES = ("unfulfilled", "open", "any")


@dataclass(frozen=True)
class Selection:
    """What `select` was asked for."""

    skus: tuple[str, ...]
    status: str = "unfulfilled"
    created_since: date | None = None
    query: str | None = None


@dataclass(frozen=True)
class Line:
    sku: str
    current: int  # units still on the order
    unfulfilled: int


@dataclass(frozen=True)
class ShopOrder:
    """An order as `select` reads it."""

    id: str
    name: str
    test: bool
    cancelled: bool
    closed: bool
    lines: tuple[Line, ...]

    @classmethod
    def from_json(cls, order: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> ShopOrder:
        return cls(
            id=str(order["id"]),
            name=str(order["name"]),
            test=bool(order.get("test")),
            cancelled=order.get("cancelledAt") is not None,
            closed=bool(order.get("closed")),
            lines=tuple(
                Line(
                    str(li.get("sku") or ""),
                    int(li.get("currentQuantity") or 0),
                    int(li.get("unfulfilledQuantity") or 0),
                )
                for li in lines
            ),
        )


@dataclass(frozen=True)
class Affected:
    """One row of the file `select` writes."""

    order: str
    order_id: str
    lines: dict[str, int]  # SKU as the shop writes it → units
    all_lines_affected: bool


def _quote(value: str) -> str:
    if re.fullmatch(r"[\w.\-/]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search_query(selection: Selection) -> str:
    """Shopify search syntax: the SKUs (OR), the status, the date, the user's own query (AND)."""
    skus = [f"sku:{_quote(s)}" for s in selection.skus]
    parts = [skus[0] if len(skus) == 1 else "(" + " OR ".join(skus) + ")"]
    if selection.status in ("unfulfilled", "open"):
        parts.append("status:open")
    if selection.created_since is not None:
        parts.append(f"created_at:>={selection.created_since.isoformat()}")
    if selection.query:
        parts.append(f"({selection.query})")
    return " ".join(parts)


def affected(order: ShopOrder, selection: Selection) -> Affected | None:
    """The order's row, or None when the stock-out does not touch it."""
    if order.test:
        return None
    if selection.status != "any" and (order.cancelled or order.closed):
        return None
    wanted = {s.casefold() for s in selection.skus}
    units: dict[str, int] = {}
    whole = True
    for line in order.lines:
        count = line.unfulfilled if selection.status == "unfulfilled" else line.current
        if line.sku.casefold() in wanted and count > 0:
            units[line.sku] = units.get(line.sku, 0) + count
            whole = whole and count == line.current
        elif line.current > 0:
            whole = False
    if not units:
        return None
    return Affected(order.name, order.id, units, whole)
