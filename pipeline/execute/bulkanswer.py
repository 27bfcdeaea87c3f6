"""One line of a bulk mutation: its variables, and its answer turned into the step's outcome by the
paced rules.

A line is `{"data": …, "errors": …, "__lineNumber": n}`. Top-level errors without data mean the line
did not run (as a GraphQL error does in the paced engine): failed. A claim's userErrors are failures
here, then read to tell ours and another run's apart (bulkengine.py); every other kind is answered
as the paced runner answers it, and an unsent gift card's code goes to the codes file once.
"""

from __future__ import annotations

from typing import Any

from pipeline.execute.action import Executor
from pipeline.execute.bulkjournal import BulkJournal, BulkLine
from pipeline.execute.bulkread import proven, read_orders
from pipeline.execute.claim import claim_input
from pipeline.execute.journal import JournalStep
from pipeline.execute.mutations import variables
from pipeline.execute.runner import Outcome, Status
from pipeline.plan.claims import claim_value, moment
from pipeline.plan.steps import StepKind
from pipeline.shopify.bulk import BulkOperations


def line_variables(ex: Executor, action: Any, journaled: JournalStep) -> dict[str, Any]:
    """The step's line of variables: a claim stamped now, any other kind as the paced engine sends it."""
    step = action.steps[journaled.index]
    if step.kind is StepKind.CLAIM:
        at = moment()
        claimer = ex.claimer
        value = claim_value(claimer.run_id, action.action_key, claimer.plan_sha256, action.steps, at)
        return {"metafields": [claim_input(action.order_id, value, step.compare_digest)]}
    notify = step.kind is StepKind.GIFT_CARD_NOTIFY
    card = ex.journal.gift_card_id(action.action_key) if notify else None
    return variables(action.order_id, step, card)[1]


def line_outcome(ex: Executor, kind: StepKind, line: BulkLine, answer: dict[str, Any]) -> Outcome:
    action = ex.plan_actions[line.action_key]
    step = action.steps[line.index]
    data = answer.get("data") or {}
    payload = next(iter(data.values()), None) if data else None
    if payload is None:
        said = "; ".join(str(e.get("message")) for e in answer.get("errors") or ()) or "no answer"
        return Outcome(Status.FAILED, code="graphql", message=said)
    if kind is StepKind.CLAIM:
        refused = payload.get("userErrors") or []
        if not refused:
            return Outcome(Status.DONE)
        first = refused[0]
        message = "; ".join(e["message"] for e in refused)
        return Outcome(Status.FAILED, code=str(first.get("code") or "user_error"), message=message)
    outcome = ex.runner._answer(action.order_id, step, action.action_key, data, sent_before=False)
    ex._keep_code(action, step, outcome)
    return outcome


def settle_refused_claims(
    ex: Executor,
    bulk: BulkOperations,
    journal: BulkJournal,
    seq: int,
    refused: list[tuple[BulkLine, Outcome]],
) -> None:
    """A refused claim is read: ours after all, another run's (drifted), or a plain failure."""
    if not refused:
        return
    orders = read_orders(bulk, {ex.plan_actions[line.action_key].order_id for line, _ in refused})
    settled = []
    for line, failure in refused:
        action = ex.plan_actions[line.action_key]
        found = proven(action, action.steps[line.index], orders.get(action.order_id), ex.journal.run_id, None)
        settled.append((line, failure if found.status is Status.NOT_APPLIED else found))
    journal.settle(seq, settled)
