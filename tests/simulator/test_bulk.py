"""The simulator's bulk operations (SPEC §15), driven by a fake clock: no sleeping, no background thread."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from pipeline.simulator.bulk import BulkSettings
from pipeline.simulator.faults import FaultSpec
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store
from pipeline.simulator.transport import SimulatorTransport
from tests.simulator.factory import FakeClock

URL = "/admin/api/2026-07/graphql.json"
TOKEN = {"X-Shopify-Access-Token": "shpat_simulator", "Content-Type": "application/json"}
STATUS = (
    "query($id: ID!) { bulkOperation(id: $id) "
    "{ id status errorCode objectCount rootObjectCount fileSize url partialDataUrl } }"
)
RUN_QUERY = (
    "mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: true) "
    "{ bulkOperation { id status } userErrors { field message code } } }"
)
ORDERS = (
    '{ orders(query: "sku:BC-01M") { edges { node { id name '
    "lineItems { edges { node { id sku quantity } } } } } } }"
)
ALL = "{ orders { edges { node { id name } } } }"
STAGE = """mutation { stagedUploadsCreate(input: [{resource: BULK_MUTATION_VARIABLES, filename: "vars.jsonl",
  mimeType: "text/jsonl", httpMethod: POST}]) {
    stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } } }"""
RUN_MUTATION = """mutation($m: String!, $p: String!) {
  bulkOperationRunMutation(mutation: $m, stagedUploadPath: $p) {
    bulkOperation { id status } userErrors { field message code } } }"""
TAGS = """mutation t($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id } userErrors { message } } }"""
CANCEL = """mutation($id: ID!) {
  bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }"""


class Shop:
    def __init__(self, orders: int = 40, faults: str = "", rate: float = 10.0) -> None:
        self.clock = FakeClock()
        store = seed_store(orders=orders, seed=3, clock=self.clock)
        settings = BulkSettings(rate=rate, query_rate=rate, background=False)
        self.sim = Simulator(
            ShopApi(store, cancel_delay=0.0, bulk=settings), SimulatorConfig(faults=FaultSpec.parse(faults))
        )
        self.http = httpx.Client(transport=SimulatorTransport(self.sim), base_url="http://127.0.0.1:1")

    def gql(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.http.post(URL, json={"query": query, "variables": variables}, headers=TOKEN).json()
        assert "errors" not in body, body
        return body

    def run_query(self, text: str = ORDERS) -> dict[str, Any]:
        return self.gql(RUN_QUERY, q=text)["data"]["bulkOperationRunQuery"]

    def status(self, op_id: str) -> dict[str, Any]:
        return self.gql(STATUS, id=op_id)["data"]["bulkOperation"]

    def wait(self, op_id: str, step: float = 1.0) -> dict[str, Any]:
        """Moves the shop's clock until the operation is over."""
        for _ in range(10_000):
            op = self.status(op_id)
            if op["status"] not in ("CREATED", "RUNNING", "CANCELING"):
                return op
            self.clock.advance(step)
        raise AssertionError("never finished")

    def lines(self, url: str) -> list[dict[str, Any]]:
        answer = self.http.get(url)  # no token: result files are public URLs
        assert answer.status_code == 200
        return [json.loads(line) for line in answer.text.splitlines()]

    def upload(self, lines: list[dict[str, Any]]) -> str:
        target = self.gql(STAGE)["data"]["stagedUploadsCreate"]["stagedTargets"][0]
        assert target["resourceUrl"] is None
        params = {p["name"]: p["value"] for p in target["parameters"]}
        content = "".join(json.dumps(v) + "\n" for v in lines).encode()
        answer = self.http.post(
            target["url"], data=params, files={"file": ("vars.jsonl", content, "text/jsonl")}
        )
        assert answer.status_code == 201 and f"<Key>{params['key']}</Key>" in answer.text
        return params["key"]


def test_a_bulk_query_exports_each_order_then_its_lines_with_parent_ids() -> None:
    shop = Shop()
    expected = {
        o.id for o in shop.sim.api.store.orders.values() if any(li.sku == "BC-01M" for li in o.line_items)
    }
    started = shop.run_query()
    assert started["userErrors"] == [] and started["bulkOperation"]["status"] == "CREATED"
    op = shop.wait(started["bulkOperation"]["id"])
    assert op["status"] == "COMPLETED" and op["url"] and int(op["fileSize"]) > 0
    lines = shop.lines(op["url"])
    parents = [line for line in lines if "__parentId" not in line]
    assert {int(p["id"].rsplit("/", 1)[1]) for p in parents} == expected
    assert int(op["rootObjectCount"]) == len(parents) and int(op["objectCount"]) == len(lines)
    seen: set[str] = set()
    for line in lines:  # every child follows its parent, which holds no nested connection
        if "__parentId" in line:
            assert line["__parentId"] in seen and set(line) == {"id", "sku", "quantity", "__parentId"}
        else:
            seen.add(line["id"])
            assert "lineItems" not in line


def test_bulk_queries_follow_shopify_restrictions() -> None:
    shop = Shop(orders=5)
    refused = {
        '{ nodes(ids: ["gid://shopify/Order/1"]) { id } }': "node",
        "{ shop { name } }": "at least one connection",
        "{ orders { edges { node { name lineItems { edges { node { id } } } } } } }": "'id'",
        "{ orders { nodes { id refunds { id transactions { nodes { id } } } } } }": "within a list field",
    }
    for text, words in refused.items():
        errors = shop.run_query(text)["userErrors"]
        assert errors and errors[0]["code"] == "INVALID" and words in errors[0]["message"], (text, errors)


def test_nothing_matched_completes_without_a_url() -> None:
    shop = Shop(orders=5)
    op = shop.wait(
        shop.run_query('{ orders(query: "sku:NOPE") { edges { node { id } } } }')["bulkOperation"]["id"]
    )
    assert op["status"] == "COMPLETED" and op["url"] is None and op["objectCount"] == "0"


def test_staged_upload_then_bulk_mutation_answers_each_line_with_its_line_number() -> None:
    shop = Shop(orders=10)
    ids = sorted(shop.sim.api.store.orders)[:4]
    variables = [{"id": f"gid://shopify/Order/{i}", "tags": ["bulk-test"]} for i in ids]
    variables.append({"id": "gid://shopify/Order/1", "tags": ["x"]})  # unknown order: that line's error only
    path = shop.upload(variables)
    started = shop.gql(RUN_MUTATION, m=TAGS, p=path)["data"]["bulkOperationRunMutation"]
    assert started["userErrors"] == []
    op = shop.wait(started["bulkOperation"]["id"])
    assert op["status"] == "COMPLETED" and op["objectCount"] == "5"
    results = sorted(shop.lines(op["url"]), key=lambda line: line["__lineNumber"])
    assert [r["__lineNumber"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["data"]["tagsAdd"]["node"]["id"] for r in results[:4]] == [v["id"] for v in variables[:4]]
    assert results[4]["errors"] and results[4]["data"]["tagsAdd"] is None
    for i in ids:
        assert "bulk-test" in shop.sim.api.store.orders[i].tags
    ledger = shop.http.get("/_simulator/ledger").json()["entries"]
    assert sum(e["kind"] == "tag" for e in ledger) == 4


def test_bulk_mutation_refuses_a_missing_file_and_a_file_that_is_not_jsonl() -> None:
    shop = Shop(orders=3)
    missing = shop.gql(RUN_MUTATION, m=TAGS, p="tmp/1/bulk/nope/vars.jsonl")["data"][
        "bulkOperationRunMutation"
    ]
    assert missing["userErrors"][0]["code"] == "NO_SUCH_FILE"
    target = shop.gql(STAGE)["data"]["stagedUploadsCreate"]["stagedTargets"][0]
    params = {p["name"]: p["value"] for p in target["parameters"]}
    shop.http.post(target["url"], data=params, files={"file": ("vars.jsonl", b"not json\n", "text/jsonl")})
    bad = shop.gql(RUN_MUTATION, m=TAGS, p=params["key"])["data"]["bulkOperationRunMutation"]
    assert bad["userErrors"][0]["code"] == "INVALID_STAGED_UPLOAD_FILE"


def test_a_sixth_running_operation_is_refused() -> None:
    shop = Shop(orders=20, rate=1.0)
    for _ in range(5):
        assert shop.run_query()["userErrors"] == []
    sixth = shop.run_query()
    assert sixth["bulkOperation"] is None and sixth["userErrors"][0]["code"] == "LIMIT_REACHED"
    listed = shop.gql('{ bulkOperations(first: 10, query: "status:RUNNING") { nodes { id status } } }')
    assert len(listed["data"]["bulkOperations"]["nodes"]) == 5


def test_the_bulk_fault_fails_an_operation_part_way_with_partial_data() -> None:
    shop = Shop(orders=40, faults="bulk=1,seed=4")
    op = shop.wait(shop.run_query("{ orders { edges { node { id name } } } }")["bulkOperation"]["id"])
    assert op["status"] == "FAILED" and op["errorCode"] == "INTERNAL_SERVER_ERROR" and op["url"] is None
    partial = shop.lines(op["partialDataUrl"])
    assert 0 < len(partial) < 40


def test_cancel_stops_an_operation() -> None:
    shop = Shop(orders=40, rate=1.0)
    op_id = shop.run_query(ALL)["bulkOperation"]["id"]
    shop.clock.advance(2)
    answer = shop.gql(CANCEL, id=op_id)["data"]["bulkOperationCancel"]
    assert answer["userErrors"] == [] and answer["bulkOperation"]["status"] == "CANCELING"
    assert shop.wait(op_id)["status"] == "CANCELED"
    again = shop.gql(CANCEL, id=op_id)["data"]["bulkOperationCancel"]
    assert again["userErrors"]


def test_polling_is_charged_and_bulk_work_is_not() -> None:
    shop = Shop(orders=40)
    op_id = shop.run_query("{ orders { edges { node { id lineItems { edges { node { id } } } } } } }")[
        "bulkOperation"
    ]["id"]
    before = shop.sim.stats.points_spent
    shop.clock.advance(10_000)  # all the work is due: the next poll does it
    body = shop.gql(STATUS, id=op_id)
    assert body["data"]["bulkOperation"]["status"] == "COMPLETED"
    assert body["extensions"]["cost"]["actualQueryCost"] == 1  # the poll's own price, not the export's
    assert shop.sim.stats.points_spent - before == 1


@pytest.mark.parametrize("path", ["/_simulator/bulk/nope.jsonl", "/_simulator/bulk/../../etc/passwd"])
def test_unknown_files_are_not_found(path: str) -> None:
    assert Shop(orders=2).http.get(path).status_code == 404
