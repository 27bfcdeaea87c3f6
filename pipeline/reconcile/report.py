"""The reconciliation files (SPEC §8): reconciliation.xlsx and .csv, refund_transactions.csv,
customers.csv and report.html, all views of one `Reconciliation`.

Every total is computed once from the per-order rows and tied out (`tieout.py`) before anything is
written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.money import ZERO
from pipeline.plan.model import Plan
from pipeline.reconcile.columns import (
    CUSTOMER_COLUMNS,
    EXCEPTION_COLUMNS,
    ORDER_COLUMNS,
    REASON_COLUMNS,
    STATUS_COLUMNS,
    TOTAL_COLUMNS,
    TOTAL_KEYS,
    TRANSACTION_COLUMNS,
    TX_TOTAL_COLUMNS,
)
from pipeline.reconcile.customers import customer_rows
from pipeline.reconcile.model import QUIET, Reconciliation
from pipeline.reconcile.rows import group_totals, order_row, per_currency, reason, transaction_row
from pipeline.reconcile.tieout import check_ties_out
from pipeline.reports import Chart, Sheet, render_page, write_csv, write_workbook
from pipeline.reports.cells import money_text
from pipeline.reports.files import write_bytes

HTML_ROW_LIMIT = 2_000


@dataclass(frozen=True)
class ReportFiles:
    xlsx: Path
    csv: Path
    transactions: Path
    customers: Path
    html: Path


def write_reports(
    run_dir: Path,
    plan: Plan,
    result: Reconciliation,
    *,
    extra: Sequence[tuple[str, object]] = (),
) -> ReportFiles:
    """Write the five files into `run_dir` (each replaced whole); TieOutError when totals do not tie out."""
    run_dir = Path(run_dir)
    notes = {r.row: r.action.note for r in plan.rows if r.action}
    rows = [order_row(row, notes.get(row.row, "")) for row in result.rows]
    transactions = [transaction_row(tx) for tx in result.transactions]
    totals = group_totals(rows, ("currency", "method"), TOTAL_KEYS, skip_empty=True)
    check_ties_out(plan.totals_by_currency_and_method(), result, totals)
    statuses = [{"status": s, "count": n} for s, n in result.counts().items() if n]
    codes = {r.row: str(r.reason) if r.reason else None for r in plan.rows}
    by_reason = group_totals(
        [{**r, "reason": reason(r, codes.get(r["row"]))} for r in rows],
        ("reason", "status", "currency"),
        TOTAL_KEYS[:2],
    )
    tx_totals = group_totals(
        transactions, ("currency", "method", "status", "shop_currency"), ("amount", "shop_amount")
    )
    title = f"bulkcancel reconciliation {result.run_id}"
    reconciled_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    summary: list[Any] = [
        ("Run id", result.run_id),
        ("Shop", plan.shop),
        ("Plan created at", plan.created_at),
        ("Reconciled at (UTC)", reconciled_at),
        ("Rows", len(rows)),
        ("Exceptions", len(result.exceptions)),
        *extra,
        Sheet("Rows per status", STATUS_COLUMNS, statuses),
        Sheet(
            "Planned vs refunded per currency and method",
            TOTAL_COLUMNS,
            totals,
            highlight=lambda r: bool(r.get("difference")),
            notes=("Refunded: settled since the plan, gift cards included; pending: still on its way.",),
        ),
        Sheet("By reason", REASON_COLUMNS, by_reason),
        Sheet("Refund transactions per currency, method and status", TX_TOTAL_COLUMNS, tx_totals),
    ]
    orders = Sheet("Orders", ORDER_COLUMNS, rows, highlight=_is_exception)
    exceptions = Sheet(
        "Exceptions",
        EXCEPTION_COLUMNS,
        [r for r in rows if _is_exception(r)],
        highlight=_is_exception,
        notes=("Every row that is not matched, blocked or skipped.",),
    )
    tx_sheet = Sheet(
        "Refund transactions",
        TRANSACTION_COLUMNS,
        transactions,
        highlight=lambda r: r["status"] != "SUCCESS" or r["origin"] == "not planned",
    )
    xlsx = write_workbook(
        run_dir / "reconciliation.xlsx", [orders, exceptions, tx_sheet], summary, title=title
    )
    csv = write_csv(run_dir / "reconciliation.csv", ORDER_COLUMNS, rows)
    tx_csv = write_csv(run_dir / "refund_transactions.csv", TRANSACTION_COLUMNS, transactions)
    customers = write_csv(run_dir / "customers.csv", CUSTOMER_COLUMNS, customer_rows(result))
    page = render_page(
        title,
        f"{plan.shop} · plan of {plan.created_at} · reconciled {reconciled_at}",
        _headline(result, totals),
        _charts(result, totals),
        [exceptions, *(block for block in summary if isinstance(block, Sheet))],
        row_limit=HTML_ROW_LIMIT,
    )
    html = write_bytes(run_dir / "report.html", page.encode())
    return ReportFiles(xlsx, csv, tx_csv, customers, html)


def _is_exception(row: Mapping[str, Any]) -> bool:
    return row["status"] not in QUIET


def _headline(result: Reconciliation, totals: Sequence[Mapping[str, Any]]) -> list[tuple[str, object]]:
    counts = result.counts()
    refunded = per_currency((str(t["currency"]), str(t["method"]), t["refunded"] or ZERO) for t in totals)
    planned = per_currency((str(t["currency"]), str(t["method"]), t["planned"] or ZERO) for t in totals)
    figures: list[tuple[str, object]] = [
        ("Rows", len(result.rows)),
        ("Matched", counts["matched"]),
        ("Exceptions", len(result.exceptions)),
        ("Pending", counts["pending"]),
        ("Duplicates", counts["duplicate"]),
    ]
    for code in sorted(planned):
        figures.append((f"Refunded ({code})", money_text(refunded[code], code)))
        figures.append((f"Planned ({code})", money_text(planned[code], code)))
    return figures


def _charts(result: Reconciliation, totals: Sequence[Mapping[str, Any]]) -> list[Chart]:
    counts = {s: n for s, n in result.counts().items() if n}
    charts = [Chart("Rows per status", "bar", list(counts), list(counts.values()), unit="rows")]
    for code in sorted({str(t["currency"]) for t in totals}):
        mine = [t for t in totals if t["currency"] == code]
        charts.append(
            Chart(
                f"Refunded by method ({code})",
                "barh",
                [str(t["method"] or "none") for t in mine],
                [t["refunded"] or ZERO for t in mine],
                unit=code,
            )
        )
    return charts
