"""A bulk plan's line refunds (SPEC §15, §12): the line items come from the bulk read as child lines, and
each line refund that restocks nothing is quoted in one lean paced request, counted over HTTP (issue 17:
while the bulk read runs, its lines are read paced too, without locations, so it is quoted early)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from pipeline.models import Action
from pipeline.plan.bulklookup import BulkLookup
from pipeline.plan.lookup import Lookup
from pipeline.shopify.bulk import BulkOperations
from pipeline.shopify.client import ShopifyClient
from pipeline.simulator.server import SimulatorServer
from tests.harness import settings
from tests.plan.test_bulk_lookup import Shop
from tests.plan.test_planner import plain, row

OPERATION = re.compile(r"(?:query|mutation)\s+(\w+)")


class Counting(httpx.HTTPTransport):
    """Real HTTP to the simulator, noting each GraphQL request's operation and its actual cost."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: Counter[str] = Counter()
        self.points: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/graphql.json"):
            match = OPERATION.search(json.loads(request.content)["query"])
            name = match.group(1) if match else "?"
            response.read()
            cost = (response.json().get("extensions") or {}).get("cost") or {}
            self.requests[name] += 1
            self.points[name] += int(cost.get("actualQueryCost") or 0)
        return response


@pytest.fixture
def served() -> Iterator[tuple[Shop, str]]:
    shop = Shop()
    server = SimulatorServer(shop.simulator, port=0)
    server.start_background()
    yield shop, server.url
    server.shutdown()
    server.server_close()


def _plan(shop: Shop, url: str, rows: list, transport: Counting, bulk: bool) -> list[dict]:
    """The rows planned over HTTP, through the bulk engine or the paced one; the plan's rows as JSON."""
    with ShopifyClient(settings(url), transport) as client:
        if not bulk:
            return shop.plan(rows, Lookup(client))[1]
        operations = BulkOperations(client, poll=0.25, max_poll=2.0, sleep=shop.sleep)
        try:
            return shop.plan(rows, BulkLookup(client, operations))[1]
        finally:
            operations.close()


def _stock_out_rows(shop: Shop, count: int, restock: bool = False) -> list:
    """`--only-sku` rows: refund one SKU's units of orders that hold other lines, restocking nothing."""
    orders = [o for o in shop.store.orders.values() if plain(o) and len(o.line_items) > 1]
    assert len(orders) >= count
    return [
        row(
            i + 2,
            f"gid://shopify/Order/{o.id}",
            action=Action.REFUND_ONLY,
            lines=((o.line_items[0].sku, 1),),
            shipping=False,
            restock=restock,
        )
        for i, o in enumerate(orders[:count])
        if o.line_items[0].sku
    ]


def test_a_line_refund_in_a_bulk_plan_costs_one_lean_quote_and_one_lean_line_read(served) -> None:
    shop, url = served
    rows = _stock_out_rows(shop, 12)
    paced, bulk = Counting(), Counting()
    paced_rows = _plan(shop, url, rows, paced, bulk=False)
    before = shop.simulator.stats.points_spent
    bulk_rows = _plan(shop, url, rows, bulk, bulk=True)
    assert bulk_rows == paced_rows
    assert {r["decision"] for r in bulk_rows} == {"execute"}
    # One quote request a row, and its lines read once while the bulk query runs (no locations).
    assert bulk.requests["OrderQuote"] == len(rows)
    assert bulk.requests["OrderForRefund"] == len(rows)
    assert bulk.points["OrderForRefund"] <= 8 * len(rows)  # the order and its lines, no locations
    assert bulk.points["OrderQuote"] <= 4 * len(rows)  # order + suggestedRefund + its transactions
    # What the client counted is what the shop charged, over HTTP.
    assert shop.simulator.stats.points_spent - before == sum(bulk.points.values())
    # The paced engine reads the line items first too, with their locations.
    assert paced.requests["OrderForRefund"] == len(rows)


def test_a_restocking_line_refund_reads_its_locations_paced_and_matches_the_paced_plan(served) -> None:
    shop, url = served
    rows = _stock_out_rows(shop, 3, restock=True)
    paced_rows = _plan(shop, url, rows, Counting(), bulk=False)
    bulk = Counting()
    bulk_rows = _plan(shop, url, rows, bulk, bulk=True)
    assert bulk_rows == paced_rows
    assert any(line.get("location_id") for r in bulk_rows for line in _refund_lines(r))
    assert bulk.requests["OrderForRefund"] == len(rows)


def _refund_lines(planned: dict) -> list[dict]:
    steps = (planned.get("action") or {}).get("steps") or []
    return [line for step in steps for line in step.get("refund_lines") or []]


def test_only_rows_with_lines_make_the_bulk_read_export_line_items() -> None:
    shop = Shop()
    engine = shop.api.bulk
    assert engine is not None
    lined = _stock_out_rows(shop, 3)
    whole = [row(2, lined[0].order)]
    shop.plan(whole, shop.bulk())
    shop.plan(lined, shop.bulk())
    first, second = engine.operations.values()
    assert first.object_count == first.root_object_count  # a whole-order plan stays lean
    assert "lineItems @include(if: true)" in second.query
    assert second.object_count > second.root_object_count  # the line items, as child lines
