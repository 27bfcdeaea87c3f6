"""Bulk work is done off the request path (SPEC §15): only the background thread works, a slice at a
time, so requests answered while an operation runs do not wait for its work and polls see it rise."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pipeline.simulator.bulk import BulkSettings
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store
from pipeline.simulator.transport import SimulatorTransport
from tests.simulator.factory import FakeClock
from tests.simulator.test_bulk import RUN_MUTATION, TAGS, Shop

PACED = "{ orders(first: 3) { nodes { id name } } }"
STATUS_TIMES = "query($id: ID!) { bulkOperation(id: $id) { status objectCount completedAt url } }"


class WorkerShop(Shop):
    """A shop whose bulk work is done by the background thread (`worker`), or by the test playing it."""

    def __init__(self, orders: int, rate: float, *, worker: bool, background: bool = True) -> None:
        self.clock = FakeClock()
        store = seed_store(orders=orders, seed=3, clock=self.clock)
        settings = BulkSettings(rate=rate, query_rate=rate, background=background, worker=worker)
        self.api = ShopApi(store, cancel_delay=0.0, bulk=settings)
        self.sim = Simulator(self.api, SimulatorConfig())
        self.http = httpx.Client(transport=SimulatorTransport(self.sim), base_url="http://127.0.0.1:1")

    def start_tags(self, lines: int) -> str:
        """A tagsAdd operation of `lines` lines over the shop's orders, each line its own tag."""
        ids = sorted(self.api.store.orders)
        variables = [
            {"id": f"gid://shopify/Order/{ids[n % len(ids)]}", "tags": [f"bulk-{n}"]} for n in range(lines)
        ]
        started = self.gql(RUN_MUTATION, m=TAGS, p=self.upload(variables))["data"]["bulkOperationRunMutation"]
        assert started["userErrors"] == []
        return str(started["bulkOperation"]["id"])


def polled(shop: Shop, op_id: str, until: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """The operation's states, polled until `until` holds (an event of the worker thread); a worker that
    stalls fails the test after a minute instead of hanging it."""
    seen, deadline = [], time.monotonic() + 60
    while not until(op := shop.status(op_id)):
        assert time.monotonic() < deadline, f"the bulk worker stalled at {op}"
        seen.append(op)
    return [*seen, op]


def tag_entries(shop: Shop) -> list[tuple[Any, ...]]:
    entries = shop.http.get("/_simulator/ledger").json()["entries"]
    return [(e["kind"], e["order_id"], e["at"]) for e in entries if e["kind"] == "tag"]


def test_requests_do_no_bulk_work_and_polls_see_each_slice() -> None:
    shop = WorkerShop(orders=30, rate=10, worker=False)  # the test plays the background thread
    op_id = shop.start_tags(180)
    shop.clock.advance(10_000)  # every line is due
    assert shop.status(op_id)["objectCount"] == "0"  # the poll did none of it
    assert len(shop.gql(PACED)["data"]["orders"]["nodes"]) == 3  # nor did a paced query
    assert shop.status(op_id)["objectCount"] == "0"
    counts = []
    while shop.api.bulk.work():  # one slice at a time
        counts.append(int(shop.status(op_id)["objectCount"]))
    done = shop.gql(STATUS_TIMES, id=op_id)["data"]["bulkOperation"]
    assert done["status"] == "COMPLETED" and done["objectCount"] == "180"
    assert done["completedAt"] == shop.clock.now.isoformat().replace("+00:00", "Z")
    assert len(counts) >= 3 and counts == sorted(counts) and counts[-1] < 180  # rising smoothly
    assert len(tag_entries(shop)) == 180

    inline = WorkerShop(orders=30, rate=10, worker=False, background=False)  # requests do the work
    inline_id = inline.start_tags(180)
    inline.clock.advance(10_000)
    assert inline.status(inline_id)["objectCount"] == "180"
    same = inline.gql(STATUS_TIMES, id=inline_id)["data"]["bulkOperation"]
    assert shop.lines(done["url"]) == inline.lines(same["url"])  # the same answers
    assert tag_entries(shop) == tag_entries(inline)  # the same ledger


def test_requests_answered_while_the_thread_works_see_its_progress() -> None:
    shop = WorkerShop(orders=40, rate=1000, worker=True)
    op_id = shop.start_tags(1500)
    shop.clock.advance(0.5)  # 500 lines are due: the thread works through those, and no further
    first = polled(shop, op_id, lambda op: int(op["objectCount"]) >= 500)
    assert len(shop.gql(PACED)["data"]["orders"]["nodes"]) == 3  # answered while it runs
    assert (first[-1]["status"], first[-1]["objectCount"]) == ("RUNNING", "500")  # the rest is not due
    shop.clock.advance(10_000)  # every line is due
    rest = polled(shop, op_id, lambda op: op["status"] == "COMPLETED")
    assert rest[-1]["objectCount"] == "1500"
    counts = [int(op["objectCount"]) for op in first + rest]
    assert counts == sorted(counts)
    assert len(tag_entries(shop)) == 1500


def test_a_failure_of_the_worker_ends_the_running_operations_failed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shop = WorkerShop(orders=10, rate=1000, worker=True)

    def broken(*_args: Any) -> None:
        raise RuntimeError("a bug in the simulator")

    monkeypatch.setattr(shop.api.bulk, "_step", broken)
    op_id = shop.start_tags(50)
    shop.clock.advance(10)
    ended = polled(shop, op_id, lambda op: op["status"] not in ("CREATED", "RUNNING"))[-1]
    assert ended["status"] == "FAILED" and ended["errorCode"] == "INTERNAL_SERVER_ERROR"
    assert "bulk work failed" in caplog.text
