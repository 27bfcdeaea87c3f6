"""The claim step (SPEC §7a): one compare-and-set `metafieldsSet` that takes the order for this run.

Written → done. Refused (`STALE_OBJECT`, or any claim already there) or answer lost → the claim is
read: ours (this run and action key: a lost answer, a resume) → done; the one the plan saw, still
in place → not applied (sent again); anyone else's → drifted, "claimed by run X", nothing sent.
"""

from __future__ import annotations

from typing import Any

from pipeline.errors import AuthError, OutcomeUnknownError, ShopifyError, TransientError
from pipeline.execute.runner import Outcome, Status
from pipeline.plan import claims
from pipeline.plan.claims import Claim, claim_value, moment, parse_claim
from pipeline.plan.model import PlannedAction
from pipeline.plan.steps import Step
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.retry import execute_with_retry, retrying


def claim_input(order_id: str, value: str, compare_digest: str | None) -> dict[str, Any]:
    """One `MetafieldsSetInput`; `compareDigest` is always sent, null meaning "only if absent"."""
    return {
        "ownerId": order_id,
        "namespace": claims.NAMESPACE,
        "key": claims.KEY,
        "type": claims.TYPE,
        "value": value,
        "compareDigest": compare_digest,
    }


def read_claim(client: ShopifyClient, order_id: str) -> tuple[dict[str, Any], Claim | None]:
    """The order as `OrderClaim` reads it, and its claim."""
    order = execute_with_retry(client, "OrderClaim", {"id": order_id}, mutation=False).data["order"] or {}
    return order, parse_claim(order.get("claim"))


class Claimer:
    """Claims orders for one run: `run_id` and the sha256 of its plan.json go into every claim."""

    def __init__(self, client: ShopifyClient, run_id: str, plan_sha256: str) -> None:
        self.client = client
        self.run_id = run_id
        self.plan_sha256 = plan_sha256

    def send(self, action: PlannedAction, step: Step) -> Outcome:
        """Writes the claim once; a refusal or a lost answer is settled by reading the claim."""
        at = moment()
        value = claim_value(self.run_id, action.action_key, self.plan_sha256, action.steps, at)
        variables = {"metafields": [claim_input(action.order_id, value, step.compare_digest)]}
        try:
            data = retrying()(self.client.execute, "ClaimSet", variables, mutation=True).data
        except OutcomeUnknownError as exc:
            return Outcome(Status.UNKNOWN, message=str(exc))
        except TransientError as exc:
            return Outcome(Status.NOT_APPLIED, message=str(exc))
        errors = (data.get("metafieldsSet") or {}).get("userErrors") or []
        if not errors:
            return Outcome(Status.DONE)
        settled = self.verify(action, step)
        if settled.status is Status.NOT_APPLIED:  # refused, and not for someone else's claim
            first = errors[0]
            return Outcome(
                Status.FAILED,
                code=str(first.get("code") or "user_error"),
                message="; ".join(e["message"] for e in errors),
            )
        return settled

    def verify(self, action: PlannedAction, step: Step) -> Outcome:
        """Whose claim is on the order: ours → DONE; none, or the one the plan saw → NOT_APPLIED;
        another run's → DRIFTED; UNKNOWN when it cannot be read now."""
        try:
            _order, claim = read_claim(self.client, action.order_id)
        except AuthError:
            raise
        except ShopifyError as exc:
            return Outcome(Status.UNKNOWN, message=f"could not read the claim: {exc}")
        if claim is None:
            return Outcome(Status.NOT_APPLIED)
        if claim.run_id == self.run_id and claim.action_key == action.action_key:
            return Outcome(Status.DONE)
        if step.compare_digest is not None and claim.digest == step.compare_digest:
            return Outcome(Status.NOT_APPLIED)
        return Outcome(Status.DRIFTED, message=f"claimed by run {claim.run_id}")
