"""reconcile --engine bulk (SPEC §15): the planned orders through one bulk query, the same
reconciliation as the paced read, files and statuses alike, on a run with every kind of money."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from pipeline.cli import cli
from pipeline.execute.executor import execute_run
from pipeline.plan.files import load_plan
from pipeline.plan.steps import StepKind
from pipeline.reconcile.order_check import NOT_READ
from pipeline.reconcile.reconciler import ReconcileResult, reconcile_run
from pipeline.simulator.refunds import write_refund
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import make_run, settings
from tests.reconcile.runs import (
    FAST,
    actions,
    executed,
    executed_with_restock,
    read_csv,
    serving,
    store_order,
)

FILES = ("reconciliation.csv", "refund_transactions.csv", "customers.csv")


def _spoil(sim, plan, spoiled):
    """Before execution: one order drifts (changed since the plan)."""
    drift = next(a for a in plan.actions() if a.cancel is None)
    store_order(sim, drift).updated_at += dt.timedelta(minutes=5)
    spoiled.append(drift)


def _hand_refund(sim, action, amount, later):
    """A refund by hand of `amount` on the order, `later` after now (its own moment, or the same)."""
    order = store_order(sim, action)
    parent = next(t for t in order.transactions if t.kind in ("SALE", "CAPTURE"))
    refund = write_refund(sim.api.store, order, [], Decimal(0), [(parent, Decimal(amount))], None)
    refund.created_at += later
    for tx in order.transactions:
        if tx.id in refund.transaction_ids:
            tx.created_at += later
    return refund


def _as_paced(bulk_rows: list[dict], paced_rows: list[dict]) -> list[str]:
    """Bulk rows made as the paced read shows them where bulk left refund lines unread (neither restock
    nor lines planned: units blank, said in a matched row, where the paced read shows none restocked);
    returns the bulk details so changed."""
    paced = {r["row"]: r for r in paced_rows}
    details = []
    for row in bulk_rows:
        seen = paced[row["row"]]
        if row["restocked_units"] == "" and seen["restocked_units"] == "0":
            if row["status"] == "matched":
                assert row["detail"] == seen["detail"] + "; " + NOT_READ
            details.append(row["detail"])
            row.update(detail=seen["detail"], restocked_units="0")
    return details


def _reconcile(sim, run_dir, engine, transport=None) -> tuple[ReconcileResult, dict[str, object], int]:
    before = sim.stats.points_spent
    result = reconcile_run(run_dir, settings(), transport=transport or SimulatorTransport(sim), engine=engine)
    files = {name: read_csv(run_dir / name) for name in FILES}
    workbook = load_workbook(run_dir / "reconciliation.xlsx", read_only=True)
    rows = workbook["Summary"].iter_rows(values_only=True)
    files["summary"] = [row for row in rows if row[0] != "Reconciled at (UTC)"]
    files["payouts"] = list(workbook["Payouts"].iter_rows(values_only=True))
    workbook.close()
    return result, files, sim.stats.points_spent - before


def test_bulk_and_paced_reconcile_the_same_run_alike(tmp_path: Path) -> None:
    spoiled: list = []
    sim, run_dir = executed_with_restock(tmp_path, before=lambda s, p: _spoil(s, p, spoiled))
    plan_actions = actions(run_dir)
    methods = Counter(s.method for a in plan_actions for s in a.steps if s.method)
    assert {"original", "store_credit", "gift_card"} <= set(methods)
    assert any(s.refund_lines for a in plan_actions for s in a.steps if s.kind is StepKind.REFUND)
    cancels = actions(run_dir, kind="cancel", method="original")
    refund_only = [a for a in actions(run_dir, kind="refund") if a.cancel is None and a not in spoiled]
    _hand_refund(sim, cancels[0], "5.00", dt.timedelta(0))  # a duplicate
    _hand_refund(sim, refund_only[0], "1.00", dt.timedelta(minutes=3))  # two refunds, apart
    paced, paced_files, paced_points = _reconcile(sim, run_dir, "paced")
    bulk, bulk_files, bulk_points = _reconcile(sim, run_dir, "bulk")

    assert bulk.engine is not None and bulk.engine.engine == "bulk"
    unread = _as_paced(bulk_files["reconciliation.csv"], paced_files["reconciliation.csv"])
    assert any(NOT_READ in r for r in unread)
    assert bulk_files == paced_files  # rows and statuses, money lines, customers, the tied-out summary
    counts = bulk.reconciliation.counts()
    assert counts == paced.reconciliation.counts()
    assert counts["duplicate"] >= 1 and counts["drifted"] == 1 and counts["matched"] > 30
    assert counts["pending"] >= 1
    rows = {r.order_id: r for r in bulk.reconciliation.rows}
    assert rows[refund_only[0].order_id].refunds_since_plan == 2
    assert any((r.restocked_units or 0) > 0 for r in rows.values())  # read from the refund lines
    queries = [op for op in sim.api.bulk.operations.values() if op.type == "QUERY"]
    assert [op.status for op in queries] == ["COMPLETED", "COMPLETED"]  # the orders, the balance transactions
    assert "balanceTransactions" in queries[1].query
    # The two-refund order was settled by the bulk line: its money split by moment, not re-read.
    again = sum(n for why, n in bulk.reread.items() if why != "restock")
    assert again <= 1  # the duplicate, when its refund fell in the same second as the cancel's
    assert bulk_points == bulk.points < paced_points


def test_restock_is_read_from_the_shops_refund_lines_never_assumed(tmp_path: Path) -> None:
    sim, run_dir = executed_with_restock(tmp_path)
    result, _files, _points = _reconcile(sim, run_dir, "bulk")
    assert result.reread.get("restock", 0) >= 1  # refund lines read paced, the orders not re-read
    rows = {r.order_id: r for r in result.reconciliation.rows}
    unread = 0
    for action in load_plan(run_dir).actions():
        order = store_order(sim, action)
        seen = set(action.fingerprint.refund_ids or ())
        new = [r for r in order.refunds if f"gid://shopify/Refund/{r.id}" not in seen]
        units = sum(x.quantity for r in new for x in r.line_items if x.restocked)
        row = rows[action.order_id]
        if row.restocked_units is None:  # a cancel that refunded nothing: no refund line to read
            unread += 1
            assert units == 0
            if row.status == "matched":  # said in the row; blank units in the others
                assert "restock not verified" in row.detail or NOT_READ in row.detail
        else:
            assert row.restocked_units == units, action.order_name
    assert sum(r.restocked_units or 0 for r in rows.values()) > 0 and unread > 0


def test_auto_takes_bulk_by_the_rule_at_the_shops_restore_rate(tmp_path: Path) -> None:
    sim, run_dir = executed(tmp_path, rows=30)
    orders = len(actions(run_dir))
    fast = reconcile_run(run_dir, settings(), transport=SimulatorTransport(sim), engine="auto")
    assert fast.engine is not None and fast.engine.engine == "paced"
    # Past 15 minutes paced at this restore rate: the bulk query (SPEC §15).
    slow_rate = orders * 15 / (16 * 60)
    slow = reconcile_run(
        run_dir, settings(), transport=SimulatorTransport(sim), engine="auto", restore_rate=slow_rate
    )
    assert slow.engine is not None and slow.engine.engine == "bulk" and "> 15 min" in slow.engine.reason
    assert slow.reconciliation.counts() == fast.reconciliation.counts()


def test_a_bulk_read_that_failed_part_way_is_run_again(tmp_path: Path) -> None:
    sim, run_dir = executed(tmp_path, rows=30)
    paced, paced_files, _points = _reconcile(sim, run_dir, "paced")
    sim.api.bulk.faults(1.0, 3)  # the first query ends FAILED part way, with partial data
    inner = SimulatorTransport(sim)

    class HealAfterFirst(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            try:
                return inner.handle_request(request)
            finally:
                if any(op.type == "QUERY" for op in sim.api.bulk.operations.values()):
                    sim.api.bulk.faults(0.0, 3)

    result = reconcile_run(run_dir, settings(), transport=HealAfterFirst(), engine="bulk")
    queries = [op.status for op in sim.api.bulk.operations.values() if op.type == "QUERY"]
    assert queries == ["FAILED", "COMPLETED", "COMPLETED"]  # the orders twice, the balance transactions
    assert result.reconciliation.counts() == paced.reconciliation.counts()
    bulk_rows = read_csv(run_dir / "reconciliation.csv")
    _as_paced(bulk_rows, paced_files["reconciliation.csv"])
    assert bulk_rows == paced_files["reconciliation.csv"]


@pytest.fixture
def served(monkeypatch):
    yield from serving(monkeypatch, dt.timedelta(0))


def test_the_command_reads_through_the_engine_asked_over_http(tmp_path: Path, served) -> None:
    sim, server = served
    run_dir = make_run(tmp_path, sim, rows=30, seed=3, url=server.url)
    execute_run(run_dir, settings(server.url), transport=SimulatorTransport(sim), runner_options=FAST)
    runner = CliRunner()
    bulk = runner.invoke(cli, ["reconcile", str(run_dir), "--engine", "bulk"])
    assert bulk.exit_code == 0, bulk.output
    assert "read through the bulk API (--engine bulk" in bulk.stdout
    assert "paced: refund lines (restock) of " in bulk.stdout  # cancels took units off their orders
    assert "bulk query: " in bulk.stderr and " orders, " in bulk.stderr  # progress, as select shows it
    bulk_rows = read_csv(run_dir / "reconciliation.csv")
    auto = runner.invoke(cli, ["reconcile", str(run_dir), "--json"])
    assert auto.exit_code == 0, auto.output
    assert '"engine": "paced"' in auto.stdout  # 30 orders at the simulator's restore rate
    paced_rows = read_csv(run_dir / "reconciliation.csv")
    _as_paced(bulk_rows, paced_rows)
    assert paced_rows == bulk_rows


class _Noting(httpx.BaseTransport):
    """The simulator's transport, keeping each GraphQL request's text (variables written out); the bulk
    queries of balance transactions started while `failing` is above 0 end FAILED part way."""

    def __init__(self, sim, failing: int = 0) -> None:
        self.sim, self.inner, self.failing, self.sent = sim, SimulatorTransport(sim), failing, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        text = request.content.decode() if request.method == "POST" and request.content else ""
        self.sent.append(text)
        balance = "bulkOperationRunQuery" in text and "balanceTransactions" in text
        if balance and self.failing > 0:
            self.failing -= 1
            self.sim.api.bulk.faults(1.0, 3)
        try:
            return self.inner.handle_request(request)
        finally:
            if balance:
                self.sim.api.bulk.faults(0.0, 3)

    def count(self, document: str) -> int:
        return sum(f"query {document}(" in text for text in self.sent)


def _issued(sim) -> None:
    """The shop's clock a day and a half on: the daily payouts that take the run's refunds are issued."""
    sim.api.store.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=1, hours=12)


def _balance_queries(sim) -> list[str]:
    return [op.status for op in sim.api.bulk.operations.values() if "balanceTransactions" in op.query]


PAYOUT_FILES = ("refund_transactions.csv", "payouts")


def test_payouts_come_from_one_bulk_query_and_match_the_paced_read(tmp_path: Path) -> None:
    sim, run_dir = executed(tmp_path, rows=30)
    _issued(sim)
    paced_sent, bulk_sent = _Noting(sim), _Noting(sim)
    paced, paced_files, _points = _reconcile(sim, run_dir, "paced", paced_sent)
    bulk, bulk_files, _points = _reconcile(sim, run_dir, "bulk", bulk_sent)

    assert paced_sent.count("BalanceTransactions") >= 1 and bulk_sent.count("BalanceTransactions") == 0
    assert _balance_queries(sim) == ["COMPLETED"]
    assert bulk_sent.count("Payouts") == 1  # only the payouts the balance transactions name: one page
    tied = [t for t in bulk.reconciliation.transactions if t.payout is not None]
    assert tied and all(t.payout.payout_id and t.payout.date for t in tied)
    assert [bulk_files[name] for name in PAYOUT_FILES] == [paced_files[name] for name in PAYOUT_FILES]
    assert bulk_files["summary"] == paced_files["summary"]  # the Payouts line: every refund found
    assert bulk.reconciliation.counts() == paced.reconciliation.counts()


@pytest.mark.parametrize("failing", [1, 3])
def test_a_failed_bulk_read_of_balance_transactions_is_run_again_then_read_paced(
    tmp_path: Path, failing
) -> None:
    sim, run_dir = executed(tmp_path, rows=30)
    _issued(sim)
    _paced, paced_files, _points = _reconcile(sim, run_dir, "paced")
    sent = _Noting(sim, failing)
    result, files, _points = _reconcile(sim, run_dir, "bulk", sent)

    if failing == 1:  # run again: it completes
        assert _balance_queries(sim) == ["FAILED", "COMPLETED"] and sent.count("BalanceTransactions") == 0
    else:  # FAILED as many times as a read is tried: the paced pages stand in
        assert _balance_queries(sim) == ["FAILED"] * 3 and sent.count("BalanceTransactions") >= 1
        notes = [row[1] for row in files["summary"] if row[0] == "Payouts"]
        assert "(read paced: the bulk read failed (bulk operation " in notes[0] and "FAILED" in notes[0]
    assert any(t.payout is not None for t in result.reconciliation.transactions)
    assert [files[name] for name in PAYOUT_FILES] == [paced_files[name] for name in PAYOUT_FILES]
