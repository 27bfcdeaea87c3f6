"""The plan stage's time outside the bulk read (issue 17): a bulk plan's paced quotes start while the read's
result is still being parsed (each row that gives its order's id is quoted as soon as that order is
read, not after the whole file), and the plan files are written with the plan out of the cyclic
collector's walks."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator

import httpx

from pipeline.plan import planner
from pipeline.plan.bulklookup import BulkLookup
from pipeline.shopify.bulk import BulkOperations
from pipeline.shopify.client import ShopifyClient
from tests.harness import make_run, settings, simulator
from tests.plan.test_bulk_quotes import Counting, _plan, _stock_out_rows, served

__all__ = ["served"]  # the fixture, shared with the quotes' tests
WAIT = 120.0  # seconds the held result file waits for a quote before it gives up and ends


class Held(httpx.SyncByteStream):
    """A result file sent a line at a time whose last line is held until a quote request was seen."""

    def __init__(self, body: bytes, quoted: threading.Event, events: list[str]) -> None:
        self.lines, self.quoted, self.events = body.splitlines(keepends=True), quoted, events

    def __iter__(self) -> Iterator[bytes]:
        yield from self.lines[:-1]
        self.quoted.wait(WAIT)
        self.events.append("file ends")
        yield from self.lines[-1:]


class Watching(Counting):
    """Real HTTP to the simulator, noting when the first quote goes out and holding the result file."""

    def __init__(self) -> None:
        super().__init__()
        self.quoted = threading.Event()
        self.events: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if (
            request.url.path.endswith("/graphql.json")
            and "OrderQuote" in json.loads(request.content)["query"]
        ):
            if not self.quoted.is_set():
                self.events.append("quote")
            self.quoted.set()
        response = super().handle_request(request)
        if request.method != "GET" or request.url.path.endswith("/graphql.json"):
            return response
        body = response.read()
        return httpx.Response(
            response.status_code, headers=response.headers, stream=Held(body, self.quoted, self.events)
        )


def test_quotes_start_before_the_bulk_result_is_parsed_to_its_end(served) -> None:
    shop, url = served
    rows = _stock_out_rows(shop, 12)
    expected = _plan(shop, url, rows, Counting(), bulk=False)
    watching = Watching()
    with ShopifyClient(settings(url), watching) as client:
        operations = BulkOperations(client, watching, poll=0.25, max_poll=2.0, sleep=shop.sleep)
        try:
            planned = shop.plan(rows, BulkLookup(client, operations))[1]
        finally:
            operations.close()
    assert watching.events == ["quote", "file ends"]
    assert planned == expected
    assert watching.requests["OrderQuote"] == len(rows)


def test_the_plan_files_are_written_with_the_plan_out_of_the_collectors_walks(tmp_path, monkeypatch) -> None:
    frozen: list[int] = []
    write = planner.write_plan_files

    def watched(plan, run_dir):
        frozen.append(gc.get_freeze_count())
        return write(plan, run_dir)

    monkeypatch.setattr(planner, "write_plan_files", watched)
    sim = simulator(orders=20)
    before = gc.get_freeze_count()
    run_dir = make_run(tmp_path, sim, rows=5)
    assert (run_dir / "plan.sha256").exists()
    assert frozen and frozen[0] > before  # the plan, its rows and facts: frozen while written
    assert gc.get_freeze_count() == before  # and handed back to the collector after
