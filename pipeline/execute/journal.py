"""The execution journal: RUN_DIR/journal.sqlite, one row per planned step, moved by named transitions.

actions  pending → running → done | failed;  pending | running → drifted (found before a money
         step, or someone else's cancel found where ours was sent)
steps    pending → sent → done | failed | unknown;  sent | unknown → pending once a read proved the
         step did not happen;  pending → skipped when its action failed or drifted, and sent |
         unknown → skipped when what it would do was done by someone else.  A step with a job_id
         (a cancel Shopify accepted) is waited for and never sent again.

The tables, the states and the rows read back are journal_format.py; the seal is seal.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from pipeline.errors import JournalError, RefusedError
from pipeline.execute.commits import GroupCommit
from pipeline.execute.journal_format import (
    ACTION_STATES,
    ID_FIELDS,
    RESENDABLE_KINDS,
    STEP_COLUMNS,
    STEP_STATES,
    JournalStep,
    PendingAction,
    any_step_started,
    clean,
    create_tables,
    ids_row,
    insert_plan,
    legacy_digest,
    pending_actions,
    report_records,
    report_rows,
    state_counts,
    timestamp,
)
from pipeline.execute.seal import SeedAction, seal, seed_rows
from pipeline.plan.model import PlannedAction

BUSY_TIMEOUT_S = 30.0
CACHE_KIB = 65536  # the page cache of the journal's connection: 100,000 orders' journal is ~150 MB
__all__ = ["ACTION_STATES", "STEP_STATES", "Journal", "JournalError", "JournalStep", "PendingAction"]

# Legal from-states of each step transition, named by the state it moves to.
_MOVES = {
    "sent": ("pending",),
    "done": ("sent", "unknown"),
    "failed": ("sent", "unknown"),
    "unknown": ("sent",),
    "pending": ("sent", "unknown"),
}
_GIFT_CARD_ID = (
    "SELECT gift_card_id FROM steps WHERE action_key = ? AND kind = 'gift_card' AND state = 'done'"
)
_IN_FLIGHT = "SELECT idx FROM steps WHERE action_key = ? AND state IN ('sent', 'unknown')"
_UNDONE_BEFORE = "SELECT count(*) FROM steps WHERE action_key = ? AND idx < ? AND state != 'done'"
_SKIP_PENDING = (
    "UPDATE steps SET state = 'skipped', updated_at = ? WHERE action_key = ? AND state = 'pending'"
)
# The action's state is derived from its steps inside the step's own transaction, so they never disagree.
_ACTION_FROM_STEPS = """UPDATE actions SET updated_at = :now, state = CASE
  WHEN EXISTS (SELECT 1 FROM steps WHERE action_key = :key AND state = 'failed') THEN 'failed'
  WHEN NOT EXISTS (SELECT 1 FROM steps WHERE action_key = :key AND state != 'done') THEN 'done'
  ELSE 'running' END WHERE action_key = :key"""


class Journal:
    """One connection behind one lock; every transition is one short IMMEDIATE transaction."""

    def __init__(self, path: Path, run_id: str, db: sqlite3.Connection) -> None:
        self.path, self.run_id, self._db = path, run_id, db
        self._commits = GroupCommit(db, self._reader)  # concurrent orders' transitions share an fsync

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
            # Memory, not durability: a plan's indexes (random keys) stay in the cache as it is seeded.
            db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            db.execute("PRAGMA temp_store=MEMORY")
            with journal._tx() as tx:
                create_tables(tx, path, run_id)
        except BaseException as exc:
            db.close()
            if isinstance(exc, sqlite3.Error):
                raise JournalError(f"journal {path} is unusable: {exc}") from None
            raise
        return journal

    def _reader(self) -> sqlite3.Connection:
        """A connection for reads only (commits.py: they read beside the writer)."""
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA query_only=ON")
        return db

    def close(self) -> None:
        """Close the connections; a closed journal refuses further use."""
        self._commits.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock before the from-state is read: the check and the move are one;
        # it returns once committed (with other threads' transitions: commits.py).
        try:
            with self._commits.write() if mode == "IMMEDIATE" else self._commits.read() as db:
                yield db
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: {exc}") from None

    def seed(self, actions: Iterable[PlannedAction | SeedAction]) -> bool:
        """Insert the plan's actions and steps once; False when this very plan is already seeded.

        RefusedError when the journal was started with a plan that differs in any field of any step.
        """
        rows = seed_rows(actions)
        digest = seal(rows)
        with self._tx() as db:
            stored = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('plan_seal', 'plan_hash')"))
            if not stored:
                insert_plan(db, rows, digest)
                return True
            # A journal of the earlier format sealed keys and kinds only: sealed in full on its first resume.
            if "plan_seal" not in stored and stored["plan_hash"] == legacy_digest(rows):
                db.execute("INSERT INTO meta VALUES ('plan_seal', ?)", (digest,))
            elif stored.get("plan_seal") != digest:
                raise RefusedError(
                    f"plan.json is a different plan from the one this run started with ({self.path}):"
                    " it was edited after execution began; restore the plan.json that was approved"
                )
        return False

    def has_started(self) -> bool:
        """True once any step was sent (or settled): such a run resumes at any age."""
        with self._tx("DEFERRED") as db:
            return any_step_started(db)

    def _step(self, db: sqlite3.Connection, step: JournalStep) -> JournalStep:
        where = (step.action_key, step.index)
        row = db.execute(
            f"SELECT {STEP_COLUMNS} FROM steps WHERE action_key = ? AND idx = ?", where
        ).fetchone()
        if row is None:
            raise JournalError(f"no step {step.action_key}#{step.index} in journal {self.path}")
        return JournalStep(*row)

    def _move(self, step: JournalStep, to: str, sets: str = "", args: tuple[object, ...] = ()) -> JournalStep:
        with self._tx() as db:
            now, cur = timestamp(), self._step(db, step)
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
        return self._move(step, "sent", ", attempts = attempts + 1, sent_at = ?", (timestamp(),))

    def mark_job_started(self, step: JournalStep, job_id: str) -> JournalStep:
        """Shopify answered a sent cancel with a job: its id is kept at once, the step stays `sent`."""
        with self._tx() as db:
            cur = self._step(db, step)
            if cur.state != "sent" or not job_id:
                raise JournalError(f"illegal transition {cur.state} → job started for {cur.kind} step")
            db.execute(
                "UPDATE steps SET job_id = ?, updated_at = ? WHERE action_key = ? AND idx = ?",
                (str(job_id), timestamp(), cur.action_key, cur.index),
            )
            return self._step(db, cur)

    def mark_done(self, step: JournalStep, ids: Mapping[str, Any] | None = None) -> JournalStep:
        """Shopify applied the step (its answer, or a read after `unknown`); record its ids."""
        sets = "".join(f", {f} = coalesce(?, {f})" for f in ID_FIELDS) + ", finished_at = ?"
        return self._move(step, "done", sets, (*ids_row(ids or {}), timestamp()))

    def mark_failed(self, step: JournalStep, code: str, message: str) -> JournalStep:
        """Shopify refused the step (a userError): terminal; the action's later steps are skipped."""
        sets = ", error_code = ?, error_message = ?, finished_at = ?"
        return self._move(step, "failed", sets, (clean(code), clean(message), timestamp()))

    def mark_unknown(self, step: JournalStep, message: str) -> JournalStep:
        """The answer was lost: the step must be verified against the shop before any resend."""
        return self._move(step, "unknown", ", error_message = ?", (clean(message),))

    def mark_verified_not_applied(self, step: JournalStep) -> JournalStep:
        """A read proved a sent or unknown step did not happen: it may be sent again."""
        return self._move(step, "pending")

    def mark_drifted(self, action_key: str, detail: str, step: JournalStep | None = None) -> None:
        """The order changed since the plan, or `step` (in flight) was done by someone else: the action
        stops and its pending steps, `step` too, are skipped. Any other step in flight forbids it."""
        with self._tx() as db:
            row = db.execute("SELECT state FROM actions WHERE action_key = ?", (action_key,)).fetchone()
            in_flight = {index for (index,) in db.execute(_IN_FLIGHT, (action_key,))}
            expected = {step.index} if step is not None and step.action_key == action_key else set()
            if row is None or row[0] not in ("pending", "running") or in_flight != expected:
                raise JournalError(f"illegal transition {row and row[0]} → drifted for action {action_key}")
            now, why = timestamp(), clean(detail)
            db.execute(
                "UPDATE actions SET state = 'drifted', detail = ?, updated_at = ? WHERE action_key = ?",
                (why, now, action_key),
            )
            db.execute(
                "UPDATE steps SET state = 'skipped', error_message = ?, finished_at = ?, updated_at = ?"
                " WHERE action_key = ? AND state IN ('sent', 'unknown')",
                (why, now, now, action_key),
            )
            db.execute(_SKIP_PENDING, (now, action_key))

    def gift_card_id(self, action_key: str) -> str | None:
        """The gift card the action's gift card step created (what its notify step sends), if done."""
        with self._tx("DEFERRED") as db:
            row = db.execute(_GIFT_CARD_ID, (action_key,)).fetchone()
        return row[0] if row else None

    def pending_work(self) -> list[PendingAction]:
        """Unfinished actions in plan order, each with all its steps; `sent` steps need verification."""
        with self._tx("DEFERRED") as db:
            return pending_actions(db)

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts of actions and of steps by state, every state listed."""
        with self._tx("DEFERRED") as db:
            return state_counts(db)

    def rows_for_report(self) -> list[dict[str, Any]]:
        """Every step with its action, in plan order, for execution.csv and the reports."""
        with self._tx("DEFERRED") as db:
            return report_rows(db, self.run_id)

    def records_for_report(self) -> Iterator[dict[str, Any]]:
        """`rows_for_report` one at a time, read in one transaction: a run's steps are never all in
        memory at once (consume it whole and promptly: the journal is locked meanwhile)."""
        with self._tx("DEFERRED") as db:
            yield from report_records(db, self.run_id)
