"""Shopify Payments: balance transactions and payouts, derived from the store's own transactions.

Every SUCCESS sale, capture and refund on `shopify_payments` is a balance transaction in the shop
currency (its order's shop money), with a processing fee on charges (refunds return no fee). A daily
payout schedule on the simulator's clock nets them: a transaction processed on day D is PENDING (no
payout) until the payout issued at D+1 `PAYOUT_TIME` takes it; that payout is SCHEDULED for a day,
then PAID. Nothing is stored: the answer follows from the orders (read through `balance.py`'s index,
so a page costs its own size) and `Store.clock`, so a seeded store has its payout history and a test
moves payouts on by moving the clock.

Fields and enums are Shopify's (admin-2026-07 schema, SHOPIFY-FACTS "Shopify Payments"); the fee
rate, schedule, search filters and ids are inferred from reference pages, not recorded (README).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from pipeline.simulator import search
from pipeline.simulator.balance import TYPES, BalanceTransaction, balance_index
from pipeline.simulator.gids import gid
from pipeline.simulator.shapes import connection, framed, money, ts
from pipeline.simulator.store import Store

Moment = TypeVar("Moment", datetime, int)  # a date, or a payout's id
IN_TRANSIT = timedelta(days=1)  # SCHEDULED for a day after it is issued, then PAID


@dataclass(frozen=True)
class Payout:
    id: int  # the issue date as digits (20261201): one payout a day
    issued_at: datetime
    net: Decimal
    currency: str
    status: str


def balance_transactions(store: Store) -> list[BalanceTransaction]:
    """Every Shopify Payments balance transaction of the shop so far, oldest first."""
    now = store.now()
    return sorted((b for b in balance_index(store).items if b.at <= now), key=lambda b: (b.at, b.id))


def payouts(store: Store) -> list[Payout]:
    """Every payout issued by now, with the net of the balance transactions it takes."""
    now, index = store.now(), balance_index(store)
    return [
        Payout(int(at.strftime("%Y%m%d")), at, index.nets[at], index.currencies[at], _status(now, at))
        for at in index.issued(now)
    ]


def _status(now: datetime, issued: datetime) -> str:
    return "SCHEDULED" if now < issued + IN_TRANSIT else "PAID"


def account(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    """QueryRoot.shopifyPaymentsAccount: the connections resolve lazily, with their own arguments."""
    return {
        "id": gid("ShopifyPaymentsAccount", 1),
        "activated": True,
        "defaultCurrency": store.shop.currency,
        "balanceTransactions": lambda info, **a: _transactions(store, a),
        "payouts": lambda info, **a: _payouts(store, a),
    }


def _transactions(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    """A page by id (the only order the simulator keeps), walked from the cursor in the index."""
    tree, now, index = search.parse(args.get("query")), store.now(), balance_index(store)

    def keep(item: BalanceTransaction) -> bool:
        return item.at <= now and search.evaluate(tree, partial(_matches, item))

    ordered = {**args, "sortKey": "ID"}
    wrap = partial(_transaction_node, now)
    cut = index.window(ordered, keep, _processed_since(tree))
    if cut is None:  # `last`/`before` or arguments Shopify refuses: the whole list, as search.page cuts it
        return connection([b for b in index.items if keep(b)], ordered, wrap)
    return framed(*cut, ordered, wrap)


def exported(store: Store, args: dict[str, Any]) -> list[int]:
    """The ids a bulk query of `balanceTransactions(args)` exports, in its order (by id, as pages)."""
    tree, now = search.parse(args.get("query")), store.now()
    found = [
        b.id
        for b in balance_index(store).items
        if b.at <= now and search.evaluate(tree, partial(_matches, b))
    ]
    return found[::-1] if args.get("reverse") else found


def export_nodes(store: Store, ids: list[int]) -> list[dict[str, Any]]:
    """The nodes of these balance transactions (a bulk query's next roots), as a page shows them."""
    now = store.now()
    return [_transaction_node(now, b) for b in balance_index(store).by_ids(ids)]


def _processed_since(tree: search.Node | None) -> datetime | None:
    """The latest `processed_at:>=`/`:>` bound the whole query requires (a top-level term), if any."""
    if tree is None or tree[0] not in ("term", "and"):
        return None
    terms = [tree] if tree[0] == "term" else list(tree[1:])
    bounds = [
        _when(node[1][2])
        for node in terms
        if node[0] == "term" and node[1][0] == "processed_at" and node[1][1] in (">=", ">")
    ]
    found = [b for b in bounds if b is not None]
    return max(found) if found else None


def _matches(item: BalanceTransaction, term: tuple[str | None, str, str]) -> bool:
    """`processed_at`, `payout_date` (date filters), `payout_status`, `transaction_type`; others ignored."""
    name, op, value = term
    if name in ("processed_at", "payout_date"):
        bound = _when(value)
        moment = item.at if name == "processed_at" else item.payout_at
        return bound is None or _compare(moment, op, bound)
    if name == "transaction_type":
        return TYPES[item.source.kind].lower() == value.lower()
    return True


def _transaction_node(now: datetime, item: BalanceTransaction) -> dict[str, Any]:
    code = item.order.currency
    paid = item.payout_at <= now
    return {
        "id": gid("ShopifyPaymentsBalanceTransaction", item.id),
        "amount": money(item.amount, code),
        "fee": money(item.fee, code),
        "net": money(item.net, code),
        "type": TYPES[item.source.kind],
        "test": item.order.test,
        "transactionDate": ts(item.at),
        "sourceId": str(item.source.id),
        "sourceOrderTransactionId": str(item.source.id),
        "associatedPayout": {
            "id": gid("ShopifyPaymentsPayout", int(item.payout_at.strftime("%Y%m%d"))) if paid else None,
            "status": _status(now, item.payout_at) if paid else "PENDING",
        },
    }


def _payouts(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    tree = search.parse(args.get("query"))
    hits = [p for p in payouts(store) if search.evaluate(tree, partial(_payout_matches, p))]
    return connection(hits, {**args, "sortKey": "ID"}, _payout_node)


def _payout_matches(payout: Payout, term: tuple[str | None, str, str]) -> bool:
    name, op, value = term
    if name == "issued_at":
        bound = _when(value)
        return bound is None or _compare(payout.issued_at, op, bound)
    if name == "status":
        return payout.status.lower() == value.lower()
    if name == "id":  # an id or a range of them: `id:20261202`, `id:>=20261201`
        digits = value.rsplit("/", 1)[-1]
        return digits.isdigit() and _compare(payout.id, op, int(digits))
    return True


def _payout_node(payout: Payout) -> dict[str, Any]:
    return {
        "id": gid("ShopifyPaymentsPayout", payout.id),
        "legacyResourceId": str(payout.id),
        "issuedAt": ts(payout.issued_at),
        "net": money(abs(payout.net), payout.currency),
        "status": payout.status,
        "transactionType": "DEPOSIT" if payout.net >= 0 else "WITHDRAWAL",
    }


def _when(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.strip("'\"").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(left: Moment, op: str, right: Moment) -> bool:
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}.get(
        op, left == right
    )
