"""`execute RUN_DIR`: the approved plan carried out, step by step, through the journal (SPEC §7).

Orders run in parallel (a thread each, `concurrency` at once, paced by the one cost governor of the
shared client); an order's steps run in sequence. Every step's intent is journaled before it is
sent and its result after, so rerunning the same command resumes: done steps are skipped and
steps whose answer was lost are verified against the shop before anything is sent again. The order
is re-read before each money step: a cancel or refund by someone else stops the action (drift.py).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from pipeline.errors import AuthError, RefusedError, ShopifyError
from pipeline.execute import approval
from pipeline.execute.drift import drift, moment
from pipeline.execute.journal import Journal, JournalStep, PendingAction
from pipeline.execute.report import write_execution_csv
from pipeline.execute.runner import Outcome, Status, StepRunner
from pipeline.plan.files import load_plan
from pipeline.plan.model import Plan, PlannedAction
from pipeline.plan.steps import Step, StepKind
from pipeline.settings import ConnectionSettings
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.retry import execute_with_retry

log = logging.getLogger(__name__)
MAX_SENDS = 5  # per step and run: sends after verified non-application (a lost answer each time)


@dataclass(frozen=True)
class ExecutionProgress:
    """One tick of the progress bar: actions finished (any outcome) out of the total, failures so far."""

    finished: int
    total: int
    failures: int


@dataclass(frozen=True)
class ExecutionResult:
    run_dir: Path
    counts: dict[str, int]  # actions by state: done, failed, drifted, pending, running
    interrupted: bool

    @property
    def all_done(self) -> bool:
        return not self.interrupted and all(n == 0 for s, n in self.counts.items() if s != "done")


@contextmanager
def _run_lock(run_dir: Path) -> Iterator[None]:
    """One execute per run directory at a time (a second would race the first on the same steps)."""
    with open(run_dir / ".execute.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefusedError(f"another execute is running on {run_dir}") from None
        yield


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
    ) -> None:
        self.concurrency = max(1, concurrency)
        self.runner = runner
        self.journal = journal
        self.plan_actions = plan_actions
        self.stop = stop
        self.planned_at = planned_at or dt.datetime.now(dt.UTC)

    def run_action(self, pending: PendingAction) -> None:
        action = self.plan_actions[pending.action_key]
        started = pending.state != "pending" or any(s.state != "pending" for s in pending.steps)
        done = {s.index for s in pending.steps if s.state == "done"}
        for journaled in pending.steps:
            if journaled.state == "done":
                continue
            if journaled.state in ("failed", "skipped") or self.stop.is_set():
                return
            step = action.steps[journaled.index]
            # Re-read right before money moves (a resume too): another hand may have got there first.
            # A step sent before is settled by its own verification instead (its note says it is ours).
            fresh = journaled.state == "pending" and journaled.attempts == 0
            if (
                fresh
                and (not started or step.kind is not StepKind.TAG)
                and self._drifted(action, started, done)
            ):
                return
            started = True
            if not self._run_step(pending.order_id, action, journaled):
                return
            done.add(journaled.index)

    def _drifted(self, action: PlannedAction, started: bool, done: set[int]) -> bool:
        read = execute_with_retry(
            self.runner.client, "OrderDriftRead", {"id": action.order_id}, mutation=False
        )
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
        if journaled.needs_verification:
            outcome = self.runner.verify(order_id, step, key, journaled.job_id)
            if outcome.status is not Status.NOT_APPLIED:
                return self._record(journaled, outcome)
            if step.kind is not StepKind.REFUND:  # a refund is resent with its key; the journal allows it
                journaled = self.journal.mark_verified_not_applied(journaled)
        for _ in range(MAX_SENDS):
            journaled = self.journal.mark_sent(journaled)
            outcome = self.runner.send(order_id, step, key, sent_before=journaled.attempts > 1)
            if outcome.status is Status.ACCEPTED:
                # Journaled before the wait: from here on this cancel is waited for, never sent again.
                journaled = self.journal.mark_job_started(journaled, outcome.ids["job_id"])
                return self._record(journaled, self.runner.await_cancel(order_id, key, journaled.job_id))
            if outcome.status is Status.UNKNOWN:
                journaled = self.journal.mark_unknown(journaled, outcome.message)
                outcome = self._settle(order_id, step, key, outcome)
            if outcome.status is not Status.NOT_APPLIED:
                return self._record(journaled, outcome)
            if step.kind is not StepKind.REFUND or journaled.state == "sent":
                journaled = self.journal.mark_verified_not_applied(journaled)
            if self.stop.is_set():
                return False
        return False

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


def execute_run(
    run_dir: Path,
    settings: ConnectionSettings,
    *,
    concurrency: int = 8,
    max_total: Decimal | None = None,
    max_age: dt.timedelta = dt.timedelta(hours=24),
    confirm: Callable[[Plan], bool] = lambda _plan: True,
    transport: httpx.BaseTransport | None = None,
    progress: Callable[[ExecutionProgress], None] | None = None,
    stop: threading.Event | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    runner_options: dict[str, Any] | None = None,
) -> ExecutionResult:
    """Checks, confirms and carries out the plan in `run_dir`; resumes where an earlier run stopped."""
    plan = load_plan(run_dir)
    approval.check(
        plan,
        shop=settings.shop,
        now=now(),
        max_age=max_age,
        max_total=max_total,
        started=_started(run_dir, plan),
    )
    stop = stop or threading.Event()
    # Every invocation is confirmed (or --yes), a resumed one too: a refusal must never count as approval.
    if not confirm(plan):
        raise RefusedError("not confirmed: nothing was executed")
    with _run_lock(run_dir), Journal.open(run_dir / "journal.sqlite", plan.run_id) as journal:
        journal.seed(plan.actions())  # refuses one order twice, and a plan edited since the run began
        plan_actions = {action.action_key: action for action in plan.actions()}
        work = journal.pending_work()
        total = len(plan_actions)
        already = total - len(work)
        with ShopifyClient(settings, transport) as client:
            runner = StepRunner(client, **(runner_options or {}))
            executor = Executor(runner, journal, plan_actions, stop, concurrency, moment(plan.created_at))
            _run_all(executor, work, already, total, progress or (lambda _p: None), journal)
        write_execution_csv(run_dir, plan, journal)
        counts = journal.summary()["actions"]
    return ExecutionResult(run_dir, counts, interrupted=stop.is_set())


def _started(run_dir: Path, plan: Plan) -> bool:
    """Whether this run has journaled steps (it then resumes at any age); never creates a journal."""
    path = run_dir / "journal.sqlite"
    if not path.exists():
        return False
    with Journal.open(path, plan.run_id) as journal:
        return journal.has_started()


def _run_all(
    executor: Executor,
    work: list[PendingAction],
    already: int,
    total: int,
    progress: Callable[[ExecutionProgress], None],
    journal: Journal,
) -> None:
    lock = threading.Lock()
    finished = [already]

    def one(pending: PendingAction) -> None:
        try:
            executor.run_action(pending)
        except AuthError:
            executor.stop.set()  # the token is refused: nothing else will go through
            raise
        except ShopifyError as exc:
            # Retries exhausted on a read or an unsent request: this order waits for the next run.
            log.warning("%s: left for the next run: %s", pending.order_name, exc)
        with lock:
            finished[0] += 1
            counts = journal.summary()["actions"]
            progress(ExecutionProgress(finished[0], total, counts["failed"] + counts["drifted"]))

    progress(ExecutionProgress(already, total, 0))
    with ThreadPoolExecutor(max_workers=executor.concurrency, thread_name_prefix="order") as pool:
        futures = [pool.submit(one, pending) for pending in work]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if future.exception() is not None:
                executor.stop.set()
                for other in futures:
                    other.cancel()
                raise future.exception()  # type: ignore[misc]
