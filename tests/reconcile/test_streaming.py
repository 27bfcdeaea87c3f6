"""Reconcile at scale (SPEC §12): each order compared as its read arrives and let go, and the paced
restock reads done while the bulk query runs."""

from __future__ import annotations

import gc
import threading
import weakref
from concurrent.futures import CancelledError
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.plan.files import load_plan
from pipeline.reconcile.bulkread import Wanted, read_back_bulk
from pipeline.reconcile.compare import Comparison, reconcile
from pipeline.reconcile.readback import Node, Reader, read_back
from pipeline.reconcile.reconciler import journal_records, reconcile_run
from pipeline.shopify.client import ShopifyClient
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import settings, simulator
from tests.reconcile.runs import executed_with_restock
from tests.simulator.factory import FakeClock

WAIT = 120.0  # seconds an event may take on a busy machine before the test fails


class Held(dict[str, Any]):
    """An order node that can be watched with a weak reference."""


class Watching:
    """A sink that hands every order on to the comparison and keeps only a weak reference to it."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self.refs: list[weakref.ref[Held]] = []
        self.orders: dict[str, Node | None] = {}  # a deep-enough copy, to compare with the one-shot path

    def cards(self, gift_cards: Any, found: Any = ()) -> None:
        self.gift_cards, self.found = gift_cards, found
        self.comparison.cards(gift_cards, found)

    def add(self, order_id: str, order: Node | None) -> None:
        self.orders[order_id] = None if order is None else dict(order)
        node = None if order is None else Held(order)
        self.comparison.add(order_id, node)
        if node is not None:
            self.refs.append(weakref.ref(node))


def test_each_order_is_compared_as_it_is_read_and_let_go(tmp_path: Path) -> None:
    sim, run_dir = executed_with_restock(tmp_path)
    plan = load_plan(run_dir)
    order_ids = list(dict.fromkeys(a.order_id for a in plan.actions()))
    lines = {a.order_id for a in plan.actions() if any(s.restock or s.refund_lines for s in a.steps)}
    for engine in ("bulk", "paced"):
        comparison = Comparison(plan, journal_records(run_dir, plan.run_id))
        sink = Watching(comparison)
        if engine == "bulk":
            wanted = partial(Wanted, order_ids, comparison.card_ids, lines, sink, since=plan.since)
            read_back_bulk(settings(), plan.order_span(), wanted, transport=SimulatorTransport(sim))
        else:
            read_back(
                settings(),
                order_ids,
                comparison.card_ids,
                sink,
                since=plan.since,
                transport=SimulatorTransport(sim),
            )
        gc.collect()
        assert len(sink.refs) == len(order_ids)
        assert not [ref for ref in sink.refs if ref() is not None], engine  # no order node is held
        assert not comparison.waiting()
        streamed = comparison.result()
        whole = reconcile(
            plan, journal_records(run_dir, plan.run_id), sink.orders, sink.gift_cards, sink.found
        )
        assert streamed == whole  # the same rows and money lines as comparing them all at once


def test_restock_lines_are_read_while_the_bulk_query_runs(tmp_path: Path) -> None:
    sim, run_dir = executed_with_restock(tmp_path)
    clock = FakeClock()  # the shop's time stands still: the query exports nothing until a poll moves it
    clock.now = sim.api.store.now()
    sim.api.store.clock = clock
    sim.api.bulk.settings.background = False  # the polls do the due work: the fake clock alone moves it
    inner = SimulatorTransport(sim)
    started, seen, completed, overlapped = threading.Event(), threading.Event(), [], []

    class Watch(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if b"bulkOperationRunQuery" in request.content:
                answer = inner.handle_request(request)
                started.set()
                return answer
            if b"OrdersRestock" in request.content:
                overlapped.append(started.wait(timeout=WAIT))  # beside the query, not before it
                ops = sim.api.bulk.operations.values()  # none yet, or the query still running
                completed.extend(op.id for op in ops if op.type == "QUERY" and op.status == "COMPLETED")
                seen.set()
            return inner.handle_request(request)

    def sleep(seconds: float) -> None:
        # The query's time passes only once a restock read has gone out beside it.
        if not seen.wait(timeout=WAIT):
            raise AssertionError("no restock read was sent while the bulk query ran")
        clock.advance(seconds)

    options = {"sleep": sleep, "clock": lambda: clock().timestamp()}
    result = reconcile_run(run_dir, settings(), transport=Watch(), engine="bulk", bulk_options=options)
    assert seen.is_set() and all(overlapped) and not completed
    queries = [op.status for op in sim.api.bulk.operations.values() if op.type == "QUERY"]
    assert queries == ["COMPLETED", "COMPLETED"]  # the orders, then the balance transactions
    assert result.reread.get("restock", 0) >= 1
    assert any((r.restocked_units or 0) > 0 for r in result.reconciliation.rows)


def test_a_reader_told_to_stop_sends_nothing_more() -> None:
    # The paced reads beside a bulk query that failed (or a Ctrl-C) end at their next call, rather than
    # the error waiting for every restock read under the cost bucket (bulkread sets `stop`).
    sent: list[bytes] = []
    inner = SimulatorTransport(simulator(orders=5))

    class Counting(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request.content)
            return inner.handle_request(request)

    with ShopifyClient(settings(), Counting()) as client:
        reader = Reader(client, lambda _n: None)
        ids = ["gid://shopify/Order/1", "gid://shopify/Order/2"]
        assert set(reader.read(ids)) == set(ids) and len(sent) == 1
        reader.stop.set()
        with pytest.raises(CancelledError):
            reader.read(ids)
    assert len(sent) == 1
