"""`reconcile RUN_DIR`: read back every planned order and the run's gift cards, compare, write reports.

The reads are `readback.py` (paced) or `bulkread.py` (Shopify's bulk query, SPEC §15; the engine by
`plan/engine.py`'s rule for the reconcile stage), the comparison `compare.py`, the files `report.py`;
this module only wires them to the run directory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx

from pipeline.execute.journal import Journal
from pipeline.plan.engine import EngineChoice, choose_engine
from pipeline.plan.files import check_plan, load_plan, seal_of
from pipeline.plan.head import plan_span
from pipeline.plan.model import Plan
from pipeline.reconcile.bulkread import Wanted, read_back_bulk
from pipeline.reconcile.compare import Comparison
from pipeline.reconcile.model import Reconciliation
from pipeline.reconcile.payouts import cancel_read, read_payouts, start_balance_read
from pipeline.reconcile.readback import read_back
from pipeline.reconcile.report import ReportFiles, Reports
from pipeline.reports.heap import frozen_heap
from pipeline.settings import ConnectionSettings
from pipeline.shopify.bulk import BulkOperations, StartedRead
from pipeline.shopify.progress import Progress

JOURNAL = "journal.sqlite"
STANDARD_RESTORE_RATE = 100.0  # points a second, when the shop's own is not known


@dataclass(frozen=True)
class ReconcileResult:
    """The reconciliation, the files written and the points the reads cost."""

    reconciliation: Reconciliation
    files: ReportFiles
    points: int
    orders_read: int
    payout_points: int = 0  # what tying refunds to payouts cost, part of `points`
    engine: EngineChoice | None = None
    reread: dict[str, int] = field(default_factory=dict)  # orders the bulk read left paced, by why

    @property
    def all_matched(self) -> bool:
        """No exception: pending refunds are in flight, not exceptions (SPEC §8)."""
        return not self.reconciliation.exceptions

    def exit_code(self, *, strict: bool = False) -> int:
        """0 when all else matched; 1 on exceptions, and with `strict` on pending refunds too."""
        if not self.all_matched or (strict and self.reconciliation.in_flight):
            return 1
        return 0


def journal_records(run_dir: Path, run_id: str) -> Iterator[dict[str, Any]]:
    """The journal's steps one at a time, or none when the run was never executed (no journal file)."""
    path = Path(run_dir) / JOURNAL
    if not path.is_file():
        return
    with Journal.open(path, run_id) as journal:
        yield from journal.records_for_report()


class RunReads:
    """One run directory as reconcile reads it: the plan and the comparison, loaded when first asked
    (on the bulk engine, while the orders' query runs), and the balance transactions' bulk read once
    started ahead."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.balance: StartedRead | None = None

    @cached_property
    def plan(self) -> Plan:
        return load_plan(self.run_dir)  # refuses a plan.json that no longer matches plan.sha256

    @cached_property
    def comparison(self) -> Comparison:
        return Comparison(self.plan, journal_records(self.run_dir, self.plan.run_id))

    @cached_property
    def wanted(self) -> Wanted:
        """The orders to read, the journal's gift cards, the orders whose refunds' lines are read."""
        actions = self.plan.actions()
        return Wanted(
            order_ids=list(dict.fromkeys(a.order_id for a in actions)),
            card_ids=self.comparison.card_ids,
            lines_ids={a.order_id for a in actions if any(s.restock or s.refund_lines for s in a.steps)},
            sink=self.comparison,
            since=self.plan.since,
        )

    def start_balance(self, bulk: BulkOperations) -> None:
        """Once the orders' bulk query is over: the balance transactions' one starts while its lines are
        compared, when the plan gives money back (a plan that gives none has no refunds of its own to
        tie to payouts; should others' refunds turn up, `read_payouts` starts its read itself)."""
        if self.plan.totals_by_currency_and_method():
            self.balance = start_balance_read(bulk, self.plan.since)


def reconcile_run(
    run_dir: Path,
    settings: ConnectionSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    progress: Callable[[int], None] | None = None,
    engine: str = "paced",
    restore_rate: float | None = None,
    bucket: float | None = None,
    bulk_progress: Callable[[Progress], None] | None = None,
    bulk_options: dict[str, Any] | None = None,
) -> ReconcileResult:
    """Re-reads, compares, and writes the reconciliation files into `run_dir` (SPEC §8).

    `engine`: auto, paced or bulk; `auto` weighs the run's orders at the shop's `restore_rate` and
    `bucket` (the first look's), as SPEC §15 says. The bulk engine starts the orders' query from
    plan.json's head (their count and id span, `plan_span`) before the rows are read, and, when the
    plan gives money back, the balance transactions' query as soon as that one completes."""
    run_dir = Path(run_dir)
    check_plan(run_dir)  # nothing is read for a plan.json that no longer matches plan.sha256
    run = RunReads(run_dir)
    span = plan_span(run_dir) or run.plan.order_span()  # a plan.json from before: its rows say
    choice = choose_engine(
        engine,
        span.count if span is not None else len(run.wanted.order_ids),
        stage="reconcile",
        restore_rate=restore_rate or STANDARD_RESTORE_RATE,
        bucket=bucket or 0.0,
    )
    try:
        if choice.engine == "bulk":
            shop = read_back_bulk(
                settings,
                span,
                lambda: run.wanted,
                transport=transport,
                progress=progress,
                bulk_progress=bulk_progress,
                bulk_options=bulk_options,
                then=run.start_balance,
            )
        else:
            wanted = run.wanted
            shop = read_back(
                settings,
                wanted.order_ids,
                wanted.card_ids,
                wanted.sink,
                since=wanted.since,
                transport=transport,
                progress=progress,
            )
        plan, result = run.plan, run.comparison.result()
        # The files the rows alone make are written while the balance transactions' query runs, the
        # rest once the payouts are read; the plan and rows live until the end: out of the collector.
        with frozen_heap(), Reports(run_dir, plan, result, seal=seal_of(run_dir)) as reports:
            started, run.balance = run.balance, None
            paid = read_payouts(
                settings,
                result.transactions,
                plan.since,
                transport=transport,
                bulk=choice.engine == "bulk",
                bulk_options=bulk_options,
                bulk_progress=bulk_progress,
                started=started,
            )
            result = replace(result, transactions=paid.transactions)
            files = reports.finish(result, extra=[("Payouts", paid.note)])
    except BaseException:
        if run.balance is not None:  # started ahead, never read: not left holding a bulk slot
            cancel_read(settings, transport, run.balance)
        raise
    orders = len(run.wanted.order_ids)
    return ReconcileResult(result, files, shop.points + paid.points, orders, paid.points, choice, shop.reread)
