"""The bulk-operation client against the simulator: the simulator's clock moves when the client waits."""

from __future__ import annotations

import httpx
import pytest

from pipeline.errors import BulkOperationError
from pipeline.shopify.bulk import BulkOperations, inline
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.progress import Progress
from pipeline.simulator.bulk import BulkSettings
from pipeline.simulator.faults import FaultSpec
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import settings
from tests.simulator.factory import FakeClock


def bulk_ops(orders: int = 30, faults: str = "") -> tuple[BulkOperations, Simulator]:
    clock = FakeClock()
    store = seed_store(orders=orders, seed=5, clock=clock)
    api = ShopApi(store, cancel_delay=0.0, bulk=BulkSettings(rate=20, query_rate=20, background=False))
    sim = Simulator(api, SimulatorConfig(faults=FaultSpec.parse(faults), bucket=20000, restore_rate=5000))
    transport = SimulatorTransport(sim)
    client = ShopifyClient(settings(), transport)
    return BulkOperations(client, transport, sleep=clock.advance, clock=lambda: clock().timestamp()), sim


def test_staged_upload_run_mutation_poll_and_read_each_lines_answer() -> None:
    ops, sim = bulk_ops()
    ids = sorted(sim.api.store.orders)[:6]
    path, count = ops.upload({"id": f"gid://shopify/Order/{i}", "tags": ["bulk"]} for i in ids)
    assert count == 6
    started = ops.run_mutation("TagsAdd", path)
    readings: list[Progress] = []
    done = ops.wait(started.id, total=count, progress=readings.append)
    assert done.status == "COMPLETED" and done.object_count == 6
    answers = sorted(ops.stream(done.url), key=lambda line: line["__lineNumber"])
    assert [a["__lineNumber"] for a in answers] == list(range(6))
    assert [a["data"]["tagsAdd"]["node"]["id"] for a in answers] == [f"gid://shopify/Order/{i}" for i in ids]
    assert readings[-1].done == 6 and readings[-1].eta == 0
    assert all("bulk" in sim.api.store.orders[i].tags for i in ids)


def test_a_bulk_query_streams_orders_with_their_line_items() -> None:
    ops, sim = bulk_ops()
    done = ops.wait(ops.run_query("SelectOrdersBulk", {"query": "status:open"}).id)
    got = {r.id: r for r in ops.records(done.url)}
    store = sim.api.store
    expected = {f"gid://shopify/Order/{o.id}" for o in store.orders.values() if o.closed_at is None}
    assert set(got) == expected
    for gid, record in got.items():
        order = store.orders[int(gid.rsplit("/", 1)[1])]
        assert [li["sku"] for li in record.children["LineItem"]] == [li.sku for li in order.line_items]


def test_a_failed_operation_raises_with_its_partial_file() -> None:
    ops, _ = bulk_ops(faults="bulk=1,seed=2")
    started = ops.run_query("SelectOrdersBulk", {"query": ""})
    with pytest.raises(BulkOperationError) as caught:
        ops.wait(started.id)
    assert caught.value.partial_data_url
    assert list(ops.stream(caught.value.partial_data_url, partial=True))


def test_variables_are_written_into_the_bulk_query() -> None:
    text = inline("SelectOrdersBulk", {"query": 'sku:"BC-01M" created_at:>=2026-01-01'})
    assert "$query" not in text and 'query: "sku:\\"BC-01M\\" created_at:>=2026-01-01"' in text


def test_a_sixth_start_waits_for_a_slot() -> None:
    ops, sim = bulk_ops()
    for _ in range(5):
        ops.run_query("SelectOrdersBulk", {"query": "status:open"})
    sixth = ops.run_query("SelectOrdersBulk", {"query": "status:open"})  # the waits move the clock
    assert sixth.running and sim.api.bulk.running() <= 5


class LoseFirstStart(SimulatorTransport):
    """The shop starts the operation, then the answer to the first start never arrives."""

    lost = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = super().handle_request(request)
        if not self.lost and b"bulkOperationRunQuery" in request.content:
            self.lost = True
            raise httpx.ReadTimeout("answer lost", request=request)
        return answer


def test_a_lost_start_answer_finds_the_operation_it_started() -> None:
    clock = FakeClock()
    api = ShopApi(
        seed_store(orders=20, seed=5, clock=clock), bulk=BulkSettings(query_rate=5, background=False)
    )
    sim = Simulator(api, SimulatorConfig(bucket=20000, restore_rate=5000))
    transport = LoseFirstStart(sim)
    ops = BulkOperations(ShopifyClient(settings(), transport), transport, sleep=clock.advance)
    started = ops.run_query("SelectOrdersBulk", {"query": "status:open"})
    assert transport.lost and len(api.bulk.operations) == 1  # found, not started twice
    assert started.id == "gid://shopify/BulkOperation/1"
    assert ops.wait(started.id).status == "COMPLETED"


def test_bulk_cancels_with_a_staff_note_and_a_line_shopify_refuses() -> None:
    ops, sim = bulk_ops(orders=120)
    store = sim.api.store
    open_orders = [o for o in store.orders.values() if o.cancelled_at is None and not o.fulfillments][:3]
    cancelled = next(o for o in store.orders.values() if o.cancelled_at is not None)
    lines = [
        {
            "orderId": f"gid://shopify/Order/{o.id}",
            "reason": "INVENTORY",
            "restock": False,
            "staffNote": f"key-{o.id}",
        }
        for o in [*open_orders, cancelled]
    ]
    path, _ = ops.upload(lines)
    done = ops.wait(ops.run_mutation("OrderCancel", path).id)
    answers = sorted(ops.stream(done.url), key=lambda line: line["__lineNumber"])
    assert [bool(a["data"]["orderCancel"]["orderCancelUserErrors"]) for a in answers] == [
        False,
        False,
        False,
        True,
    ]
    store_orders = [store.orders[o.id] for o in open_orders]
    ops.status(done.id)  # the next request settles the cancel jobs
    assert all(o.cancelled_at is not None and o.cancel_staff_note == f"key-{o.id}" for o in store_orders)
    ledger = sim.api.ledger_json()["entries"]
    assert sorted(e["order_id"] for e in ledger if e["kind"] == "cancel") == sorted(
        line["orderId"] for line in lines[:3]
    )


def test_progress_reads_as_a_merchant_would() -> None:
    assert str(Progress(250, 1000, 50.0, 15.0, "orders")) == "250 of 1,000 orders, 50/s, about 15 s left"
    assert str(Progress(7, None, 2.0, None)) == "7 objects, 2/s"


def test_a_query_without_a_known_total_is_polled_at_a_tenth_of_its_age_never_a_whole_interval_late() -> None:
    clock = FakeClock()
    api = ShopApi(
        seed_store(orders=60, seed=5, clock=clock), bulk=BulkSettings(query_rate=20, background=False)
    )
    transport = SimulatorTransport(Simulator(api, SimulatorConfig(bucket=20000, restore_rate=5000)))
    waits: list[tuple[float, float]] = []  # (time waited so far, the next wait)
    began = clock().timestamp()

    def sleep(seconds: float) -> None:
        waits.append((clock().timestamp() - began, seconds))
        clock.advance(seconds)

    client = ShopifyClient(settings(), transport)
    ops = BulkOperations(
        client, transport, poll=0.25, max_poll=15.0, sleep=sleep, clock=lambda: clock().timestamp()
    )
    done = ops.wait(ops.run_query("SelectOrdersBulk", {"query": ""}).id)  # no total: no ETA
    assert done.status == "COMPLETED" and len(waits) > 3
    assert all(wait <= max(0.25, waited / 10) + 1e-9 for waited, wait in waits), waits
    overshoot = clock().timestamp() - began - (waits[-1][0] if waits else 0)
    assert overshoot <= max(0.25, waits[-1][0] / 10) + 1e-9


class LosesFirstAnswer(httpx.BaseTransport):
    """Forwards every request; the first answer to a request naming `field` is lost on the way back,
    after the time a client waits for it (the shop's clock moves on meanwhile)."""

    def __init__(self, inner: httpx.BaseTransport, field: str, clock: FakeClock) -> None:
        self.inner, self.field, self.clock, self.lost = inner, field, clock, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        if not self.lost and self.field.encode() in request.read():
            self.lost += 1
            self.clock.advance(30)
            raise httpx.ReadTimeout("answer lost", request=request)
        return answer


@pytest.mark.parametrize("field", ["stagedUploadsCreate", "bulkOperationRunQuery"])
def test_a_lost_answer_to_what_changes_nothing_is_asked_again(field: str) -> None:
    """An upload target reserved, a read started: neither changes the shop, so a lost answer is sent
    again (a read that already finished is not found running, and is simply run again)."""
    clock = FakeClock()
    api = ShopApi(
        seed_store(orders=20, seed=5, clock=clock), bulk=BulkSettings(query_rate=1000, background=False)
    )
    lossy = LosesFirstAnswer(
        SimulatorTransport(Simulator(api, SimulatorConfig(bucket=20000, restore_rate=5000))), field, clock
    )
    ops = BulkOperations(
        ShopifyClient(settings(), lossy), lossy, sleep=clock.advance, clock=lambda: clock().timestamp()
    )
    if field == "stagedUploadsCreate":
        path, count = ops.upload([{"id": "gid://shopify/Order/1", "tags": ["x"]}])
        assert path and count == 1
    else:
        done = ops.wait(ops.run_query("SelectOrdersBulk", {"query": ""}).id)
        assert done.status == "COMPLETED" and done.url
    assert lossy.lost == 1
