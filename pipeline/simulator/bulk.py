"""Bulk operations (SPEC §15): run, poll, cancel; work done at a fixed rate on the shop's clock.

An operation's progress is a function of the shop's clock: `rate × seconds since it was created`
lines are due. A background thread does the due work in slices of about 50 ms, taking the shop's
lock for each and letting waiting requests in between, so a request never waits for bulk work and a
poll sees the progress made so far. In-process tests without that thread (`background=False`) move a
fake clock and poll: each request then does what is due (`advance()`), and they never sleep.
Bulk work runs through the shop's own resolvers but outside the handler: it is charged to no bucket.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import IO, Any

from graphql import ExecutionResult

from pipeline.simulator.bulkop import ACTIVE as ACTIVE
from pipeline.simulator.bulkop import DEFAULT_QUERY_RATE as DEFAULT_QUERY_RATE
from pipeline.simulator.bulkop import DEFAULT_RATE as DEFAULT_RATE
from pipeline.simulator.bulkop import MAX_RUNNING as MAX_RUNNING
from pipeline.simulator.bulkop import BulkOperation as BulkOperation
from pipeline.simulator.bulkop import BulkSettings as BulkSettings
from pipeline.simulator.bulkquery import BulkQuery, flatten, query_lines
from pipeline.simulator.cancel import settle
from pipeline.simulator.payouts import export_nodes
from pipeline.simulator.staged import Files
from pipeline.simulator.store import Store
from pipeline.simulator.turns import Turns

CHUNK = 50  # lines or root objects done per step at most (one file append)
SLICE_S = 0.05  # the background thread's work per turn of the shop's lock: requests wait at most this
TICK_S = 0.05  # how often an idle background thread looks at the shop's clock (real seconds)
Execute = Callable[..., ExecutionResult]
log = logging.getLogger(__name__)


class BulkEngine:
    """The shop's bulk operations. Every method runs under `lock` (the ShopApi's)."""

    def __init__(
        self,
        store: Store,
        execute: Execute,
        resolve: Callable[..., Any],
        lock: threading.RLock,
        settings: BulkSettings | None = None,
    ) -> None:
        self.store, self.now, self.execute, self.resolve, self.lock = store, store.now, execute, resolve, lock
        self.settings = settings or BulkSettings()
        self.files = Files()
        self.operations: dict[int, BulkOperation] = {}
        self._rng = random.Random(self.settings.seed)
        self._next = 0
        self.last_created: BulkOperation | None = None  # by the request being answered
        self._advancing = False
        self._turn = 0  # the operation the background thread served last
        self._worker: threading.Thread | None = None
        self._woken = threading.Event()
        self.turns = Turns(lock)
        self.compile: Callable[[BulkQuery], Callable[[Any], dict[str, Any]] | None] | None = None

    def faults(self, share: float, seed: int) -> None:
        """The `bulk` fault: this share of operations ends FAILED part way."""
        self.settings.fail_share, self._rng = share, random.Random(seed)

    def running(self) -> int:
        return sum(1 for op in self.operations.values() if op.status in ACTIVE)

    def create(self, kind: str, query: str, total: int) -> BulkOperation:
        self._next += 1
        op = BulkOperation(self._next, kind, query, self.now(), total=total)
        op.name = f"bulk-{op.id}.jsonl"
        if self.settings.fail_share and self._rng.random() < self.settings.fail_share:
            op.fail_at = max(1, int(total * self._rng.uniform(0.2, 0.8)))
        self.operations[op.id] = op
        self.last_created = op
        self.files.result_path(op.name).write_bytes(b"")
        self._wake()
        return op

    def hold(self, seconds: float) -> None:
        """The answer that created the last operation is lost: the request is still being processed
        for `seconds` of shop time, and its operation appears (and starts) only then."""
        op, self.last_created = self.last_created, None
        if op is not None:
            op.hidden_until = op.created_at = self.now() + timedelta(seconds=seconds)

    def cancel(self, op: BulkOperation) -> None:
        if op.status in ("CREATED", "RUNNING"):
            op.status = "CANCELING"

    def advance(self) -> None:
        """Do all the work due by now on every active operation, in one go (in-process harnesses
        without the background thread: their requests drive the work on a fake clock)."""
        if self._advancing:  # a bulk line's own execution must not start more work
            return
        self._advancing = True
        try:
            now = self.now()
            for op in list(self.operations.values()):
                while self._work_on(op, now, CHUNK):
                    pass
        finally:
            self._advancing = False

    def work(self) -> bool:
        """One slice of the background thread: the next active operation with work due does at most
        `SLICE_S` of it, under the shop's lock. True when more work is due now."""
        with self.lock:
            now = self.now()
            ops = [op for op in self.operations.values() if op.status in ACTIVE]
            ops.sort(key=lambda op: (op.id <= self._turn, op.id))  # round robin from the last one served
            for op in ops:
                if self._has_work(op, now):
                    self._turn = op.id
                    self._work_on(op, now, self._slice_size(op))
                    break
            return any(self._has_work(op, now) for op in ops)

    def _has_work(self, op: BulkOperation, now: datetime) -> bool:
        if op.status not in ACTIVE or not op.visible(now):
            return False
        return op.status != "RUNNING" or op.done >= op.total or op.object_count < self._due(op, now)

    def _due(self, op: BulkOperation, now: datetime) -> int:
        rate = self.settings.query_rate if op.type == "QUERY" else self.settings.rate
        return int(rate * max((now - op.created_at).total_seconds(), 0.0))

    def _slice_size(self, op: BulkOperation) -> int:
        """Lines (or root objects) that take about `SLICE_S`, from what the last step took."""
        return CHUNK if op.unit_s <= 0 else max(1, min(CHUNK, int(SLICE_S / op.unit_s)))

    def _work_on(self, op: BulkOperation, now: datetime, most: int) -> bool:
        """One step of `op`'s due work: at most `most` lines or root objects. True when more is due."""
        if not self._has_work(op, now):
            return False
        if op.status == "CANCELING":
            self._finish(op, "CANCELED", now)
            return False
        op.status = "RUNNING"
        if op.done < op.total and op.object_count < self._due(op, now):
            if op.fail_at is not None and op.done >= op.fail_at:
                op.error_code = "INTERNAL_SERVER_ERROR"
                self._finish(op, "FAILED", max(now, self.now()))
                return False
            budget = min(most, self._due(op, now) - op.object_count, op.total - op.done)
            if op.fail_at is not None:
                budget = min(budget, op.fail_at - op.done)
            count, started = max(budget, 1), time.perf_counter()
            with self.files.result_path(op.name).open("a", encoding="utf-8") as out:
                self._step(op, count, out)
            op.unit_s = (time.perf_counter() - started) / count
        if op.status == "RUNNING" and op.done >= op.total:
            # Stamped when its last line is written, not when this pass began: a pass behind the
            # rate (one process, busy cores) works past `now`, and completedAt shows the real end.
            self._finish(op, "COMPLETED", max(now, self.now()))
        return self._has_work(op, now)

    def _step(self, op: BulkOperation, count: int, out: IO[str]) -> None:
        """Run the next `count` lines (mutation) or root objects (query), appending their results."""
        if op.type == "MUTATION":
            assert op.source is not None and op.mutation is not None
            with op.source.open("rb") as source:
                source.seek(op.offset)
                for _ in range(count):
                    variables = json.loads(source.readline())
                    result = self.execute(op.mutation, variables, field_resolver=self.resolve)
                    line: dict[str, Any] = {"data": result.data}
                    if result.errors:
                        line["errors"] = [e.formatted for e in result.errors]
                    line["__lineNumber"] = op.done
                    out.write(json.dumps(line, separators=(",", ":")) + "\n")
                    op.done += 1
                    op.object_count += 1
                    op.root_object_count += 1
                op.offset = source.tell()
            return
        assert op.plan is not None
        end = op.done + count
        if op.plan.inner is not None:  # shopifyPaymentsAccount.balanceTransactions: its nodes
            roots: list[Any] = export_nodes(self.store, op.order_ids[op.done : end])
        else:
            roots = [o for i in op.order_ids[op.done : end] if (o := self.store.orders.get(i)) is not None]
        lines, error = self._exported(op, roots)
        if lines is None:
            lines, error = query_lines(self.execute, self.resolve, op.plan, roots)
        if error is not None:
            op.error_code = error
            self._finish(op, "FAILED", self.now())
            return
        for line in lines:
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
            op.object_count += 1
            op.root_object_count += "__parentId" not in line
        op.done = end

    def _exported(self, op: BulkOperation, roots: list[Any]) -> tuple[list[dict[str, Any]] | None, None]:
        """The lines of `roots` through the query's node plan, built once (bulkexport); None when it has
        none or a node needs graphql-core's own answer (its errors)."""
        if op.answer is None and self.compile is not None and op.plan is not None:
            op.answer = self.compile(op.plan) or False
        if not op.answer or op.plan is None:
            return None, None
        settle(self.store)  # as every execution of the document does
        try:
            nodes = [op.answer(root) for root in roots]
        except Exception:
            return None, None
        return [line for node in nodes for line in flatten(node, op.plan.shape)], None

    def _finish(self, op: BulkOperation, status: str, now: datetime) -> None:
        op.status, op.completed_at = status, now
        size = self.files.result_path(op.name).stat().st_size
        if status == "COMPLETED":
            op.file_size = size
            op.url = self.files.url(op.name) if op.object_count else None  # null when nothing matched
        elif op.object_count:
            op.partial_data_url = self.files.url(op.name)
        op.order_ids = []

    def _fail_running(self) -> None:
        """Every active operation ends FAILED (its partial data kept), and the worker is gone."""
        with self.lock:
            for op in self.operations.values():
                if op.status in ACTIVE:
                    op.error_code = "INTERNAL_SERVER_ERROR"
                    self._finish(op, "FAILED", self.now())
            self._worker = None

    def _wake(self) -> None:
        """Start the background worker if operations are active and none runs."""
        self._woken.set()
        if not (self.settings.background and self.settings.worker) or (
            self._worker is not None and self._worker.is_alive()
        ):
            return
        self._worker = threading.Thread(target=self._work, name="bulk-operations", daemon=True)
        self._worker.start()

    def _work(self) -> None:
        """The background thread: slices of due work, letting the requests waiting for the shop's lock
        in between; idle, it looks at the shop's clock every `TICK_S` (progress follows that clock)."""
        while True:
            self._woken.clear()
            try:
                more = self.work()
            except Exception:  # a bug of ours: end what runs FAILED, as Shopify's INTERNAL_SERVER_ERROR
                log.exception("bulk work failed: the running operations end FAILED")
                self._fail_running()
                return
            with self.lock:
                if not self.running():
                    self._worker = None
                    return
            if more:
                self.turns.let_through(SLICE_S)
            else:
                self._woken.wait(TICK_S)
