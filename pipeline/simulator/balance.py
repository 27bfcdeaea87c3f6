"""The shop's Shopify Payments balance transactions, indexed: a page of them costs its own size, not a
walk over every order's transactions (a 100,000-order shop answered a page in 1.5–2.5 s that way).

The index holds every SUCCESS sale, capture and refund on `shopify_payments`, whenever processed, by
id; the clock (what is processed by now, which payouts are issued) is applied when it is read. It is
built on the first read and built again after any new transaction: each takes a new id from the
store's one sequence, so `next_id` moving (or an order added) is the mark. What it holds never
changes once made: a transaction's kind, gateway and amount are fixed, and only refunds of
PENDING_REFUND_GATEWAYS (none on Shopify Payments) change status later.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from graphql import GraphQLError

from pipeline.simulator.money import ZERO, q, to_shop
from pipeline.simulator.search import MAX_PAGE, _decode
from pipeline.simulator.store import Order, Store, Transaction

GATEWAY = "shopify_payments"
FEE_RATE = Decimal("0.021")  # inferred: a typical Shopify Payments card rate …
FEE_FIXED = Decimal("0.25")  # … plus a fixed part per charge, in the shop currency
PAYOUT_TIME = time(6, 0, tzinfo=UTC)  # the daily payout is issued at 06:00 UTC
TYPES = {"SALE": "CHARGE", "CAPTURE": "CHARGE", "REFUND": "REFUND"}
INDEXES_KEPT = 4  # the latest few shops' (tests make many)


@dataclass(frozen=True, slots=True)
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


def _made(store: Store) -> Iterable[BalanceTransaction]:
    for order in store.orders.values():
        for tx in order.transactions:
            kind = TYPES.get(tx.kind)
            if kind is None or tx.gateway != GATEWAY or tx.status != "SUCCESS":
                continue
            at = max(tx.created_at, tx.settles_at or tx.created_at)
            amount = to_shop(tx.amount, order.rate, order.currency)
            fee = q(amount * FEE_RATE + FEE_FIXED, order.currency) if kind == "CHARGE" else ZERO
            yield BalanceTransaction(tx.id, order, tx, at, -amount if kind == "REFUND" else amount, fee)


class BalanceIndex:
    """One shop's balance transactions by id, the latest processing moment up to each, and each payout
    day's net (a payout nets every transaction processed the day before its issue)."""

    def __init__(self, store: Store) -> None:
        self.store = store  # held: its identity keys the cache
        self._mark = self._token(store)
        self.items = sorted(_made(store), key=lambda b: b.id)
        self.ids = [b.id for b in self.items]
        self._by_id = dict(zip(self.ids, self.items, strict=True))
        latest: list[datetime] = []
        for item in self.items:  # never decreasing: a search from a date stops where it falls below
            latest.append(max(latest[-1], item.at) if latest else item.at)
        self.latest = latest
        nets: dict[datetime, Decimal] = {}
        self.currencies: dict[datetime, str] = {}
        for item in sorted(self.items, key=lambda b: (b.at, b.id)):
            nets[item.payout_at] = nets.get(item.payout_at, ZERO) + item.net
            self.currencies[item.payout_at] = item.order.currency
        self.days = sorted(nets)
        self.nets = nets

    @staticmethod
    def _token(store: Store) -> tuple[int, int, int]:
        return id(store.orders), len(store.orders), store.next_id

    def current(self, store: Store) -> bool:
        return store is self.store and self._token(store) == self._mark

    def by_ids(self, ids: Iterable[int]) -> list[BalanceTransaction]:
        return [self._by_id[i] for i in ids if i in self._by_id]

    def issued(self, now: datetime) -> list[datetime]:
        """The payout days issued by `now`, oldest first."""
        return self.days[: bisect.bisect_right(self.days, now)]

    def window(
        self, args: dict[str, Any], keep: Callable[[BalanceTransaction], bool], since: datetime | None
    ) -> tuple[list[BalanceTransaction], bool, bool] | None:
        """The page `search.page` cuts from the kept items sorted by id (`first`, `after`, `reverse`),
        walking from the cursor only; `since`: no item processed before it is kept, so the walk stops
        where every older id is older still. None when the arguments need the whole list (`last`,
        `before`, a page size Shopify refuses, a cursor of another sort)."""
        first, after, reverse = args.get("first"), args.get("after"), bool(args.get("reverse"))
        if args.get("last") is not None or args.get("before") or not isinstance(first, int):
            return None
        if not 0 <= first <= MAX_PAGE:
            return None
        mark = _mark(after) if after else None
        if after and mark is None:
            return None
        floor = 0 if since is None else bisect.bisect_left(self.latest, since)
        step = -1 if reverse else 1
        if mark is None:
            start = len(self.items) - 1 if reverse else floor
        else:
            start = self._below(mark) - 1 if reverse else self._above(mark)
        found = self._walk(start, step, floor, keep, first + 1)
        earlier = False
        if mark is not None:  # hasPreviousPage: a kept item on the cursor's side (the cursor's own too)
            back = self._below(mark) if reverse else self._above(mark) - 1
            earlier = bool(self._walk(back, -step, floor, keep, 1))
        return found[:first], len(found) > first, earlier

    def _walk(
        self, at: int, step: int, floor: int, keep: Callable[[BalanceTransaction], bool], wanted: int
    ) -> list[BalanceTransaction]:
        found: list[BalanceTransaction] = []
        at = max(at, floor) if step > 0 else at
        while floor <= at < len(self.items) and len(found) < wanted:
            if keep(self.items[at]):
                found.append(self.items[at])
            at += step
        return found

    def _below(self, mark: tuple[int, int]) -> int:
        """Where the first item whose key (id, id) is not below the cursor's stands."""
        return bisect.bisect_left(self.items, mark, key=lambda b: (b.id, b.id))

    def _above(self, mark: tuple[int, int]) -> int:
        """Where the first item whose key is above the cursor's stands."""
        return bisect.bisect_right(self.items, mark, key=lambda b: (b.id, b.id))


def _mark(token: str) -> tuple[int, int] | None:
    """An id cursor's (last_value, last_id); None for one the whole-list path must judge (its errors)."""
    try:
        value, last = _decode(token)
    except GraphQLError:  # an invalid cursor: the whole-list path answers Shopify's error
        return None
    return (value, last) if isinstance(value, int) and not isinstance(value, bool) else None


_indexes: list[BalanceIndex] = []


def balance_index(store: Store) -> BalanceIndex:
    """The store's index, built again only when a transaction or an order was added since."""
    for index in _indexes:
        if index.current(store):
            return index
    index = BalanceIndex(store)
    _indexes[:] = [index, *(i for i in _indexes if i.store is not store)][:INDEXES_KEPT]
    return index
