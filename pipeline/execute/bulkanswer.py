"""One line of a bulk mutation's result file turned into the step's outcome, by the paced rules.

A line is `{"data": …, "errors": …, "__lineNumber": n}`. Top-level errors without data mean the line
did not run (as a GraphQL error does in the paced engine): failed. A claim's userErrors are failures
here, then read to tell ours and another run's apart (bulkengine.py); every other kind is answered
as the paced runner answers it, and an unsent gift card's code goes to the codes file once.
"""

from __future__ import annotations

from typing import Any

from pipeline.execute.action import Executor
from pipeline.execute.bulkjournal import BulkLine
from pipeline.execute.runner import Outcome, Status
from pipeline.plan.steps import StepKind


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
