"""The bulk write engine (SPEC §15): the journal's pending steps carried out as bulk operations, one
step kind at a time in the order of an action's steps (claims, cancels, refunds, gift cards, their
notifications, tags), because Shopify runs a file's lines in no particular order.

Each round: the lines' JSONL uploaded, the file and the steps journaled `sent`, the operation started
(exactly once: bulkstart.py) and its id journaled before it is waited on, then every answer journaled
by `__lineNumber`. A line without an answer (the operation FAILED part way, a crash) stays `sent` and
is settled by a bulk read of the orders before anything is sent again (bulkread.py). A line's
userErrors fail its order only; later kinds skip a failed or drifted order (they are never pending).
A large run goes in lanes, ranges of its orders whose rounds run side by side (bulklanes.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pipeline.errors import BulkOperationError
from pipeline.execute.action import MAX_SENDS, Executor
from pipeline.execute.bulkanswer import line_outcome, line_variables, settle_refused_claims
from pipeline.execute.bulkjournal import BulkJournal, BulkLine, BulkRecord
from pipeline.execute.bulklanes import LANE_MIN, Lane, run_lanes, split_numbers
from pipeline.execute.bulkread import READABLE, Rechecks, check_drift, proven, read_orders, undrifted
from pipeline.execute.bulkstart import (
    StartUnknownError,
    UploadGoneError,
    find_started,
    late_starts,
    newest_operation,
    outwait,
    start,
)
from pipeline.execute.bulkstart import tagged as tagged_document
from pipeline.execute.journal import JournalStep, PendingAction
from pipeline.execute.runner import Outcome, Status
from pipeline.plan.steps import StepKind
from pipeline.shopify.bulk import BulkOperations, OperationGoneError
from pipeline.shopify.jsonl import LINE_NUMBER
from pipeline.shopify.progress import Progress

log = logging.getLogger(__name__)

ORDER = (
    StepKind.CLAIM,
    StepKind.CANCEL,
    StepKind.REFUND,
    StepKind.GIFT_CARD,
    StepKind.GIFT_CARD_NOTIFY,
    StepKind.TAG,
)
DOCUMENTS = {
    StepKind.CLAIM: "ClaimSet",
    StepKind.CANCEL: "OrderCancel",
    StepKind.REFUND: "RefundCreate",
    StepKind.GIFT_CARD: "GiftCardCreate",
    StepKind.GIFT_CARD_NOTIFY: "GiftCardSendNotification",
    StepKind.TAG: "TagsAdd",
}
MONEY = (StepKind.CANCEL, StepKind.REFUND)  # re-read right before they are sent (SPEC §7)
MAX_ROUNDS = 60  # rounds and waits for cancel jobs; what is left is settled by the next run
Shown = Callable[[str, Progress], None]
Tick = Callable[[], None]


class BulkExecution:
    """Runs one journal's pending work through bulk operations; `executor` lends its parts."""

    def __init__(
        self,
        executor: Executor,
        bulk: BulkOperations,
        progress: Shown | None,
        tick: Tick,
        lane_min: int = LANE_MIN,
        lane: Lane | None = None,
    ) -> None:
        self.ex, self.bulk, self.tick, self.lane_min, self.lane = executor, bulk, tick, lane_min, lane
        self.journal = BulkJournal(executor.journal)
        self.show = progress or (lambda _kind, _p: None)
        self.rechecks = Rechecks(bulk.clock, executor.runner.cancel_wait)

    def run(self) -> None:
        for record in self.journal.open_operations():  # a crash: poll what was started, never restart it
            if self.ex.stop.is_set():
                return
            self._finish(record)
        log.debug("bulk: splitting the pending work in lanes")
        split = split_numbers(self.journal.pending_numbers(), self.lane_min)
        run_lanes(split, lambda lane: self._lane(lane, split.index(lane) + 1, len(split)))

    def _lane(self, lane: Lane, number: int, count: int) -> None:
        """One lane's rounds, with its own rechecks; its progress is labelled when there are several."""
        show = self.show if count == 1 else lambda kind, p: self.show(f"{kind} (lane {number}/{count})", p)
        execution = BulkExecution(self.ex, self.bulk, show, self.tick, lane=lane)
        execution._rounds()
        execution._phase("done")

    def _phase(self, what: str) -> None:
        """A debug line when a lane's phase begins: the bench's timeline of the time between operations."""
        log.debug("bulk lane %s: %s", self.lane, what)

    def _rounds(self) -> None:
        self._phase("drift read")
        check_drift(self.ex, self.bulk, self._work(), lambda p: self.show("read", p))
        for _ in range(MAX_ROUNDS):
            if self.ex.stop.is_set():
                return
            pending = self._pending()
            in_flight = [(a, s) for a, s in pending if s.needs_verification]
            if in_flight:
                late_starts(self.bulk, self.journal, self._text)
            unsettled, read = self._verify_in_flight(in_flight, pending)
            batch = self._next_batch(self._pending() if in_flight else pending)
            if batch is None:
                if not unsettled:
                    return
                self.bulk.sleep(max(self.bulk.poll, self.rechecks.remaining()))  # cancel jobs still running
                continue
            self._round(*batch, read=read)
            self.tick()

    def _work(self) -> list[PendingAction]:
        """The journal's unfinished actions in this lane (one lane too: read by the index, not a scan)."""
        return self.journal.pending_between(*self.lane) if self.lane else self.ex.journal.pending_work()

    def _pending(self) -> list[tuple[Any, JournalStep]]:
        """Each unfinished action's first step that is not done."""
        out = []
        for pending in self._work():
            first = next((s for s in pending.steps if s.state != "done"), None)
            if first is not None:
                out.append((self.ex.plan_actions[pending.action_key], first))
        return out

    def _verify_in_flight(
        self, in_flight: list[tuple[Any, JournalStep]], pending: list[tuple[Any, JournalStep]]
    ) -> tuple[int, dict[str, dict[str, Any]] | None]:
        """Settles `sent`/`unknown` steps by reading the shop; returns how many cancel jobs still run, and
        the read, which holds the waiting money steps' orders too: the next round's drift check uses it
        (taken after the last operation ended, right before the next upload, it is a fresh read)."""
        if not in_flight:
            return 0, None
        self._phase(f"verify {len(in_flight)}")
        readable = [(a, s) for a, s in in_flight if a.steps[s.index].kind in READABLE]
        money = [a for a, s in pending if s.state == "pending" and a.steps[s.index].kind in MONEY]
        wanted = {a.order_id for a, _ in readable} | {a.order_id for a in money}
        orders = read_orders(self.bulk, wanted, lambda p: self.show("read", p))
        results: list[tuple[JournalStep, Outcome]] = []
        for action, journaled in in_flight:
            step = action.steps[journaled.index]
            if step.kind in READABLE:
                outcome = proven(
                    action, step, orders.get(action.order_id), self.ex.journal.run_id, journaled.job_id
                )
            else:
                outcome = self.ex.runner.verify(action.order_id, step, action.action_key, journaled.job_id)
                self.ex._keep_code(action, step, outcome)
            outcome = self.rechecks.judge(step.kind, journaled.action_key, journaled.index, outcome)
            if outcome.status is Status.NOT_APPLIED and journaled.attempts >= MAX_SENDS:
                outcome = Outcome(Status.UNKNOWN, message=f"not applied after {MAX_SENDS} sends")
            results.append((journaled, outcome))
        self.journal.settle(None, results)
        # Only a cancel job at work or a second read may settle by waiting; the rest is the next run's.
        rereads = {(j.action_key, j.index) for j, _o in results} & set(self.rechecks.first)
        waiting = len(rereads) + sum(1 for j, o in results if o.status is Status.UNKNOWN and j.job_id)
        return waiting, orders

    def _next_batch(
        self, pending: list[tuple[Any, JournalStep]]
    ) -> tuple[StepKind, list[tuple[Any, JournalStep]]] | None:
        ready = [(a, s) for a, s in pending if s.state == "pending" and s.attempts < MAX_SENDS]
        if not ready:
            return None
        kind = min((a.steps[s.index].kind for a, s in ready), key=ORDER.index)
        return kind, [(a, s) for a, s in ready if a.steps[s.index].kind is kind]

    def _round(
        self, kind: StepKind, items: list[tuple[Any, JournalStep]], read: dict[str, dict[str, Any]] | None
    ) -> None:
        if kind in MONEY:  # money: orders changed since are left out
            self._phase(f"read before {kind}")
            items = undrifted(self.ex, self.bulk, items, lambda p: self.show("read", p), read)
            if not items:
                return
        self._phase(f"upload {kind} {len(items)}")
        lines = (line_variables(self.ex, a, s) for a, s in items)
        path, _count = self.bulk.upload(lines, filename=f"{kind}.jsonl")
        newest = newest_operation(self.bulk)
        record = self.journal.stage(kind.value, path, newest, [(s.action_key, s.index) for _, s in items])
        self._finish(record, staged_now=True)

    def _text(self, record: BulkRecord) -> str:
        return tagged_document(DOCUMENTS[StepKind(record.kind)], self.ex.journal.run_id, record.seq)

    def _known(self) -> set[str]:
        return {r.operation_id for r in self.journal.operations() if r.operation_id}

    def _finish(self, record: BulkRecord, staged_now: bool = False) -> None:
        """Starts the operation if it never was (looked for first only when resuming a record staged by
        a run that died before journaling its start), waits for it, journals every answer it gave."""
        kind = StepKind(record.kind)
        text = self._text(record)
        operation_id = record.operation_id
        if operation_id is None:
            known = self._known()
            try:
                found = None if staged_now else find_started(self.bulk, text, record.newest_before, known)
                operation_id = found or start(
                    self.bulk, text, record.staged_path, record.newest_before, known
                )
            except (StartUnknownError, UploadGoneError) as exc:  # its lines are read, never resent blindly
                outwait(self.bulk, getattr(exc, "candidates", []))  # whichever is ours is over first
                self.journal.close(record.seq, "unknown")
                return
            self.journal.started(record.seq, operation_id)
        self._phase(f"wait {kind} {operation_id}")
        try:
            status = self.bulk.wait(operation_id, record.lines, lambda p: self.show(kind.value, p), "lines")
            url, partial, closed = status.url, False, "finished"
        except BulkOperationError as exc:
            log.warning(
                "bulk %s: %s; its unanswered lines are verified before anything is sent again", kind, exc
            )
            url, partial, closed = exc.partial_data_url, True, "failed"
        except OperationGoneError as exc:  # nothing left to poll or download: its lines are read
            log.warning("bulk %s: %s; its lines are verified before anything is sent again", kind, exc)
            self.journal.close(record.seq, "unknown")
            return
        self._phase(f"results {kind}")
        lines = {line.line: line for line in self.journal.lines(record.seq)}
        results: list[tuple[BulkLine, Outcome]] = []
        refused_claims: list[tuple[BulkLine, Outcome]] = []
        for answer in self.bulk.stream(url, partial=partial):
            line = lines.get(int(answer.get(LINE_NUMBER, -1)))
            if line is None or line.result is not None:
                continue
            outcome = line_outcome(self.ex, kind, line, answer)
            (
                refused_claims if kind is StepKind.CLAIM and outcome.status is Status.FAILED else results
            ).append((line, outcome))
        self.journal.settle(record.seq, results)
        settle_refused_claims(self.ex, self.bulk, self.journal, record.seq, refused_claims)
        self.journal.close(record.seq, closed)
