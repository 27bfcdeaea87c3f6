"""Reconciliation against the in-process simulator: statuses, files, totals that tie out, cost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from pipeline.cli import cli
from pipeline.execute.executor import execute_run
from pipeline.plan.files import load_plan
from pipeline.plan.steps import StepKind
from pipeline.simulator.refunds import write_refund
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import make_run, settings
from tests.reconcile.runs import FAST, actions, by_order, executed, read_csv, reconciled, serving, store_order


def test_a_clean_run_is_all_matched_and_cheap(tmp_path):
    sim, run_dir = executed(tmp_path)
    points = sim.stats.points_spent
    result = reconciled(sim, run_dir)
    counts = result.reconciliation.counts()
    executable = len(actions(run_dir))
    assert counts["matched"] == executable > 20, [r.detail for r in result.reconciliation.exceptions]
    assert counts["blocked"] + counts["skipped"] + executable == len(load_plan(run_dir).rows)
    assert result.all_matched
    spent = sim.stats.points_spent - points
    assert spent == result.points and spent / executable <= 15  # SPEC §12
    rows = read_csv(run_dir / "reconciliation.csv")
    assert len(rows) == len(load_plan(run_dir).rows)
    assert {"row", "order_name", "order_id", "status", "detail"} <= set(rows[0])


def test_a_refund_altered_after_execution_is_a_mismatch(tmp_path):
    sim, run_dir = executed(tmp_path)
    victim = actions(run_dir, kind="refund", method="original")[0]
    order = store_order(sim, victim)
    ours = order.refunds[-1]
    transaction = next(t for t in order.transactions if t.id in ours.transaction_ids)
    transaction.amount -= Decimal("1.00")  # someone changed it, or the gateway took less
    result = reconciled(sim, run_dir)
    row = by_order(result, victim)
    assert row.status == "mismatch" and "planned" in row.detail
    assert not result.all_matched
    exceptions = load_workbook(run_dir / "reconciliation.xlsx", read_only=True)["Exceptions"]
    assert any(victim.order_name in [c for c in line] for line in exceptions.iter_rows(values_only=True))


def test_a_second_refund_is_a_duplicate(tmp_path):
    sim, run_dir = executed(tmp_path)
    victim = actions(run_dir, kind="cancel", method="original")[0]
    order = store_order(sim, victim)
    parent = next(t for t in order.transactions if t.kind in ("SALE", "CAPTURE"))
    write_refund(sim.api.store, order, [], Decimal(0), [(parent, Decimal("5.00"))], None)
    result = reconciled(sim, run_dir)
    row = by_order(result, victim)
    assert row.status == "duplicate" and "2 refunds since the plan, 1 planned" in row.detail
    extra = [t for t in read_csv(run_dir / "refund_transactions.csv") if t["origin"] == "not planned"]
    assert len(extra) == 1 and Decimal(extra[0]["amount"]) == Decimal("5.00")


def test_a_klarna_refund_still_pending_is_pending(tmp_path):
    sim, run_dir = executed(tmp_path, settle=False)
    result = reconciled(sim, run_dir)
    pending = [r for r in result.reconciliation.rows if r.status == "pending"]
    assert pending and all("klarna" in r.detail for r in pending)
    statuses = {t.status for t in result.reconciliation.transactions if t.gateway == "klarna"}
    assert statuses == {"PENDING"}
    assert all(r.pending > 0 and r.refunded == 0 for r in pending)


def test_failed_and_drifted_steps_are_reported_as_such(tmp_path):
    def spoil(sim, plan):
        drift = next(r.action for r in plan.rows if r.action)
        store_order(sim, drift).updated_at += dt.timedelta(minutes=5)
        gift = next(
            action
            for action in plan.actions()
            if action is not drift and any(s.kind is StepKind.GIFT_CARD for s in action.steps)
        )
        step = next(s for s in gift.steps if s.kind is StepKind.GIFT_CARD)
        del sim.api.store.customers[int(step.customer_id.rsplit("/", 1)[1])]  # giftCardCreate refuses
        spoiled.extend([drift, gift])

    spoiled: list = []
    sim, run_dir = executed(tmp_path, before=spoil)
    result = reconciled(sim, run_dir)
    drifted, failed = (by_order(result, a) for a in spoiled)
    assert drifted.status == "drifted" and "updated_at" in drifted.detail
    assert failed.status == "failed" and "customer could not be found" in failed.detail
    rows = {r["order_id"]: r for r in read_csv(run_dir / "reconciliation.csv")}
    assert rows[spoiled[0].order_id]["status"] == "drifted"
    assert rows[spoiled[1].order_id]["status"] == "failed"


@pytest.fixture
def served(monkeypatch):
    yield from serving(monkeypatch, dt.timedelta(0))


def test_the_command_prints_counts_and_exits_by_exceptions(tmp_path, served):
    sim, server = served
    run_dir = make_run(tmp_path, sim, rows=30, seed=3, url=server.url)
    execute_run(run_dir, settings(server.url), transport=SimulatorTransport(sim), runner_options=FAST)
    runner = CliRunner()
    clean = runner.invoke(cli, ["reconcile", str(run_dir), "--json"])
    assert clean.exit_code == 0, clean.output
    assert '"matched"' in clean.output and "report.html" in clean.output
    victim = actions(run_dir, kind="cancel", method="original")[0]
    order = store_order(sim, victim)
    parent = next(t for t in order.transactions if t.kind in ("SALE", "CAPTURE"))
    write_refund(sim.api.store, order, [], Decimal(0), [(parent, Decimal("1.00"))], None)
    dirty = runner.invoke(cli, ["reconcile", str(run_dir)])
    assert dirty.exit_code == 1
    assert "1 duplicate" in dirty.output and "report:" in dirty.output
