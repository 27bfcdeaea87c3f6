"""A bulk plan's line refunds quoted while the bulk query runs (issue 17): each row's quote goes out before
the query completes, and stands only if the bulk read finds the order unchanged; an order changed since
is quoted again. Over HTTP, on the simulator's clock, which the test holds until the quote was seen."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import httpx

from pipeline.plan.bulklookup import BulkLookup
from pipeline.shopify.bulk import BulkOperations
from pipeline.shopify.client import ShopifyClient
from tests.harness import settings
from tests.plan.test_bulk_lookup import Shop
from tests.plan.test_bulk_quotes import Counting, _plan, _stock_out_rows, served
from tests.plan.test_money_moved import refund

__all__ = ["served"]  # the fixture, shared with the quotes' tests
WAIT = 30.0  # seconds the held clock waits for a quote before it gives up and runs on


class Watching(Counting):
    """Real HTTP to the simulator, noting the first quote sent, the quotes answered for each order, and
    the first status poll that finds the bulk query COMPLETED."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []
        self.answered: dict[str, threading.Event] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.url.path.endswith("/graphql.json") else {}
        quoting = "query OrderQuote" in body.get("query", "")
        if quoting and "quote" not in self.events:
            self.events.append("quote")
        response = super().handle_request(request)
        if quoting:
            self.answered_for(body["variables"]["id"]).set()
        elif "BulkOperationStatus" in body.get("query", "") and '"COMPLETED"' in response.text:
            self.events += [] if "completed" in self.events else ["completed"]
        return response

    def answered_for(self, order_id: str) -> threading.Event:
        return self.answered.setdefault(order_id, threading.Event())


def _bulk_plan(shop: Shop, url: str, rows: list, watching: Watching, first_sleep: Callable[[], None]) -> list:
    """The rows planned through the bulk engine over HTTP; `first_sleep` runs before the clock first moves."""
    held = []

    def sleep(seconds: float) -> None:
        if not held:
            held.append(seconds)
            first_sleep()
        shop.sleep(seconds)

    with ShopifyClient(settings(url), watching) as client:
        operations = BulkOperations(client, watching, poll=0.25, max_poll=2.0, sleep=sleep)
        try:
            return shop.plan(rows, BulkLookup(client, operations))[1]
        finally:
            operations.close()


def test_a_line_refund_is_quoted_before_the_bulk_query_completes(served) -> None:
    shop, url = served
    rows = _stock_out_rows(shop, 6)
    expected = _plan(shop, url, rows, Counting(), bulk=False)
    watching = Watching()
    quoted = watching.answered_for(rows[0].order_gid)
    planned = _bulk_plan(shop, url, rows, watching, lambda: quoted.wait(WAIT))
    assert watching.events == ["quote", "completed"]
    assert planned == expected
    assert watching.requests["OrderQuote"] == len(rows)  # each early quote stood


def test_an_order_changed_after_its_early_quote_is_quoted_again(served) -> None:
    shop, url = served
    rows = _stock_out_rows(shop, 6)
    target = rows[0].order_gid
    order = shop.store.orders[int(target.rsplit("/", 1)[1])]
    watching = Watching()
    quoted = watching.answered_for(target)

    def change() -> None:  # after its early quote, before the bulk query reads it: staff refund some
        assert quoted.wait(WAIT)
        refund(shop.api, order, "5.00")

    before = _plan(shop, url, rows, Counting(), bulk=False)
    planned = _bulk_plan(shop, url, rows, watching, change)
    assert watching.requests["OrderQuote"] == len(rows) + 1  # the changed order's quote, asked again
    assert planned == _plan(shop, url, rows, Counting(), bulk=False)  # the plan on the fresh quote
    assert planned[0] != before[0] and planned[1:] == before[1:]
