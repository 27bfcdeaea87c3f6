"""The deterministic keys that let execution resume an action safely, and the notes that carry them.

Keys are pure functions of the run id and the order id, so planning the same run twice gives the
same action keys and idempotency keys:
- action key: `bc-<run-id>-<order legacy id>`;
- idempotency key of step `i`: `uuid5(NAMESPACE, f"{action_key}/{i}")` (sent by `refundCreate`;
  for the other steps it names the step in the journal);
- gift cards carry no code from us: a code is a bearer credential and must not sit in plan files.
  The card's note holds the action key, so execution can find a card whose answer was lost among
  the customer's cards (`giftCards(query: "customer_id:…")`, matched on the note).
"""

from __future__ import annotations

import uuid

#: Fixed namespace of every idempotency key this tool mints (never change it: keys must be stable).
NAMESPACE = uuid.UUID("5b0c3d4e-9a1f-4c55-8e2b-b17ca9ce1a11")
TOOL_TAG = "bulkcancel"
STAFF_NOTE_LIMIT = 255


def legacy_id(gid: str) -> str:
    """`gid://shopify/Order/123` → `123`."""
    return gid.rsplit("/", 1)[-1]


def action_key(run_id: str, order_id: str) -> str:
    """The stable key of the action on one order in one run."""
    return f"bc-{run_id}-{legacy_id(order_id)}"


def idempotency_key(key: str, index: int) -> str:
    """The idempotency key of step `index` of the action `key`: the same on every re-plan and retry."""
    return str(uuid.uuid5(NAMESPACE, f"{key}/{index}"))


def staff_note(note: str, key: str) -> str:
    """The row's note plus the action key, at most 255 characters: the note is cut, never the key."""
    suffix = f"[{key}]"
    room = STAFF_NOTE_LIMIT - len(suffix) - 1
    note = note.strip()
    if not note or room <= 0:
        return suffix[:STAFF_NOTE_LIMIT]
    if len(note) > room:
        note = note[: room - 1].rstrip() + "…"
    return f"{note} {suffix}"


def note_without_key(note: str, key: str) -> str:
    """The row's note as the person wrote it: `staff_note` without the ` [action key]` it appends."""
    return note.removesuffix(f"[{key}]").rstrip()


def run_tags(run_id: str) -> tuple[str, str]:
    """The tags every action ends with."""
    return (TOOL_TAG, f"{TOOL_TAG}-{run_id}")


def carries_key(note: str | None, action_key: str) -> bool:
    """True when `note` carries `action_key` as a whole token (`[key]`), or is exactly the key."""
    text = (note or "").strip()
    return f"[{action_key}]" in text or text == action_key
