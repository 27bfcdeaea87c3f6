"""Builds real runs against the simulator for the stage tests, and checks its ledger against a plan."""

from __future__ import annotations

import socket
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.plan.model import Plan, PlannedAction
from pipeline.plan.planner import plan_input
from pipeline.plan.steps import Step, StepKind
from pipeline.settings import ConnectionSettings, Secret
from pipeline.simulator.faults import FaultSpec
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store, write_input_file
from pipeline.simulator.transport import SimulatorTransport
from pipeline.validate.check import validate_table
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults

TOKEN = "shpat_simulator"


def free_port() -> int:
    """A loopback port where nothing listens: bound, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def simulator(orders: int = 120, seed: int = 7, faults: str = "", **config: Any) -> Simulator:
    api = ShopApi(seed_store(orders=orders, seed=seed), cancel_delay=config.pop("cancel_delay", 0.0))
    # A Plus-sized bucket unless a test asks otherwise: pacing is the governor's tests' business.
    config.setdefault("bucket", 20000)
    config.setdefault("restore_rate", 5000)
    return Simulator(api, SimulatorConfig(faults=FaultSpec.parse(faults), **config))


def settings(url: str = "http://127.0.0.1:1", token: str = TOKEN) -> ConnectionSettings:
    return ConnectionSettings(shop_url=url, token=Secret(token))


def make_run(
    tmp_path: Path,
    sim: Simulator,
    rows: int,
    seed: int = 7,
    url: str = "http://127.0.0.1:1",
    transport: Any = "in-process",
) -> Path:
    """Writes an input over the seeded orders, validates and plans it; returns the run directory."""
    source = tmp_path / f"orders-{seed}.csv"
    write_input_file(sim.api.store, source, rows=rows, seed=seed)
    table = read_input([source])
    result = validate_table(table, Defaults())
    assert not result.problems, result.problems[:3]
    chosen = SimulatorTransport(sim) if transport == "in-process" else transport
    _plan, run_dir = plan_input(table, result.rows, settings(url), tmp_path / "reports", transport=chosen)
    return run_dir


def planned_steps(plan: Plan) -> list[tuple[PlannedAction, Step]]:
    return [(action, step) for action in plan.actions() for step in action.steps]


def assert_ledger_matches_plan(plan: Plan, ledger: list[dict[str, Any]]) -> None:
    """Every planned step happened exactly once (one claim per action), nothing else happened, and the
    money is exact."""
    applied = [e for e in ledger if not e["replayed"]]
    steps = planned_steps(plan)
    claims = Counter(e["order_id"] for e in applied if e["kind"] == "claim")
    assert claims == Counter(a.order_id for a, s in steps if s.kind is StepKind.CLAIM), "claims differ"
    cancels = Counter(e["order_id"] for e in applied if e["kind"] == "cancel")
    assert cancels == Counter(a.order_id for a, s in steps if s.kind is StepKind.CANCEL), "cancels differ"
    tags = Counter(e["order_id"] for e in applied if e["kind"] == "tag")
    assert tags == Counter(a.order_id for a, s in steps if s.kind is StepKind.TAG), "tags differ"
    keyed = {e["idempotency_key"]: e for e in applied if e["kind"] == "refund" and e["idempotency_key"]}
    assert len(keyed) == sum(1 for e in applied if e["kind"] == "refund" and e["idempotency_key"])
    planned_refunds = {s.idempotency_key: s for _, s in steps if s.kind is StepKind.REFUND}
    assert set(keyed) == set(planned_refunds), "refundCreate calls differ from the plan"
    for key, step in planned_refunds.items():
        assert Decimal(keyed[key]["amount"]) == step.amount, f"refund {key} amount"
        assert keyed[key]["currency"] == step.currency
    by_cancel: dict[str, Decimal] = {}
    for e in applied:
        if e["kind"] == "refund" and not e["idempotency_key"]:
            by_cancel[e["order_id"]] = by_cancel.get(e["order_id"], Decimal(0)) + Decimal(e["amount"])
    expected = {a.order_id: s.amount for a, s in steps if s.kind is StepKind.CANCEL and s.amount is not None}
    assert by_cancel == {k: v for k, v in expected.items() if v > 0}, "refunds made by cancel jobs differ"
    cards = sorted((Decimal(e["amount"]), e["currency"]) for e in applied if e["kind"] == "gift_card")
    assert cards == sorted((s.amount, s.currency) for _, s in steps if s.kind is StepKind.GIFT_CARD)
