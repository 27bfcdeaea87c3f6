"""`select` end to end: search, read, keep the affected orders, write the file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.select.affected import Selection, affected, search_query
from pipeline.select.output import write_rows
from pipeline.select.reader import read
from pipeline.shopify.bulk import BulkOperations
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.progress import Progress


@dataclass(frozen=True)
class Selected:
    """What `select` did: the search, how it read, what it wrote."""

    query: str
    engine: str
    matched: int
    written: int
    out: Path


def select_orders(
    client: ShopifyClient,
    bulk: BulkOperations,
    selection: Selection,
    out: Path,
    *,
    mode: str | None = None,
    engine: str = "auto",
    progress: Callable[[Progress], None] | None = None,
) -> Selected:
    """Writes the input file of the orders the stock-out affects; never writes to Shopify."""
    query = search_query(selection)
    reading = read(client, bulk, query, engine=engine, progress=progress)
    rows = (row for order in reading.orders if (row := affected(order, selection)) is not None)
    written = write_rows(out, rows, mode)
    return Selected(query, reading.engine, reading.matched, written, out)
