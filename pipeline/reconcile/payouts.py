"""Shopify Payments refunds tied to their payouts (SPEC §8): the balance transaction whose source is the
refund transaction gives `fee`, `net` and the payout; the payout gives its date.

The reads go through the shared client in pages under its cost governor: balance transactions newest
first (`sortKey: PROCESSED_AT, reverse: true`), stopping at the plan's time; then the payouts they name.
A shop without Shopify Payments, or a token without `read_shopify_payments_payouts`, leaves the payout
columns empty and says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import httpx

from pipeline.errors import AuthError
from pipeline.money import ZERO, Money
from pipeline.reconcile.model import Payout, RefundTransaction
from pipeline.settings import ConnectionSettings
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.retry import execute_with_retry

Node = dict[str, Any]
SCOPE = "read_shopify_payments_payouts"

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


@dataclass(frozen=True)
class PayoutRead:
    """The Shopify Payments refunds with their payouts, the points the reads cost, and what to tell."""

    transactions: list[RefundTransaction]
    points: int
    note: str


def read_payouts(
    settings: ConnectionSettings,
    transactions: Sequence[RefundTransaction],
    since: dt.datetime,
    *,
    transport: httpx.BaseTransport | None = None,
) -> PayoutRead:
    """Each Shopify Payments refund of `transactions` tied to its balance transaction and payout."""
    ids = wanted(transactions)
    if not ids:
        return PayoutRead(list(transactions), 0, "no Shopify Payments refund to tie to a payout")
    moment = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    points = 0
    try:
        with ShopifyClient(settings, transport) as client:
            balance: dict[str, Node] = {}
            for page in _pages(
                client, "BalanceTransactions", "balanceTransactions", f"processed_at:>={moment}"
            ):
                points += page[1]
                balance.update(
                    (str(n.get("sourceOrderTransactionId")), n)
                    for n in page[0]
                    if str(n.get("sourceOrderTransactionId")) in ids
                )
                if len(balance) == len(ids):
                    break  # every refund found: older pages hold none of them
            wanted_payouts = {
                str((n.get("associatedPayout") or {}).get("id") or "") for n in balance.values()
            }
            wanted_payouts.discard("")
            payouts: dict[str, Node] = {}
            if wanted_payouts:
                for page in _pages(client, "Payouts", "payouts", f"issued_at:>={moment}", PAYOUTS_PAGE):
                    points += page[1]
                    payouts.update((str(n["id"]), n) for n in page[0] if str(n["id"]) in wanted_payouts)
                    if len(payouts) == len(wanted_payouts):
                        break
    except AuthError:
        return PayoutRead(list(transactions), points, f"payouts not read: the token lacks {SCOPE}")
    except _NoAccount:
        return PayoutRead(list(transactions), points, "the shop has no Shopify Payments account")
    found = sum(1 for i in ids if i in balance)
    note = f"{found} of {len(ids)} Shopify Payments refunds found in the balance transactions"
    return PayoutRead(attach(transactions, balance, payouts), points, note)


class _NoAccount(Exception):
    """`shopifyPaymentsAccount` is null: the shop does not use Shopify Payments."""


def _pages(
    client: ShopifyClient, document: str, field: str, query: str, size: int = PAGE
) -> Iterator[tuple[list[Node], int]]:
    """The nodes of each page of a `shopifyPaymentsAccount` connection, with the points it cost."""
    variables: dict[str, Any] = {"query": query, "first": size}
    while True:
        result = execute_with_retry(client, document, variables, mutation=False)
        account = result.data.get("shopifyPaymentsAccount")
        if account is None:
            raise _NoAccount
        connection = account[field]
        yield connection["nodes"], int(result.cost.actual or 0) if result.cost else 0
        if not connection["pageInfo"]["hasNextPage"]:
            return
        variables = {**variables, "after": connection["pageInfo"]["endCursor"]}


def payout_rows(transactions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per payout (or "not paid out yet"), the refunds it nets: count, orders, amount, fees, net; then
    the card refunds of other gateways, per gateway, as settled outside Shopify Payments."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for tx in transactions:
        gateway = str(tx.get("gateway"))
        if gateway == PAYMENTS_GATEWAY and tx.get("payout_status") is not None:
            payout, status = str(tx.get("payout_id") or "not paid out yet"), tx.get("payout_status")
        elif gateway != PAYMENTS_GATEWAY and tx.get("kind") == "REFUND" and tx.get("method") == "original":
            payout, status = f"outside Shopify Payments: {gateway}", tx.get("settlement")
        else:
            continue
        code = str(tx.get("payout_currency") or tx.get("shop_currency") or "")
        key = (payout, code)
        group = groups.setdefault(
            key,
            {
                "payout_id": key[0],
                "payout_status": status,
                "payout_date": tx.get("payout_date"),
                "refunds": 0,
                "orders": [],
                "amount": ZERO,
                "fee": None,
                "net": None,
                "currency": code,
            },
        )
        group["refunds"] += 1
        group["orders"].append(str(tx.get("order_name")))
        group["amount"] += _number(tx.get("shop_amount"))
        if gateway == PAYMENTS_GATEWAY:  # other gateways' fees and nets are not Shopify's to tell
            group["fee"] = (group["fee"] or ZERO) + _number(tx.get("fee"))
            group["net"] = (group["net"] or ZERO) + _number(tx.get("net"))
    order = sorted(
        groups, key=lambda k: (k[0].startswith("outside"), str(groups[k]["payout_date"] or "~"), k)
    )
    rows = [groups[key] for key in order]
    for row in rows:
        row["orders"] = ", ".join(dict.fromkeys(row["orders"]))
    return rows


def _number(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else (Decimal(str(value)) if value not in (None, "") else ZERO)
