"""Reconcile's bulk reads (SPEC §15): the planned orders through one bulk query, streamed line by line.

The query is `orders(query: "status:any id:>=… id:<=…")` over the run's lowest and highest order id
(a claim cannot be searched, and orders a run never reached carry no mark of it); lines of other
orders in that range are dropped as they stream. Each planned order's line is turned into the node
`OrdersReconcile` answers (`bulkorders.py`) and compared at once, so the comparison is the same
whichever engine read it and no order is held. The paced API (`readback.py`) reads what no bulk
query gives: the gift cards and the refunds' line items (restock) of the orders planned to restock
or refund lines, beside the running query (they need only the plan), then the orders the bulk line
cannot settle (an uncertain split of money between refunds, not found). Bulk work is not charged to
the cost bucket; every call that is (start, polls, paced reads) is counted.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import httpx

from pipeline.plan.model import OrderSpan
from pipeline.reconcile.bulkorders import RESTOCK, SPLIT, UNREAD, as_reconcile_node, lines_cut, with_lines
from pipeline.reconcile.readback import Node, ReadBack, Reader, Sink, read_cards, read_orders
from pipeline.settings import ConnectionSettings
from pipeline.shopify.bulk import BulkOperations, StartedRead, id_range
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.governor import CostGovernor, QueryCost, Reservation
from pipeline.shopify.progress import Progress

DOCUMENT = "OrdersReconcileBulk"
RESTOCK_DOCUMENT = "OrdersRestock"  # refunds' line items, which no bulk query reaches
POLL = 0.25  # seconds between polls at first; the waits grow to MAX_POLL
MAX_POLL = 2.0  # a poll costs a point or two; a late one costs the run time past the floor
NOT_FOUND = "not found"  # not in the bulk read: the paced read says whether Shopify has it


def bulk_settings(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The polling of reconcile's bulk reads, as `BulkOperations` takes it (tests pass their clock)."""
    return {"poll": POLL, "max_poll": MAX_POLL, **(options or {})}


class CountedGovernor(CostGovernor):
    """The shared governor, also adding up what every answer actually cost (from two threads)."""

    points = 0
    _count = threading.Lock()

    def release(self, reservation: Reservation, cost: QueryCost | None) -> None:
        if cost is not None and cost.actual is not None:
            with self._count:
                self.points += int(cost.actual)
        super().release(reservation, cost)


@dataclass(frozen=True)
class Wanted:
    """What the reads are for, known once the plan is loaded: the planned orders (each once), the
    journal's gift cards, the orders whose refunds' line items are read (their plan restocks or refunds
    lines), where each read goes, and the plan's moment (the gift cards issued since are read)."""

    order_ids: Sequence[str]
    card_ids: Sequence[str]
    lines_ids: Collection[str]
    sink: Sink
    since: dt.datetime | None = None


def read_back_bulk(
    settings: ConnectionSettings,
    span: OrderSpan | None,
    wanted: Callable[[], Wanted],
    *,
    transport: httpx.BaseTransport | None = None,
    progress: Callable[[int], None] | None = None,
    bulk_progress: Callable[[Progress], None] | None = None,
    bulk_options: Mapping[str, Any] | None = None,
    then: Callable[[BulkOperations], None] | None = None,
) -> ReadBack:
    """What `readback.read_back` gives its sink, the orders read through one bulk query over `span`
    (plan.json's head says it) and each given to the sink as its line streams in (none is held).

    The query starts first; `wanted` (the plan loaded, the journal read) is called while it runs,
    then the paced reads it needs before any order can be compared go on beside it: the gift cards,
    and the refunds' line items of `lines_ids` (the others' rows say their restock was not read).
    `then` is given the bulk operations once the query has completed, before its file is read: the
    next bulk read can start while this one's lines are compared."""
    governor = CountedGovernor()
    with ShopifyClient(settings, transport, governor=governor) as client:
        bulk = BulkOperations(client, transport, **bulk_settings(bulk_options))
        beside = Reader(client, lambda _n: None)
        with ThreadPoolExecutor(1, thread_name_prefix="reconcile-paced") as pool:
            early: Future[Early] | None = None
            started: StartedRead | None = None
            try:
                query = None if span is None else id_range((span.lowest_id, span.highest_id))
                started = None if query is None else bulk.begin(DOCUMENT, {"query": query})
                total = bulk.orders_total(query) if query is not None and bulk_progress is not None else None
                want = wanted()
                chosen = set(want.lines_ids)
                lines = [i for i in want.order_ids if i in chosen]
                early = pool.submit(_early_reads, beside, want, lines)
                stream = iter(()) if started is None else started.lines(bulk, total, bulk_progress)
                if then is not None:
                    then(bulk)
                gift_cards, found, restock = early.result()  # the query is over: its file is next
                want.sink.cards(gift_cards, found)
                again = settle(stream, want.order_ids, restock, want.sink)
            except BaseException:
                if started is not None:  # not left holding one of the shop's five bulk slots
                    with suppress(Exception):
                        bulk.cancel(started.operation_id)
                raise
            finally:
                beside.stop.set()  # after an error, the paced reads beside it end at their next call
                if early is not None:
                    early.cancel()
                bulk.close()
        if progress is not None:
            progress(len(want.order_ids) - len(again))
        read_orders(Reader(client, progress or (lambda _n: None)), list(again), want.sink)
    reasons = dict(Counter(again.values()))
    if lines:
        reasons[RESTOCK] = len(lines)
    return ReadBack(governor.points, reasons)


Early = tuple[dict[str, Node | None], list[Node], dict[str, Node | None]]


def _early_reads(reader: Reader, want: Wanted, lines_ids: Sequence[str]) -> Early:
    """The paced reads that need only the plan: the gift cards, and the orders' refund line items."""
    gift_cards, found = read_cards(reader, want.card_ids, want.since if want.order_ids else None)
    return gift_cards, found, restock_lines(reader, lines_ids)


def settle(
    lines: Iterable[Mapping[str, Any]],
    order_ids: Sequence[str],
    restock: dict[str, Node | None],
    sink: Sink,
) -> dict[str, str]:
    """Each planned order's line as `OrdersReconcile`'s node into `sink` as it streams (its refunds'
    line items from `restock`, the orders read paced beforehand); returns why each order the lines do
    not settle is left to the paced read."""
    wanted = set(order_ids)
    why: dict[str, str] = {}
    for line in lines:  # one order a line
        order_id = str(line.get("id"))
        if order_id not in wanted:
            continue
        wanted.discard(order_id)
        node, reason = as_reconcile_node(line)
        if node is not None and reason == RESTOCK:
            if order_id not in restock:
                node[UNREAD] = True  # no restock nor lines planned: not worth its points
            else:
                read = restock.pop(order_id)
                node = with_lines(node, read)
                if node is None:
                    reason = SPLIT
                elif lines_cut(read):
                    node["truncated"] = True
        if node is None:
            why[order_id] = reason or NOT_FOUND
            continue
        sink.add(order_id, node)
    why.update((i, NOT_FOUND) for i in order_ids if i in wanted)
    return why


def restock_lines(reader: Reader, ids: Sequence[str]) -> dict[str, Node | None]:
    """The refunds' line items of `ids` through `OrdersRestock`, as the paced read pages them (a page
    of 10, then the order alone with 50, then truncated)."""
    read = reader.read(ids, document=RESTOCK_DOCUMENT) if ids else {}
    cut = [i for i in ids if lines_cut(read.get(i))]
    if cut:
        read.update(reader.read(cut, one_by_one=True, document=RESTOCK_DOCUMENT))
    return read
