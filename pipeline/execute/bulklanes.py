"""A large bulk run split into lanes (SPEC §15): each lane a contiguous range of the run's orders,
carried through its own operations (claims, then cancels, … then tags) while the other lanes run.

Shopify runs up to five bulk operations at once per shop and recommends splitting large jobs into
parallel ones ("faster bulk operations" changelog, 2026-01). A lane waits for its own operation only:
its cancels start as soon as its claims are done, whatever the other lanes are doing, and an order's
steps keep their order because an order belongs to one lane. Each lane has at most one operation
running, so five lanes never ask for a sixth slot (another app's operations are waited out by the
start's LIMIT_REACHED loop). A run small enough is one lane: one operation per step kind.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable

from pipeline.execute.journal import PendingAction
from pipeline.plan.keys import legacy_id

MAX_LANES = 5  # Shopify's limit of bulk operations running at once on a shop
LANE_MIN = 2500  # orders: a smaller lane costs more calls per order than its overlap saves


Lane = tuple[int, int]  # the first and last order number (an order id's digits) of a lane


def lanes(work: Iterable[PendingAction], lane_min: int = LANE_MIN, most: int = MAX_LANES) -> list[Lane]:
    """The pending actions in up to `most` lanes of at least `lane_min` orders, each a range of order
    numbers that no other lane overlaps (a lane's bulk reads cover its range only)."""
    return split_numbers((int(legacy_id(p.order_id)) for p in work), lane_min, most)


def split_numbers(
    order_numbers: Iterable[int], lane_min: int = LANE_MIN, most: int = MAX_LANES
) -> list[Lane]:
    """`lanes` from the pending orders' numbers alone (no steps built: the journal gives them by SQL)."""
    numbers = sorted(order_numbers)
    if not numbers:
        return []
    count = max(1, min(most, len(numbers) // max(lane_min, 1)))
    bounds = [len(numbers) * n // count for n in range(count + 1)]
    return [(numbers[a], numbers[b - 1]) for a, b in itertools.pairwise(bounds)]


def run_lanes(split: list[Lane], work: Callable[[Lane], None]) -> None:
    """Runs `work` for each lane in its own thread, all at once; the first lane's error is raised once
    every lane has returned (a lane's failure leaves the others' operations to finish, journaled)."""
    if len(split) <= 1:
        for lane in split:
            work(lane)
        return
    errors: list[BaseException] = []

    def guarded(lane: Lane) -> None:
        try:
            work(lane)
        except BaseException as exc:  # re-raised in the caller's thread below
            errors.append(exc)

    threads = [
        threading.Thread(target=guarded, args=(lane,), name=f"bulk-lane-{n}", daemon=True)
        for n, lane in enumerate(split)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
