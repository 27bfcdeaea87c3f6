"""Shopify Payments refunds tied to their payouts (SPEC §8): the balance transaction whose source is the
refund transaction gives `fee`, `net` and the payout; the payout gives its date.

The balance transactions since the plan are read by `balance.py` (one bulk query on the bulk engine,
pages under the cost governor otherwise); then, paced, only the payouts they name (a few: one a day).
A shop without Shopify Payments, or a token without `read_shopify_payments_payouts`, leaves the payout
columns empty and says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import httpx

from pipeline.errors import AuthError, ShopifyError
from pipeline.money import ZERO, Money
from pipeline.reconcile.balance import NoAccount, Node, pages, read_balance, start_bulk_read
from pipeline.reconcile.bulkread import CountedGovernor, bulk_settings
from pipeline.reconcile.model import Payout, RefundTransaction
from pipeline.reconcile.readback import stamp
from pipeline.settings import ConnectionSettings
from pipeline.shopify.bulk import BulkOperations, StartedRead
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.progress import Progress

SCOPE = "read_shopify_payments_payouts"

PAYMENTS_GATEWAY = "shopify_payments"
PAYOUTS_PAGE = 50
NOTHING_TO_TIE = "no Shopify Payments refund to tie to a payout"


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
    bulk: bool = False,
    bulk_options: Mapping[str, Any] | None = None,
    bulk_progress: Callable[[Progress], None] | None = None,
    started: StartedRead | None = None,
) -> PayoutRead:
    """Each Shopify Payments refund of `transactions` tied to its balance transaction and payout; `bulk`:
    the balance transactions through one bulk query (the bulk engine; the one `started` beforehand, if
    any: it is cancelled when no refund needs it), else paced pages."""
    ids = wanted(transactions)
    governor = CountedGovernor()
    if not ids:
        if started is not None:
            cancel_read(settings, transport, started, governor)
        return PayoutRead(list(transactions), governor.points, NOTHING_TO_TIE)
    moment = stamp(since)
    try:
        with ShopifyClient(settings, transport, governor=governor) as client:
            operations = None
            if bulk:
                operations = BulkOperations(client, transport, **bulk_settings(bulk_options))
            try:
                balance, fallback = read_balance(client, ids, moment, operations, bulk_progress, started)
            finally:
                if operations is not None:
                    operations.close()
            payouts = read_named_payouts(client, balance.values(), moment)
    except AuthError:
        return PayoutRead(list(transactions), governor.points, f"payouts not read: the token lacks {SCOPE}")
    except NoAccount:
        return PayoutRead(list(transactions), governor.points, "the shop has no Shopify Payments account")
    found = sum(1 for i in ids if i in balance)
    note = f"{found} of {len(ids)} Shopify Payments refunds found in the balance transactions"
    if fallback:
        note += f" (read paced: {fallback})"
    return PayoutRead(attach(transactions, balance, payouts), governor.points, note)


def start_balance_read(bulk: BulkOperations, since: dt.datetime) -> StartedRead | None:
    """The balance transactions' bulk query since the plan, started ahead of `read_payouts` (on `bulk`,
    another read's operations); None when Shopify refused it (`read_payouts` then reads as it would)."""
    try:
        return start_bulk_read(bulk, stamp(since))
    except ShopifyError:
        return None


def cancel_read(
    settings: ConnectionSettings,
    transport: httpx.BaseTransport | None,
    started: StartedRead,
    governor: CountedGovernor | None = None,
) -> None:
    """Cancels a bulk read started ahead that will not be read (a read changes nothing: cancelling only
    frees one of the shop's five bulk slots); best effort, as one left to finish costs nothing."""
    try:
        with ShopifyClient(settings, transport, governor=governor) as client:
            operations = BulkOperations(client, transport, **bulk_settings(None))
            try:
                operations.cancel(started.operation_id)
            finally:
                operations.close()
    except ShopifyError:
        pass


def read_named_payouts(client: ShopifyClient, balance: Iterable[Node], moment: str) -> dict[str, Node]:
    """The payouts these balance transactions name, by id: issued since the plan, searched by their id
    range (one page for a run of a few days), until all are found."""
    named = {str((n.get("associatedPayout") or {}).get("id") or "") for n in balance}
    named.discard("")
    if not named:
        return {}
    numbers = sorted(int(n) for n in map(legacy, named) if n.isdigit())
    query = f"issued_at:>={moment}"
    if len(numbers) == len(named):
        query += f" id:>={numbers[0]} id:<={numbers[-1]}"
    payouts: dict[str, Node] = {}
    for nodes in pages(client, "Payouts", "payouts", query, PAYOUTS_PAGE):
        payouts.update((str(n["id"]), n) for n in nodes if str(n["id"]) in named)
        if len(payouts) == len(named):
            break
    return payouts


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
