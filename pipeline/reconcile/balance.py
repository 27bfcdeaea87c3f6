"""The Shopify Payments balance transactions of the run's refunds (SPEC §8), read since the plan.

The bulk engine reads them through one bulk query (`BalanceTransactionsBulk`, free of the cost bucket);
the paced engine, or a bulk read Shopify refuses or that keeps failing, through pages of 200 under the
cost governor, newest first, stopping once every refund is found. Both search the refunds only
(`transaction_type:refund`, a documented search field whose value is inferred from the type's enum); a
search that finds none of them is made again without the type, in case Shopify spells it otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any

from pipeline.errors import ShopifyError
from pipeline.shopify.bulk import BulkOperations, StartedRead
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.progress import Progress
from pipeline.shopify.retry import execute_with_retry

Node = dict[str, Any]
PAGE = 200
BULK_DOCUMENT = "BalanceTransactionsBulk"
UNIT = "balance transactions"


class NoAccount(Exception):
    """`shopifyPaymentsAccount` is null: the shop does not use Shopify Payments."""


def since(moment: str, refunds_only: bool = True) -> str:
    """The search for the balance transactions processed since `moment` (refunds only by default)."""
    return f"processed_at:>={moment}" + (" transaction_type:refund" if refunds_only else "")


def start_bulk_read(bulk: BulkOperations, moment: str) -> StartedRead:
    """The balance transactions' bulk query since `moment`, started now, read later (`read_balance`)."""
    return bulk.begin(BULK_DOCUMENT, {"query": since(moment)})


def read_balance(
    client: ShopifyClient,
    ids: Collection[str],
    moment: str,
    bulk: BulkOperations | None = None,
    progress: Callable[[Progress], None] | None = None,
    started: StartedRead | None = None,
) -> tuple[dict[str, Node], str]:
    """The balance transactions whose source is one of `ids` (order transactions' legacy ids), by it;
    through `bulk` when given (the read `started` earlier, if any), else paced; and why the paced
    pages stood in for the bulk read, if they did ("" otherwise)."""
    why = ""
    if bulk is not None:
        try:
            found = bulk_read(bulk, ids, started or start_bulk_read(bulk, moment), progress)
        except ShopifyError as exc:  # refused, FAILED after its retries, or its file lost: read paced
            why = f"the bulk read failed ({_first_line(exc)})"
        else:
            if found:
                return found, why
            why = "the bulk read found none"
    found = paced_read(client, ids, since(moment))
    if not found:  # the type's spelling is inferred: a search without it settles whether any is there
        found = paced_read(client, ids, since(moment, refunds_only=False))
    return found, why


def bulk_read(
    bulk: BulkOperations,
    ids: Collection[str],
    started: StartedRead,
    progress: Callable[[Progress], None] | None = None,
) -> dict[str, Node]:
    """The `started` bulk query's balance transactions whose source is in `ids`; any other line (one
    for the account itself, should Shopify write it) is passed over."""
    found: dict[str, Node] = {}
    for line in started.lines(bulk, None, progress, unit=UNIT):
        source = str(line.get("sourceOrderTransactionId"))
        if source in ids:
            found[source] = line
    return found


def paced_read(client: ShopifyClient, ids: Collection[str], query: str) -> dict[str, Node]:
    """Pages of balance transactions, newest first, until every source in `ids` is found (older pages
    hold none of them) or none is left."""
    found: dict[str, Node] = {}
    for nodes in pages(client, "BalanceTransactions", "balanceTransactions", query, PAGE):
        found.update(
            (str(n.get("sourceOrderTransactionId")), n)
            for n in nodes
            if str(n.get("sourceOrderTransactionId")) in ids
        )
        if len(found) == len(ids):
            break
    return found


def pages(client: ShopifyClient, document: str, field: str, query: str, size: int) -> Iterator[list[Node]]:
    """The nodes of each page of a `shopifyPaymentsAccount` connection."""
    variables: dict[str, Any] = {"query": query, "first": size}
    while True:
        result = execute_with_retry(client, document, variables, mutation=False)
        account = result.data.get("shopifyPaymentsAccount")
        if account is None:
            raise NoAccount
        connection = account[field]
        yield connection["nodes"]
        if not connection["pageInfo"]["hasNextPage"]:
            return
        variables = {**variables, "after": connection["pageInfo"]["endCursor"]}


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
