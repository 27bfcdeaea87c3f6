"""Claims (SPEC §7a): the order metafield where a run records, once, that it took the order on.

A claim is `bulkcancel.claim`, type `json`: `{"run_id", "action_key", "plan_sha256", "steps":
[{"kind", "amount", "currency", "method"}], "at"}`. `release` overwrites it (compare-and-set) with
the same record plus `"released": true`: a released claim holds no order, and the next claim is
written with its digest.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.plan.keys import TOOL_TAG, run_tags
from pipeline.plan.steps import Step, StepKind

NAMESPACE = TOOL_TAG
KEY = "claim"
TYPE = "json"


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim as read from the order: who holds it, what it planned, and the digest to replace it."""

    run_id: str
    action_key: str
    steps: tuple[Mapping[str, Any], ...]
    digest: str
    released: bool = False

    def finished(self, tags: Sequence[str]) -> bool:
        """Whether the claiming run finished the order: its run tag, the last step, is on it."""
        wanted = run_tags(self.run_id)[1].casefold()
        return any(tag.casefold() == wanted for tag in tags)

    def did(self) -> str:
        """What the claim says its run did, in words ("cancel, refund 10.00 EUR original")."""
        parts = []
        for step in self.steps:
            kind = str(step.get("kind") or "")
            if kind in (str(StepKind.CLAIM), str(StepKind.TAG)):
                continue
            amount = step.get("amount")
            money = f" {amount} {step.get('currency')} {step.get('method')}" if amount else ""
            parts.append(f"{kind.replace('_', ' ')}{money}")
        return ", ".join(parts) or "nothing but its tag"


def moment(at: dt.datetime | None = None) -> str:
    """A UTC moment as claims and plans write it, to the millisecond (`2026-11-26T10:15:00.123Z`): a
    refund made earlier in the same second must not count as made since."""
    return (at or dt.datetime.now(dt.UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_claim(metafield: Mapping[str, Any] | None) -> Claim | None:
    """The claim of an order's `metafield(namespace: "bulkcancel", key: "claim")`, or None.

    A value that is not ours to read (not JSON, no run id) still holds the order: another tool wrote it.
    """
    if not metafield or metafield.get("value") is None:
        return None
    digest = str(metafield.get("compareDigest") or "")
    try:
        value = json.loads(metafield["value"])
    except (TypeError, ValueError):
        value = None
    if not isinstance(value, dict) or not value.get("run_id"):
        return Claim("(unreadable claim)", "", (), digest)
    steps = tuple(s for s in value.get("steps") or () if isinstance(s, dict))
    return Claim(
        str(value["run_id"]), str(value.get("action_key") or ""), steps, digest, bool(value.get("released"))
    )


def claim_value(run_id: str, action_key: str, plan_sha256: str, steps: Sequence[Step], at: str) -> str:
    """The JSON value a run writes when it claims an order: the planned steps, as §7a lists them."""
    record = {
        "run_id": run_id,
        "action_key": action_key,
        "plan_sha256": plan_sha256,
        "steps": [
            {
                "kind": str(step.kind),
                "amount": None if step.amount is None else str(step.amount),
                "currency": step.currency,
                "method": None if step.method is None else str(step.method),
            }
            for step in steps
        ],
        "at": at,
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def released_value(value: str, at: str) -> str:
    """A claim's value marked released (the record of what that run planned is kept)."""
    try:
        record = json.loads(value)
    except ValueError:
        record = {"value": value}
    if not isinstance(record, dict):
        record = {"value": record}
    record.update(released=True, released_at=at)
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))
