"""Shopify Payments: balance transactions and payouts, derived from the store's own transactions.

Every SUCCESS sale, capture and refund on `shopify_payments` is a balance transaction in the shop
currency (its order's shop money), with a processing fee on charges (refunds return no fee). A daily
payout schedule on the simulator's clock nets them: a transaction processed on day D is PENDING (no
payout) until the payout issued at D+1 `PAYOUT_TIME` takes it; that payout is SCHEDULED for a day,
then PAID. Nothing is stored: the answer follows from the orders and `Store.clock`, so a seeded store
has its payout history and a test moves payouts on by moving the clock.

Fields and enums are Shopify's (admin-2026-07 schema, SHOPIFY-FACTS "Shopify Payments"); the fee
rate, schedule, search filters and ids are inferred from reference pages, not recorded (README).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from pipeline.simulator import search
from pipeline.simulator.gids import gid
from pipeline.simulator.money import ZERO, q, to_shop
from pipeline.simulator.shapes import connection, money, ts
from pipeline.simulator.store import Order, Store, Transaction

GATEWAY = "shopify_payments"
FEE_RATE = Decimal("0.021")  # inferred: a typical Shopify Payments card rate …
FEE_FIXED = Decimal("0.25")  # … plus a fixed part per charge, in the shop currency
PAYOUT_TIME = time(6, 0, tzinfo=UTC)  # the daily payout is issued at 06:00 UTC
IN_TRANSIT = timedelta(days=1)  # SCHEDULED for a day after it is issued, then PAID
_TYPES = {"SALE": "CHARGE", "CAPTURE": "CHARGE", "REFUND": "REFUND"}


@dataclass(frozen=True)
class BalanceTransaction:
    id: int  # the order transaction's id: one balance transaction per order transaction
    order: Order
    source: Transaction
    at: datetime
    amount: Decimal  # shop currency, negative for a refund
    fee: Decimal

    @property
    def net(self) -> Decimal:
        return self.amount - self.fee

    @property
    def payout_at(self) -> datetime:
        """When the daily payout that takes this transaction is issued: the next day at PAYOUT_TIME."""
        return datetime.combine(self.at.date() + timedelta(days=1), PAYOUT_TIME)


@dataclass(frozen=True)
class Payout:
    id: int  # the issue date as digits (20261201): one payout a day
    issued_at: datetime
    net: Decimal
    currency: str
    status: str


def balance_transactions(store: Store) -> list[BalanceTransaction]:
    """Every Shopify Payments balance transaction of the shop so far, oldest first."""
    now, found = store.now(), []
    for order in store.orders.values():
        for tx in order.transactions:
            kind = _TYPES.get(tx.kind)
            at = max(tx.created_at, tx.settles_at or tx.created_at)
            if kind is None or tx.gateway != GATEWAY or tx.status != "SUCCESS" or at > now:
                continue
            amount = to_shop(tx.amount, order.rate, order.currency)
            fee = q(amount * FEE_RATE + FEE_FIXED, order.currency) if kind == "CHARGE" else ZERO
            found.append(
                BalanceTransaction(tx.id, order, tx, at, -amount if kind == "REFUND" else amount, fee)
            )
    return sorted(found, key=lambda b: (b.at, b.id))


def payouts(store: Store) -> list[Payout]:
    """Every payout issued by now, with the net of the balance transactions it takes."""
    now, nets, codes = store.now(), dict[datetime, Decimal](), dict[datetime, str]()
    for item in balance_transactions(store):
        if item.payout_at <= now:
            nets[item.payout_at] = nets.get(item.payout_at, ZERO) + item.net
            codes[item.payout_at] = item.order.currency
    return [
        Payout(int(at.strftime("%Y%m%d")), at, net, codes[at], _status(now, at))
        for at, net in sorted(nets.items())
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
    tree = search.parse(args.get("query"))
    hits = [b for b in balance_transactions(store) if search.evaluate(tree, partial(_matches, b))]
    now = store.now()
    return connection(hits, {**args, "sortKey": "ID"}, partial(_transaction_node, now))


def _matches(item: BalanceTransaction, term: tuple[str | None, str, str]) -> bool:
    """`processed_at`, `payout_date` (date filters), `payout_status`, `transaction_type`; others ignored."""
    name, op, value = term
    if name in ("processed_at", "payout_date"):
        bound = _when(value)
        moment = item.at if name == "processed_at" else item.payout_at
        return bound is None or _compare(moment, op, bound)
    if name == "transaction_type":
        return _TYPES[item.source.kind].lower() == value.lower()
    return True


def _transaction_node(now: datetime, item: BalanceTransaction) -> dict[str, Any]:
    code = item.order.currency
    paid = item.payout_at <= now
    return {
        "id": gid("ShopifyPaymentsBalanceTransaction", item.id),
        "amount": money(item.amount, code),
        "fee": money(item.fee, code),
        "net": money(item.net, code),
        "type": _TYPES[item.source.kind],
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


def _compare(left: datetime, op: str, right: datetime) -> bool:
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}.get(
        op, left == right
    )
