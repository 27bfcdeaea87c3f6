"""Which engine carries `execute` (SPEC §15), and the bulk engine set up on the run's client.

`auto` follows plan/engine.py on the run's orders; a run that already journaled a bulk operation
stays on the bulk engine whatever is asked, so a resume polls what it started.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import httpx

from pipeline.execute.action import Executor
from pipeline.execute.bulkengine import BulkExecution, Shown
from pipeline.execute.bulkjournal import BulkJournal
from pipeline.execute.bulklanes import LANE_MIN
from pipeline.plan.engine import EngineChoice, choose_engine
from pipeline.shopify.bulk import BulkOperations
from pipeline.shopify.client import ShopifyClient

log = logging.getLogger(__name__)

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
    """Carries the journal's pending work through bulk operations on `client`'s shop.

    Ctrl-C (`executor.stop`) ends the wait for a running operation at once: it goes on at Shopify,
    journaled, and the next run polls it."""
    settings = {"poll": POLL, "max_poll": MAX_POLL, **(options or {})}
    settings["sleep"] = _stoppable(settings.get("sleep"), executor.stop)
    lane_min = int(settings.pop("lane_min", LANE_MIN))
    bulk = BulkOperations(client, files, **settings)
    try:
        BulkExecution(executor, bulk, progress, tick, lane_min).run()
    except Interrupted:
        log.info("interrupted while a bulk operation runs: the next run polls it")
    finally:
        bulk.close()


class Interrupted(Exception):
    """Ctrl-C while waiting on a bulk operation."""


def _stoppable(sleep: Callable[[float], None] | None, stop: threading.Event) -> Callable[[float], None]:
    def wait(seconds: float) -> None:
        if sleep is None:
            stop.wait(seconds)
        else:
            sleep(seconds)
        if stop.is_set():
            raise Interrupted

    return wait
