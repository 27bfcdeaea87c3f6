"""Reading the orders a plan needs through one bulk query (SPEC §15), free of the cost bucket.

One `bulkOperationRunQuery` over `orders(query:)` reads what the paced lookup reads (OrdersBulkPlan),
streamed from the result file a line at a time and matched to the rows locally: by id for rows that
give one, else by exact, case-folded name. Only the matched orders are kept. The search covers the
rows: the ids' range when every row gives its order's id (as `select` files do), else every order of
the shop (Shopify's name search has no range, and an OR of thousands of names is no query).
The rows that refund a whole order (no lines, shipping yes or no) take their quote from the same
read: `suggestedRefund(suggestFullRefund: true)` has the same arguments for every order, so the bulk
query asks it (for one shipping choice, the rows' commonest). When rows name lines, the read also
exports the orders' line items (child lines): a line refund that restocks nothing is then quoted in one
lean paced request. A restocking one reads its locations (fulfillment orders, nested too deep for a
bulk query) through the paced API, as do other quotes (a shipping amount), as `Lookup.quote` does.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

from pipeline.errors import ShopifyError
from pipeline.plan.decide import needs_quote
from pipeline.plan.facts import OrderFacts, order_facts
from pipeline.plan.keys import legacy_id
from pipeline.plan.lookup import (
    LINE_ITEMS_PER_PAGE,
    Found,
    Lookup,
    LookupProgress,
    by_row,
    quote_of,
    quoted_lines,
)
from pipeline.plan.quote import QuotedLine, RefundQuote
from pipeline.shopify.bulk import BulkOperations, id_range
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.jsonl import records
from pipeline.shopify.progress import Progress
from pipeline.validate.parse import name_key
from pipeline.validate.rows import OrderRow

DOCUMENT = "OrdersBulkPlan"


def search_for(rows: Sequence[OrderRow]) -> str:
    """The search the bulk query runs: the rows' id range when every row has an id, else the whole shop.

    `status:any`: cancelled and closed orders are rows' orders too (already cancelled, fulfilled)."""
    numbers = [int(legacy_id(r.order_gid)) for r in rows if r.order_gid and legacy_id(r.order_gid).isdigit()]
    if rows and len(numbers) == len(rows):
        return id_range(numbers)
    return "status:any"


@dataclass(frozen=True)
class EarlyQuote:
    """A line refund quoted while the bulk read ran: the order's `updatedAt` and lines it was quoted on."""

    updated_at: str
    lines: tuple[QuotedLine, ...]
    quote: RefundQuote


class BulkLookup(Lookup):
    """`Lookup` whose order reads are one bulk query; `bulk_progress` is told of each poll."""

    def __init__(
        self,
        client: ShopifyClient,
        bulk: BulkOperations,
        progress: LookupProgress | None = None,
        bulk_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        super().__init__(client, progress)
        self.bulk, self.bulk_progress = bulk, bulk_progress
        self.shipping: bool | None = None  # the shipping choice the bulk read quoted (None: no quote)
        self.quotes: dict[str, dict[str, Any]] = {}  # order id → its full-refund quote, where a row needs it
        self.line_items: dict[str, tuple[QuotedLine, ...]] = {}  # order id → its lines, where rows need them
        self.early: dict[int, Future[EarlyQuote | None]] = {}  # row number → its quote, asked early

    def prefetch(self, rows: Sequence[OrderRow], pool: Executor) -> None:
        """Quotes early, in `pool`, each line refund the bulk read's lines would serve (a row that gives
        its order's id): done while the bulk query runs, most are when its result file arrives."""
        for row in rows:
            if row.order_gid and _lined(row):
                self.early[row.row] = pool.submit(self._quote_early, row, row.order_gid)

    def _quote_early(self, row: OrderRow, order_id: str) -> EarlyQuote | None:
        """The row's quote on its order's lines as read now; None when that read or quote failed (the
        row is quoted again after the bulk read, which tells the error if it still stands)."""
        variables = {"id": order_id, "lineItemsFirst": LINE_ITEMS_PER_PAGE, "withLocations": False}
        try:
            order = self._read("OrderForRefund", variables).get("order")
            if not order:
                return None
            lines = quoted_lines(order, None)
            return EarlyQuote(str(order.get("updatedAt") or ""), lines, self.suggested(row, order_id, lines))
        except ShopifyError:
            return None

    def matches(self, rows: Sequence[OrderRow], found: Found | None = None) -> dict[int, list[OrderFacts]]:
        """Each row number → every order whose name is exactly the row's (or whose id it gives).
        `found` is told of each row that gives its order's id as soon as that order is read (a name
        may match orders further on)."""
        ids = {r.order_gid for r in rows if r.order_gid}
        tell = found or (lambda _row, _facts: None)
        by_gid: dict[str, list[OrderRow]] = defaultdict(list)
        for row in rows:
            if row.order_gid:
                by_gid[row.order_gid].append(row)
        keys = {r.order_key for r in rows if not r.order_gid}
        by_id: dict[str, OrderFacts] = {}
        by_key: dict[str, dict[str, OrderFacts]] = defaultdict(dict)
        self.shipping = quoted_shipping(rows)
        whole = defaultdict(list)  # rows that a full-refund quote serves, by id or name
        lined = defaultdict(list)  # rows whose lines the read's line items serve, by id or name
        for row in rows:
            if _whole(row, self.shipping):
                whole[row.order_gid or row.order_key].append(row)
            if _lined(row):
                lined[row.order_gid or row.order_key].append(row)
        if rows:
            for record in records(self._lines(search_for(rows), self.shipping, bool(lined))):
                line = record.object
                order_id = str(line.get("id", ""))
                key = name_key(str(line.get("name", "")))
                if order_id in ids or key in keys:
                    facts = order_facts(line)
                    if order_id in ids:
                        by_id[order_id] = facts
                    if key in keys:
                        by_key[key][order_id] = facts
                    asking = whole.get(order_id, []) + whole.get(key, [])
                    if line.get("fullRefund") and any(
                        needs_quote(r, facts, include_test=True, allow_repeat=True) for r in asking
                    ):
                        self.quotes[order_id] = line["fullRefund"]
                    asking = lined.get(order_id, []) + lined.get(key, [])
                    if any(needs_quote(r, facts, include_test=True, allow_repeat=True) for r in asking):
                        self.line_items[order_id] = bulk_lines(record.children.get("LineItem", ()))
                    for row in by_gid.get(order_id, ()):
                        tell(row, facts)
        self.progress(len(rows))
        return by_row(rows, by_id, by_key)

    def quote(self, row: OrderRow, facts: OrderFacts) -> RefundQuote:
        """The bulk read's full-refund quote for a row refunding the whole order, else the paced one."""
        found = self.quotes.get(facts.id)
        if found is not None and _whole(row, self.shipping):
            return quote_of(found)
        lines = self.line_items.get(facts.id)
        if lines is not None and _lined(row):
            early = self.early.pop(row.row, None)
            got = early.result() if early is not None else None
            if got is not None and got.updated_at == facts.updated_at and got.lines == lines:
                return got.quote  # the order unchanged since, and quoted on the lines the bulk read gives
            return self.suggested(row, facts.id, lines)
        return super().quote(row, facts)

    def _lines(self, query: str, shipping: bool | None, with_lines: bool) -> Iterator[dict[str, Any]]:
        """The orders the search finds (line items as child lines), a line at a time; a FAILED read is
        run again."""
        total = self.bulk.orders_total(query)
        variables = {
            "query": query,
            "withQuote": shipping is not None,
            "quoteShipping": shipping is not False,
            "withLines": with_lines,
        }
        return self.bulk.read(DOCUMENT, variables, total, progress=self.bulk_progress)


def _whole(row: OrderRow, shipping: bool | None) -> bool:
    """Whether the full-refund quote asked with `shipping` is this row's quote: no lines, that choice."""
    return shipping is not None and not row.lines and row.shipping is shipping


def _lined(row: OrderRow) -> bool:
    """Whether the bulk read's line items serve this row: it names lines and restocks none (a restock
    needs the fulfillment orders' locations, which a bulk query cannot nest)."""
    return bool(row.lines) and not row.restock


def bulk_lines(items: Sequence[dict[str, Any]]) -> tuple[QuotedLine, ...]:
    """An order's `LineItem` child lines as the quote's lines (no restock locations: none is needed)."""
    return tuple(
        QuotedLine(
            str(item["id"]),
            item.get("sku") or "",
            int(item["quantity"]),
            int(item["refundableQuantity"]),
            int(item.get("unfulfilledQuantity") or 0),
        )
        for item in items
    )


def quoted_shipping(rows: Sequence[OrderRow]) -> bool | None:
    """The shipping choice the bulk read quotes: the commonest among the rows without lines (None when
    every row names lines or a shipping amount: nothing for it to quote)."""
    choices = Counter(r.shipping for r in rows if not r.lines and isinstance(r.shipping, bool))
    return bool(choices.most_common(1)[0][0]) if choices else None
