"""Two `bulkcancel execute` processes over two run directories planned from one file, the simulator
served over HTTP with faults on (SPEC §7a): each order's money moves exactly once, and at most one
run reports it done; the other says which run holds it. The second starts at a random progress line
of the first (or at once): an event, never a sleep."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from pipeline.execute.journal import Journal
from pipeline.plan.model import Plan, PlannedRow
from pipeline.simulator.server import SimulatorServer
from tests.execute.claims_runs import MODES, execute_process, outcomes, plain_orders, plan_file, write_modes
from tests.harness import assert_ledger_matches_plan, simulator

TRIALS = 20
GROUPS = 4  # the trials in groups, so that test workers share them
ROWS = 3
PROGRESS = re.compile(r"^\d+/\d+ orders, ")


def _wait_for_progress(proc, count: int) -> None:
    """Reads the process's stderr up to its `count`-th progress line (or its end)."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if PROGRESS.match(line):
            count -= 1
            if count == 0:
                return


def _unfinished(run_dir: Path, plan: Plan) -> int:
    path = run_dir / "journal.sqlite"
    if not path.exists():
        return len(plan.actions())
    with Journal.open(path, plan.run_id) as journal:
        counts = journal.summary()["actions"]
    return counts["pending"] + counts["running"]


def _until_settled(run_dir: Path, plan: Plan) -> None:
    """Reruns `execute` until no action of the run is left pending or running (faults leave some)."""
    for _ in range(6):
        if not _unfinished(run_dir, plan):
            return
        proc = execute_process(run_dir)
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, 1), err[-2000:]
    assert not _unfinished(run_dir, plan)


@pytest.mark.parametrize("group", range(GROUPS))
def test_two_runs_at_once_move_each_orders_money_once(tmp_path, group):
    rng = random.Random(12 + group)
    offsets = []
    for trial in range(group, TRIALS, GROUPS):
        seed = 500 + trial
        faults = f"5xx=0.05,lost=0.03,throttle=0.03,seed={seed}"
        sim = simulator(orders=40, seed=seed, faults=faults, cancel_delay=0.02)
        server = SimulatorServer(sim, port=0)
        server.start_background()
        try:
            modes = tuple(rng.sample(MODES, ROWS))
            source = write_modes(tmp_path / f"trial{trial}.csv", plain_orders(sim, ROWS), modes)
            root = tmp_path / f"trial{trial}"
            plans = [plan_file(source, root, url=server.url) for _ in range(2)]
            (plan_a, dir_a), (plan_b, dir_b) = plans
            assert len(plan_a.actions()) == len(plan_b.actions()) == ROWS
            offset = rng.randint(0, 3)  # 0: at once; else after the first's offset-th progress line
            offsets.append(offset)
            first = execute_process(dir_a)
            if offset:
                _wait_for_progress(first, offset)
            second = execute_process(dir_b)
            for proc in (first, second):
                _out, err = proc.communicate(timeout=120)
                assert proc.returncode in (0, 1) and "Traceback" not in err, err[-2000:]
            for plan, run_dir in plans:
                _until_settled(run_dir, plan)
            winners: list[PlannedRow] = []
            ran = {plan.run_id: outcomes(run_dir) for plan, run_dir in plans}
            for row_a, row_b in zip(plan_a.rows, plan_b.rows, strict=True):
                assert row_a.action is not None and row_b.action is not None
                order = row_a.action.order_id
                status = {run: ran[run][order] for run in ran}
                done = [run for run, (state, _) in status.items() if state == "done"]
                assert len(done) == 1, (trial, offset, status)
                loser = next(run for run in ran if run not in done)
                assert status[loser][0] == "drifted" and f"claimed by run {done[0]}" in status[loser][1]
                winners.append(row_a if done[0] == plan_a.run_id else row_b)
            # The money of each order exactly once: the winning runs' actions, and nothing else.
            combined = Plan(run_id="both", rows=winners)
            assert_ledger_matches_plan(combined, sim.api.ledger_json()["entries"])
        finally:
            server.shutdown()
            server.server_close()
    print(f"{len(offsets)} trials, offsets {offsets}, money moved twice: 0")
