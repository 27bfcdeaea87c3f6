"""The reconciliation files (SPEC §8): reconciliation.xlsx and .csv, refund_transactions.csv,
customers.csv and report.html, all views of one `Reconciliation`.

Every total is computed once from the per-order rows and tied out (`tieout.py`) before anything is
written. Each reconcile writes into a folder of its own, then the latest is copied to the top level.
What the rows alone make is written first, while the payouts are still being read (`Reports`).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pipeline.money import ZERO
from pipeline.plan.model import Plan
from pipeline.reconcile import accounting, history
from pipeline.reconcile.columns import (
    CUSTOMER_COLUMNS,
    EXCEPTION_COLUMNS,
    ORDER_COLUMNS,
    PAYOUT_COLUMNS,
    REASON_COLUMNS,
    STATUS_COLUMNS,
    TOTAL_COLUMNS,
    TOTAL_KEYS,
    TRANSACTION_COLUMNS,
    TX_TOTAL_COLUMNS,
)
from pipeline.reconcile.customers import customers_to_tell
from pipeline.reconcile.model import PENDING, QUIET, Reconciliation
from pipeline.reconcile.payouts import payout_rows
from pipeline.reconcile.rows import Made, Row, group_totals, order_row, reason, transaction_row
from pipeline.reconcile.tieout import check_ties_out
from pipeline.reports import Chart, Sheet, render_page, write_csv
from pipeline.reports.cells import money_text
from pipeline.reports.files import write_bytes
from pipeline.reports.xlsx import open_book

HTML_ROW_LIMIT = 2_000
WORKBOOK = "reconciliation.xlsx"
AGAIN = "in flight: reconcile again once the gateway settles (Klarna, Sofort, bank transfers: days)"


@dataclass(frozen=True)
class ReportFiles:
    xlsx: Path
    csv: Path
    transactions: Path
    customers: Path
    html: Path
    folder: Path  # this reconcile's own copy, kept: reconcile-<UTC time>/


class Unfinished(Exception):
    """`Reports` left before `finish`: its workbook is abandoned, not put in place."""


class Reports:
    """The five files of one reconcile, written in two parts: as soon as the orders are compared, what
    their rows alone make (after the tie-out: TieOutError, nothing written, when the totals do not tie
    out): reconciliation.csv, customers.csv and the workbook's Orders, Exceptions and Pending sheets;
    then, once the payouts are read (`finish`), the refund transactions, the Payouts and Summary sheets,
    report.html, and the copies at the run directory's top level. A context: a reconcile that fails
    before `finish` is done leaves no folder of its own behind (no reconciliation.csv nor customers.csv
    without the rest)."""

    def __init__(self, run_dir: Path, plan: Plan, result: Reconciliation, *, seal: str = "") -> None:
        self.run_dir, self.plan, self.result, self.seal = Path(run_dir), plan, result, seal
        notes = {r.row: r.action.note for r in plan.rows if r.action}
        self.rows = Made(result.rows, lambda row: order_row(row, notes.get(row.row, "")))
        self.totals = group_totals(self.rows, ("currency", "method"), TOTAL_KEYS, skip_empty=True)
        check_ties_out(plan.totals_by_currency_and_method(), result, self.totals)
        self.at = dt.datetime.now(dt.UTC)
        self.title = f"bulkcancel reconciliation {result.run_id}"
        self._book = ExitStack()
        self._done = False

    def __enter__(self) -> Reports:
        self.folder = history.new_folder(self.run_dir, self.at)
        try:
            self._first_part()
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._done:
            return
        # Ended before `finish` was done: the workbook is never put in place, the folder goes.
        self._book.__exit__(*(exc if exc[0] is not None else (Unfinished, Unfinished(), None)))
        shutil.rmtree(self.folder, ignore_errors=True)

    def _first_part(self) -> None:
        rows, plan, result = self.rows, self.plan, self.result
        codes = {r.row: str(r.reason) if r.reason else None for r in plan.rows}
        self.by_reason = group_totals(
            ({**r, "reason": reason(r, codes.get(r["row"]))} for r in rows),
            ("reason", "status", "currency"),
            TOTAL_KEYS[:2],
        )
        # The sheets only count, slice and iterate their rows: made ones serve (no list of every row).
        orders = Sheet("Orders", ORDER_COLUMNS, cast("list[Row]", rows), highlight=_is_exception)
        self.exceptions = Sheet(
            "Exceptions",
            EXCEPTION_COLUMNS,
            [r for r in rows if _is_exception(r)],
            highlight=_is_exception,
            notes=("Every row that is not matched, blocked, skipped or pending.",),
        )
        self.pending = Sheet(
            "Pending", EXCEPTION_COLUMNS, [r for r in rows if r["status"] == PENDING], notes=(AGAIN,)
        )
        with ExitStack() as book:  # kept open for `finish` only once this part is written
            self.book = book.enter_context(open_book(self.folder / WORKBOOK, title=self.title, summary=True))
            for sheet in (orders, self.exceptions, self.pending):
                self.book.sheet(sheet)
            self.csv = write_csv(self.folder / "reconciliation.csv", ORDER_COLUMNS, rows)
            self.customers = write_csv(
                self.folder / "customers.csv", CUSTOMER_COLUMNS, customers_to_tell(result)
            )
            self._book = book.pop_all()

    def finish(self, result: Reconciliation, extra: Sequence[tuple[str, object]] = ()) -> ReportFiles:
        """The rest, with `result`'s transactions as the payouts read made them (its rows as given)."""
        plan, folder, rows, totals, seal = self.plan, self.folder, self.rows, self.totals, self.seal
        transactions = Made(result.transactions, transaction_row)
        statuses = [{"status": s, "count": n} for s, n in result.counts().items() if n]
        tx_totals = group_totals(
            transactions, ("currency", "method", "status", "shop_currency"), ("amount", "shop_amount")
        )
        books = accounting.accounting_rows(result)
        reconciled_at = self.at.isoformat(timespec="seconds").replace("+00:00", "Z")
        books_sheet = Sheet(
            "Accounting per currency",
            accounting.COLUMNS,
            books,
            notes=(
                "Paid out = refunded to cards + store credit + gift cards issued (those two are "
                "liabilities the run created); kept: what cancelled orders still hold; the last line is "
                "the grand total in the shop currency.",
            ),
        )
        summary: list[Any] = [
            ("Run id", result.run_id),
            ("Shop", plan.shop),
            ("Plan seal (sha256)", seal),
            ("Plan created at", plan.created_at),
            ("Reconciled at (UTC)", reconciled_at),
            ("Rows", len(rows)),
            ("Exceptions", len(result.exceptions)),
            ("Pending (in flight)", len(result.in_flight)),
            *extra,
            books_sheet,
            Sheet("Rows per status", STATUS_COLUMNS, statuses),
            Sheet(
                "Planned vs refunded per currency and method",
                TOTAL_COLUMNS,
                [*totals, *_grand(totals, "refunded_shop")],
                highlight=lambda r: bool(r.get("difference")),
                notes=("Refunded: settled since the plan, gift cards included; pending: still on its way.",),
            ),
            Sheet("By reason", REASON_COLUMNS, self.by_reason),
            Sheet(
                "Refund transactions per currency, method and status",
                TX_TOTAL_COLUMNS,
                [*tx_totals, *_grand(tx_totals, "shop_amount")],
            ),
        ]
        tx_sheet = Sheet(
            "Refund transactions",
            TRANSACTION_COLUMNS,
            cast("list[Row]", transactions),
            highlight=lambda r: r["status"] not in ("SUCCESS", "PENDING") or r["origin"] == "not planned",
        )
        payout_sheet = Sheet(
            "Payouts",
            PAYOUT_COLUMNS,
            payout_rows(transactions),
            notes=(
                "Shopify Payments refunds per payout (fee and net as the balance transactions show them); "
                "other gateways settle outside Shopify Payments, manual refunds are paid back by hand.",
            ),
        )
        self.book.sheet(tx_sheet)
        self.book.sheet(payout_sheet)
        self.book.summary(summary)
        self._book.close()  # the workbook in place, whole
        written = [
            folder / WORKBOOK,
            self.csv,
            write_csv(folder / "refund_transactions.csv", TRANSACTION_COLUMNS, transactions),
            self.customers,
        ]
        page = render_page(
            self.title,
            f"{plan.shop} · plan {seal or '?'} of {plan.created_at} · reconciled {reconciled_at}",
            _headline(result, totals, books, seal),
            _charts(result),
            [self.exceptions, self.pending, books_sheet, payout_sheet, *_tables(summary, books_sheet)],
            row_limit=HTML_ROW_LIMIT,
        )
        written.append(write_bytes(folder / "report.html", page.encode()))
        xlsx, csv, tx_csv, customers, html = history.publish(written, self.run_dir)
        self._done = True
        return ReportFiles(xlsx, csv, tx_csv, customers, html, folder)


def _tables(summary: Sequence[Any], shown: Sheet) -> list[Sheet]:
    return [block for block in summary if isinstance(block, Sheet) and block is not shown]


def _is_exception(row: Mapping[str, Any]) -> bool:
    return row["status"] not in QUIET and row["status"] != PENDING


def _grand(totals: Sequence[Mapping[str, Any]], shop_key: str) -> list[dict[str, Any]]:
    """The grand total of a table's shop-currency column, one line per shop currency."""
    sums: dict[str, Any] = {}
    for total in totals:
        code = total.get("shop_currency")
        if code and total.get(shop_key) is not None:
            sums[code] = sums.get(code, ZERO) + total[shop_key]
    return [
        {"currency": "all", "method": "grand total (shop currency)", "shop_currency": code, shop_key: amount}
        for code, amount in sorted(sums.items())
    ]


def _headline(
    result: Reconciliation,
    totals: Sequence[Mapping[str, Any]],
    books: Sequence[Mapping[str, Any]],
    seal: str,
) -> list[tuple[str, object]]:
    counts = result.counts()
    figures: list[tuple[str, object]] = [
        ("Rows", len(result.rows)),
        ("Matched", counts["matched"]),
        ("Exceptions", len(result.exceptions)),
        ("Pending (in flight)", len(result.in_flight)),
        ("Duplicates", counts["duplicate"]),
        ("Plan seal", seal or "unknown"),
    ]
    for row in books:
        if str(row["scope"]).startswith(accounting.GRAND):
            code = str(row["currency"])
            figures.append((f"Paid out ({code}, all currencies)", money_text(row["paid_out"], code)))
            for key in ("gift_cards", "store_credit", "kept", "pending"):
                figures.append((f"{accounting.TITLES[key]} ({code})", money_text(row[key], code)))
    return figures


def _charts(result: Reconciliation) -> list[Chart]:
    counts = {s: n for s, n in result.counts().items() if n}
    charts = [Chart("Rows per status", "bar", list(counts), list(counts.values()), unit="rows")]
    by_method: dict[tuple[str, str], Any] = {}
    for tx in result.transactions:
        if tx.moves_money and tx.shop_amount is not None:
            key = (tx.method, tx.shop_amount.currency)
            by_method[key] = by_method.get(key, ZERO) + tx.shop_amount.amount
    for code in sorted({code for _method, code in by_method}):
        mine = sorted((method, amount) for (method, c), amount in by_method.items() if c == code)
        charts.append(
            Chart(
                f"Refunded by method, all currencies in {code}",
                "barh",
                [method for method, _ in mine],
                [amount for _, amount in mine],
                unit=code,
            )
        )
    return charts
