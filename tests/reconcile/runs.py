"""Shared by the reconcile tests that run against the simulator: an executed run and its reconciliation."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator

from pipeline.execute.executor import execute_run
from pipeline.plan.files import load_plan
from pipeline.reconcile.reconciler import reconcile_run
from pipeline.simulator.handler import Simulator
from pipeline.simulator.server import SimulatorServer
from pipeline.simulator.transport import SimulatorTransport
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
