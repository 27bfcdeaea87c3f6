"""The wire shapes shared by the resolvers: money bags, timestamps, connections, `Sub`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pipeline.simulator.money import fmt_amount, to_shop
from pipeline.simulator.search import cursor, page
from pipeline.simulator.store import (
    Order,
)

Resolver = Callable[..., Any]
GATEWAY_NAMES = {
    "shopify_payments": "Shopify Payments",
    "gift_card": "Gift card",
    "manual": "Manual",
    "paypal": "PayPal",
    "klarna": "Klarna",
    "sofort": "Sofort",
    "shopify_store_credit": "Store credit",
}


@dataclass
class Sub:
    """An object that belongs to an order."""

    order: Order
    obj: Any


def ts(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": fmt_amount(amount), "currencyCode": currency}


def bag(order: Order, amount: Decimal) -> dict[str, Any]:
    """MoneyBag: presentment money and shop money at the order's fixed rate."""
    return {
        "presentmentMoney": money(amount, order.presentment_currency),
        "shopMoney": money(to_shop(amount, order.rate, order.currency), order.currency),
    }


def connection(
    items: list[Any], args: dict[str, Any], wrap: Callable[[Any], Any], key: str = "ID"
) -> dict[str, Any]:
    """nodes/edges/pageInfo for a page of `items` (already filtered)."""
    window, has_next, has_prev = page(
        items,
        args.get("sortKey") or key,
        bool(args.get("reverse")),
        args.get("first"),
        args.get("after"),
        args.get("last"),
        args.get("before"),
    )
    return framed(window, has_next, has_prev, args, wrap, key)


def framed(
    window: list[Any],
    has_next: bool,
    has_prev: bool,
    args: dict[str, Any],
    wrap: Callable[[Any], Any],
    key: str = "ID",
) -> dict[str, Any]:
    """nodes/edges/pageInfo for a page already cut (`connection`, or an index's own walk)."""
    cursors = [cursor(i, args.get("sortKey") or key) for i in window]
    nodes = [wrap(i) for i in window]
    return {
        "nodes": nodes,
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_prev,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


def first_n(items: list[Any], args: dict[str, Any]) -> list[Any]:
    n = args.get("first")
    return items if n is None else items[:n]
