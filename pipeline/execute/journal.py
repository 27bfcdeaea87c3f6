"""The execution journal: RUN_DIR/journal.sqlite, one row per planned step, moved by named transitions.

meta     key → value: run_id, plan_seal (seal.py: every field of every step), schema version
actions  action_key, position, order_id, order_name, state, detail, updated_at
         pending → running → done | failed;  pending | running → drifted (checked before each
         money step, or someone else's cancel found where ours was sent)
steps    action_key, idx, kind, state, attempts, idempotency_key, job_id, refund_id, gift_card_id,
         gift_card_last_chars, transaction_ids (JSON list), error_code, error_message,
         created_at, sent_at, finished_at, updated_at (UTC ISO)
         pending → sent → done | failed | unknown;  sent | unknown → pending once a read proved the
         step did not happen;  pending → skipped when its action failed or drifted, and sent |
         unknown → skipped when what it would do was done by someone else.  A step with a job_id
         (a cancel Shopify accepted) is waited for and never sent again.

No column holds request headers, the access token or a gift card's full code: there is nowhere to
put them, and `mark_done` refuses any id it does not know.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from pipeline.errors import JournalError, RefusedError
from pipeline.execute.seal import KINDS, SeedAction, SeedRow, seal, seed_rows
from pipeline.plan.model import PlannedAction
from pipeline.plan.steps import StepKind

__all__ = ["ACTION_STATES", "STEP_STATES", "Journal", "JournalError", "JournalStep", "PendingAction"]

SCHEMA_VERSION = "1"
STEP_STATES = ("pending", "sent", "done", "failed", "unknown", "skipped")
ACTION_STATES = ("pending", "running", "done", "failed", "drifted")
# refundCreate carries @idempotent(key:): Shopify drops a second copy, so it may be re-sent unverified.
RESENDABLE_KINDS = frozenset({StepKind.REFUND})
ID_FIELDS = ("job_id", "refund_id", "gift_card_id", "gift_card_last_chars", "transaction_ids")
BUSY_TIMEOUT_S = 30.0
# Defence in depth: the client already scrubs its token, but an error text must never carry one here.
_TOKEN = re.compile(r"shp[a-z]{2}_[0-9A-Za-z_]{8,}")

_SCHEMA = f"""
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
  PRIMARY KEY (action_key, idx))
"""
_STEP_COLUMNS = "steps.action_key, idx, kind, steps.state, attempts, idempotency_key, job_id"
# Legal from-states of each step transition, named by the state it moves to.
_MOVES = {
    "sent": ("pending",),
    "done": ("sent", "unknown"),
    "failed": ("sent", "unknown"),
    "unknown": ("sent",),
    "pending": ("sent", "unknown"),
}
_UNDONE_BEFORE = "SELECT count(*) FROM steps WHERE action_key = ? AND idx < ? AND state != 'done'"
_SKIP_PENDING = (
    "UPDATE steps SET state = 'skipped', updated_at = ? WHERE action_key = ? AND state = 'pending'"
)
# The action's state is derived from its steps inside the step's own transaction, so they never disagree.
_ACTION_FROM_STEPS = """UPDATE actions SET updated_at = :now, state = CASE
  WHEN EXISTS (SELECT 1 FROM steps WHERE action_key = :key AND state = 'failed') THEN 'failed'
  WHEN NOT EXISTS (SELECT 1 FROM steps WHERE action_key = :key AND state != 'done') THEN 'done'
  ELSE 'running' END WHERE action_key = :key"""


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
        """Sent with no recorded answer (a crash or a lost response): read the shop before resending."""
        return self.state in ("sent", "unknown")


@dataclass(frozen=True)
class PendingAction:
    """An unfinished action with all its steps, in order."""

    action_key: str
    order_id: str
    order_name: str
    state: str
    steps: tuple[JournalStep, ...]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _clean(text: str) -> str:
    return _TOKEN.sub("<hidden>", str(text))[:2000]


def _legacy(rows: list[SeedRow]) -> str:
    """The digest journals of the earlier format stored (keys, names and kinds only)."""
    plan = [(row.action_key, row.order_id, row.order_name, row.steps) for row in rows]
    return hashlib.sha256(json.dumps(plan, separators=(",", ":")).encode()).hexdigest()


def _ids(ids: Mapping[str, Any]) -> list[str | None]:
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


class Journal:
    """One connection behind one lock; every transition is one short IMMEDIATE transaction."""

    def __init__(self, path: Path, run_id: str, db: sqlite3.Connection) -> None:
        self.path, self.run_id, self._db = path, run_id, db
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | Path, run_id: str) -> Journal:
        """Create the journal or reopen it; refuse one written for another run."""
        path = Path(path)
        try:
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {path}: {exc}") from None
        journal = cls(path, run_id, db)
        try:
            if db.execute("PRAGMA journal_mode=WAL").fetchone()[0] != "wal":
                raise JournalError(f"journal {path}: the file system refuses WAL mode")
            # FULL fsyncs the WAL at every commit: an intent that `mark_sent` returned survives power loss.
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            with journal._tx() as tx:
                for statement in _SCHEMA.split(";"):
                    tx.execute(statement)
                tx.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('run_id', ?), ('schema', ?)", (run_id, SCHEMA_VERSION)
                )
                stored = dict(tx.execute("SELECT key, value FROM meta"))
                if (stored["run_id"], stored["schema"]) != (run_id, SCHEMA_VERSION):
                    raise RefusedError(
                        f"journal {path} belongs to run {stored['run_id']!r} (schema "
                        f"{stored['schema']}), not to run {run_id!r}"
                    )
        except BaseException as exc:
            db.close()
            if isinstance(exc, sqlite3.Error):
                raise JournalError(f"journal {path} is unusable: {exc}") from None
            raise
        return journal

    def close(self) -> None:
        """Close the connection; a closed journal refuses further use."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock before the from-state is read: the check and the move are one.
        with self._lock:
            db = self._db
            try:
                db.execute(f"BEGIN {mode}")
                yield db
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise JournalError(f"journal {self.path}: {exc}") from None
                raise

    def seed(self, actions: Iterable[PlannedAction | SeedAction]) -> bool:
        """Insert the plan's actions and steps once; False when this very plan is already seeded.

        RefusedError when the journal was started with a plan that differs in any field of any step.
        """
        rows = seed_rows(actions)
        digest = seal(rows)
        with self._tx() as db:
            stored = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('plan_seal', 'plan_hash')"))
            if "plan_hash" in stored and "plan_seal" not in stored and stored["plan_hash"] == _legacy(rows):
                # A journal of the earlier format covered keys and kinds: seal it now, on its first resume.
                db.execute("INSERT INTO meta VALUES ('plan_seal', ?)", (digest,))
                return False
            if stored:
                if stored.get("plan_seal") != digest:
                    raise RefusedError(
                        f"plan.json is a different plan from the one this run started with (journal {self.path}): "
                        "it was edited after execution began; restore the plan.json that was approved"
                    )
                return False
            now = _now()
            for position, row in enumerate(rows):
                db.execute(
                    "INSERT INTO actions (action_key, position, order_id, order_name, updated_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (row.action_key, position, row.order_id, row.order_name, now),
                )
                db.executemany(
                    "INSERT INTO steps (action_key, idx, kind, idempotency_key, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [(row.action_key, index, kind, ikey, now, now) for index, kind, ikey in row.steps],
                )
            db.execute("INSERT INTO meta VALUES ('plan_seal', ?)", (digest,))
        return True

    def has_started(self) -> bool:
        """True once any step was sent (or settled): such a run resumes at any age."""
        with self._tx("DEFERRED") as db:
            row = db.execute(
                "SELECT 1 FROM steps WHERE state != 'pending' OR attempts > 0 LIMIT 1"
            ).fetchone()
        return row is not None

    def _step(self, db: sqlite3.Connection, step: JournalStep) -> JournalStep:
        where = (step.action_key, step.index)
        row = db.execute(
            f"SELECT {_STEP_COLUMNS} FROM steps WHERE action_key = ? AND idx = ?", where
        ).fetchone()
        if row is None:
            raise JournalError(f"no step {step.action_key}#{step.index} in journal {self.path}")
        return JournalStep(*row)

    def _move(self, step: JournalStep, to: str, sets: str = "", args: tuple[object, ...] = ()) -> JournalStep:
        with self._tx() as db:
            now, cur = _now(), self._step(db, step)
            allowed = _MOVES[to]
            if to == "sent" and cur.kind in RESENDABLE_KINDS and cur.idempotency_key:
                # Re-sending unverified is safe only where Shopify itself deduplicates on the key.
                allowed = ("pending", "sent", "unknown")
            where = (cur.action_key, cur.index)
            if cur.state not in allowed:
                raise JournalError(f"illegal transition {cur.state} → {to} for {cur.kind} step {where}")
            if to in ("sent", "pending") and cur.job_id:
                raise JournalError(
                    f"step {(cur.action_key, cur.index)} was answered with job {cur.job_id}: "
                    "it is waited for, never sent again"
                )
            if to == "sent" and db.execute(_UNDONE_BEFORE, where).fetchone()[0]:
                raise JournalError(f"step {where} cannot be sent before the earlier steps are done")
            db.execute(
                f"UPDATE steps SET state = ?, updated_at = ?{sets} WHERE action_key = ? AND idx = ?",
                (to, now, *args, *where),
            )
            if to == "failed":
                db.execute(_SKIP_PENDING, (now, cur.action_key))
            db.execute(_ACTION_FROM_STEPS, {"now": now, "key": cur.action_key})
            return self._step(db, cur)

    def mark_sent(self, step: JournalStep) -> JournalStep:
        """Record the intent, fsynced, before the request leaves; counts an attempt."""
        return self._move(step, "sent", ", attempts = attempts + 1, sent_at = ?", (_now(),))

    def mark_job_started(self, step: JournalStep, job_id: str) -> JournalStep:
        """Shopify answered a sent cancel with a job: its id is kept at once, the step stays `sent`."""
        with self._tx() as db:
            cur = self._step(db, step)
            if cur.state != "sent" or not job_id:
                raise JournalError(f"illegal transition {cur.state} → job started for {cur.kind} step")
            db.execute(
                "UPDATE steps SET job_id = ?, updated_at = ? WHERE action_key = ? AND idx = ?",
                (str(job_id), _now(), cur.action_key, cur.index),
            )
            return self._step(db, cur)

    def mark_done(self, step: JournalStep, ids: Mapping[str, Any] | None = None) -> JournalStep:
        """Shopify applied the step (its answer, or a read after `unknown`); record its ids."""
        sets = "".join(f", {f} = coalesce(?, {f})" for f in ID_FIELDS) + ", finished_at = ?"
        return self._move(step, "done", sets, (*_ids(ids or {}), _now()))

    def mark_failed(self, step: JournalStep, code: str, message: str) -> JournalStep:
        """Shopify refused the step (a userError): terminal; the action's later steps are skipped."""
        sets = ", error_code = ?, error_message = ?, finished_at = ?"
        return self._move(step, "failed", sets, (_clean(code), _clean(message), _now()))

    def mark_unknown(self, step: JournalStep, message: str) -> JournalStep:
        """The answer was lost: the step must be verified against the shop before any resend."""
        return self._move(step, "unknown", ", error_message = ?", (_clean(message),))

    def mark_verified_not_applied(self, step: JournalStep) -> JournalStep:
        """A read proved a sent or unknown step did not happen: it may be sent again."""
        return self._move(step, "pending")

    def mark_drifted(self, action_key: str, detail: str, step: JournalStep | None = None) -> None:
        """The order changed since the plan, or `step` (sent) was done by someone else: the action stops.

        Its pending steps are skipped, `step` too; a step in flight that is not `step` forbids it.
        """
        with self._tx() as db:
            row = db.execute("SELECT state FROM actions WHERE action_key = ?", (action_key,)).fetchone()
            in_flight = {
                idx
                for (idx,) in db.execute(
                    "SELECT idx FROM steps WHERE action_key = ? AND state IN ('sent', 'unknown')",
                    (action_key,),
                )
            }
            if step is not None and (step.action_key != action_key or step.index not in in_flight):
                raise JournalError(
                    f"illegal transition → drifted: step {step.index} of {action_key} is not in flight"
                )
            if row is None or row[0] not in ("pending", "running") or in_flight - {step and step.index}:
                raise JournalError(f"illegal transition {row and row[0]} → drifted for action {action_key}")
            now = _now()
            db.execute(
                "UPDATE actions SET state = 'drifted', detail = ?, updated_at = ? WHERE action_key = ?",
                (_clean(detail), now, action_key),
            )
            if step is not None:
                db.execute(
                    "UPDATE steps SET state = 'skipped', error_message = ?, finished_at = ?, updated_at = ?"
                    " WHERE action_key = ? AND idx = ?",
                    (_clean(detail), now, now, action_key, step.index),
                )
            db.execute(_SKIP_PENDING, (now, action_key))

    def pending_work(self) -> list[PendingAction]:
        """Unfinished actions in plan order, each with all its steps; `sent` steps need verification."""
        with self._tx("DEFERRED") as db:
            actions = db.execute(
                "SELECT action_key, order_id, order_name, state FROM actions"
                " WHERE state IN ('pending', 'running') ORDER BY position"
            ).fetchall()
            steps: dict[str, list[JournalStep]] = {}
            for row in db.execute(
                f"SELECT {_STEP_COLUMNS} FROM steps JOIN actions USING (action_key)"
                " WHERE actions.state IN ('pending', 'running') ORDER BY position, idx"
            ):
                steps.setdefault(row[0], []).append(JournalStep(*row))
        return [PendingAction(k, o, n, st, tuple(steps.get(k, ()))) for k, o, n, st in actions]

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts of actions and of steps by state, every state listed."""
        with self._tx("DEFERRED") as db:
            actions = dict(db.execute("SELECT state, count(*) FROM actions GROUP BY state").fetchall())
            steps = dict(db.execute("SELECT state, count(*) FROM steps GROUP BY state").fetchall())
        return {
            "actions": {s: actions.get(s, 0) for s in ACTION_STATES},
            "steps": {s: steps.get(s, 0) for s in STEP_STATES},
        }

    def rows_for_report(self) -> list[dict[str, Any]]:
        """Every step with its action, in plan order, for execution.csv and the reports."""
        with self._tx("DEFERRED") as db:
            cursor = db.execute(
                "SELECT a.order_id, a.order_name, a.state AS action_state, a.detail AS action_detail, s.*"
                " FROM actions a JOIN steps s USING (action_key) ORDER BY a.position, s.idx"
            )
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor]
        for row in rows:
            row["run_id"] = self.run_id
            row["transaction_ids"] = json.loads(row["transaction_ids"]) if row["transaction_ids"] else []
        return rows
