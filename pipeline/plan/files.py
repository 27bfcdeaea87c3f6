"""The five plan files a person approves (SPEC §6 "Plan files", §14), and the check execution makes.

`plan.json` is the canonical plan and `plan.sha256` its digest; `plan.xlsx`, `plan.csv` and
`plan.html` are views of the same rows for review. Every figure is computed once from the plan and
checked to tie out with `Plan.totals_by_currency_and_method` before anything is written, so the
files can never disagree with each other. `plan.sha256` is written last: a run directory whose
files were not all written never verifies.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import RefusedError
from pipeline.money import per_currency
from pipeline.plan.model import Decision, Plan, PlannedRow
from pipeline.plan.words import step_words
from pipeline.reports import Chart, Column, Sheet, render_page, totals_by, write_csv, write_workbook
from pipeline.reports.cells import money_text
from pipeline.reports.files import write_bytes

PLAN_JSON = "plan.json"
PLAN_SHA256 = "plan.sha256"
_DIGEST_LINE = re.compile(r"([0-9a-f]{64}) [ *]plan\.json")

_COLUMNS = {
    column.key: column
    for column in (
        Column("row", "Row", "int"),
        Column("order", "Order as written"),
        Column("order_name", "Order"),
        Column("order_id", "Order id"),
        Column("decision", "Decision"),
        Column("reason", "Reason code"),
        Column("action", "Action"),
        Column("method", "Method"),
        Column("amount", "Amount", "money", currency_key="currency"),
        Column("currency", "Currency"),
        Column("steps", "Steps", width=60),
        Column("notify", "Notify"),
        Column("restock", "Units to restock", "int"),
        Column("cancel_reason", "Cancel reason"),
        Column("note", "Note", width=40),
        Column("action_key", "Action key"),
        Column("message", "Message", width=60),
        Column("count", "Orders", "int"),
    )
}
_ACTION_KEYS = "row order_name order_id action method amount currency steps notify restock cancel_reason note"
ACTION_COLUMNS = [_COLUMNS[key] for key in _ACTION_KEYS.split()]
BLOCKED_COLUMNS = [_COLUMNS[key] for key in ("row", "order", "order_name", "decision", "reason", "message")]
#: plan.csv: every column above but the totals' count; the csv heads them with the keys.
CSV_COLUMNS = [column for key, column in _COLUMNS.items() if key != "count"]
TOTAL_COLUMNS = [_COLUMNS[key] for key in ("currency", "method", "count", "amount")]
DECISION_COLUMNS = [Column("decision", "Decision"), Column("count", "Rows", "int")]
ACTION_KIND_COLUMNS = [Column("action", "Action"), Column("count", "Orders", "int")]


@dataclass(frozen=True)
class PlanFiles:
    """Where the five files are, and the sha256 of plan.json."""

    json: Path
    sha256: Path
    xlsx: Path
    csv: Path
    html: Path
    digest: str


def plan_bytes(plan: Plan) -> bytes:
    """plan.json exactly: `Plan.to_json()`, indented, UTF-8, keys in the plan's own order, one newline."""
    return (json.dumps(plan.to_json(), indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()


def write_plan_files(plan: Plan, run_dir: Path) -> PlanFiles:
    """Write plan.json, plan.xlsx, plan.csv, plan.html, then plan.sha256, into `run_dir`."""
    run_dir = Path(run_dir)
    actions = [action_row(row) for row in plan.rows if row.action is not None]
    blocked = [blocked_row(row) for row in plan.rows if row.action is None]
    totals = totals_by([row for row in actions if row["amount"] is not None], ["currency", "method"])
    _check_ties_out(plan, totals)
    data = plan_bytes(plan)
    digest = hashlib.sha256(data).hexdigest()
    (run_dir / PLAN_SHA256).unlink(missing_ok=True)  # an old digest must never vouch for a half rewrite
    write_bytes(run_dir / PLAN_JSON, data)
    title = f"bulkcancel plan {plan.run_id}"
    summary = _summary(plan, actions, totals)
    action_sheet = Sheet("Actions", ACTION_COLUMNS, actions)
    blocked_sheet = Sheet(
        "Blocked", BLOCKED_COLUMNS, blocked, highlight=lambda row: row["decision"] == Decision.BLOCKED
    )
    xlsx = write_workbook(run_dir / "plan.xlsx", [action_sheet, blocked_sheet], summary, title=title)
    csv = write_csv(run_dir / "plan.csv", CSV_COLUMNS, actions + blocked)
    page = render_page(
        title,
        f"{plan.shop} · API {plan.api_version} · input {plan.input_name} · created {plan.created_at}",
        _headline(plan, actions, totals),
        _charts(plan, totals),
        [*(block for block in summary if isinstance(block, Sheet)), action_sheet, blocked_sheet],
    )
    html = write_bytes(run_dir / "plan.html", page.encode())
    sha = write_bytes(run_dir / PLAN_SHA256, f"{digest}  {PLAN_JSON}\n".encode())
    return PlanFiles(run_dir / PLAN_JSON, sha, xlsx, csv, html, digest)


def action_row(row: PlannedRow) -> dict[str, object]:
    """One Actions row: the action's money is the sum of its money-moving steps (as the plan totals)."""
    assert row.action is not None
    steps = row.action.steps
    money = row.action.money()
    amount, method, currency = money if money else (None, None, None)
    facts = row.facts
    cancel = row.action.cancel
    notified = facts is not None and facts.can_notify and any(step.notify for step in steps)
    return {
        "row": row.row,
        "order": row.order,
        "order_name": row.action.order_name,
        "order_id": row.action.order_id,
        "decision": str(row.decision),
        "reason": str(row.reason) if row.reason else None,
        "action": "cancel" if cancel is not None else "refund_only",
        "method": method,
        "amount": amount,
        "currency": currency if money else (facts.presentment_currency if facts else None),
        "steps": " → ".join(step_words(step) for step in steps),
        "notify": "yes" if notified else "no",
        "restock": row.units_to_restock(),
        "cancel_reason": str(cancel.reason) if cancel is not None and cancel.reason else None,
        "note": row.action.note,
        "action_key": row.action.action_key,
        "message": row.message,
    }


def blocked_row(row: PlannedRow) -> dict[str, object]:
    """One Blocked row: a blocked or skipped input row, with the order it matched when there was one."""
    return {
        "row": row.row,
        "order": row.order,
        "order_name": row.facts.name if row.facts else None,
        "order_id": row.facts.id if row.facts else None,
        "decision": str(row.decision),
        "reason": str(row.reason) if row.reason else None,
        "message": row.message,
    }


def load_plan(run_dir: Path) -> Plan:
    """plan.json as approved, typed: refuses (RefusedError) unless it matches plan.sha256."""
    path = Path(run_dir) / PLAN_JSON
    if not verify_plan_hash(run_dir):
        raise RefusedError(f"{path} does not match {PLAN_SHA256}: it changed since it was planned")
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError both are
        raise RefusedError(f"{path} is not a plan: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("rows"), list):
        raise RefusedError(f"{path} is not a plan: it has no rows")
    try:
        return Plan.from_json(document)
    except (KeyError, TypeError, ValueError) as error:
        raise RefusedError(f"{path} is not a plan: {error!r} in its fields") from None


def verify_plan_hash(run_dir: Path) -> bool:
    """True when plan.json's sha256 is the one in plan.sha256; RefusedError when either is missing or bad."""
    json_path, sha_path = Path(run_dir) / PLAN_JSON, Path(run_dir) / PLAN_SHA256
    for path in (json_path, sha_path):
        if not path.is_file():
            raise RefusedError(f"{path} is missing: execution needs the approved plan.json and plan.sha256")
    match = _DIGEST_LINE.fullmatch(sha_path.read_text(encoding="utf-8", errors="replace").strip())
    if match is None:
        raise RefusedError(f"{sha_path} is not a sha256 line for {PLAN_JSON}")
    return hashlib.sha256(json_path.read_bytes()).hexdigest() == match.group(1)


def _check_ties_out(plan: Plan, totals: list[dict[str, object]]) -> None:
    """Refuse to write files whose per-order amounts do not add up to the plan's totals."""
    mine = {(row["currency"], row["method"]): row["amount"] for row in totals}
    theirs = plan.totals_by_currency_and_method()
    if mine != theirs:
        raise ValueError(f"plan {plan.run_id}: per-order amounts {mine} do not tie out with totals {theirs}")


def _action_counts(actions: list[dict[str, object]]) -> dict[str, int]:
    return {kind: sum(row["action"] == kind for row in actions) for kind in ("cancel", "refund_only")}


def _summary(
    plan: Plan, actions: list[dict[str, object]], totals: list[dict[str, object]]
) -> list[tuple[str, object] | Sheet]:
    decisions = [{"decision": key, "count": count} for key, count in plan.counts_by_decision().items()]
    kinds = [{"action": key, "count": count} for key, count in _action_counts(actions).items()]
    return [
        ("Run id", plan.run_id),
        ("Shop", plan.shop),
        ("API version", plan.api_version),
        ("Input file", plan.input_name),
        ("Input sha256", plan.input_sha256),
        ("Created at", plan.created_at),
        ("Customers to be notified", plan.customers_notified()),
        ("Units to restock", plan.units_to_restock()),
        *(
            [("Gift cards not sent (codes in gift_card_codes.csv)", plan.unsent_gift_cards())]
            if plan.unsent_gift_cards()
            else []
        ),
        Sheet("Rows per decision", DECISION_COLUMNS, decisions),
        Sheet("Orders per action", ACTION_KIND_COLUMNS, kinds),
        Sheet("Totals per currency and method", TOTAL_COLUMNS, totals),
    ]


def _headline(
    plan: Plan, actions: list[dict[str, object]], totals: list[dict[str, object]]
) -> list[tuple[str, object]]:
    counts, kinds = plan.counts_by_decision(), _action_counts(actions)
    money = [
        (f"To refund ({code})", money_text(amount, code))
        for code, amount in per_currency(plan.totals_by_currency_and_method()).items()
    ]
    return [
        ("Orders to cancel", kinds["cancel"]),
        ("Orders to refund only", kinds["refund_only"]),
        ("Rows blocked", counts[Decision.BLOCKED]),
        ("Rows skipped", counts[Decision.SKIP]),
        *money,
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
