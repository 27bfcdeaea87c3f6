"""The bulk engine's part of the journal: each operation's staged upload and id, each line's step and result.

bulk_operations  staged → started (its id, kept before it is waited on) → finished | failed;
                 staged | started → unknown when its start answer was lost and no operation was found
bulk_lines       one per JSONL line: `__lineNumber` → (action_key, idx), and what its answer said

A staged operation's steps are moved `pending → sent` in the same transaction that records it, so a
crash at any point leaves them `sent`: the next run polls the operation, or verifies them by a read.
A batch of line results is settled in one transaction (one fsync, not one per line).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.errors import JournalError
from pipeline.execute.journal import Journal, JournalStep, PendingAction
from pipeline.execute.journal_format import (
    ID_FIELDS,
    ORDER_NUMBER,
    RESENDABLE_KINDS,
    STEP_COLUMNS,
    UNFINISHED,
    clean,
    ids_row,
    timestamp,
)
from pipeline.execute.runner import Outcome, Status

OPEN = ("staged", "started")  # unknown: settled by verifying its lines, never polled
_ACTION_FROM_STEPS = """UPDATE actions SET updated_at = :now, state = CASE
  WHEN EXISTS (SELECT 1 FROM steps WHERE action_key = :key AND state = 'failed') THEN 'failed'
  WHEN NOT EXISTS (SELECT 1 FROM steps WHERE action_key = :key AND state != 'done') THEN 'done'
  ELSE 'running' END WHERE action_key = :key AND state IN ('pending', 'running')"""
_STEP = "SELECT kind, state, job_id FROM steps WHERE action_key = ? AND idx = ?"
# A step and how many of its action's earlier steps are not done, in one read (a stage checks 10,000s).
_SENDABLE = (
    "SELECT kind, state, job_id, (SELECT count(*) FROM steps AS e WHERE e.action_key = s.action_key"
    " AND e.idx < s.idx AND e.state != 'done') FROM steps AS s WHERE action_key = ? AND idx = ?"
)
# A step just sent is neither done nor failed, and every earlier one is done: its action runs.
_RUNNING = (
    "UPDATE actions SET state = 'running', updated_at = ? WHERE action_key = ?"
    " AND state IN ('pending', 'running')"
)
_IN_LANE = f"actions.{UNFINISHED} AND {ORDER_NUMBER} BETWEEN ? AND ?"  # by journal_format's index


@dataclass(frozen=True)
class BulkRecord:
    """One bulk operation as journaled."""

    seq: int
    kind: str
    staged_path: str
    newest_before: int  # the newest operation on the shop before this one was started
    operation_id: str | None
    status: str
    lines: int


@dataclass(frozen=True)
class BulkLine:
    """One line of an operation's variables: the step it carries, and its result once read."""

    line: int
    action_key: str
    index: int
    result: str | None


class BulkJournal:
    """Bulk transitions on an open Journal (its lock, its transactions)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def stage(
        self, kind: str, staged_path: str, newest_before: int, steps: Sequence[tuple[str, int]]
    ) -> BulkRecord:
        """Records the uploaded file and moves its steps to `sent` (an attempt each), atomically."""
        if len({key for key, _index in steps}) != len(steps):  # checked apart, written together: one each
            raise JournalError("an operation's file holds one step an action: an action came twice")
        with self.journal._tx() as db:
            now = timestamp()
            cursor = db.execute(
                "INSERT INTO bulk_operations (kind, staged_path, newest_before, status, lines, created_at,"
                " updated_at) VALUES (?, ?, ?, 'staged', ?, ?, ?)",
                (kind, staged_path, newest_before, len(steps), now, now),
            )
            seq = int(cursor.lastrowid or 0)
            for key, index in steps:  # every step checked before any is written (one step an action)
                _check_sendable(db, key, index)
            db.executemany(
                "UPDATE steps SET state = 'sent', attempts = attempts + 1, sent_at = ?, updated_at = ?"
                " WHERE action_key = ? AND idx = ?",
                ((now, now, key, index) for key, index in steps),
            )
            db.executemany(
                "INSERT INTO bulk_lines VALUES (?, ?, ?, ?, NULL)",
                ((seq, line, key, index) for line, (key, index) in enumerate(steps)),
            )
            db.executemany(_RUNNING, ((now, key) for key, _index in steps))
        return BulkRecord(seq, kind, staged_path, newest_before, None, "staged", len(steps))

    def started(self, seq: int, operation_id: str) -> None:
        """The operation's id, fsynced before anyone waits on it: a resume polls this one."""
        with self.journal._tx() as db:
            db.execute(
                "UPDATE bulk_operations SET operation_id = ?, status = 'started', updated_at = ?"
                " WHERE seq = ?",
                (operation_id, timestamp(), seq),
            )

    def close(self, seq: int, status: str) -> None:
        """finished, failed (its lines without an answer are verified), or unknown (start answer lost)."""
        with self.journal._tx() as db:
            db.execute(
                "UPDATE bulk_operations SET status = ?, updated_at = ? WHERE seq = ?",
                (status, timestamp(), seq),
            )

    def open_operations(self) -> list[BulkRecord]:
        """Operations a crash left open, oldest first."""
        return [r for r in self.operations() if r.status in OPEN]

    def operations(self) -> list[BulkRecord]:
        with self.journal._tx("DEFERRED") as db:
            rows = db.execute(
                "SELECT seq, kind, staged_path, newest_before, operation_id, status, lines"
                " FROM bulk_operations ORDER BY seq"
            ).fetchall()
        return [BulkRecord(*row) for row in rows]

    def pending_numbers(self) -> list[int]:
        """The order number (an order id's digits) of every unfinished action: what the lanes are split
        by, without building every action's steps as `Journal.pending_work` does."""
        with self.journal._tx("DEFERRED") as db:
            rows = db.execute(f"SELECT {ORDER_NUMBER} FROM actions WHERE {UNFINISHED}").fetchall()
        return [row[0] for row in rows]

    def pending_between(self, low: int, high: int) -> list[PendingAction]:
        """`Journal.pending_work` for the orders numbered `low`…`high` only (a lane): the others' rows
        are skipped by SQLite, not built and thrown away."""
        with self.journal._tx("DEFERRED") as db:
            actions = db.execute(
                f"SELECT action_key, order_id, order_name, state FROM actions WHERE {_IN_LANE}"
                " ORDER BY position",
                (low, high),
            ).fetchall()
            steps: dict[str, list[JournalStep]] = {}
            for row in db.execute(
                f"SELECT {STEP_COLUMNS} FROM steps JOIN actions USING (action_key) WHERE {_IN_LANE}"
                " ORDER BY position, idx",
                (low, high),
            ):
                steps.setdefault(row[0], []).append(JournalStep(*row))
        return [PendingAction(k, o, n, st, tuple(steps.get(k, ()))) for k, o, n, st in actions]

    def lines(self, seq: int) -> list[BulkLine]:
        with self.journal._tx("DEFERRED") as db:
            rows = db.execute(
                "SELECT line, action_key, idx, result FROM bulk_lines WHERE seq = ? ORDER BY line", (seq,)
            ).fetchall()
        return [BulkLine(*row) for row in rows]

    def settle(self, seq: int | None, results: Iterable[tuple[BulkLine | JournalStep, Outcome]]) -> None:
        """Journals line answers (or verifications) in one transaction; drifted ones after, one each."""
        drifted: list[tuple[str, int, str]] = []
        answered: list[tuple[str, int, int]] = []
        settled: list[dict[str, str]] = []
        with self.journal._tx() as db:
            now = timestamp()
            for item, outcome in results:
                key, index = item.action_key, item.index
                if seq is not None and isinstance(item, BulkLine):
                    answered.append((outcome.status.value, seq, item.line))
                if outcome.status is Status.DRIFTED:
                    drifted.append((key, index, outcome.message))
                    continue
                _apply(db, key, index, outcome, now)
                settled.append({"now": now, "key": key})
            db.executemany("UPDATE bulk_lines SET result = ? WHERE seq = ? AND line = ?", answered)
            db.executemany(_ACTION_FROM_STEPS, settled)  # each action's state once its steps are written
        for key, index, why in drifted:
            self.journal.mark_drifted(key, why, JournalStep(key, index, "", "sent", 0, None))


def _check_sendable(db: sqlite3.Connection, key: str, index: int) -> None:
    row = db.execute(_SENDABLE, (key, index)).fetchone()
    if row is None:
        raise JournalError(f"no step {key}#{index} in the journal")
    kind, state, job_id, undone_before = row
    allowed = ("pending", "sent", "unknown") if kind in RESENDABLE_KINDS else ("pending",)
    if state not in allowed or job_id:
        raise JournalError(f"illegal transition {state} → sent for {kind} step {(key, index)}")
    if undone_before:
        raise JournalError(f"step {(key, index)} cannot be sent before the earlier steps are done")


def _apply(db: sqlite3.Connection, key: str, index: int, outcome: Outcome, now: str) -> None:
    """One settled step, by the same rules as journal.py's moves (from `sent` or `unknown` only: the
    update is guarded by the state, and an illegal transition, nothing updated, is refused)."""
    where = (key, index)
    status = outcome.status
    if status is Status.DONE:
        sets = ", ".join(f"{f} = coalesce(?, {f})" for f in ID_FIELDS)
        change, values = f"state = 'done', {sets}, finished_at = ?", (*ids_row(outcome.ids), now)
    elif status is Status.FAILED:
        change = "state = 'failed', error_code = ?, error_message = ?, finished_at = ?"
        values = (clean(outcome.code), clean(outcome.message), now)
    elif status is Status.ACCEPTED:  # a cancel's job: waited for (read), never sent again
        change, values = "job_id = ?", (str(outcome.ids["job_id"]),)
    elif status is Status.NOT_APPLIED:  # a read proved it did not happen: it may be sent again
        change, values = "state = 'pending'", ()
    else:  # UNKNOWN: left to be verified again
        change, values = "state = 'unknown', error_message = ?", (clean(outcome.message),)
    updated = db.execute(
        f"UPDATE steps SET {change}, updated_at = ? WHERE action_key = ? AND idx = ?"
        " AND state IN ('sent', 'unknown')",
        (*values, now, *where),
    )
    if updated.rowcount != 1:
        row = db.execute(_STEP, where).fetchone()
        raise JournalError(f"illegal transition {row and row[1]} → {status.value} for step {where}")
    if status is Status.FAILED:
        db.execute(
            "UPDATE steps SET state = 'skipped', updated_at = ? WHERE action_key = ? AND state = 'pending'",
            (now, key),
        )
