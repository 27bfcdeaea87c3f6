"""Which engine carries `execute` (SPEC §15), and the bulk engine set up on the run's client.

`auto` follows plan/engine.py on the run's orders; a run that already journaled a bulk operation
stays on the bulk engine whatever is asked, so a resume polls what it started.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from pipeline.execute.action import Executor
from pipeline.execute.bulkengine import BulkExecution, Shown
from pipeline.execute.bulkjournal import BulkJournal
from pipeline.plan.engine import EngineChoice, choose_engine
from pipeline.shopify.bulk import BulkOperations
from pipeline.shopify.client import ShopifyClient

STANDARD_RESTORE_RATE = 100.0  # points a second, when the shop's own is not known
POLL = 0.25  # seconds between polls at first; the waits grow to MAX_POLL
MAX_POLL = 2.0  # short: a poll costs a few points, a late one costs the run time past the floor


def engine_for(requested: str, executor: Executor, orders: int, restore_rate: float | None) -> EngineChoice:
    if BulkJournal(executor.journal).operations():
        return EngineChoice("bulk", "this run started on the bulk engine", orders, 0.0)
    rate = restore_rate or STANDARD_RESTORE_RATE
    return choose_engine(requested, orders, stage="execute", restore_rate=rate)


def run_bulk(
    executor: Executor,
    client: ShopifyClient,
    files: httpx.BaseTransport | None,
    progress: Shown | None,
    tick: Callable[[], None],
    options: dict[str, Any] | None = None,
) -> None:
    """Carries the journal's pending work through bulk operations on `client`'s shop."""
    settings = {"poll": POLL, "max_poll": MAX_POLL, **(options or {})}
    bulk = BulkOperations(client, files, **settings)
    try:
        BulkExecution(executor, bulk, progress, tick).run()
    finally:
        bulk.close()
