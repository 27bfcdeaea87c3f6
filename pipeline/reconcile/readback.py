"""The Shopify reads of reconcile: every planned order and the run's gift cards, read back.

The reads are `OrdersReconcile` over `nodes(ids:)`, at most 250 ids a call, through the shared
client (its cost governor paces them); an order with more refunds or transactions than one page
shows is read again alone with larger pages.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from pipeline.errors import ThrottledError
from pipeline.reconcile.attribution import key_in
from pipeline.settings import ConnectionSettings
from pipeline.shopify.client import ShopifyClient, load_document
from pipeline.shopify.retry import execute_with_retry

CARDS_PAGE = 100  # 100 cards with their value and customer: about 300 points a page
MAX_IDS = 250  # nodes(ids:) takes at most 250 ids (SHOPIFY-FACTS §12)
PAGE = {"refundsFirst": 10, "transactionsFirst": 5, "refundLinesFirst": 10}
# One order alone, when it has more than a page shows: still far under the 1,000-point ceiling.
LARGE_PAGE = {"refundsFirst": 50, "transactionsFirst": 50, "refundLinesFirst": 50}

Node = dict[str, Any]


class Sink(Protocol):
    """Where the reads go as they arrive (`compare.Comparison`): the cards first, then each order."""

    def cards(self, gift_cards: Mapping[str, Node | None], found: Sequence[Node] = ()) -> None: ...

    def add(self, order_id: str, order: Node | None) -> None: ...


@dataclass(frozen=True)
class ReadBack:
    """What the reads cost, and the orders a bulk read left to the paced API, by why."""

    points: int
    reread: dict[str, int] = field(default_factory=dict)


def read_back(
    settings: ConnectionSettings,
    order_ids: Sequence[str],
    card_ids: Sequence[str],
    sink: Sink,
    *,
    since: dt.datetime | None = None,
    transport: httpx.BaseTransport | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReadBack:
    """Every gift card, then every order as Shopify shows it now, into `sink` a batch at a time;
    `progress` hears how many orders each call read."""
    with ShopifyClient(settings, transport) as client:
        reader = Reader(client, progress or (lambda _n: None))
        sink.cards(*read_cards(reader, card_ids, since if order_ids else None))
        read_orders(reader, order_ids, sink)
        return ReadBack(reader.points)


def read_cards(
    reader: Reader, card_ids: Sequence[str], since: dt.datetime | None
) -> tuple[dict[str, Node | None], list[Node]]:
    """The journal's gift cards by id, and (with `since`) every card issued since the plan carrying a
    key; a journal card among those is not read twice (the same fields)."""
    found = reader.cards_since(since) if since is not None else []
    seen = {str(card["id"]): card for card in found}
    missing = [i for i in card_ids if i not in seen]
    read = reader.read(missing) if missing else {}
    return {i: seen[i] if i in seen else read.get(i) for i in card_ids}, found


def read_orders(reader: Reader, order_ids: Sequence[str], sink: Sink) -> None:
    """The orders through `OrdersReconcile`, a call's batch at a time into `sink` (an order with more
    than a page shows is read again alone), so no more than a batch is held."""
    ids = list(dict.fromkeys(order_ids))
    for start in range(0, len(ids), MAX_IDS):
        batch = ids[start : start + MAX_IDS]
        nodes = reader.read(batch)
        truncated = [i for i in batch if _truncated(nodes.get(i))]
        if truncated:
            nodes.update(reader.read(truncated, one_by_one=True))
        for order_id in batch:
            sink.add(order_id, _mark(nodes.pop(order_id, None)))


class Reader:
    """The paced reads through one client, counting the points they cost."""

    def __init__(self, client: ShopifyClient, progress: Callable[[int], None]) -> None:
        self.client, self.progress, self.points = client, progress, 0
        self.stop = threading.Event()  # set: the next call raises CancelledError (its work is not wanted)

    def read(
        self, ids: Sequence[str], *, one_by_one: bool = False, document: str = "OrdersReconcile"
    ) -> dict[str, Node | None]:
        """Every id's node (None when Shopify has no such node), at most `MAX_IDS` a call.

        A call that costs more than the shop's whole bucket is split in halves until it fits.
        `document` takes `$ids` and the page sizes of `PAGE` it declares."""
        found: dict[str, Node | None] = {}
        size, pages = (1, LARGE_PAGE) if one_by_one else (MAX_IDS, PAGE)
        declared = load_document(document).text
        pages = {name: value for name, value in pages.items() if f"${name}" in declared}
        start = 0
        while start < len(ids):
            if self.stop.is_set():
                raise CancelledError("the read is no longer wanted")
            batch = list(ids[start : start + size])
            try:
                result = execute_with_retry(self.client, document, {"ids": batch, **pages}, mutation=False)
            except ThrottledError as exc:
                if not exc.too_big or len(batch) == 1:
                    raise
                size = max(1, len(batch) // 2)
                continue
            self.count(result)
            for node_id, node in zip(batch, result.data["nodes"], strict=True):
                found[node_id] = node
            self.progress(sum(1 for i in batch if "/Order/" in i))
            start += len(batch)
        return found

    def count(self, result: Any) -> None:
        """Add the points a read cost."""
        if result.cost is not None:
            self.points += int(result.cost.actual or 0)

    def cards_since(self, since: dt.datetime) -> list[Node]:
        """Every gift card created since the plan whose note carries an action key, a page at a time."""
        variables: dict[str, Any] = {"query": f"created_at:>={stamp(since)}", "first": CARDS_PAGE}
        found: list[Node] = []
        while True:
            result = execute_with_retry(self.client, "GiftCardsSince", variables, mutation=False)
            self.count(result)
            page = result.data["giftCards"]
            found.extend(card for card in page["nodes"] if key_in(card.get("note")) is not None)
            if not page["pageInfo"]["hasNextPage"]:
                return found
            variables = {**variables, "after": page["pageInfo"]["endCursor"]}


def stamp(since: dt.datetime) -> str:
    """A moment as reconcile's searches write it (gift cards, balance transactions, payouts): whole
    seconds, UTC."""
    return since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _truncated(order: Mapping[str, Any] | None) -> bool:
    """True when a page was full: there may be refunds, transactions or lines that were not read."""
    if not order or order.get("__typename") != "Order":
        return False
    refunds = order.get("refunds") or []
    if len(refunds) >= PAGE["refundsFirst"]:
        return True
    return any(
        refund[part]["pageInfo"]["hasNextPage"]
        for refund in refunds
        for part in ("transactions", "refundLineItems")
    )


def _mark(order: Node | None) -> Node | None:
    """Flag an order still truncated after the large read: reconcile says to check it by hand."""
    if order is None or order.get("__typename") != "Order":
        return None
    refunds = order.get("refunds") or []
    still = len(refunds) >= LARGE_PAGE["refundsFirst"] or any(
        refund[part]["pageInfo"]["hasNextPage"]
        for refund in refunds
        for part in ("transactions", "refundLineItems")
    )
    return {**order, "truncated": True} if still else order
