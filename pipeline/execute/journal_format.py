"""What journal.sqlite holds: its tables and states, the rows read back, and the values written in.

meta     key → value: run_id, plan_seal (seal.py: every field of every step), schema version
actions  action_key, position, order_id, order_name, state, detail, updated_at
steps    action_key, idx, kind, state, attempts, idempotency_key, job_id, refund_id, gift_card_id,
         gift_card_last_chars, transaction_ids (JSON list), error_code, error_message,
         created_at, sent_at, finished_at, updated_at (UTC ISO)
bulk_operations  seq, kind, staged_path, newest_before, operation_id, status, lines (bulkjournal.py)
bulk_lines       seq, line (`__lineNumber`), action_key, idx, result

No column holds request headers, the access token or a gift card's full code: there is nowhere to
put them, and `ids_row` refuses any id it does not know. How the states move is journal.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.errors import JournalError, RefusedError
from pipeline.execute.seal import KINDS, SeedRow
from pipeline.plan.steps import StepKind

SCHEMA_VERSION = "2"
# Schema 1 had no bulk tables: they are created on open and the version moves on; nothing else changed.
MIGRATES_FROM = ("1",)
BULK_STATES = ("staged", "started", "finished", "failed", "unknown")
STEP_STATES = ("pending", "sent", "done", "failed", "unknown", "skipped")
ACTION_STATES = ("pending", "running", "done", "failed", "drifted")
# refundCreate carries @idempotent(key:): Shopify drops a second copy, so it may be re-sent unverified.
RESENDABLE_KINDS = frozenset({StepKind.REFUND})
ID_FIELDS = ("job_id", "refund_id", "gift_card_id", "gift_card_last_chars", "transaction_ids")
# Defence in depth: the client already scrubs its token, but an error text must never carry one here.
TOKEN = re.compile(r"shp[a-z]{2}_[0-9A-Za-z_]{8,}")

# An order id's digits (a lane is a range of them), and the unfinished actions: the lanes' reads go by
# the index on both (an order-number range of the actions not over yet), never through the whole table.
ORDER_NUMBER = "CAST(substr(order_id, instr(order_id, 'Order/') + 6) AS INTEGER)"
UNFINISHED = "state IN ('pending', 'running')"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS actions (
  action_key TEXT PRIMARY KEY, position INTEGER NOT NULL UNIQUE,
  order_id TEXT NOT NULL, order_name TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN {ACTION_STATES}), detail TEXT,
  updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (
  action_key TEXT NOT NULL REFERENCES actions, idx INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN {KINDS}),
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN {STEP_STATES}),
  attempts INTEGER NOT NULL DEFAULT 0, idempotency_key TEXT UNIQUE,
  job_id TEXT, refund_id TEXT, gift_card_id TEXT,
  gift_card_last_chars TEXT CHECK (length(gift_card_last_chars) <= 4),
  transaction_ids TEXT, error_code TEXT, error_message TEXT,
  created_at TEXT NOT NULL, sent_at TEXT, finished_at TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (action_key, idx));
CREATE TABLE IF NOT EXISTS bulk_operations (
  seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, staged_path TEXT NOT NULL, newest_before INTEGER,
  operation_id TEXT,
  status TEXT NOT NULL CHECK (status IN {BULK_STATES}), lines INTEGER NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bulk_lines (
  seq INTEGER NOT NULL REFERENCES bulk_operations, line INTEGER NOT NULL,
  action_key TEXT NOT NULL, idx INTEGER NOT NULL, result TEXT,
  PRIMARY KEY (seq, line), FOREIGN KEY (action_key, idx) REFERENCES steps);
CREATE INDEX IF NOT EXISTS actions_unfinished_by_number ON actions ({ORDER_NUMBER}) WHERE {UNFINISHED}
"""
STEP_COLUMNS = "steps.action_key, idx, kind, steps.state, attempts, idempotency_key, job_id"


@dataclass(frozen=True)
class JournalStep:
    """A step as the journal holds it."""

    action_key: str
    index: int
    kind: str
    state: str
    attempts: int
    idempotency_key: str | None
    job_id: str | None = None

    @property
    def needs_verification(self) -> bool:
        """Sent, its answer not settled (a crash, an answer lost, a job running): read the shop first."""
        return self.state in ("sent", "unknown")


@dataclass(frozen=True)
class PendingAction:
    """An unfinished action with all its steps, in order."""

    action_key: str
    order_id: str
    order_name: str
    state: str
    steps: tuple[JournalStep, ...]


def timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def clean(text: str) -> str:
    return TOKEN.sub("<hidden>", str(text))[:2000]


def legacy_digest(rows: list[SeedRow]) -> str:
    """The digest journals of the earlier format stored (keys, names and kinds only)."""
    plan = [(row.action_key, row.order_id, row.order_name, row.steps) for row in rows]
    return hashlib.sha256(json.dumps(plan, separators=(",", ":")).encode()).hexdigest()


def ids_row(ids: Mapping[str, Any]) -> list[str | None]:
    extra = sorted(set(ids) - set(ID_FIELDS))
    if extra:
        raise JournalError(f"the journal has no field for {extra}")
    last = ids.get("gift_card_last_chars")
    if last is not None and len(str(last)) > 4:
        raise JournalError("only a gift card's last 4 characters may be journalled, never its code")
    values = [None if ids.get(f) is None else str(ids[f]) for f in ID_FIELDS[:-1]]
    tx = ids.get("transaction_ids")
    tx_list = None if tx is None else [tx] if isinstance(tx, str) else [str(t) for t in tx]
    return [*values, None if tx_list is None else json.dumps(tx_list)]


def pending_actions(db: sqlite3.Connection) -> list[PendingAction]:
    """Unfinished actions in plan order, each with all its steps."""
    actions = db.execute(
        "SELECT action_key, order_id, order_name, state FROM actions"
        " WHERE state IN ('pending', 'running') ORDER BY position"
    ).fetchall()
    steps: dict[str, list[JournalStep]] = {}
    for row in db.execute(
        f"SELECT {STEP_COLUMNS} FROM steps JOIN actions USING (action_key)"
        " WHERE actions.state IN ('pending', 'running') ORDER BY position, idx"
    ):
        steps.setdefault(row[0], []).append(JournalStep(*row))
    return [PendingAction(k, o, n, st, tuple(steps.get(k, ()))) for k, o, n, st in actions]


def state_counts(db: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """Counts of actions and of steps by state, every state listed."""
    actions = dict(db.execute("SELECT state, count(*) FROM actions GROUP BY state").fetchall())
    steps = dict(db.execute("SELECT state, count(*) FROM steps GROUP BY state").fetchall())
    return {
        "actions": {s: actions.get(s, 0) for s in ACTION_STATES},
        "steps": {s: steps.get(s, 0) for s in STEP_STATES},
    }


def report_rows(db: sqlite3.Connection, run_id: str) -> list[dict[str, Any]]:
    """Every step with its action, in plan order."""
    return list(report_records(db, run_id))


def report_records(db: sqlite3.Connection, run_id: str) -> Iterator[dict[str, Any]]:
    """`report_rows` one at a time, as the cursor reads them."""
    cursor = db.execute(
        "SELECT a.order_id, a.order_name, a.state AS action_state, a.detail AS action_detail, s.*"
        " FROM actions a JOIN steps s USING (action_key) ORDER BY a.position, s.idx"
    )
    names = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        row["run_id"] = run_id
        row["transaction_ids"] = json.loads(row["transaction_ids"]) if row["transaction_ids"] else []
        yield row


def any_step_started(db: sqlite3.Connection) -> bool:
    """True once any step was sent or settled."""
    return (
        db.execute("SELECT 1 FROM steps WHERE state != 'pending' OR attempts > 0 LIMIT 1").fetchone()
        is not None
    )


def create_tables(db: sqlite3.Connection, path: object, run_id: str) -> None:
    """Creates the tables once; RefusedError when the file belongs to another run or schema."""
    for statement in SCHEMA.split(";"):
        db.execute(statement)
    db.execute("INSERT OR IGNORE INTO meta VALUES ('run_id', ?), ('schema', ?)", (run_id, SCHEMA_VERSION))
    stored = dict(db.execute("SELECT key, value FROM meta"))
    if stored["run_id"] == run_id and stored["schema"] in MIGRATES_FROM:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (SCHEMA_VERSION,))
        stored["schema"] = SCHEMA_VERSION
    if (stored["run_id"], stored["schema"]) != (run_id, SCHEMA_VERSION):
        raise RefusedError(
            f"journal {path} belongs to run {stored['run_id']!r} (schema "
            f"{stored['schema']}), not to run {run_id!r}"
        )


def insert_plan(db: sqlite3.Connection, rows: list[SeedRow], digest: str) -> None:
    """Every action and step of the plan, all pending, and the plan's seal."""
    now = timestamp()
    # Two statements for the whole plan, not two per action: the run's first request waits for them.
    db.executemany(
        "INSERT INTO actions (action_key, position, order_id, order_name, updated_at) VALUES (?, ?, ?, ?, ?)",
        [(row.action_key, position, row.order_id, row.order_name, now) for position, row in enumerate(rows)],
    )
    db.executemany(
        "INSERT INTO steps (action_key, idx, kind, idempotency_key, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(row.action_key, index, kind, ikey, now, now) for row in rows for index, kind, ikey in row.steps],
    )
    db.execute("INSERT INTO meta VALUES ('plan_seal', ?)", (digest,))
