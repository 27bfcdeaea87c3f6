"""Ctrl-C during `execute`, in a real process against the simulator served over HTTP: the progress
stops counting, the outcome says what was done and what is left (in status.py's words), and the
resume shows the journal's figures and asks only for what is left."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from pipeline.execute.status import action_status
from pipeline.simulator.server import SimulatorServer
from tests.cli.test_cli import bulkcancel
from tests.harness import TOKEN, make_run, simulator

PROGRESS = re.compile(r"^(\d+)/(\d+) orders")


def journal_figures(run_dir: Path) -> dict[str, int]:
    """Counts by status read straight from journal.sqlite, for the figures the console must show."""
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        rows = db.execute(
            "SELECT a.action_key, a.state, s.state FROM actions a JOIN steps s USING (action_key)"
        )
        actions: dict[str, tuple[str, list[str]]] = {}
        for key, action_state, step_state in rows:
            actions.setdefault(key, (action_state, []))[1].append(step_state)
    figures: dict[str, int] = {}
    for state, steps in actions.values():
        status = action_status(state, steps)
        figures[status] = figures.get(status, 0) + 1
    return figures


def test_ctrl_c_stops_the_count_says_what_is_left_and_the_resume_asks_only_for_that(tmp_path):
    sim = simulator(orders=400, seed=11, cancel_delay=0.01, latency_ms=15)
    server = SimulatorServer(sim, port=0)
    server.start_background()
    try:
        run_dir = make_run(tmp_path, sim, rows=120, seed=11, url=server.url, transport=None)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPIFY_")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "execute", str(run_dir), "--yes", "--concurrency", "2"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**env, "SHOPIFY_ACCESS_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"},
        )
        assert proc.stderr is not None
        before: list[str] = []
        for line in proc.stderr:  # the event: the first progress line (a tenth of the way)
            before.append(line)
            if PROGRESS.match(line):
                break
        assert PROGRESS.match(before[-1]), "".join(before)
        total = int(PROGRESS.match(before[-1]).group(2))  # type: ignore[union-attr]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, out + err
        assert "seal" not in err and re.search(r"executing plan [0-9a-f]{12} …", "".join(before))
        after = err.split("finishing the requests in flight")[1]
        counted = [int(m.group(1)) for m in map(PROGRESS.match, after.splitlines()) if m]
        assert all(n < total for n in counted), after  # it never counts on to the end

        figures = journal_figures(run_dir)
        left = figures.get("to_verify", 0) + figures.get("not_executed", 0)
        assert 0 < figures["done"] < total and left > 0
        assert f"interrupted: {left} left — run `bulkcancel execute {run_dir}` again" in out
        assert f"actions: {figures['done']} done" in out and "Traceback" not in err

        reconciled = bulkcancel("reconcile", str(run_dir))  # the same words, and the same hint
        assert re.search(r"rows: .*\d+ not executed\n", reconciled.stdout), reconciled.stdout
        assert f"left — run `bulkcancel execute {run_dir}` again" in reconciled.stdout, reconciled.stdout
        assert reconciled.returncode == 1
        closed = bulkcancel("execute", str(run_dir), stdin="")  # no answer at the prompt: refused
        assert closed.returncode == 3 and "standard input is closed" in closed.stderr
        wrong = bulkcancel("execute", str(run_dir), stdin=f"{total}\n")  # the whole plan is not asked
        assert wrong.returncode == 3, wrong.stderr
        resumed = bulkcancel("execute", str(run_dir), stdin=f"{left}\n")
    finally:
        server.shutdown()
        server.server_close()
    shown = ", ".join(
        f"{figures[s]} {s.replace('_', ' ')}" for s in ("done", "to_verify", "not_executed") if figures.get(s)
    )
    assert f"resuming: {shown} — {left} left" in resumed.stderr, resumed.stderr
    assert f"type {left} to process the {left} orders left" in resumed.stderr
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"actions: {total} done\n" in resumed.stdout and "left" not in resumed.stdout
