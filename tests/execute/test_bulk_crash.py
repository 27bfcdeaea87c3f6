"""`kill -9` of a bulk `bulkcancel execute` process while its cancels operation runs, the simulator served
over HTTP: the rerun polls the journaled operation instead of starting another, and every planned step
happens exactly once. The kill waits for the journal to hold the operation's id (an event, not a sleep)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

from pipeline.plan.files import load_plan
from pipeline.simulator.bulk import ACTIVE, BulkSettings
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store
from pipeline.simulator.server import SimulatorServer
from tests.harness import TOKEN, assert_ledger_matches_plan, make_run


def execute_bulk(run_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "SHOPIFY_ACCESS_TOKEN": TOKEN}
    env.pop("SHOPIFY_SHOP", None)
    command = [sys.executable, "-m", "pipeline", "execute", str(run_dir), "--yes", "--engine", "bulk"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def cancel_operation(run_dir: Path) -> str | None:
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        row = db.execute("SELECT operation_id FROM bulk_operations WHERE kind = 'cancel'").fetchone()
    return row[0] if row else None


def test_kill_9_while_an_operation_runs_then_resume_polls_it(tmp_path: Path) -> None:
    store = seed_store(orders=260, seed=8)
    api = ShopApi(store, cancel_delay=0.05, bulk=BulkSettings(rate=60, query_rate=5000))
    sim = Simulator(api, SimulatorConfig(bucket=20000, restore_rate=5000))
    server = SimulatorServer(sim, port=0)
    server.start_background()
    try:
        run_dir = make_run(tmp_path, sim, rows=200, seed=8, url=server.url)
        first = execute_bulk(run_dir)
        assert first.stderr is not None
        for line in first.stderr:  # a progress line of the cancels operation: its id is journaled by then
            if line.startswith("bulk cancel:"):
                break
        else:
            raise AssertionError("the cancels operation never reported progress")
        operation = cancel_operation(run_dir)
        assert operation is not None
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        cancels = [op for op in api.bulk.operations.values() if "orderCancel" in op.query]
        assert len(cancels) == 1 and cancels[0].status in ACTIVE  # killed while it ran

        second = execute_bulk(run_dir)
        _out, err = second.communicate(timeout=180)
        assert second.returncode == 0, err[-2000:]
        started = Counter(
            op.query.split("(")[0] for op in api.bulk.operations.values() if op.type == "MUTATION"
        )
        assert all(n == 1 for n in started.values()), started
        assert cancel_operation(run_dir) == operation
        assert_ledger_matches_plan(load_plan(run_dir), sim.api.ledger_json()["entries"])
    finally:
        server.shutdown()
        server.server_close()
