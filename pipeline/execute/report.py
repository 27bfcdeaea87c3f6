"""execution.csv: one row per input row with what execution did to its order (SPEC §7 item 9, §14)."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable
from operator import itemgetter
from pathlib import Path
from typing import Any

from pipeline.execute.journal import Journal
from pipeline.execute.status import NOT_EXECUTED, TO_VERIFY, action_status
from pipeline.plan.model import Decision, Plan, PlannedRow
from pipeline.reports.cells import csv_text

EXECUTION_COLUMNS = (
    "row",
    "order",
    "order_name",
    "order_id",
    "status",
    "detail",
    "steps",
    "job_id",
    "refund_ids",
    "gift_card_id",
    "gift_card_last_chars",
    "transaction_ids",
    "attempts",
)


def write_execution_csv(
    run_dir: Path, plan: Plan, journal: Journal, rows: Iterable[dict[str, Any]] | None = None
) -> dict[str, str]:
    """execution.csv: one row per input row with its outcome and Shopify ids (SPEC §7 item 9, §14);
    `rows`: the journal's report rows in plan order (read from it, one at a time, when not given).
    Returns each journaled action's status by action key, as `journal_statuses` gives it.

    The journal lists actions in plan order, so each action's steps are taken as its row comes: only
    one action's steps are in memory at a time (SPEC §12)."""
    groups = itertools.groupby(
        journal.records_for_report() if rows is None else rows, key=itemgetter("action_key")
    )
    ahead = next(groups, None)
    statuses: dict[str, str] = {}
    path = run_dir / "execution.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXECUTION_COLUMNS)
        for row in plan.rows:
            action = row.action
            records: list[dict[str, Any]] = []
            if action is not None and ahead is not None and ahead[0] == action.action_key:
                records, ahead = list(ahead[1]), next(groups, None)
                states = (r["state"] for r in records)
                statuses[action.action_key] = action_status(records[-1]["action_state"], states)
            writer.writerow(csv_text(str(v)) for v in _execution_row(row, records, again(run_dir)))
    while ahead is not None:  # journaled actions no row matched (none expected): counted all the same
        records, ahead = list(ahead[1]), next(groups, None)
        statuses[records[0]["action_key"]] = action_status(
            records[-1]["action_state"], (r["state"] for r in records)
        )
    return statuses


def again(run_dir: Path) -> str:
    """The hint wherever work is left: the one command that finishes it."""
    return f"run `bulkcancel execute {run_dir}` again"


def _execution_row(row: PlannedRow, records: list[dict[str, Any]], hint: str) -> list[Any]:
    """One execution.csv row; `records` are the journal's steps of the row's action (none if unrun)."""
    action = row.action
    if not records:
        status = NOT_EXECUTED if row.decision is Decision.EXECUTE else str(row.decision)
        return [
            row.row,
            row.order,
            action.order_name if action else "",
            action.order_id if action else "",
            status,
            f"{row.message}; {hint}" if status == NOT_EXECUTED else row.message,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ]
    status = action_status(records[0]["action_state"], (r["state"] for r in records))
    problems = [f"{r['kind']}: {r['error_message']}" for r in records if r["error_message"]]
    detail = records[0]["action_detail"] or "; ".join(problems) or row.message
    if status == TO_VERIFY:
        detail = f"sent, its answer not known ({detail}); {hint} to verify it against the shop"
    elif status == NOT_EXECUTED:
        detail = f"{detail}; {hint}"
    assert action is not None  # the journal holds steps only for actions
    return [
        row.row,
        row.order,
        action.order_name,
        action.order_id,
        status,
        detail,
        " → ".join(f"{r['kind']} {r['state']}" for r in records),
        next((r["job_id"] for r in records if r["job_id"]), ""),
        " ".join(r["refund_id"] for r in records if r["refund_id"]),
        next((r["gift_card_id"] for r in records if r["gift_card_id"]), ""),
        next((r["gift_card_last_chars"] for r in records if r["gift_card_last_chars"]), ""),
        " ".join(t for r in records for t in r["transaction_ids"]),
        sum(r["attempts"] for r in records),
    ]
