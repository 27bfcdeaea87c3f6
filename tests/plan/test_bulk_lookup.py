"""Planning through one bulk query (SPEC §15) decides exactly as the paced lookup does, for a few points."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from pipeline.errors import BulkOperationError
from pipeline.models import Action, RefundMode
from pipeline.plan.bulklookup import BulkLookup, search_for
from pipeline.plan.lookup import Lookup
from pipeline.plan.planner import make_plan
from pipeline.shopify.bulk import BulkOperations
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.progress import Progress
from pipeline.simulator import accounting as acc
from pipeline.simulator.bulk import BulkSettings
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store
from pipeline.simulator.store import Metafield, Order, Refund, Store
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import settings
from tests.plan.test_planner import pick, plain, row
from tests.simulator.factory import FakeClock

QUERY_RATE = 1000.0  # objects a second the simulated bulk query exports


class Shop:
    """A seeded simulator whose bulk operations run on its own clock (no thread, no sleep)."""

    def __init__(self, orders: int = 300, seed: int = 7) -> None:
        self.clock = FakeClock()
        self.store: Store = seed_store(orders=orders, seed=seed, clock=self.clock)
        bulk = BulkSettings(query_rate=QUERY_RATE, background=False)
        self.api = ShopApi(self.store, cancel_delay=0.0, bulk=bulk)
        self.simulator = Simulator(self.api, SimulatorConfig(bucket=1e6, restore_rate=1e6))
        self.transport = SimulatorTransport(self.simulator)
        self.client = ShopifyClient(settings(), self.transport)
        self.slept = 0.0
        self.progress: list[Progress] = []

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.clock.advance(seconds)

    def bulk(self) -> BulkLookup:
        operations = BulkOperations(self.client, self.transport, poll=0.25, max_poll=2.0, sleep=self.sleep)
        return BulkLookup(self.client, operations, bulk_progress=self.progress.append)

    def plan(self, rows, lookup):
        plan = make_plan(
            rows, lookup, run_id="20261130-000000-bulk", shop="sim", api_version="2026-07",
            input_name="t.csv", input_sha256="0",
        )  # fmt: skip
        return plan, [r.to_json() for r in plan.rows]


def _claim(order: Order, run_id: str, at) -> None:
    value = {
        "run_id": run_id,
        "action_key": f"{run_id}:{order.id}",
        "steps": [],
        "at": "2026-07-01T00:00:00Z",
    }
    order.metafields.append(
        Metafield(99_000 + order.id, "bulkcancel", "claim", "json", json.dumps(value), at, at)
    )


def _every_case(shop: Shop) -> list:
    """Rows for each kind of order the decision table tells apart, the shop arranged to hold them."""
    store, now = shop.store, shop.clock()
    taken: set[int] = set()

    def fresh(predicate) -> Order:
        order = pick(shop.api, lambda o: o.id not in taken and predicate(o))
        taken.add(order.id)
        return order

    full, cancelled = fresh(plain), fresh(lambda o: o.cancelled_at is not None)
    test_order = fresh(lambda o: o.test and o.cancelled_at is None)
    refunded = [
        o
        for o in store.orders.values()
        if not o.test and o.cancelled_at is None and acc.financial_status(o) == "PARTIALLY_REFUNDED"
    ]
    pending, partial = refunded[0], refunded[1]
    for t in pending.transactions:  # its refund is still on its way back: counts as refunded
        if t.kind == "REFUND":
            t.status, t.gateway = "PENDING", "klarna"
    no_money = fresh(plain)
    no_money.refunds.append(Refund(store.new_id(), now, "goodwill note, no money"))
    held, done = fresh(plain), fresh(plain)
    _claim(held, "20261129-000000-other", now)
    _claim(done, "20261128-000000-done", now)
    done.tags += ["bulkcancel", "bulkcancel-20261128-000000-done"]
    lined, unlined = fresh(lambda o: plain(o) and bool(o.line_items[0].sku)), fresh(plain)
    kept, twice = fresh(plain), fresh(plain)
    restocked = fresh(lambda o: plain(o) and bool(o.line_items[0].sku))
    names = [o.name for o in store.orders.values()]
    duplicate = next(name for name in names if names.count(name) > 1)
    lines = {"action": Action.REFUND_ONLY, "shipping": False}
    return [
        row(2, full.name),
        row(3, cancelled.name),
        row(4, test_order.name),
        row(5, pending.name),
        row(6, partial.name, action=Action.REFUND_ONLY, amount=Decimal("1.00"), shipping=False),
        row(7, no_money.name),
        row(8, held.name),
        row(9, done.name),
        row(10, lined.name, lines=((lined.line_items[0].sku, 1),), **lines),
        row(11, unlined.name.removeprefix("#"), lines=(("NO-SUCH-SKU", 1),), **lines),
        row(12, "#999999"),
        row(13, duplicate),
        row(14, kept.name.removeprefix("#"), mode=RefundMode.NONE),
        row(15, twice.name),
        row(16, f"gid://shopify/Order/{twice.id}"),
        row(17, restocked.name, lines=((restocked.line_items[0].sku, 1),), restock=True, **lines),
    ]


def test_a_bulk_plan_equals_the_paced_plan_on_every_kind_of_order() -> None:
    shop = Shop()
    rows = _every_case(shop)
    paced, paced_rows = shop.plan(rows, Lookup(shop.client))
    bulk, bulk_rows = shop.plan(rows, shop.bulk())
    assert bulk_rows == paced_rows
    assert [r.facts for r in bulk.rows] == [r.facts for r in paced.rows]
    reasons = {r["row"]: r["reason"] for r in bulk_rows}
    assert reasons == {
        2: None, 3: "already_done", 4: "test_order", 5: None, 6: None, 7: None, 8: "claimed",
        9: "already_done", 10: None, 11: "sku_not_on_order", 12: "not_found", 13: "ambiguous", 14: None,
        15: "same_order", 16: "same_order", 17: None,
    }  # fmt: skip
    restocking = next(r for r in bulk.rows if r.row == 17).to_json()["action"]["steps"]
    assert any(line["location_id"] for step in restocking for line in step.get("refund_lines") or ())
    pending = next(r for r in bulk.rows if r.row == 5)
    assert pending.facts is not None and pending.facts.pending_refunds()
    assert shop.progress and shop.progress[-1].done > 0
    assert shop.api.ledger_json()["entries"] == []


def test_rows_with_ids_read_only_their_range_and_match_the_paced_plan() -> None:
    shop = Shop()
    orders = sorted(shop.store.orders.values(), key=lambda o: o.id)[100:140]
    rows = [row(i + 2, f"gid://shopify/Order/{o.id}") for i, o in enumerate(orders)]
    rows.append(row(len(rows) + 2, f"gid://shopify/Order/{orders[-1].id + 999_999}"))
    assert search_for(rows) == f"status:any id:>={orders[0].id} id:<={orders[-1].id + 999_999}"
    _, paced_rows = shop.plan(rows, Lookup(shop.client))
    _, bulk_rows = shop.plan(rows, shop.bulk())
    assert bulk_rows == paced_rows
    assert bulk_rows[-1]["reason"] == "not_found"
    # The range holds the 40 orders and those after them: fewer than the shop's 300.
    assert shop.progress[-1].done < len(shop.store.orders)


def test_a_file_of_names_reads_the_whole_shop() -> None:
    assert search_for([row(2, "#1001"), row(3, "gid://shopify/Order/5")]) == "status:any"


def test_points_per_order_outside_bulk_stay_tiny() -> None:
    """SPEC §12: ≤ 0.5 points an order outside bulk operations (quotes of partial refunds included), and
    the read takes about what the simulator's bulk export needs (objects ÷ its rate), on its clock."""
    shop = Shop(orders=3000, seed=11)
    rows = [row(i + 2, f"gid://shopify/Order/{o.id}") for i, o in enumerate(shop.store.orders.values())]
    plan, _ = shop.plan(rows, shop.bulk())
    spent = shop.simulator.stats.points_spent
    assert len(plan.actions()) > 1500
    assert spent / len(rows) <= 0.5, spent
    floor = len(shop.store.orders) / QUERY_RATE
    assert floor <= shop.slept <= floor * 1.2, (shop.slept, floor)


def test_a_bulk_read_that_failed_part_way_is_read_again() -> None:
    shop = Shop()
    rows = [row(2, pick(shop.api, plain).name), row(3, "#999999")]
    _, paced_rows = shop.plan(rows, Lookup(shop.client))
    engine = shop.api.bulk
    assert engine is not None
    engine.faults(1.0, seed=3)  # the next operation ends FAILED part way
    lookup = shop.bulk()

    def heal(reading: Progress) -> None:  # the operation after the failed one runs to the end
        engine.settings.fail_share = 0.0

    lookup.bulk_progress = heal
    _, bulk_rows = shop.plan(rows, lookup)
    assert bulk_rows == paced_rows
    assert [op.status for op in engine.operations.values()] == ["FAILED", "COMPLETED"]


def test_a_bulk_read_that_keeps_failing_is_one_clear_error() -> None:
    shop = Shop()
    assert shop.api.bulk is not None
    shop.api.bulk.faults(1.0, seed=3)
    with pytest.raises(BulkOperationError, match="ended FAILED"):
        shop.plan([row(2, "#1001")], shop.bulk())
    assert len(shop.api.bulk.operations) == 3


def test_whole_order_refunds_take_their_quote_from_the_bulk_read_not_the_paced_api(monkeypatch) -> None:
    """Cancelling orders refunded before needs Shopify's quote of what is left: the bulk read asks
    `suggestedRefund(suggestFullRefund: true)` of every order, so none is quoted paced, and the plan
    is the paced one."""
    shop = Shop(orders=300, seed=5)
    refunded = [
        o
        for o in shop.store.orders.values()
        if not o.test and o.cancelled_at is None and acc.financial_status(o) == "PARTIALLY_REFUNDED"
    ]
    assert len(refunded) >= 3
    rows = [row(i + 2, f"gid://shopify/Order/{o.id}") for i, o in enumerate(refunded)]
    _, paced_rows = shop.plan(rows, Lookup(shop.client))
    lookup = shop.bulk()
    seen: list[str] = []
    paced = Lookup.quote

    def counted(self, row_, facts):
        seen.append(facts.id)
        return paced(self, row_, facts)

    monkeypatch.setattr(Lookup, "quote", counted)  # the paced quote, which BulkLookup.quote falls back on
    _, bulk_rows = shop.plan(rows, lookup)
    assert bulk_rows == paced_rows
    assert any(r["decision"] == "execute" for r in bulk_rows)
    assert seen == [] and len(lookup.quotes) >= len([r for r in bulk_rows if r["decision"] == "execute"])
