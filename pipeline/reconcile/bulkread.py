"""Reconcile's bulk reads (SPEC §15): the planned orders through one bulk query, streamed line by line.

The query is `orders(query: "status:any id:>=… id:<=…")` over the run's lowest and highest order id
(a claim cannot be searched, and orders a run never reached carry no mark of it); lines of other
orders in that range are dropped as they stream. Each planned order's line is turned into the node
`OrdersReconcile` answers (`bulkorders.py`), so the comparison is the same whichever engine read it.
The paced API (`readback.py`) reads what no bulk query gives: the refunds' line items (restock) of
the orders a unit left, the orders the bulk line cannot settle (an uncertain split of money between
refunds, not found), the gift cards issued since the plan. Bulk work is not charged to the cost
bucket; every call that is (start, polls, paced reads) is counted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any

import httpx

from pipeline.plan.keys import legacy_id
from pipeline.reconcile.bulkorders import RESTOCK, SPLIT, UNREAD, as_reconcile_node, lines_cut, with_lines
from pipeline.reconcile.readback import Node, ReadBack, Reader, read_paced
from pipeline.settings import ConnectionSettings
from pipeline.shopify.bulk import BulkOperations, id_range
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.governor import CostGovernor, QueryCost, Reservation
from pipeline.shopify.progress import Progress

DOCUMENT = "OrdersReconcileBulk"
RESTOCK_DOCUMENT = "OrdersRestock"  # refunds' line items, which no bulk query reaches
POLL = 0.25  # seconds between polls at first; the waits grow to MAX_POLL
MAX_POLL = 2.0  # a poll costs a point or two; a late one costs the run time past the floor
NOT_FOUND = "not found"  # not in the bulk read: the paced read says whether Shopify has it


class CountedGovernor(CostGovernor):
    """The shared governor, also adding up what every answer actually cost."""

    points = 0

    def release(self, reservation: Reservation, cost: QueryCost | None) -> None:
        if cost is not None and cost.actual is not None:
            self.points += int(cost.actual)
        super().release(reservation, cost)


def read_back_bulk(
    settings: ConnectionSettings,
    order_ids: Sequence[str],
    card_ids: Sequence[str],
    *,
    lines_ids: Collection[str] | None = None,
    since: dt.datetime | None = None,
    transport: httpx.BaseTransport | None = None,
    progress: Callable[[int], None] | None = None,
    bulk_progress: Callable[[Progress], None] | None = None,
    bulk_options: Mapping[str, Any] | None = None,
) -> ReadBack:
    """What `readback.read_back` answers, the orders read through one bulk query.

    `lines_ids`: the orders whose plan restocks or refunds lines: only their refunds' line items are read
    paced (None: every order a unit left). The others are marked unread: reconcile says so in their row."""
    governor = CountedGovernor()
    with ShopifyClient(settings, transport, governor=governor) as client:
        bulk = BulkOperations(
            client, transport, **{"poll": POLL, "max_poll": MAX_POLL, **(bulk_options or {})}
        )
        try:
            found, restock, again = read_orders(bulk, order_ids, bulk_progress, lines_ids)
        finally:
            bulk.close()
        if progress is not None:
            progress(len(found) + len(restock))
        reader = Reader(client, progress or (lambda _n: None))
        found.update(restock_lines(reader, restock, again))
        paced = read_paced(reader, list(again), [], since if order_ids else None)
        cards = _cards(reader, card_ids, paced.cards_found)
    found.update(paced.orders)
    in_plan_order = {i: found.get(i) for i in order_ids}
    reasons = dict(Counter(again.values()))
    if restock:
        reasons[RESTOCK] = len(restock)
    return replace(paced, orders=in_plan_order, gift_cards=cards, points=governor.points, reread=reasons)


def _cards(reader: Reader, card_ids: Sequence[str], since_plan: Sequence[Node]) -> dict[str, Node | None]:
    """The journal's gift cards: those the read of cards issued since the plan found (the same fields),
    the others by id."""
    seen = {str(card["id"]): card for card in since_plan}
    missing = [i for i in card_ids if i not in seen]
    read = reader.read(missing) if missing else {}
    return {i: seen[i] if i in seen else read.get(i) for i in card_ids}


def read_orders(
    bulk: BulkOperations,
    order_ids: Sequence[str],
    progress: Callable[[Progress], None] | None = None,
    lines_ids: Collection[str] | None = None,
) -> tuple[dict[str, Node | None], dict[str, Node], dict[str, str]]:
    """The orders the bulk read settles (`OrdersReconcile` nodes), those whose refunds' line items are
    still to be read (of `lines_ids` only, when given), and why each other id is left to the paced
    read."""
    wanted = set(order_ids)
    if not wanted:
        return {}, {}, {}
    query = id_range(int(legacy_id(i)) for i in wanted)
    total = bulk.orders_total(query) if progress is not None else None
    settled: dict[str, Node | None] = {}
    restock: dict[str, Node] = {}
    why: dict[str, str] = {}
    for line in bulk.read(DOCUMENT, {"query": query}, total, progress):  # one order a line
        order_id = str(line.get("id"))
        if order_id not in wanted or order_id in settled or order_id in restock:
            continue
        node, reason = as_reconcile_node(line)
        if node is None:
            why[order_id] = reason or NOT_FOUND
        elif reason == RESTOCK and lines_ids is not None and order_id not in lines_ids:
            settled[order_id] = {**node, UNREAD: True}  # no restock nor lines planned: not worth its points
        elif reason == RESTOCK:
            restock[order_id] = node
        else:
            settled[order_id] = node
    left = [i for i in dict.fromkeys(order_ids) if i not in settled and i not in restock]
    return settled, restock, {i: why.get(i, NOT_FOUND) for i in left}


def restock_lines(reader: Reader, nodes: Mapping[str, Node], again: dict[str, str]) -> dict[str, Node]:
    """`nodes` with their refunds' line items read through `OrdersRestock`, as the paced read pages
    them (a page of 10, then the order alone with 50, then truncated); an order the read does not
    match is added to `again`, to be read whole."""
    ids = list(nodes)
    read = reader.read(ids, document=RESTOCK_DOCUMENT)
    cut = [i for i in ids if lines_cut(read.get(i))]
    if cut:
        read.update(reader.read(cut, one_by_one=True, document=RESTOCK_DOCUMENT))
    done: dict[str, Node] = {}
    for order_id, node in nodes.items():
        merged = with_lines(node, read.get(order_id))
        if merged is None:
            again[order_id] = SPLIT
            continue
        done[order_id] = {**merged, "truncated": True} if lines_cut(read.get(order_id)) else merged
    return done
