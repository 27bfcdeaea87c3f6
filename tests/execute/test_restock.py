"""Refunded lines with restock go back where they are: RETURN for fulfilled units, CANCEL for the others."""

from __future__ import annotations

from pathlib import Path

from pipeline.execute.executor import execute_run
from pipeline.plan.files import load_plan
from pipeline.plan.planner import plan_input
from pipeline.plan.steps import RestockType, StepKind
from pipeline.reconcile.reconciler import reconcile_run
from pipeline.simulator.store import Fulfillment, Order
from pipeline.simulator.transport import SimulatorTransport
from pipeline.validate.check import validate_table
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults
from tests.harness import settings, simulator

HAMBURG = 7002  # the seeded shop's second location: orders numbered by multiples of 5 are there
FAST = {"cancel_wait": 0.3, "poll": 0.01}


def _hamburg_order(sim) -> Order:  # type: ignore[no-untyped-def]
    """A paid, unfulfilled, open order at Hamburg whose first line has two units or more."""
    return next(
        o
        for o in sim.api.store.orders.values()
        if o.number % 5 == 0
        and not o.test
        and o.cancelled_at is None
        and not o.refunds
        and not o.fulfillments
        and o.line_items[0].quantity >= 2
        and o.line_items[0].location_id == HAMBURG
        and any(t.kind in {"SALE", "CAPTURE"} for t in o.transactions)
    )


def _plan_and_execute(tmp_path: Path, sim, order: Order, sku: str, units: int):  # type: ignore[no-untyped-def]
    source = tmp_path / "rows.csv"
    source.write_text(
        f"order,action,refund_mode,lines,restock\n{order.name},refund_only,original,{sku}:{units},yes\n"
    )
    table = read_input([source])
    result = validate_table(table, Defaults())
    assert not result.problems
    _plan, run_dir = plan_input(
        table, result.rows, settings(), tmp_path / "reports", transport=SimulatorTransport(sim)
    )
    outcome = execute_run(run_dir, settings(), transport=SimulatorTransport(sim), runner_options=FAST)
    assert outcome.all_done
    return load_plan(run_dir), run_dir


def test_fulfilled_units_return_at_the_fulfillment_and_unfulfilled_cancel_at_the_assigned_location(tmp_path):
    sim = simulator(orders=200, seed=5)
    order = _hamburg_order(sim)
    item = order.line_items[0]
    # One unit shipped from Berlin (the primary location), the others still to ship from Hamburg.
    item.fulfilled_quantity = 1
    store = sim.api.store
    shipped = Fulfillment(store.new_id(), f"{order.name}-F1", "SUCCESS", "FULFILLED", 1, store.now(), 7001)
    order.fulfillments.append(shipped)
    plan, run_dir = _plan_and_execute(tmp_path, sim, order, item.sku, item.quantity)
    refund = next(s for a in plan.actions() for s in a.steps if s.kind is StepKind.REFUND)
    assert [(line.restock_type, line.quantity, line.location_name) for line in refund.refund_lines] == [
        (RestockType.CANCEL, item.quantity - 1, "Store Hamburg"),
        (RestockType.RETURN, 1, "Warehouse Berlin"),
    ]
    assert refund.refund_lines[1].location_id == "gid://shopify/Location/7001"
    assert "restock" in (run_dir / "plan.csv").read_text(encoding="utf-8-sig")
    assert f"{item.quantity - 1} at Store Hamburg, 1 at Warehouse Berlin" in (run_dir / "plan.csv").read_text(
        encoding="utf-8-sig"
    )
    written = [(x.restock_type, x.quantity, x.location_id, x.restocked) for x in order.refunds[-1].line_items]
    assert written == [("CANCEL", item.quantity - 1, HAMBURG, True), ("RETURN", 1, 7001, True)]
    # Reconcile reads what was restocked, and where, from the shop's refund line items.
    (row,) = reconcile_run(run_dir, settings(), transport=SimulatorTransport(sim)).reconciliation.rows
    assert row.status == "matched", row.detail
    where = f"{item.quantity - 1} at Store Hamburg, 1 at Warehouse Berlin"
    assert (row.restocked_units, row.restocked_at) == (item.quantity, where)


def test_an_unfulfilled_line_cancels_at_its_assigned_location(tmp_path):
    sim = simulator(orders=200, seed=5)
    order = _hamburg_order(sim)
    item = order.line_items[0]
    _plan_and_execute(tmp_path, sim, order, item.sku, 1)
    written = [(x.restock_type, x.quantity, x.location_id) for x in order.refunds[-1].line_items]
    assert written == [("CANCEL", 1, HAMBURG)]


def test_plans_written_before_restock_locations_still_load(tmp_path):
    from pipeline.plan.steps import Step

    record = {
        "kind": "refund", "method": "original", "amount": "5.00", "currency": "EUR", "idempotency_key": "k",
        "notify": False, "transactions": [], "shipping_amount": None, "note": None,
        "refund_lines": [{"line_item_id": "gid://shopify/LineItem/1", "quantity": 1,
                          "restock_type": "CANCEL"}],
    }  # fmt: skip
    line = Step.from_json(record).refund_lines[0]
    assert (line.restock_type, line.location_id) == (RestockType.CANCEL, None)
