"""The five plan files a person approves (SPEC §6 "Plan files", §14), and the check execution makes.

`plan.json` is the canonical plan and `plan.sha256` its digest; `plan.xlsx`, `plan.csv` and
`plan.html` (page.py) are views of the same rows for review, each carrying the plan's seal (the
digest's first 12 hex digits) so that what was reviewed can be tied to what runs. Every figure is
computed once from the plan and checked to tie out with `Plan.totals_by_currency_and_method`
before anything is written, so the files can never disagree with each other. `plan.sha256` is
written last: a run directory whose files were not all written never verifies.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import RefusedError
from pipeline.plan.model import Decision, Plan, PlannedRow
from pipeline.plan.page import plan_page
from pipeline.plan.summary import Kept, kept_totals
from pipeline.plan.words import A_VIEW, MONEY_COLUMNS, keeps, seal_words, step_words
from pipeline.reports import Column, Sheet, totals_by, write_csv, write_workbook
from pipeline.reports.files import write_bytes, write_chunks

PLAN_JSON = "plan.json"
ROWS_LINE = '  "rows": ['  # the line after plan.json's head (plan_chunks writes it, head.py reads to it)
PLAN_SHA256 = "plan.sha256"
_DIGEST_LINE = re.compile(r"([0-9a-f]{64}) [ *]plan\.json")
#: Hex digits of plan.json's sha256 that people compare: the plan's seal.
SEAL_DIGITS = 12
# One encoder for every row (`json.dumps` with an option builds a new one per call): the same text.
_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False)
_ROWS_A_CHUNK = 1_000

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
        Column("paid", "Paid", "money", currency_key="currency"),
        Column("amount", "To refund", "money", currency_key="currency"),
        Column("kept", "Kept", "money", currency_key="currency"),
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
_ACTION_KEYS = (
    "row order_name order_id action method paid amount kept currency steps notify restock cancel_reason note"
)
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

    @property
    def seal(self) -> str:
        return self.digest[:SEAL_DIGITS]


def plan_bytes(plan: Plan) -> bytes:
    """plan.json exactly, whole (`plan_chunks` joined)."""
    return b"".join(plan_chunks(plan))


def plan_chunks(plan: Plan) -> Iterator[bytes]:
    """plan.json: `Plan.to_json()` in UTF-8, keys in the plan's own order, one row a line, a row at a time.

    The document is indented but each row is one line: people and diffs read it row by row, and
    json's C encoder writes a line twenty times faster than its indenting one (in Python), which
    matters at 100,000 rows; a row at a time, the whole document is never in memory.
    """
    head = json.dumps(plan.head_json(), indent=2, ensure_ascii=False)[:-2]  # without its closing "\n}"
    if not plan.rows:
        yield f"{head},\n{ROWS_LINE}]\n}}\n".encode()
        return
    yield f"{head},\n{ROWS_LINE}\n".encode()
    encode = _ROW_ENCODER.encode
    rows = plan.rows
    for start in range(0, len(rows), _ROWS_A_CHUNK):  # a chunk of rows per write: fewer, larger writes
        lines = ["    " + encode(row.to_json()) for row in rows[start : start + _ROWS_A_CHUNK]]
        yield (",\n".join(lines) + (",\n" if start + _ROWS_A_CHUNK < len(rows) else "\n")).encode()
    yield b"  ]\n}\n"


def write_plan_files(plan: Plan, run_dir: Path) -> PlanFiles:
    """Write plan.json, plan.xlsx, plan.csv, plan.html, then plan.sha256, into `run_dir`."""
    run_dir = Path(run_dir)
    actions = [action_row(row) for row in plan.rows if row.action is not None]
    blocked = [blocked_row(row) for row in plan.rows if row.action is None]
    totals = totals_by([row for row in actions if row["amount"] is not None], ["currency", "method"])
    _check_ties_out(plan, totals)
    (run_dir / PLAN_SHA256).unlink(missing_ok=True)  # an old digest must never vouch for a half rewrite
    digest = write_chunks(run_dir / PLAN_JSON, plan_chunks(plan))
    seal = digest[:SEAL_DIGITS]
    title = f"bulkcancel plan {plan.run_id}"
    banner = f"{title} · {seal_words(seal)} · {A_VIEW}"
    kept = kept_totals(
        (str(row["currency"]), row["paid"], row["kept"])  # type: ignore[misc]
        for row in actions
        if row["action"] == "cancel" and row["kept"] is not None
    )
    summary = _summary(plan, actions, totals, digest, kept)
    action_sheet = Sheet("Actions", ACTION_COLUMNS, actions, notes=[MONEY_COLUMNS])
    blocked_sheet = Sheet(
        "Blocked", BLOCKED_COLUMNS, blocked, highlight=lambda row: row["decision"] == Decision.BLOCKED
    )
    xlsx = write_workbook(
        run_dir / "plan.xlsx", [action_sheet, blocked_sheet], summary, title=title, banner=banner
    )
    csv = write_csv(run_dir / "plan.csv", CSV_COLUMNS, actions + blocked)
    page = plan_page(plan, seal, summary, action_sheet, blocked_sheet, totals, kept)
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
    paid, kept = row.paid_and_kept() or (None, None)
    return {
        "row": row.row,
        "order": row.order,
        "order_name": row.action.order_name,
        "order_id": row.action.order_id,
        "decision": str(row.decision),
        "reason": str(row.reason) if row.reason else None,
        "action": "cancel" if cancel is not None else "refund_only",
        "method": method,
        "paid": paid,
        "amount": amount,
        "kept": kept,
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


def load_plan(run_dir: Path, approved: str | None = None) -> Plan:
    """plan.json as approved, typed: refuses (RefusedError) unless it matches plan.sha256 and, when
    `approved` (a reviewer's sha256) is given, that digest too. The bytes checked are the bytes read."""
    return load_checked_plan(run_dir, approved)[0]


def load_checked_plan(run_dir: Path, approved: str | None = None) -> tuple[Plan, str]:
    """`load_plan`, with the sha256 of the bytes it read and checked."""
    path = Path(run_dir) / PLAN_JSON
    data, digest = _sealed(path, approved)
    try:  # each form let go once the next is made: the bytes, the text, then the document row by row
        text = data.decode("utf-8")
        del data
        document = json.loads(text)
        del text
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError both are
        raise RefusedError(f"{path} is not a plan: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("rows"), list):
        raise RefusedError(f"{path} is not a plan: it has no rows")
    try:
        return Plan.from_json(document, release=True), digest
    except (KeyError, TypeError, ValueError) as error:
        raise RefusedError(f"{path} is not a plan: {error!r} in its fields") from None


def check_plan(run_dir: Path) -> None:
    """Refuses (RefusedError) as `load_plan` does a plan.json that no longer matches plan.sha256, without
    reading it as a plan: a stage that starts before the rows are read checks first."""
    _sealed(Path(run_dir) / PLAN_JSON, None)


def _sealed(path: Path, approved: str | None) -> tuple[bytes, str]:
    """plan.json's bytes and their sha256, once checked against plan.sha256 (and `approved`)."""
    if not path.is_file():
        raise RefusedError(f"{path} is missing: execution needs the approved plan.json and plan.sha256")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != recorded_digest(path.parent):
        raise RefusedError(f"{path} does not match {PLAN_SHA256}: it changed since it was planned")
    if approved is not None and digest != approved:
        raise RefusedError(f"{path} changed since it was approved: review the plan and approve it again")
    return data, digest


def verify_plan_hash(run_dir: Path) -> bool:
    """True when plan.json's sha256 is the one in plan.sha256; RefusedError when either is missing or bad."""
    json_path = Path(run_dir) / PLAN_JSON
    if not json_path.is_file():
        raise RefusedError(f"{json_path} is missing: execution needs the approved plan.json and plan.sha256")
    return hashlib.sha256(json_path.read_bytes()).hexdigest() == recorded_digest(run_dir)


def recorded_digest(run_dir: Path) -> str:
    """The sha256 plan.sha256 records for plan.json; RefusedError when the file is missing or garbled."""
    sha_path = Path(run_dir) / PLAN_SHA256
    if not sha_path.is_file():
        raise RefusedError(f"{sha_path} is missing: execution needs the approved plan.json and plan.sha256")
    match = _DIGEST_LINE.fullmatch(sha_path.read_text(encoding="utf-8", errors="replace").strip())
    if match is None:
        raise RefusedError(f"{sha_path} is not a sha256 line for {PLAN_JSON}")
    return match.group(1)


def seal_of(run_dir: Path) -> str:
    """The plan's seal as every plan file shows it: the first 12 hex digits of plan.json's sha256."""
    return recorded_digest(run_dir)[:SEAL_DIGITS]


def _check_ties_out(plan: Plan, totals: list[dict[str, object]]) -> None:
    """Refuse to write files whose per-order amounts do not add up to the plan's totals."""
    mine = {(row["currency"], row["method"]): row["amount"] for row in totals}
    theirs = plan.totals_by_currency_and_method()
    if mine != theirs:
        raise ValueError(f"plan {plan.run_id}: per-order amounts {mine} do not tie out with totals {theirs}")


def action_counts(actions: list[dict[str, object]]) -> dict[str, int]:
    """Orders per action kind among the Actions rows."""
    return {kind: sum(row["action"] == kind for row in actions) for kind in ("cancel", "refund_only")}


def _summary(
    plan: Plan, actions: list[dict[str, object]], totals: list[dict[str, object]], digest: str, kept: Kept
) -> list[tuple[str, object] | Sheet]:
    decisions = [{"decision": key, "count": count} for key, count in plan.counts_by_decision().items()]
    kinds = [{"action": key, "count": count} for key, count in action_counts(actions).items()]
    keeping = [
        (f"Cancels keeping money ({code})", f"{orders} {'order' if orders == 1 else 'orders'}, "
         f"{keeps(amount, paid, code)}")
        for code, (orders, amount, paid) in kept.items()
    ]  # fmt: skip
    return [
        ("Run id", plan.run_id),
        ("Plan seal", digest[:SEAL_DIGITS]),
        ("Plan sha256", digest),
        ("Shop", plan.shop),
        ("API version", plan.api_version),
        ("Input file", plan.input_name),
        ("Input sha256", plan.input_sha256),
        ("Created at", plan.created_at),
        ("Customers to be notified", plan.customers_notified()),
        ("Units to restock", plan.units_to_restock()),
        *keeping,
        *(
            [("Gift cards not sent (codes in gift_card_codes.csv)", plan.unsent_gift_cards())]
            if plan.unsent_gift_cards()
            else []
        ),
        Sheet("Rows per decision", DECISION_COLUMNS, decisions),
        Sheet("Orders per action", ACTION_KIND_COLUMNS, kinds),
        Sheet("Totals per currency and method", TOTAL_COLUMNS, totals),
    ]
