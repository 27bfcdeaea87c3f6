"""plan.html: the plan's summary, charts and tables on one self-contained page, sealed like the workbook.

The page is for reading, so its tables are narrower than the workbook's sheets (the Steps column gets
the room) and cut at `ROW_LIMIT` rows each: plan.xlsx and plan.csv hold every row, and a page of
100,000 rows would be too heavy to open.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.money import per_currency
from pipeline.plan.model import Decision, Plan
from pipeline.plan.summary import Kept
from pipeline.plan.words import A_VIEW, ALL_ROWS, part_of, seal_words
from pipeline.reports import Chart, Column, Sheet, render_page
from pipeline.reports.cells import money_text

#: Rows of each table the page shows.
ROW_LIMIT = 1_000
# The page's own columns, relative widths for people: the steps and the note wrap in wide columns.
_ACTIONS = [
    Column("row", "Row", "int", width=7),
    Column("order_name", "Order", width=10),
    Column("action", "Action", width=13),
    Column("paid", "Paid", "money", width=12, currency_key="currency"),
    Column("amount", "To refund", "money", width=12, currency_key="currency"),
    Column("kept", "Kept", "money", width=12, currency_key="currency"),
    Column("steps", "Steps", width=58),
    Column("notify", "Notify", width=9),
    Column("restock", "Restock", "int", width=10),
    Column("note", "Note", width=25),
]
_REFUSED = [
    Column("row", "Row", "int", width=5),
    Column("order", "Order as written", width=12),
    Column("order_name", "Order", width=10),
    Column("reason", "Reason code", width=14),
    Column("message", "Message", width=60),
]

Block = tuple[str, object] | Sheet


def plan_page(
    plan: Plan,
    seal: str,
    summary: Sequence[Block],
    actions: Sheet,
    refused: Sheet,
    totals: list[dict[str, object]],
    kept: Kept,
) -> str:
    """The page: headlines, the plan's details, charts, the summary tables, Actions, Blocked, Skipped."""
    blocked = [row for row in refused.rows if row["decision"] == Decision.BLOCKED]
    skipped = [row for row in refused.rows if row["decision"] == Decision.SKIP]
    title = f"bulkcancel plan {plan.run_id}"
    details = [
        ("Plan seal", seal),
        ("Shop", f"{plan.shop} · API {plan.api_version}"),
        ("Input file", plan.input_name),
        ("Input sha256", plan.input_sha256),
        ("Created at", plan.created_at),
    ]
    tables = [
        *(block for block in summary if isinstance(block, Sheet)),
        Sheet("Actions", _ACTIONS, actions.rows, notes=actions.notes),
        Sheet("Blocked", _REFUSED, blocked, highlight=lambda row: True),
        Sheet("Skipped", _REFUSED, skipped),
    ]
    return render_page(
        title,
        f"{plan.shop} · input {plan.input_name} · created {plan.created_at} · {seal_words(seal)}",
        _headline(plan, actions.rows, kept),
        _charts(plan, totals),
        tables,
        row_limit=ROW_LIMIT,
        rest=ALL_ROWS,
        banner=f"{title} · {seal_words(seal)} · {A_VIEW}",
        details=details,
        by_width=True,
    )


def _headline(plan: Plan, actions: list[dict[str, object]], kept: Kept) -> list[tuple[str, object]]:
    counts = plan.counts_by_decision()
    cancels = sum(row["action"] == "cancel" for row in actions)
    money = [
        (f"To refund ({code})", money_text(amount, code))
        for code, amount in per_currency(plan.totals_by_currency_and_method()).items()
    ]
    keeping = [
        (f"Kept by cancelled orders ({code})", part_of(amount, paid, code))
        for code, (_orders, amount, paid) in kept.items()
    ]
    return [
        ("Orders to cancel", cancels),
        ("Orders to refund only", len(actions) - cancels),
        ("Rows blocked", counts[Decision.BLOCKED]),
        ("Rows skipped", counts[Decision.SKIP]),
        *money,
        *keeping,
        ("Customers notified", plan.customers_notified()),
    ]


def _charts(plan: Plan, totals: list[dict[str, object]]) -> list[Chart]:
    charts = [
        Chart(
            f"Amount by method ({code})",
            "barh",
            [str(row["method"]) for row in totals if row["currency"] == code],
            [row["amount"] for row in totals if row["currency"] == code],  # type: ignore[misc]
            unit=code,
        )
        for code in per_currency(plan.totals_by_currency_and_method())
    ]
    counts = plan.counts_by_decision()
    return [*charts, Chart("Rows per decision", "bar", list(counts), list(counts.values()), unit="rows")]
