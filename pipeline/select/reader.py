"""Reading the orders a search finds: the paced API on a small shop, a bulk query on a large one.

The threshold is on the orders the search matches (`ordersCount`, capped at 10,000): up to
`PACED_MAX` they are read a page at a time (about 32 points an order: 8,000 points for 250, most of
it within a Standard shop's 2,000-point burst plus a minute of restore); above it, one bulk query,
whose price is a few polls whatever the size, and whose fixed delay (Shopify queues the
operation, then writes the file) is paid back many times over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pipeline.errors import ShopifyError
from pipeline.select.affected import ShopOrder
from pipeline.shopify.bulk import BulkOperations
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.jsonl import records
from pipeline.shopify.progress import Progress
from pipeline.shopify.retry import execute_with_retry

PACED_MAX = 250
PAGE = 25  # 25 orders × (1 + 30 lines) stays under the 1,000-point ceiling of one query
LINES_PER_ORDER = 30  # SelectOrders.graphql's lineItems(first:)


class _TooManyLines(Exception):
    """An order has more lines than a paced page reads: the bulk query reads them all."""


@dataclass
class Reading:
    """What was read, and how."""

    engine: str  # "paced" or "bulk"
    matched: int  # orders the search matched (at least, when capped)
    orders: Iterator[ShopOrder]


def count(client: ShopifyClient, query: str) -> int:
    data = execute_with_retry(client, "OrdersCount", {"query": query}, mutation=False).data
    return int((data.get("ordersCount") or {}).get("count") or 0)


def read(
    client: ShopifyClient,
    bulk: BulkOperations,
    query: str,
    *,
    engine: str = "auto",
    progress: Callable[[Progress], None] | None = None,
) -> Reading:
    """The orders `query` finds; `engine` auto picks by the threshold above."""
    matched = count(client, query)
    if engine == "paced" or (engine == "auto" and matched <= PACED_MAX):
        try:
            return Reading("paced", matched, iter(list(_paced(client, query))))
        except _TooManyLines as exc:
            if engine == "paced":
                raise ShopifyError(
                    f"order {exc} has more than {LINES_PER_ORDER - 1} lines, more than a page reads: "
                    "use --engine bulk (or auto)"
                ) from None
    return Reading("bulk", matched, _bulk(bulk, query, matched, progress))


def _paced(client: ShopifyClient, query: str) -> Iterator[ShopOrder]:
    after: str | None = None
    while True:
        variables = {"query": query, "first": PAGE, "after": after}
        page = execute_with_retry(client, "SelectOrders", variables, mutation=False).data["orders"]
        for node in page["nodes"]:
            lines = node["lineItems"]["nodes"]
            if len(lines) >= LINES_PER_ORDER:
                raise _TooManyLines(node["name"])
            yield ShopOrder.from_json(node, lines)
        if not page["pageInfo"]["hasNextPage"]:
            return
        after = page["pageInfo"]["endCursor"]


def _bulk(
    bulk: BulkOperations, query: str, matched: int, progress: Callable[[Progress], None] | None
) -> Iterator[ShopOrder]:
    # BulkOperations.read runs a read that ended FAILED again (reading twice changes nothing).
    objects = bulk.read("SelectOrdersBulk", {"query": query}, total=matched or None, progress=progress)
    for record in records(objects):
        yield ShopOrder.from_json(record.object, record.children.get("LineItem", []))
