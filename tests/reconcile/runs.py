"""Shared by the reconcile tests that run against the simulator: an executed run and its reconciliation."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from pipeline.execute.executor import execute_run
from pipeline.plan.files import load_plan
from pipeline.plan.planner import plan_input
from pipeline.reconcile.reconciler import reconcile_run
from pipeline.simulator.handler import Simulator
from pipeline.simulator.seed import write_input_file
from pipeline.simulator.server import SimulatorServer
from pipeline.simulator.transport import SimulatorTransport
from pipeline.validate.check import validate_table
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults
from tests.harness import TOKEN, make_run, settings, simulator

FAST = {"cancel_wait": 0.3, "poll": 0.01}
FORMULA = '=HYPERLINK("http://evil.example/x","click")'


def executed(tmp_path, seed=3, rows=60, settle=True, before=None, url="http://127.0.0.1:1"):
    sim = simulator(orders=120, seed=seed)
    if settle:  # klarna refunds settle at once: a clean run has nothing pending
        sim.api.store.refund_settle_delay = dt.timedelta(0)
    run_dir = make_run(tmp_path, sim, rows=rows, seed=seed, url=url)
    if before:
        before(sim, load_plan(run_dir))
    execute_run(run_dir, settings(url), transport=SimulatorTransport(sim), runner_options=FAST)
    return sim, run_dir


def executed_with_restock(tmp_path: Path, before=None):
    """The seeded run of `runs.executed`, every other row restocking (cancels and line refunds), with
    refunds still pending."""
    sim = simulator(orders=160, seed=3)
    sim.api.store.refund_settle_delay = dt.timedelta(hours=1)  # klarna refunds pending through the test
    source = tmp_path / "orders.csv"
    write_input_file(sim.api.store, source, rows=80, seed=3)
    with open(source, encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    with open(source, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, [*lines[0], "restock"])
        writer.writeheader()
        for index, line in enumerate(lines):
            restocks = index % 2 == 0 and (line["action"] == "cancel" or line["lines"])
            writer.writerow({**line, "restock": "yes" if restocks else ""})
    table = read_input([source])
    checked = validate_table(table, Defaults())
    assert not checked.problems, checked.problems[:3]
    transport = SimulatorTransport(sim)
    _plan, run_dir = plan_input(table, checked.rows, settings(), tmp_path / "reports", transport=transport)
    if before:
        before(sim, load_plan(run_dir))
    execute_run(run_dir, settings(), transport=transport, runner_options=FAST)
    return sim, run_dir


def serving(monkeypatch, settle: dt.timedelta) -> Iterator[tuple[Simulator, SimulatorServer]]:
    """The seeded simulator served over HTTP (its Klarna refunds settling after `settle`), the token in
    the environment, for the commands run against it; a fixture's body (`yield from`)."""
    sim = simulator(orders=120, seed=3)
    sim.api.store.refund_settle_delay = settle
    server = SimulatorServer(sim, port=0)
    server.start_background()
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    monkeypatch.delenv("SHOPIFY_SHOP", raising=False)
    yield sim, server
    server.shutdown()
    server.server_close()


def reconciled(sim, run_dir):
    return reconcile_run(run_dir, settings(), transport=SimulatorTransport(sim))


def store_order(sim, action):
    return sim.api.store.orders[int(action.order_id.rsplit("/", 1)[1])]


def actions(run_dir, kind=None, method=None):
    return [
        action
        for action in load_plan(run_dir).actions()
        if any(
            (kind is None or s.kind == kind) and (method is None or s.method == method) for s in action.steps
        )
    ]


def by_order(result, action):
    return next(r for r in result.reconciliation.rows if r.order_id == action.order_id)


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))
