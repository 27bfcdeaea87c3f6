"""`reconcile RUN_DIR`: read back every planned order and the run's gift cards, compare, write reports.

The reads are `readback.py` (paced) or `bulkread.py` (Shopify's bulk query, SPEC §15; the engine by
`plan/engine.py`'s rule for the reconcile stage), the comparison `compare.py`, the files `report.py`;
this module only wires them to the run directory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from pipeline.execute.journal import Journal
from pipeline.plan.engine import EngineChoice, choose_engine
from pipeline.plan.files import load_plan, seal_of
from pipeline.reconcile.bulkread import read_back_bulk
from pipeline.reconcile.compare import Comparison
from pipeline.reconcile.model import Reconciliation
from pipeline.reconcile.payouts import read_payouts
from pipeline.reconcile.readback import read_back
from pipeline.reconcile.report import ReportFiles, write_reports
from pipeline.settings import ConnectionSettings
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
    `bucket` (the first look's), as SPEC §15 says."""
    run_dir = Path(run_dir)
    plan = load_plan(run_dir)  # refuses a plan.json that no longer matches plan.sha256
    comparison = Comparison(plan, journal_records(run_dir, plan.run_id))
    order_ids = list(dict.fromkeys(a.order_id for a in plan.actions()))
    choice = choose_engine(
        engine,
        len(order_ids),
        stage="reconcile",
        restore_rate=restore_rate or STANDARD_RESTORE_RATE,
        bucket=bucket or 0.0,
    )
    cards = comparison.card_ids
    if choice.engine == "bulk":
        with_lines = {a.order_id for a in plan.actions() if any(s.restock or s.refund_lines for s in a.steps)}
        shop = read_back_bulk(
            settings,
            order_ids,
            cards,
            comparison,
            lines_ids=with_lines,
            since=plan.since,
            transport=transport,
            progress=progress,
            bulk_progress=bulk_progress,
            bulk_options=bulk_options,
        )
    else:
        shop = read_back(
            settings, order_ids, cards, comparison, since=plan.since, transport=transport, progress=progress
        )
    result = comparison.result()
    paid = read_payouts(
        settings,
        result.transactions,
        plan.since,
        transport=transport,
        bulk=choice.engine == "bulk",
        bulk_options=bulk_options,
        bulk_progress=bulk_progress,
    )
    result = replace(result, transactions=paid.transactions)
    files = write_reports(run_dir, plan, result, seal=seal_of(run_dir), extra=[("Payouts", paid.note)])
    return ReconcileResult(
        result, files, shop.points + paid.points, len(order_ids), paid.points, choice, shop.reread
    )
