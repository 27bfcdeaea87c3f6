"""Reading the orders a plan needs from Shopify: batched, cost-paced, exact names only (SPEC §6).

Names go OR-joined into one `orders(query:)` (quoted `name:"…"` terms, also `#<value>` when the
value has no `#`); Shopify's name search is prefix-loose, so only exact matches of the cleaned,
case-folded name count. Ids go to `nodes(ids:)`, 250 at a time. `suggestedRefund` is read only for
the rows whose amount is not simply what `orderCancel` refunds, with only the fields a plan uses.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from pipeline.plan.facts import OrderFacts, amount_of, order_facts
from pipeline.plan.quote import (
    Place,
    QuotedLine,
    RefundQuote,
    SuggestedTransaction,
    suggested_refund_arguments,
)
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.retry import execute_with_retry
from pipeline.validate.parse import name_key
from pipeline.validate.rows import OrderRow

NAMES_PER_QUERY = 40  # 40 names, up to 80 terms: Shopify documents no cap, so stay modest (FACTS §12)
PAGE_SIZE = 250
IDS_PER_QUERY = 250
LINE_ITEMS_PER_PAGE = 250
REFUNDS_FIRST = 20  # the lookup's default (`$refundsFirst`); an order with that many is read again
REFUNDS_ALL = 250
IDS_PER_REREAD = 10  # orders with many refunds: few at a time, the query's cost stays under the cap
LOOKUP_WORKERS = 8


def quote_of(suggested: dict[str, Any], lines: tuple[QuotedLine, ...] = ()) -> RefundQuote:
    """The quote in a `suggestedRefund` answer (the paced OrderForRefund's or a bulk line's)."""
    shipping = suggested.get("shipping") or {}
    return RefundQuote(
        amount=amount_of(suggested["amountSet"]),
        maximum_refundable=amount_of(suggested["maximumRefundableSet"]),
        shipping_amount=amount_of(shipping.get("amountSet")),
        shipping_maximum=amount_of(shipping.get("maximumRefundableSet")),
        transactions=tuple(
            SuggestedTransaction(
                parent_id=(t.get("parentTransaction") or {}).get("id", ""),
                gateway=t.get("gateway") or "",
                kind=t["kind"],
                amount=amount_of(t["amountSet"]),
                maximum_refundable=amount_of(t.get("maximumRefundableSet")),
            )
            for t in suggested["suggestedTransactions"]
        ),
        lines=lines,
    )


#: Told how many more rows were looked up (not the executor's `ExecutionProgress`).
LookupProgress = Callable[[int], None]
#: Told of a row whose one order has been read, as soon as it is (its quote can start then).
Found = Callable[[OrderRow, OrderFacts], None]


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _quoted(value: str) -> str:
    # Inside a quoted search value only the backslash and the quote itself need escaping.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def name_query(names: Iterable[str]) -> str:
    """`name:"#1001" OR name:"1001" OR …` for these order names."""
    terms: list[str] = []
    for name in names:
        terms.append(f"name:{_quoted(name)}")
        if not name.startswith("#"):
            terms.append(f"name:{_quoted('#' + name)}")
    return " OR ".join(terms)


def _place(location: dict[str, Any] | None) -> Place | None:
    return (location["id"], location["name"]) if location else None


def quoted_lines(order: dict[str, Any], primary: dict[str, Any] | None) -> tuple[QuotedLine, ...]:
    """The order's line items with their unfulfilled units and restock locations (OrderForRefund).

    Unfulfilled units restock (CANCEL) at the line's assigned location, else the primary one; fulfilled
    units (RETURN) at the location of a fulfillment there, else of the first fulfillment with one.
    """
    remaining: dict[str, int] = {}
    assigned: dict[str, Place] = {}
    for fulfillment_order in (order.get("fulfillmentOrders") or {}).get("nodes") or ():
        place = _place((fulfillment_order.get("assignedLocation") or {}).get("location"))
        for item in fulfillment_order["lineItems"]["nodes"]:
            line_id = item["lineItem"]["id"]
            remaining[line_id] = remaining.get(line_id, 0) + int(item["remainingQuantity"])
            if place is not None and (line_id not in assigned or item["remainingQuantity"]):
                assigned[line_id] = place
    shipped_from = [p for f in order.get("fulfillments") or () if (p := _place(f.get("location")))]
    lines = []
    for n in order["lineItems"]["nodes"]:
        cancel_at = assigned.get(n["id"]) or _place(primary)
        return_at = (
            cancel_at if cancel_at in shipped_from else (shipped_from[0] if shipped_from else cancel_at)
        )
        unfulfilled = remaining.get(n["id"], int(n.get("unfulfilledQuantity") or 0))
        lines.append(
            QuotedLine(
                n["id"],
                n.get("sku") or "",
                int(n["quantity"]),
                int(n["refundableQuantity"]),
                unfulfilled,
                cancel_at,
                return_at,
            )
        )
    return tuple(lines)


def by_row(
    rows: Sequence[OrderRow], by_id: dict[str, OrderFacts], by_key: dict[str, dict[str, OrderFacts]]
) -> dict[int, list[OrderFacts]]:
    """Each row number → its order by id when the row gives one, else every order of its exact name."""
    result: dict[int, list[OrderFacts]] = {}
    for row in rows:
        if row.order_gid:
            result[row.row] = [by_id[row.order_gid]] if row.order_gid in by_id else []
        else:
            result[row.row] = sorted(by_key.get(row.order_key, {}).values(), key=lambda f: f.id)
    return result


class Lookup:
    """Looks up the orders of validated rows in one shop. `progress(n)` is told of n rows done."""

    def __init__(self, client: ShopifyClient, progress: LookupProgress | None = None) -> None:
        self.client = client
        self.progress = progress or (lambda _n: None)

    def _read(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        return execute_with_retry(self.client, document, variables, mutation=False).data

    def prefetch(self, rows: Sequence[OrderRow], pool: Executor) -> None:
        """Work for `pool` to start before `matches` reads the orders: none for the paced lookup."""

    def matches(self, rows: Sequence[OrderRow], found: Found | None = None) -> dict[int, list[OrderFacts]]:
        """Each row number → every order whose name is exactly the row's (or whose id it gives). The
        paced lookup tells `found` nothing: an order read early may be read again with all its refunds."""
        by_id = self._by_ids(sorted({r.order_gid for r in rows if r.order_gid}), rows)
        names = sorted({r.order_name for r in rows if not r.order_gid})
        by_key: dict[str, dict[str, OrderFacts]] = defaultdict(dict)
        counts = Counter(r.order_name for r in rows if not r.order_gid)

        def one_batch(batch: Sequence[str]) -> tuple[list[dict[str, Any]], int]:
            nodes = list(self._pages("OrdersByName", {"query": name_query(batch), "first": PAGE_SIZE}))
            return nodes, sum(counts[name] for name in batch)

        # Batches in parallel, paced by the client's cost governor: latency overlaps, points do not.
        with ThreadPoolExecutor(max_workers=LOOKUP_WORKERS, thread_name_prefix="lookup") as pool:
            for nodes, done in pool.map(one_batch, list(_chunks(names, NAMES_PER_QUERY))):
                for node in nodes:
                    by_key[name_key(node["name"])][node["id"]] = order_facts(node)
                self.progress(done)
        self._read_all_refunds(by_id, by_key)
        return by_row(rows, by_id, by_key)

    def _by_ids(self, ids: Sequence[str], rows: Sequence[OrderRow]) -> dict[str, OrderFacts]:
        found: dict[str, OrderFacts] = {}
        for batch in _chunks(ids, IDS_PER_QUERY):
            for node in self._read("OrdersByIds", {"ids": list(batch)})["nodes"]:
                if node and node.get("id"):  # unknown ids come back null, other types as {}
                    found[node["id"]] = order_facts(node)
            self.progress(sum(1 for r in rows if r.order_gid in set(batch)))
        return found

    def _read_all_refunds(
        self, by_id: dict[str, OrderFacts], by_key: dict[str, dict[str, OrderFacts]]
    ) -> None:
        """Reads again, with every refund, the orders whose refunds filled the first page."""
        found = [by_id, *by_key.values()]
        many = sorted({f.id for group in found for f in group.values() if len(f.refund_ids) >= REFUNDS_FIRST})
        for batch in _chunks(many, IDS_PER_REREAD):
            variables = {"ids": list(batch), "refundsFirst": REFUNDS_ALL}
            for node in self._read("OrdersByIds", variables)["nodes"]:
                if node and node.get("id"):
                    for group in found:
                        if node["id"] in group:
                            group[node["id"]] = order_facts(node)

    def _pages(self, document: str, variables: dict[str, Any]) -> Iterator[dict[str, Any]]:
        after = None
        while True:
            page = self._read(document, {**variables, "after": after})["orders"]
            yield from page["nodes"]
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]

    def quote(self, row: OrderRow, facts: OrderFacts) -> RefundQuote:
        """Shopify's `suggestedRefund` for the row (line items read first when the row names lines)."""
        lines = self._line_items(facts.id, row.restock) if row.lines else ()
        return self.suggested(row, facts.id, lines)

    def suggested(self, row: OrderRow, order_id: str, lines: tuple[QuotedLine, ...]) -> RefundQuote:
        """The row's quote for these line items: one lean `suggestedRefund` read (OrderQuote), its
        shipping part only where the plan uses it (a refund that keeps the shipping does not)."""
        variables = {
            "id": order_id,
            "withShipping": row.shipping is not False or not row.lines,
            **suggested_refund_arguments(row, lines),
        }
        order = self._read("OrderQuote", variables)["order"]
        return quote_of(order["suggestedRefund"], lines)

    def _line_items(self, order_id: str, restock: bool) -> tuple[QuotedLine, ...]:
        """The order's line items; where their units restock only for a refund that restocks them."""
        variables = {"id": order_id, "lineItemsFirst": LINE_ITEMS_PER_PAGE, "withLocations": restock}
        data = self._read("OrderForRefund", variables)
        return quoted_lines(data["order"], data.get("primaryLocation"))
