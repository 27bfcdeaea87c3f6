"""`plan`: valid rows → orders looked up in Shopify → decisions → a Plan. Reads only; never a mutation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from pipeline.plan.bulklookup import BulkLookup
from pipeline.plan.claims import moment
from pipeline.plan.decide import block_same_order, decide, needs_quote
from pipeline.plan.engine import EngineChoice, choose_engine, later_stages
from pipeline.plan.facts import OrderFacts
from pipeline.plan.files import write_plan_files
from pipeline.plan.lookup import Lookup, LookupProgress
from pipeline.plan.model import Plan, PlannedRow
from pipeline.plan.quote import RefundQuote
from pipeline.reports.heap import frozen_heap
from pipeline.settings import ConnectionSettings
from pipeline.shopify.bulk import BulkOperations
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.progress import Progress
from pipeline.validate.read import InputTable
from pipeline.validate.rows import OrderRow

QUOTE_WORKERS = 8  # enough to keep the cost bucket busy at 100 ms latency; the governor paces them
STANDARD_RESTORE_RATE = 100.0  # points a second, when the shop's own is not known
#: How a plan's bulk query is polled: soon at first, then every 2 s (a poll costs a point, a late one time).
BULK_POLLING = {"poll": 0.25, "max_poll": 2.0}


def plan_engine(
    requested: str, rows: int, restore_rate: float | None = None, bucket: float | None = None
) -> EngineChoice:
    """The engine that reads a plan's `rows` orders (SPEC §15), on the shop's limits from its first look."""
    rate = restore_rate or STANDARD_RESTORE_RATE
    return choose_engine(requested, rows, stage="plan", restore_rate=rate, bucket=bucket or 0.0)


def new_run_dir(root: Path, input_stem: str, now: dt.datetime | None = None) -> Path:
    """A new, unique `<root>/YYYYMMDD-HHMMSS-<input stem>` (UTC; `-2`, `-3`… if taken)."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", input_stem).strip("-.") or "input"
    root.mkdir(parents=True, exist_ok=True)
    candidate, n = root / f"{stamp}-{stem}", 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = root / f"{stamp}-{stem}-{n}"


def make_plan(
    rows: Sequence[OrderRow],
    lookup: Lookup,
    *,
    run_id: str,
    shop: str,
    api_version: str,
    input_name: str,
    input_sha256: str,
    include_test: bool = False,
    allow_repeat: bool = False,
    shop_url: str = "",
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Plan:
    """Looks every row's order up, reads `suggestedRefund` where needed, and decides each row.

    A lookup that streams (the bulk one) tells of each row whose order it has read as it reads it: that
    row's quote starts then, so the paced quotes overlap the rest of the read, and the rows needing
    no quote are decided while the quotes wait for the cost bucket."""
    created_at = moment(now())
    with ThreadPoolExecutor(max_workers=QUOTE_WORKERS, thread_name_prefix="quote") as pool:
        started: dict[int, Future[RefundQuote]] = {}  # row number → its quote, asked

        def decide_row(row: OrderRow, found: list[OrderFacts], quote: RefundQuote | None) -> PlannedRow:
            return decide(
                row, found, quote, run_id=run_id, include_test=include_test, allow_repeat=allow_repeat
            )

        def ask(row: OrderRow, facts: OrderFacts) -> None:
            if row.row not in started and needs_quote(
                row, facts, include_test=include_test, allow_repeat=allow_repeat
            ):
                started[row.row] = pool.submit(lookup.quote, row, facts)

        try:
            lookup.prefetch(rows, pool)  # first in the pool's queue: the bulk lookup's early line quotes
            matches = lookup.matches(rows, ask)
            for row in rows:  # the rows not told of early: by name, or when the lookup does not stream
                if len(matches[row.row]) == 1:
                    ask(row, matches[row.row][0])
            decided = {
                row.row: decide_row(row, matches[row.row], None) for row in rows if row.row not in started
            }
            for row in rows:
                if row.row in started:
                    decided[row.row] = decide_row(row, matches[row.row], started[row.row].result())
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    planned = block_same_order([decided[row.row] for row in rows])
    planned.sort(key=lambda p: p.row)
    return Plan(
        run_id=run_id,
        rows=planned,
        created_at=created_at,
        shop=shop,
        api_version=api_version,
        input_name=input_name,
        input_sha256=input_sha256,
        shop_url=shop_url,
    )


def plan_input(
    table: InputTable,
    rows: Sequence[OrderRow],
    settings: ConnectionSettings,
    out_root: Path,
    *,
    include_test: bool = False,
    allow_repeat: bool = False,
    transport: httpx.BaseTransport | None = None,
    progress: LookupProgress | None = None,
    run_dir: Path | None = None,
    engine: str = "paced",
    restore_rate: float | None = None,
    bucket: float | None = None,
    bulk_progress: Callable[[Progress], None] | None = None,
    bulk_options: dict[str, Any] | None = None,
) -> tuple[Plan, Path]:
    """Plans validated rows against the shop and writes the five plan files into `run_dir` (default: a new
    run directory under `out_root`). `engine` (auto, paced, bulk) reads the orders and is recorded in
    the plan with what execute and reconcile would take, weighed on the shop's `restore_rate` and
    `bucket`; `bulk_options` go to `BulkOperations` (tests pass the simulator's clock)."""
    run_dir = run_dir or new_run_dir(out_root, Path(table.source).stem)
    choice = plan_engine(engine, len(rows), restore_rate, bucket)
    with ShopifyClient(settings, transport) as client:
        bulk = BulkOperations(client, transport, **{**BULK_POLLING, **(bulk_options or {})})
        try:
            lookup = (
                BulkLookup(client, bulk, progress, bulk_progress)
                if choice.engine == "bulk"
                else Lookup(client, progress)
            )
            plan = make_plan(
                rows,
                lookup,
                run_id=run_dir.name,
                shop=settings.shop,
                api_version=settings.api_version,
                input_name=table.source,
                input_sha256=table.sha256,
                include_test=include_test,
                allow_repeat=allow_repeat,
                shop_url=settings.shop_url,
            )
        finally:
            bulk.close()
    rate = restore_rate or STANDARD_RESTORE_RATE
    later = later_stages(engine, len(plan.actions()), restore_rate=rate, bucket=bucket or 0.0)
    plan = replace(plan, engines={"plan": choice, **later})
    with frozen_heap():  # the plan lives until the stage ends: out of the collector's walks
        write_plan_files(plan, run_dir)
    return plan, run_dir
