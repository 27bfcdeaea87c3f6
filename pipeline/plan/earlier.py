"""What earlier runs of this tool left on an order, read from the shop (SPEC §6, §7a): their claims.

An order held by a run that has not finished is blocked; one that a run finished is already done,
unless `--allow-repeat`; a released claim holds nothing. A cancel is this tool's only when the
cancel's staff note carries the claim's action key.
"""

from __future__ import annotations

from pipeline.plan.facts import OrderFacts
from pipeline.plan.keys import carries_key
from pipeline.plan.model import Decision, ReasonCode


def held_or_done(facts: OrderFacts, allow_repeat: bool) -> tuple[Decision, ReasonCode, str] | None:
    """SPEC §7a: an order held by a run that has not finished is blocked; one a run finished is done,
    unless `--allow-repeat`. A released claim holds nothing."""
    claim = facts.claim
    if claim is None or claim.released:
        return None
    if not claim.finished(facts.tags):
        return (
            Decision.BLOCKED,
            ReasonCode.CLAIMED,
            f"held by run {claim.run_id}, which has not finished: resume it with bulkcancel execute, "
            f"or bulkcancel release {claim.run_id}",
        )
    if allow_repeat:
        return None
    return (
        Decision.SKIP,
        ReasonCode.ALREADY_DONE,
        f"already done by run {claim.run_id}: {claim.did()} — --allow-repeat to do it again",
    )


def repeats(facts: OrderFacts) -> str | None:
    """The run whose finished claim this row's action repeats (`--allow-repeat`), if any."""
    claim = facts.claim
    return claim.run_id if claim is not None and not claim.released and claim.finished(facts.tags) else None


def cancelled_by_run(facts: OrderFacts) -> str | None:
    """The run of this tool that cancelled the order: its claim's action key is in the cancel's note.

    A tag of this tool proves nothing (a goodwill refund leaves one too); only the key does.
    """
    claim = facts.claim
    if claim is not None and claim.action_key and carries_key(facts.cancel_note, claim.action_key):
        return claim.run_id
    return None
