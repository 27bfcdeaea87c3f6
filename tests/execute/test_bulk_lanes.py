"""A large bulk run in lanes (SPEC §15, bulklanes.py): ranges of orders carried through their own
operations side by side, never more than five at once, every order's steps in their order, every
planned step exactly once, through FAILED operations too."""

from __future__ import annotations

import itertools
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pipeline.execute.bulklanes import MAX_LANES, lanes, run_lanes
from pipeline.execute.executor import ExecutionResult, execute_run
from pipeline.execute.journal import JournalStep, PendingAction
from pipeline.plan.files import load_plan
from pipeline.reconcile.reconciler import reconcile_run
from pipeline.simulator.handler import Simulator
from pipeline.simulator.transport import SimulatorTransport
from tests.execute.test_bulk_engine import FAST, bulk_simulator, mutations
from tests.harness import assert_ledger_matches_plan, make_run, settings
from tests.simulator.factory import FakeClock

LEDGER_ORDER = ["claim", "cancel", "refund", "gift_card", "tag"]


def pending(order_number: int) -> PendingAction:
    step = JournalStep(f"k{order_number}", 0, "claim", "pending", 0, None)
    return PendingAction(f"k{order_number}", f"gid://shopify/Order/{order_number}", "#1", "pending", (step,))


def test_lanes_are_contiguous_ranges_of_order_ids_at_most_five_and_a_small_run_is_one() -> None:
    work = [pending(n) for n in (905, 3, 17, 400, 88, 61, 2000, 7, 12, 150, 33)]
    split = lanes(work, lane_min=2)
    assert len(split) == MAX_LANES and set().union(*split) == {p.action_key for p in work}
    assert sum(len(keys) for keys in split) == len(work)  # each action in one lane
    ranges = [sorted(int(k[1:]) for k in keys) for keys in split]
    assert all(a[-1] < b[0] for a, b in itertools.pairwise(ranges))
    assert lanes(work, lane_min=6) == [frozenset(p.action_key for p in work)]
    assert lanes([], lane_min=1) == []


def test_a_lane_that_fails_lets_the_others_finish_then_its_error_is_raised() -> None:
    done: list[str] = []

    def work(keys: frozenset[str]) -> None:
        if "bad" in keys:
            raise RuntimeError("lane failed")
        done.append(next(iter(keys)))

    with pytest.raises(RuntimeError, match="lane failed"):
        run_lanes([frozenset({"a"}), frozenset({"bad"}), frozenset({"c"})], work)
    assert sorted(done) == ["a", "c"]


def run_in_lanes(run_dir: Path, sim: Simulator, clock: FakeClock, lane_min: int) -> ExecutionResult:
    return execute_run(
        run_dir,
        settings(),
        transport=SimulatorTransport(sim),
        runner_options=FAST,
        engine="bulk",
        bulk_options={"sleep": clock.advance, "clock": lambda: clock().timestamp(), "lane_min": lane_min},
    )


def most_at_once(sim: Simulator) -> int:
    """The most operations running at the same instant on the shop's clock."""
    edges: list[tuple[Any, int]] = []
    for op in sim.api.bulk.operations.values():
        edges += [(op.created_at, 1), (op.completed_at, -1)]
    running = peak = 0
    for _at, change in sorted(edges, key=lambda e: (e[0], e[1])):  # an end before a start at one instant
        running += change
        peak = max(peak, running)
    return peak


@pytest.mark.parametrize("faults", ["", "bulk=0.15,seed=5"])
def test_a_run_in_lanes_does_every_step_once_in_order_never_more_than_five_operations(
    tmp_path: Path, faults: str
) -> None:
    sim, clock = bulk_simulator(orders=900, seed=3, faults=faults)
    run_dir = make_run(tmp_path, sim, rows=600, seed=3)
    result = run_in_lanes(run_dir, sim, clock, lane_min=50)
    plan = load_plan(run_dir)
    assert result.all_done and result.counts["done"] == len(plan.actions())
    entries = sim.api.ledger_json()["entries"]
    assert_ledger_matches_plan(plan, entries)
    assert reconcile_run(run_dir, settings(), transport=SimulatorTransport(sim)).all_matched
    for order, kinds in _kinds_by_order(entries).items():  # claims before cancels before … tags
        assert kinds == sorted(kinds, key=LEDGER_ORDER.index), order
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        claims = db.execute("SELECT count(*) FROM bulk_operations WHERE kind = 'claim'").fetchone()[0]
    assert claims >= MAX_LANES  # one claim operation per lane at least: the lanes ran side by side
    assert 1 < most_at_once(sim) <= MAX_LANES
    if faults:
        assert any(op.status == "FAILED" for op in mutations(sim))


def _kinds_by_order(entries: list[dict[str, Any]]) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {}
    for entry in sorted(entries, key=lambda e: e["seq"]):
        if entry["kind"] in LEDGER_ORDER and not entry["replayed"] and not _by_cancel(entry):
            kinds.setdefault(entry["order_id"], []).append(entry["kind"])
    return kinds


def _by_cancel(entry: dict[str, Any]) -> bool:
    """A refund the cancel job made (no key): it comes with the cancel, not as a refund step."""
    return entry["kind"] == "refund" and not entry["idempotency_key"]


def test_counter_of_lanes_keys_is_a_partition() -> None:
    work = [pending(n) for n in range(1, 40)]
    counts = Counter(key for keys in lanes(work, lane_min=7) for key in keys)
    assert set(counts.values()) == {1} and len(counts) == 39
