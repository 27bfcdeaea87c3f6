"""Drift, pure: what changed on an order since the plan that this action did not do (SPEC §7, §7a).

Before an action starts, any change to the plan's fingerprint is drift (`OrderDriftRead`). Before
each later money step (and on resume) our own steps have changed the order, so the test narrows to
what matters (`OrderSincePlan`): a cancel, or a refund moving money, made since the plan by someone
else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pipeline.execute.ours import carries_key
from pipeline.models import instant
from pipeline.plan.claims import parse_claim
from pipeline.plan.facts import Fingerprint
from pipeline.plan.model import PlannedAction
from pipeline.plan.steps import StepKind

# A refund still on its way back (PENDING) is money the customer gets: it counts as refunded.
LIVE = frozenset({"SUCCESS", "PENDING"})


def refunded_by(refund: Mapping[str, Any]) -> Decimal:
    """The money a refund gives back: its REFUND transactions that succeeded or are pending."""
    total = Decimal(0)
    for transaction in (refund.get("transactions") or {}).get("nodes") or ():
        if transaction.get("kind") in (None, "REFUND") and transaction.get("status") in LIVE:
            total += Decimal(str(transaction["amountSet"]["presentmentMoney"]["amount"]))
    return total


def _held_by_another_run(action: PlannedAction, order: Mapping[str, Any]) -> str | None:
    """Another run's claim on the order, unless it is the one this action's claim replaces (SPEC §7a)."""
    claim = parse_claim(order.get("claim"))
    if claim is None or claim.action_key == action.action_key:
        return None
    replaced = next((s.compare_digest for s in action.steps if s.kind is StepKind.CLAIM), None)
    return None if replaced is not None and replaced == claim.digest else f"claimed by run {claim.run_id}"


def drift(
    action: PlannedAction,
    order: Mapping[str, Any] | None,
    *,
    planned_at: dt.datetime,
    started: bool,
    cancelled_by_us: bool,
) -> str | None:
    """Why the action must not go on, in words, or None.

    `started`: some step of the action was already sent (the fingerprint no longer applies);
    `cancelled_by_us`: the action's own cancel step is done.
    """
    if order is None:
        return "the order no longer exists"
    held = _held_by_another_run(action, order)
    if held:
        return held
    if not started:
        changed = action.fingerprint.changes(Fingerprint.of_order(order))
        if changed:
            return changed
    cancelled = order.get("cancelledAt")
    # Shopify writes whole seconds: a cancel in the plan's own second counts as since the plan (an
    # order the plan saw cancelled has no cancel planned; a refund-only action stops, the safe side).
    if cancelled and instant(cancelled) >= planned_at.replace(microsecond=0) and not cancelled_by_us:
        return f"cancelled by someone else since the plan (at {cancelled})"
    unseen = [
        (refund["id"], amount)
        for refund in order.get("refunds") or ()
        if action.fingerprint.new_since_plan(refund["id"], instant(refund["createdAt"]), planned_at)
        and not carries_key(refund.get("note"), action.action_key)
        and (amount := refunded_by(refund)) > 0
    ]
    if unseen:
        listed = ", ".join(f"{amount} ({refund_id})" for refund_id, amount in unseen)
        return f"refunded by someone else since the plan: {listed}"
    return None
