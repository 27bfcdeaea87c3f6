"""SPEC §13's fault suite: the simulator over real HTTP with 5xx, lost answers and THROTTLED storms;
`bulkcancel execute` killed with SIGKILL at random moments and rerun until it reports done. Then
the ledger must show every planned step exactly once and the money to the cent."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.execute.journal import Journal
from pipeline.plan.files import load_plan
from pipeline.simulator.server import SimulatorServer
from tests.harness import TOKEN, assert_ledger_matches_plan, make_run, simulator

ORDERS = 300
PROGRESS = re.compile(r"^\d+/\d+ orders, ")


def _execute(run_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "SHOPIFY_ACCESS_TOKEN": TOKEN}
    env.pop("SHOPIFY_SHOP", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "execute",
            str(run_dir),
            "--yes",
            "--concurrency",
            "8",
            "--job-wait",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )


def _progress_lines(proc: subprocess.Popen[str], count: int) -> list[str]:
    """Reads stderr until the `count`-th progress line; returns the lines read ([] if it ended first)."""
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        if PROGRESS.match(line):
            count -= 1
            if count == 0:
                return seen
    return []


@pytest.fixture
def served(request):
    seed = request.param
    sim = simulator(
        orders=ORDERS + 60,
        seed=seed,
        faults=f"5xx=0.05,lost=0.02,throttle=0.01,seed={seed}",
        cancel_delay=0.02,
    )
    server = SimulatorServer(sim, port=0)
    server.start_background()
    yield seed, sim, server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("served", [21, 22, 23, 24, 25], indirect=True)
def test_killed_at_random_and_rerun_until_done(tmp_path, served):
    seed, sim, server = served
    run_dir = make_run(tmp_path, sim, rows=ORDERS, seed=seed, url=server.url, transport=None)
    plan = load_plan(run_dir)
    rng = random.Random(seed)
    kills = 0
    for _ in range(4):
        proc = _execute(run_dir)
        # Killed at the n-th progress line: an event, so a busy machine moves the moment, not the test.
        if _progress_lines(proc, rng.randint(1, 4)) and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=60)
    for _attempt in range(8):
        proc = _execute(run_dir)
        out, err = proc.communicate(timeout=300)
        if proc.returncode == 0:
            break
        assert proc.returncode == 1, err[-2000:]
    else:
        pytest.fail(f"not done after 8 reruns: {out[-500:]} {err[-1000:]}")
    assert kills >= 1
    assert sum(sim.faults.counts().values()) > 0
    assert_ledger_matches_plan(plan, sim.api.ledger_json()["entries"])
    assert "Traceback" not in err


@pytest.mark.parametrize("served", [31], indirect=True)
def test_ctrl_c_leaves_a_journal_a_rerun_completes(tmp_path, served):
    seed, sim, server = served
    run_dir = make_run(tmp_path, sim, rows=120, seed=seed, url=server.url, transport=None)
    proc = _execute(run_dir)
    # The event, not a clock: the first progress line means the handler is installed and work is under way.
    seen = _progress_lines(proc, 1)
    assert seen, "execute ended before any progress"
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    err = "".join(seen) + err
    assert proc.returncode in (0, 1), err[-2000:]
    assert "Traceback" not in err
    with Journal.open(run_dir / "journal.sqlite", load_plan(run_dir).run_id) as journal:
        assert sum(journal.summary()["steps"].values()) > 0
    for _attempt in range(6):
        proc = _execute(run_dir)
        proc.communicate(timeout=300)
        if proc.returncode == 0:
            break
    assert proc.returncode == 0
    assert_ledger_matches_plan(load_plan(run_dir), sim.api.ledger_json()["entries"])
