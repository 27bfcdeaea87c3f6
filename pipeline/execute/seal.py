"""What the journal is seeded with: the plan's actions as rows, and the seal that ties a run to them.

The seal is the sha256 of the canonical JSON of every action with every field of every step
(amounts, methods, lines, notes…), so a plan.json edited after execution started, even with a
recomputed plan.sha256, does not match the journal it started and is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.errors import JournalError, RefusedError
from pipeline.plan.model import PlannedAction
from pipeline.plan.steps import StepKind

KINDS = tuple(kind.value for kind in StepKind)  # the values the steps table accepts

#: An action as the journal seeds it: (action key, order id, order name, [(index, kind, idempotency key)]).
SeedAction = tuple[str, str, str, Iterable[tuple[int, str, str | None]]]


@dataclass(frozen=True)
class SeedRow:
    """One action as the journal stores it, and the canonical JSON text its seal is taken over (text,
    not the record: a plan's worth of dicts would cost several times the plan's own size)."""

    action_key: str
    order_id: str
    order_name: str
    steps: list[tuple[int, str, str | None]]
    record: str


def seed_rows(actions: Iterable[PlannedAction | SeedAction]) -> list[SeedRow]:
    """The actions as journal rows; JournalError when a step is malformed, RefusedError on a repeated key."""
    rows = []
    for action in actions:
        steps: list[tuple[int, str, str | None]]
        if isinstance(action, PlannedAction):
            steps = [(index, str(step.kind), step.idempotency_key) for index, step in enumerate(action.steps)]
            key, order_id, order_name = action.action_key, action.order_id, action.order_name
            record: object = action.to_json()
        else:
            key, order_id, order_name, raw = action
            steps = [
                (int(index), str(kind), None if ikey is None else str(ikey)) for index, kind, ikey in raw
            ]
            record = [key, order_id, order_name, steps]
        for _, kind, _ in steps:
            if kind not in KINDS:
                raise JournalError(f"action {key}: unknown step kind {kind!r}")
        if not steps or [s[0] for s in steps] != sorted({s[0] for s in steps}):
            raise JournalError(f"action {key}: steps must exist, with unique ascending indexes")
        rows.append(SeedRow(str(key), str(order_id), str(order_name), steps, _canonical(record)))
    refuse_repeated_keys(
        [(f"action {n + 1} ({row.order_name})", row.action_key) for n, row in enumerate(rows)]
    )
    return rows


def _canonical(record: object) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def seal(rows: Iterable[SeedRow]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of every action and every step field: the
    list's text hashed an action at a time (the same bytes as the whole list dumped at once)."""
    digest = hashlib.sha256(b"[")
    for n, row in enumerate(rows):
        digest.update(b"," if n else b"")
        digest.update(row.record.encode())
    digest.update(b"]")
    return digest.hexdigest()


def refuse_repeated_keys(labelled: Iterable[tuple[str, str]]) -> None:
    """RefusedError naming both when two executable actions share an action key (one order twice)."""
    seen: dict[str, str] = {}
    for label, key in labelled:
        if key in seen:
            raise RefusedError(
                f"{seen[key]} and {label} both act on one order (action key {key}): "
                "an order may be named once in a plan"
            )
        seen[key] = label
