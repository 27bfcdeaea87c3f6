"""Whether what the shop shows was done by this action: the action key as a whole token in a note.

Every note this tool writes (the cancel's staff note, the refund's and the gift card's note) ends
with `[action key]` (`plan.keys.staff_note`). Matching the bracketed token, never a bare substring,
keeps the key of order …049 from claiming the card of order …0490.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.plan.keys import carries_key

__all__ = ["cancelled_by_us", "carries_key"]


def cancelled_by_us(order: Mapping[str, Any], action_key: str, *, we_sent_it: bool) -> bool:
    """Whether the cancelled `order` was cancelled by this action (the one place that decides it).

    Shopify keeps the cancel's staff note (`Order.cancellation.staffNote`, 2026-07), and ours
    carries the action key: that settles it when the note can be read. When it cannot, the cancel
    counts as ours only if the journal holds an attempt of ours that was sent (an answer lost, then
    "already cancelled"): a first attempt answered "already cancelled" is someone else's cancel.
    """
    cancellation = order.get("cancellation") or {}
    note = cancellation.get("staffNote")
    if note is not None:
        return carries_key(note, action_key)
    return we_sent_it
