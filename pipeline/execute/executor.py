"""`execute RUN_DIR`: the approved plan carried out, step by step, through the journal (SPEC §7).

Orders run in parallel (a thread each, paced by the one cost governor of the shared client); how
many at once is found as the run goes (shopify/concurrency.py), `concurrency` being only the ceiling.
An order's steps run in sequence. Every step's intent is journaled before it is
sent and its result after, so rerunning the same command resumes: done steps are skipped and
steps whose answer was lost are verified against the shop before anything is sent again (action.py).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from pipeline.errors import AuthError, RefusedError, ShopifyError
from pipeline.execute import approval
from pipeline.execute.action import Executor
from pipeline.execute.bulkrun import engine_for, run_bulk
from pipeline.execute.codes import CodesFile
from pipeline.execute.journal import Journal, PendingAction
from pipeline.execute.report import write_execution_csv
from pipeline.execute.runner import StepRunner
from pipeline.execute.status import counted
from pipeline.plan.files import load_checked_plan
from pipeline.plan.model import Plan
from pipeline.reports.heap import frozen_heap
from pipeline.settings import ConnectionSettings
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.concurrency import ConcurrencyController, Gate, Reading
from pipeline.shopify.governor import BucketSnapshot, CostGovernor
from pipeline.shopify.progress import Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExecutionProgress:
    """One tick of the progress bar: actions finished (any outcome) out of the total, failures so far,
    and how many orders run at once now (0 before the first has finished)."""

    finished: int
    total: int
    failures: int
    concurrency: int = 0


@dataclass(frozen=True)
class ExecutionResult:
    run_dir: Path
    counts: dict[str, int]  # actions by journal state: done, failed, drifted, pending, running
    interrupted: bool
    # Actions by status in the one vocabulary of status.py: done … to_verify, not_executed.
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def all_done(self) -> bool:
        return not self.interrupted and all(n == 0 for s, n in self.counts.items() if s != "done")


COUNT_EVERY = 0.2  # seconds between counts of failures for the progress line

#: The file `release` leaves in a run directory: its claims are gone, so it must never resume.
RELEASED = "released"


@contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """One execute (or release) per run directory at a time: a second would race the first."""
    with open(run_dir / ".execute.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefusedError(f"another execute or release is running on {run_dir}") from None
        yield


def execute_run(
    run_dir: Path,
    settings: ConnectionSettings,
    *,
    concurrency: int = 64,
    max_total: Decimal | Mapping[str, Decimal] | None = None,
    max_age: dt.timedelta = dt.timedelta(hours=24),
    confirm: Callable[[Plan], bool] = lambda _plan: True,
    transport: httpx.BaseTransport | None = None,
    progress: Callable[[ExecutionProgress], None] | None = None,
    stop: threading.Event | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    runner_options: dict[str, Any] | None = None,
    engine: str = "paced",
    restore_rate: float | None = None,
    bulk_options: dict[str, Any] | None = None,
    bulk_progress: Callable[[str, Progress], None] | None = None,
    approved: str | None = None,
) -> ExecutionResult:
    """Checks, confirms and carries out the plan in `run_dir`; resumes where an earlier run stopped.

    `concurrency`: the most orders at once; fewer run while the bucket allows no more. `approved`: the
    sha256 a reviewer approved (`--require-approval`): the plan carried out must be that one."""
    plan, sha = load_checked_plan(run_dir, approved)
    if (run_dir / RELEASED).exists():
        raise RefusedError(
            f"run {plan.run_id} was released (its claims removed): it cannot be resumed — plan the file again"
        )
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
    with run_lock(run_dir), Journal.open(run_dir / "journal.sqlite", plan.run_id) as journal:
        actions = plan.actions()
        journal.seed(actions)  # refuses one order twice, and a plan edited since the run began
        plan_actions = {action.action_key: action for action in actions}
        total = len(plan_actions)
        with ShopifyClient(settings, transport) as client:
            runner = StepRunner(client, **(runner_options or {}))
            # `sha`: the digest of the bytes load_checked_plan read and checked against plan.sha256 (and
            # `approved`), not the 100 MB of a large plan hashed a second time.
            executor = Executor(
                runner,
                journal,
                plan_actions,
                stop,
                concurrency,
                plan.since,
                sha,
                CodesFile(run_dir),
            )
            choice = engine_for(engine, executor, total, restore_rate)
            log.info("engine: %s (%s)", choice.engine, choice.reason)
            if choice.engine == "bulk":
                tick = _ticker(journal, total, progress or (lambda _p: None))
                run_bulk(executor, client, transport, bulk_progress, tick, bulk_options)
            else:  # the bulk engine reads its lanes' work itself: the whole list is the paced engine's
                work = journal.pending_work()
                _run_all(executor, work, total - len(work), total, progress or (lambda _p: None), journal)
        # execution.csv and the statuses in one pass over the journal, an action's steps at a time.
        with frozen_heap():  # the plan lives until the end: out of the collector's walks
            statuses = counted(write_execution_csv(run_dir, plan, journal).values())
        counts = journal.summary()["actions"]
    return ExecutionResult(run_dir, counts, interrupted=stop.is_set(), statuses=statuses)


def _ticker(
    journal: Journal, total: int, progress: Callable[[ExecutionProgress], None]
) -> Callable[[], None]:
    def tick() -> None:
        counts = journal.summary()["actions"]
        failures = counts["failed"] + counts["drifted"]
        progress(ExecutionProgress(counts["done"] + failures, total, failures))

    return tick


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
    governor = executor.runner.client.governor
    gate = Gate(ConcurrencyController(executor.concurrency))
    throttled = [governor.pressure().throttled]
    counted = [float("-inf"), 0.0]  # when failures were last counted, and how many

    def one(pending: PendingAction) -> None:
        if executor.stop.is_set():
            return  # interrupted: an order not begun stays for the next run, and is not counted
        gate.enter()
        reading = None
        try:
            waited, points = governor.this_thread()
            started = time.monotonic()
            try:
                executor.run_action(pending)
            except AuthError:
                executor.stop.set()  # the token is refused: nothing else will go through
                raise
            except ShopifyError as exc:
                # Retries exhausted on a read or an unsent request: this order waits for the next run.
                log.warning("%s: left for the next run: %s", pending.order_name, exc)
            with lock:
                reading = _reading(governor, time.monotonic() - started, waited, points, throttled)
        finally:
            limit = gate.leave(reading)
        with lock:
            if executor.stop.is_set():
                return  # interrupted: an order stopped half-way is not finished, and the count stops
            finished[0] += 1
            now = time.monotonic()
            if now - counted[0] >= COUNT_EVERY or finished[0] == total:
                # Counting scans the journal under its lock: a few times a second, not per order.
                counts = journal.summary()["actions"]
                counted[:] = [now, counts["failed"] + counts["drifted"]]
            progress(ExecutionProgress(finished[0], total, int(counted[1]), limit))

    progress(ExecutionProgress(already, total, 0))
    unlisten = governor.listen(lambda bucket: gate.answered(_share(bucket)))
    try:
        with ThreadPoolExecutor(max_workers=executor.concurrency, thread_name_prefix="order") as pool:
            futures = [pool.submit(one, pending) for pending in work]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    executor.stop.set()
                    for other in futures:
                        other.cancel()
                    raise future.exception()  # type: ignore[misc]
    finally:
        unlisten()


def _share(bucket: BucketSnapshot) -> float | None:
    """The bucket's share available beside the reservations (0..1), None before any answer."""
    if bucket.available is None or not bucket.maximum:
        return None
    return max(0.0, bucket.available - bucket.reserved) / bucket.maximum


def _reading(
    governor: CostGovernor, elapsed: float, waited: float, points: float, throttled: list[int]
) -> Reading:
    """What the order that took `elapsed` seconds tells the controller (this thread's totals before
    it were `waited` and `points`; `throttled` holds the count already told, and is updated)."""
    now_waited, now_points = governor.this_thread()
    pressure, bucket = governor.pressure(), governor.snapshot()
    new_throttles, throttled[0] = pressure.throttled - throttled[0], pressure.throttled
    return Reading(
        waited=now_waited > waited,
        service=max(0.0, elapsed - (now_waited - waited)),
        points=now_points - points,
        throttled=new_throttles,
        level=_share(bucket),
        restore_rate=bucket.restore_rate,
    )
