"""Shopify Payments refunds tied to their payouts (SPEC §8): the balance transaction whose source is the
refund transaction gives `fee`, `net` and the payout; the payout gives its date.

The reads go through the shared client in pages under its cost governor: balance transactions newest
first (`sortKey: PROCESSED_AT, reverse: true`), stopping at the plan's time; then the payouts they name.
A shop without Shopify Payments, or a token without `read_shopify_payments_payouts`, leaves the payout
columns empty and says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from pipeline.money import ZERO, Money
from pipeline.reconcile.model import Payout, RefundTransaction

PAYMENTS_GATEWAY = "shopify_payments"
#: Balance transactions a page: 4 objects each (node, fee, net, payout) ≈ 400 points, far under 1,000.
PAGE = 100
PAYOUTS_PAGE = 50


def legacy(gid: str | None) -> str:
    return str(gid or "").rsplit("/", 1)[-1]


def wanted(transactions: Sequence[RefundTransaction]) -> dict[str, RefundTransaction]:
    """The Shopify Payments refund transactions (settled) by legacy id: the ones a payout nets."""
    return {
        legacy(tx.transaction_id): tx
        for tx in transactions
        if tx.gateway == PAYMENTS_GATEWAY and tx.kind == "REFUND" and tx.status == "SUCCESS"
    }


def attach(
    transactions: Sequence[RefundTransaction],
    balance: Mapping[str, Mapping[str, Any]],
    payouts: Mapping[str, Mapping[str, Any]],
) -> list[RefundTransaction]:
    """Each Shopify Payments refund with its balance transaction (by source id) and payout."""
    out = []
    for tx in transactions:
        node = balance.get(legacy(tx.transaction_id)) if tx.gateway == PAYMENTS_GATEWAY else None
        if node is None:
            out.append(tx)
            continue
        associated = node.get("associatedPayout") or {}
        payout = payouts.get(str(associated.get("id") or "")) or {}
        made = Payout(
            payout_id=associated.get("id"),
            status=str(associated.get("status") or "PENDING"),
            date=payout.get("issuedAt"),
            fee=Money.of(node.get("fee")),
            net=Money.of(node.get("net")),
        )
        out.append(replace(tx, payout=made))
    return out


def payout_rows(transactions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per payout (or "not paid out yet"), the refunds it nets: count, orders, amount, fees, net."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for tx in transactions:
        if tx.get("gateway") != PAYMENTS_GATEWAY or tx.get("payout_status") is None:
            continue
        code = str(tx.get("payout_currency") or tx.get("shop_currency") or "")
        key = (str(tx.get("payout_id") or "not paid out yet"), code)
        group = groups.setdefault(
            key,
            {
                "payout_id": key[0],
                "payout_status": tx.get("payout_status"),
                "payout_date": tx.get("payout_date"),
                "refunds": 0,
                "orders": [],
                "amount": ZERO,
                "fee": ZERO,
                "net": ZERO,
                "currency": code,
            },
        )
        group["refunds"] += 1
        group["orders"].append(str(tx.get("order_name")))
        group["amount"] += _number(tx.get("shop_amount"))
        group["fee"] += _number(tx.get("fee"))
        group["net"] += _number(tx.get("net"))
    rows = [groups[key] for key in sorted(groups, key=lambda k: (str(groups[k]["payout_date"] or "~"), k))]
    for row in rows:
        row["orders"] = ", ".join(dict.fromkeys(row["orders"]))
    return rows


def _number(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else (Decimal(str(value)) if value not in (None, "") else ZERO)
