"""The bulk engine's reads (SPEC §15): the planned orders' state through one bulk query, and what it
proves about a step whose line went unanswered (an operation that FAILED part way, a crash).

The read is free of the cost bucket (only its start and polls are charged), so it serves both the drift
check before money moves and the verification before anything is sent again. Deciding is pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pipeline.execute.action import Executor
from pipeline.execute.drift import drift
from pipeline.execute.journal import JournalStep, PendingAction
from pipeline.execute.ours import cancelled_by_us, carries_key
from pipeline.execute.runner import Outcome, Status
from pipeline.plan.claims import parse_claim
from pipeline.plan.keys import legacy_id
from pipeline.plan.model import PlannedAction
from pipeline.plan.steps import Step, StepKind
from pipeline.shopify.bulk import BulkOperations, id_range
from pipeline.shopify.progress import Progress

Shown = Callable[[Progress], None] | None
Item = tuple[PlannedAction, JournalStep]
#: The step kinds one order read settles; a gift card lives on the customer, a notification nowhere.
READABLE = frozenset({StepKind.CLAIM, StepKind.CANCEL, StepKind.REFUND, StepKind.TAG})


def read_orders(
    bulk: BulkOperations,
    order_ids: Iterable[str],
    progress: Callable[[Progress], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """The orders of `order_ids` as `OrdersBulkState` reads them (an order not found is absent)."""
    wanted = set(order_ids)
    if not wanted:
        return {}
    query = id_range(int(legacy_id(i)) for i in wanted)
    read = bulk.read("OrdersBulkState", {"query": query}, progress=progress)
    return {str(o["id"]): o for o in read if str(o.get("id")) in wanted}


def check_drift(ex: Executor, bulk: BulkOperations, work: Iterable[PendingAction], progress: Shown) -> None:
    """Before anything is sent for an action, its order must be as planned (one bulk read for all)."""
    fresh = [
        ex.plan_actions[pending.action_key]
        for pending in work
        if all(s.state == "pending" and s.attempts == 0 for s in pending.steps)
    ]
    if not fresh:
        return
    orders = read_orders(bulk, (a.order_id for a in fresh), progress)
    for action in fresh:
        why = drift(
            action,
            orders.get(action.order_id),
            planned_at=ex.planned_at,
            started=False,
            cancelled_by_us=False,
        )
        if why:
            ex.journal.mark_drifted(action.action_key, why)


def undrifted(
    ex: Executor,
    bulk: BulkOperations,
    items: list[Item],
    progress: Shown,
    read: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Item]:
    """The money steps whose orders are still as planned, read right before they are sent; the rest
    are journaled drifted. `read`: a read of the shop taken since the last operation ended, which the
    check uses when it holds every one of these orders (nothing of ours ran on them since)."""
    wanted = {a.order_id for a, _ in items}
    fresh = read is not None and wanted <= read.keys()
    orders = read if read is not None and fresh else read_orders(bulk, wanted, progress)
    kept = []
    for action, journaled in items:
        why = drifted_since_claim(action, journaled.index, orders.get(action.order_id), ex.planned_at)
        if why:
            ex.journal.mark_drifted(action.action_key, why)
        else:
            kept.append((action, journaled))
    return kept


def drifted_since_claim(
    action: PlannedAction, index: int, order: Mapping[str, Any] | None, planned_at: dt.datetime
) -> str | None:
    """Right before a money step (its order claimed): why it must not go on, as the paced re-read says.

    The bulk read carries no refund transactions, so a refund by someone else is seen by its id and
    date, not its amount (any such refund counts)."""
    ours = any(step.kind is StepKind.CANCEL for step in action.steps[:index])
    if order is not None:
        refunds = [dict(r, transactions={"nodes": [_ANY]}) for r in order.get("refunds") or ()]
        order = {**order, "refunds": refunds}
    return drift(action, order, planned_at=planned_at, started=True, cancelled_by_us=ours)


# A stand-in transaction for a refund read without its transactions: counted as money moved.
_ANY = {"kind": "REFUND", "status": "SUCCESS", "amountSet": {"presentmentMoney": {"amount": "0.01"}}}


def proven(
    action: PlannedAction,
    step: Step,
    order: Mapping[str, Any] | None,
    run_id: str,
    job_id: str | None,
) -> Outcome:
    """What the order shows of this step: DONE, NOT_APPLIED (may be sent), DRIFTED, or UNKNOWN."""
    key = action.action_key
    if order is None:
        return Outcome(Status.UNKNOWN, message="the order was not in the bulk read")
    if step.kind is StepKind.CLAIM:
        claim = parse_claim(order.get("claim"))
        if claim is None:
            return Outcome(Status.NOT_APPLIED)
        if claim.run_id == run_id and claim.action_key == key:
            return Outcome(Status.DONE)
        if step.compare_digest is not None and claim.digest == step.compare_digest:
            return Outcome(Status.NOT_APPLIED)
        return Outcome(Status.DRIFTED, message=f"claimed by run {claim.run_id}")
    if step.kind is StepKind.CANCEL:
        ids = {"job_id": job_id} if job_id else {}
        if order.get("cancelledAt"):
            if cancelled_by_us(order, key, we_sent_it=True):
                return Outcome(Status.DONE, ids)
            return Outcome(
                Status.DRIFTED, ids, message="cancelled by someone else (its staff note is not ours)"
            )
        if job_id:  # accepted: its job has not cancelled the order yet
            return Outcome(Status.UNKNOWN, ids, message="the cancel job has not finished yet")
        return Outcome(Status.NOT_APPLIED)
    if step.kind is StepKind.REFUND:
        for refund in order.get("refunds") or ():
            if carries_key(refund.get("note"), key):
                return Outcome(Status.DONE, {"refund_id": refund["id"]})
        return Outcome(Status.NOT_APPLIED)
    if step.kind is StepKind.TAG:
        tags = {t.casefold() for t in order.get("tags") or ()}
        return Outcome(Status.DONE if all(t.casefold() in tags for t in step.tags) else Status.NOT_APPLIED)
    raise ValueError(f"a {step.kind} step is not proven by the order read")


class Rechecks:
    """NOT_APPLIED for a cancel or a gift card only when a second read, a cancel job's wait after the
    first, agrees: a cancel line that ran has its job still to run, and a new card may not be found by
    search yet. Until then the step stays UNKNOWN and is read again (never sent)."""

    def __init__(self, clock: Callable[[], float], wait: float) -> None:
        self.clock, self.wait = clock, wait
        self.first: dict[tuple[str, int], float] = {}  # when a read first found the step not applied

    def judge(self, kind: StepKind, key: str, index: int, outcome: Outcome) -> Outcome:
        where = (key, index)
        if kind not in (StepKind.CANCEL, StepKind.GIFT_CARD) or outcome.status is not Status.NOT_APPLIED:
            self.first.pop(where, None)
            return outcome
        first = self.first.setdefault(where, self.clock())
        if self.clock() - first >= self.wait:
            del self.first[where]
            return outcome
        return Outcome(Status.UNKNOWN, outcome.ids, message="not found: read again after a cancel job's wait")

    def remaining(self) -> float:
        """Seconds until the earliest second read is due (0 when none waits)."""
        now = self.clock()
        return max(0.0, min((t + self.wait - now for t in self.first.values()), default=0.0))
