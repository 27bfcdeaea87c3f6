"""One order's action carried through its steps, each journaled: sent once, verified after a lost
answer, waited for when Shopify answered with a job, and stopped when another hand got there first.

The order is re-read before each money step, on resume too: a cancel or refund by someone else since
the plan makes the action drifted and nothing more is sent for it (drift.py).
"""

from __future__ import annotations

import datetime as dt
import threading

from pipeline.execute.claim import Claimer
from pipeline.execute.codes import CodesFile, IssuedCode
from pipeline.execute.drift import drift
from pipeline.execute.journal import Journal, JournalStep, PendingAction
from pipeline.execute.runner import Outcome, Status, StepRunner
from pipeline.plan.model import PlannedAction
from pipeline.plan.steps import Step, StepKind
from pipeline.shopify.retry import execute_with_retry

LOST_CODE = "(answer lost: send the card to the customer from Shopify's admin)"
MAX_SENDS = 5  # per step and run: sends after verified non-application (a lost answer each time)


class Executor:
    """Runs the pending actions of one journal; `stop` asks it to finish what is in flight and return."""

    def __init__(
        self,
        runner: StepRunner,
        journal: Journal,
        plan_actions: dict[str, PlannedAction],
        stop: threading.Event,
        concurrency: int = 8,
        planned_at: dt.datetime | None = None,
        plan_sha256: str = "",
        codes: CodesFile | None = None,
    ) -> None:
        self.concurrency = max(1, concurrency)
        self.runner = runner
        self.journal = journal
        self.plan_actions = plan_actions
        self.stop = stop
        self.planned_at = planned_at or dt.datetime.now(dt.UTC)
        self.claimer = Claimer(runner.client, journal.run_id, plan_sha256)
        self.codes = codes

    def run_action(self, pending: PendingAction) -> None:
        action = self.plan_actions[pending.action_key]
        started = pending.state != "pending" or any(s.state != "pending" for s in pending.steps)
        done = {s.index for s in pending.steps if s.state == "done"}
        read_just_now = False  # the order was read right before the claim that was just written
        for journaled in pending.steps:
            if journaled.state == "done":
                continue
            if journaled.state in ("failed", "skipped") or self.stop.is_set():
                return
            step = action.steps[journaled.index]
            # Re-read right before money moves (a resume too): another hand may have got there first.
            # A step sent before is settled by its own verification instead (its note says it is ours).
            # The read before a fresh claim serves the first money step too: the claim write is all
            # that came between, and from it on no other run acts on this order.
            fresh = journaled.state == "pending" and journaled.attempts == 0
            check = fresh and (not started or step.kind is not StepKind.TAG) and not read_just_now
            if check and self._drifted(action, started, done):
                return
            read_just_now = check and step.kind is StepKind.CLAIM
            started = True
            if not self._run_step(pending.order_id, action, journaled):
                return
            done.add(journaled.index)

    def _drifted(self, action: PlannedAction, started: bool, done: set[int]) -> bool:
        # Before the first step the fingerprint says it all (cheaper); later, only what is not ours counts.
        document = "OrderSincePlan" if started else "OrderDriftRead"
        read = execute_with_retry(self.runner.client, document, {"id": action.order_id}, mutation=False)
        ours = any(action.steps[i].kind is StepKind.CANCEL for i in done)
        why = drift(
            action, read.data["order"], planned_at=self.planned_at, started=started, cancelled_by_us=ours
        )
        if why:
            self.journal.mark_drifted(action.action_key, why)
        return why is not None

    def _run_step(self, order_id: str, action: PlannedAction, journaled: JournalStep) -> bool:
        """Carries one step to done; False when the action cannot go on now (failed or undecided)."""
        step = action.steps[journaled.index]
        key = action.action_key
        if step.kind is StepKind.CLAIM:
            return self._claim(action, journaled)
        if journaled.needs_verification:
            outcome = self.runner.verify(order_id, step, key, journaled.job_id)
            if outcome.status is not Status.NOT_APPLIED:
                self._keep_code(action, step, outcome)
                return self._record(journaled, outcome)
            if step.kind is not StepKind.REFUND:  # a refund is resent with its key; the journal allows it
                journaled = self.journal.mark_verified_not_applied(journaled)
        card = self.journal.gift_card_id(key) if step.kind is StepKind.GIFT_CARD_NOTIFY else None
        for _ in range(MAX_SENDS):
            journaled = self.journal.mark_sent(journaled)
            outcome = self.runner.send(
                order_id, step, key, sent_before=journaled.attempts > 1, gift_card_id=card
            )
            if outcome.status is Status.ACCEPTED:
                # Journaled before the wait: from here on this cancel is waited for, never sent again.
                journaled = self.journal.mark_job_started(journaled, outcome.ids["job_id"])
                settled = self.runner.await_cancel(order_id, key, journaled.job_id, just_sent=True)
                return self._record(journaled, settled)
            if outcome.status is Status.UNKNOWN:
                journaled = self.journal.mark_unknown(journaled, outcome.message)
                outcome = self._settle(order_id, step, key, outcome)
            if outcome.status is not Status.NOT_APPLIED:
                self._keep_code(action, step, outcome)
                return self._record(journaled, outcome)
            if step.kind is not StepKind.REFUND or journaled.state == "sent":
                journaled = self.journal.mark_verified_not_applied(journaled)
            if self.stop.is_set():
                return False
        return False

    def _claim(self, action: PlannedAction, journaled: JournalStep) -> bool:
        """The claim step: written once; a lost answer or a refusal is settled by reading the claim."""
        step = action.steps[journaled.index]
        if journaled.needs_verification:
            outcome = self.claimer.verify(action, step)
            if outcome.status is not Status.NOT_APPLIED:
                return self._record(journaled, outcome)
            journaled = self.journal.mark_verified_not_applied(journaled)
        for _ in range(MAX_SENDS):
            journaled = self.journal.mark_sent(journaled)
            outcome = self.claimer.send(action, step)
            if outcome.status is Status.UNKNOWN:
                journaled = self.journal.mark_unknown(journaled, outcome.message)
                outcome = self.claimer.verify(action, step)
            if outcome.status is not Status.NOT_APPLIED:
                return self._record(journaled, outcome)
            journaled = self.journal.mark_verified_not_applied(journaled)
            if self.stop.is_set():
                return False
        return False

    def _keep_code(self, action: PlannedAction, step: Step, outcome: Outcome) -> None:
        """Writes an unsent card's code to the codes file before the step is journaled done (so once).

        A card found by verification after a lost answer has no code to give (Shopify shows it once):
        its row says so, and the card can still be sent to the customer from Shopify's admin.
        """
        unsent = step.kind is StepKind.GIFT_CARD and not step.notify
        if not unsent or self.codes is None or outcome.status is not Status.DONE:
            return
        code, email = outcome.secret or (LOST_CODE, "")
        issued = IssuedCode(action.order_name, email, code, str(step.amount), str(step.currency))
        self.codes.add(issued)

    def _record(self, journaled: JournalStep, outcome: Outcome) -> bool:
        """Journals a settled outcome; True when the action may go on to its next step."""
        if outcome.status is Status.DONE:
            self.journal.mark_done(journaled, outcome.ids)
            return True
        if outcome.status is Status.FAILED:
            self.journal.mark_failed(journaled, outcome.code, outcome.message)
        elif outcome.status is Status.DRIFTED:
            self.journal.mark_drifted(journaled.action_key, outcome.message, journaled)
        return False  # UNKNOWN: left as it is for the next run, which verifies it first

    def _settle(self, order_id: str, step: Step, key: str, lost: Outcome) -> Outcome:
        """After a lost answer: a refund is resent with its key; anything else is read back first."""
        if step.kind is StepKind.REFUND:
            return self.runner.send(order_id, step, key, sent_before=True)
        verified = self.runner.verify(order_id, step, key)
        return (
            verified
            if verified.status is not Status.DONE
            else Outcome(Status.DONE, {**lost.ids, **verified.ids})
        )
