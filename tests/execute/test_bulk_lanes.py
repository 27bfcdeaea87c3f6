"""A large bulk run in lanes (SPEC §15, bulklanes.py): ranges of orders carried through their own
operations side by side, never more than five at once, every order's steps in their order, every
planned step exactly once, through FAILED operations too."""

from __future__ import annotations

import itertools
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.execute.bulkjournal import BulkJournal
from pipeline.execute.bulklanes import MAX_LANES, lanes, run_lanes, split_numbers
from pipeline.execute.executor import ExecutionResult, execute_run
from pipeline.execute.journal import Journal, JournalStep, PendingAction
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


def test_lanes_are_ranges_of_order_numbers_at_most_five_and_a_small_run_is_one() -> None:
    numbers = (905, 3, 17, 400, 88, 61, 2000, 7, 12, 150, 33)
    split = lanes([pending(n) for n in numbers], lane_min=2)
    assert len(split) == MAX_LANES
    assert all(low <= high < next_low for (low, high), (next_low, _) in itertools.pairwise(split))
    inside = Counter(next(i for i, (lo, hi) in enumerate(split) if lo <= n <= hi) for n in numbers)
    assert sum(inside.values()) == len(numbers) and min(inside.values()) >= 2  # each order in one lane
    assert lanes([pending(n) for n in numbers], lane_min=6) == [(3, 2000)]
    assert lanes([], lane_min=1) == []


def test_a_lane_reads_only_its_own_orders_from_the_journal(tmp_path: Path) -> None:
    sim, _clock = bulk_simulator(orders=300, seed=2)
    run_dir = make_run(tmp_path, sim, rows=200, seed=2)
    plan = load_plan(run_dir)
    with Journal.open(run_dir / "journal.sqlite", plan.run_id) as journal:
        journal.seed(plan.actions())
        work = journal.pending_work()
        split = lanes(work, lane_min=30)
        by_lane = [BulkJournal(journal).pending_between(*lane) for lane in split]
        numbers = BulkJournal(journal).pending_numbers()  # the same split, by SQL alone
        assert split_numbers(numbers, lane_min=30) == split
    assert len(split) == MAX_LANES
    assert sorted(p.action_key for part in by_lane for p in part) == sorted(p.action_key for p in work)
    whole = {p.action_key: p for p in work}
    assert all(p == whole[p.action_key] for part in by_lane for p in part)  # the same actions and steps


def test_a_lane_that_fails_lets_the_others_finish_then_its_error_is_raised() -> None:
    done: list[int] = []

    def work(lane: tuple[int, int]) -> None:
        if lane == (2, 2):
            raise RuntimeError("lane failed")
        done.append(lane[0])

    with pytest.raises(RuntimeError, match="lane failed"):
        run_lanes([(1, 1), (2, 2), (3, 3)], work)
    assert sorted(done) == [1, 3]


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


class Died(BaseException):
    """The process dies: every lane's next request fails, nothing is closed or settled."""


def test_a_run_that_dies_with_several_lanes_operations_running_resumes_by_their_ids(tmp_path: Path) -> None:
    sim, clock = bulk_simulator(orders=900, seed=6)
    run_dir = make_run(tmp_path, sim, rows=600, seed=6)
    inner = SimulatorTransport(sim)
    started: list[str] = []

    class DiesAfterThreeStarts(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if len(started) >= 3:
                raise Died
            answer = inner.handle_request(request)
            if b"bulkOperationRunMutation" in request.read():
                started.append("started")
            return answer

    with pytest.raises(Died):
        execute_run(
            run_dir,
            settings(),
            transport=DiesAfterThreeStarts(),
            runner_options=FAST,
            engine="bulk",
            bulk_options={"sleep": clock.advance, "clock": lambda: clock().timestamp(), "lane_min": 50},
        )
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        open_ids = db.execute("SELECT operation_id FROM bulk_operations WHERE status = 'started'").fetchall()
    assert len(open_ids) >= 2  # several lanes' operations were left running, their ids journaled
    result = run_in_lanes(run_dir, sim, clock, lane_min=50)
    plan = load_plan(run_dir)
    assert result.all_done and result.counts["done"] == len(plan.actions())
    assert_ledger_matches_plan(plan, sim.api.ledger_json()["entries"])
    claims = [op for op in mutations(sim) if "metafieldsSet" in op.query]
    assert len(claims) == len({op.query for op in claims})  # no claim operation was started twice
