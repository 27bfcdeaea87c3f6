"""The handler's edge behaviour: path, auth, validation wording, cost, throttling, faults.

A tiny fake shop stands behind it here, so these tests are about the edge alone; the real store
is exercised in test_store_rules.py and end to end in test_http.py.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from graphql import build_schema, execute

from pipeline.simulator.faults import FaultSpec
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.subset import SCHEMA_PATH
from pipeline.simulator.transport import SimulatorTransport

SCHEMA = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
URL = "http://127.0.0.1/admin/api/2026-07/graphql.json"
TOKEN = {"X-Shopify-Access-Token": "shpat_simulator"}
TAGS_ADD = (
    'mutation T($id: ID!) { tagsAdd(id: $id, tags: ["x"]) { node { id } userErrors { field message } } }'
)


class FakeShop:
    """Counts the mutations it applies; answers a fixed order list."""

    schema = SCHEMA

    @property
    def schemas(self):
        return {"2026-07": SCHEMA}

    def __init__(self) -> None:
        self.applied = 0
        self.held: float | None = None

    def _tags_add(self, _info: Any, id: str, tags: list[str]) -> dict[str, Any]:
        self.applied += 1
        return {"node": {"id": id, "__typename": "Order"}, "userErrors": []}

    def execute(self, document, variables, operation_name, schema=None):
        root = {
            "orders": {
                "nodes": [{"id": f"gid://shopify/Order/{i}", "name": f"#{1000 + i}"} for i in range(3)]
            },
            "tagsAdd": self._tags_add,
        }
        return execute(SCHEMA, document, root, variable_values=variables, operation_name=operation_name)

    def ledger_json(self):
        return {"entries": [{"seq": i} for i in range(self.applied)]}

    def orders_json(self):
        return {"orders": []}

    def hold_answer(self, seconds):
        self.held = seconds

    def grant(self, access):
        self.access = access


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def client(
    config: SimulatorConfig | None = None, clock: Clock | None = None
) -> tuple[httpx.Client, FakeShop]:
    shop = FakeShop()
    sim = Simulator(shop, config, clock=clock or Clock(), sleep=lambda _s: None)
    return httpx.Client(transport=SimulatorTransport(sim)), shop


def post(http: httpx.Client, query: str, variables: dict | None = None, headers=TOKEN) -> httpx.Response:
    return http.post(URL, json={"query": query, "variables": variables or {}}, headers=headers)


def test_without_the_token_the_answer_is_401_and_nothing_runs():
    http, shop = client()
    for headers in ({}, {"X-Shopify-Access-Token": "shpat_wrong"}):
        answer = post(http, TAGS_ADD, {"id": "gid://shopify/Order/1"}, headers=headers)
        assert answer.status_code == 401
        assert "Invalid API key or access token" in answer.json()["errors"]
    assert shop.applied == 0


def test_only_the_versioned_graphql_path_is_served():
    http, _ = client()
    assert http.post("http://127.0.0.1/admin/api/graphql.json", json={}, headers=TOKEN).status_code == 404
    assert (
        http.post("http://127.0.0.1/admin/api/2026-13/graphql.json", json={}, headers=TOKEN).status_code
        == 404
    )
    assert post(http, "{ orders(first: 2) { nodes { id } } }").status_code == 200


def test_every_answer_carries_extensions_cost():
    http, _ = client()
    body = post(http, "{ orders(first: 3) { nodes { id name } } }").json()
    assert [o["name"] for o in body["data"]["orders"]["nodes"]] == ["#1000", "#1001", "#1002"]
    cost = body["extensions"]["cost"]
    assert set(cost) == {"requestedQueryCost", "actualQueryCost", "throttleStatus"}
    assert cost["requestedQueryCost"] >= cost["actualQueryCost"] > 0
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}


def test_an_unknown_field_is_refused_in_shopifys_words():
    http, _ = client()
    body = post(
        http,
        'mutation M { refundCreate(input: {orderId: "gid://shopify/Order/1"}) '
        "{ userErrors { field message code } } }",
    ).json()
    assert "data" not in body and "extensions" not in body
    [error] = body["errors"]
    assert error["message"] == "Field 'code' doesn't exist on type 'UserError'"
    assert error["path"] == ["mutation M", "refundCreate", "userErrors", "code"]
    assert error["extensions"] == {"code": "undefinedField", "typeName": "UserError", "fieldName": "code"}


def test_a_variable_of_the_wrong_shape_is_invalid_variable():
    http, _shop = client()
    query = "mutation R($input: RefundInput!) { refundCreate(input: $input) { userErrors { message } } }"
    body = post(http, query, {"input": {"orderId": "gid://shopify/Order/1", "userId": 0}}).json()
    [error] = body["errors"]
    assert error["message"] == (
        "Variable $input of type RefundInput! was provided invalid value for userId "
        "(Field is not defined on RefundInput)"
    )
    assert error["extensions"]["code"] == "INVALID_VARIABLE"
    assert error["extensions"]["problems"] == [
        {"path": ["userId"], "explanation": "Field is not defined on RefundInput"}
    ]


def test_a_syntax_error_is_a_graphql_error_not_a_crash():
    http, _ = client()
    body = post(http, "{ orders(first: 2) { nodes { id }").json()
    assert body["errors"][0]["locations"]


def test_a_body_without_query_is_400():
    http, _ = client()
    assert http.post(URL, content=b"not json", headers=TOKEN).status_code == 400


def test_a_query_above_1000_points_is_max_cost_exceeded_and_not_run():
    http, _ = client()
    # Shopify prices pages sub-linearly (see cost.py): seven aliased copies of this one pass 1,000.
    page = "orders(first: 250) { nodes { id lineItems(first: 250) { nodes { id } } } }"
    body = post(http, "{ " + " ".join(f"a{i}: {page}" for i in range(7)) + " }").json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body.get("data") is None


def test_firing_mutations_faster_than_the_restore_rate_is_throttled_and_not_executed():
    clock = Clock()
    http, shop = client(SimulatorConfig(bucket=100, restore_rate=10), clock)
    answers = [post(http, TAGS_ADD, {"id": "gid://shopify/Order/1"}).json() for _ in range(15)]
    throttled = [a for a in answers if "errors" in a]
    executed = [a for a in answers if a.get("data")]
    # A mutation requests 10 points or more: a 100-point bucket holds at most 10 of them.
    assert 1 <= len(executed) <= 10
    assert len(throttled) == 15 - len(executed)
    assert shop.applied == len(executed)
    for answer in throttled:
        assert answer["errors"][0]["extensions"]["code"] == "THROTTLED"
        cost = answer["extensions"]["cost"]
        assert cost["actualQueryCost"] is None
        # THROTTLED means the request did not fit in what was left.
        assert cost["throttleStatus"]["currentlyAvailable"] < cost["requestedQueryCost"]
    # One second restores 10 points: exactly one more mutation's worth.
    requested = throttled[0]["extensions"]["cost"]["requestedQueryCost"]
    left = throttled[-1]["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
    clock.now += (requested - left) / 10
    assert "data" in post(http, TAGS_ADD, {"id": "gid://shopify/Order/1"}).json()
    assert shop.applied == len(executed) + 1


def test_injected_5xx_answers_html_503_and_runs_nothing():
    http, shop = client(SimulatorConfig(faults=FaultSpec.parse("5xx=1,seed=1")))
    statuses = set()
    for _ in range(30):
        answer = post(http, TAGS_ADD, {"id": "gid://shopify/Order/1"})
        statuses.add(answer.status_code)
        if answer.status_code == 503:
            assert answer.headers["content-type"].startswith("text/html")
            with pytest.raises(json.JSONDecodeError):
                json.loads(answer.text)
    assert statuses <= {500, 502, 503} and 503 in statuses
    assert shop.applied == 0


def test_a_lost_answer_is_applied_then_times_out():
    http, shop = client(SimulatorConfig(faults=FaultSpec.parse("lost=1,seed=1")))
    with pytest.raises(httpx.ReadTimeout):
        post(http, TAGS_ADD, {"id": "gid://shopify/Order/1"})
    assert shop.applied == 1
    assert shop.held == 3.0  # told to keep its keys "in progress" for the configured window (3 s)
    # Reads are never "lost": only mutations whose effect happened.
    assert post(http, "{ orders(first: 1) { nodes { id } } }").status_code == 200


def test_stats_count_requests_throttles_and_points():
    http, _ = client(SimulatorConfig(bucket=20, restore_rate=1))
    for _ in range(4):
        post(http, TAGS_ADD, {"id": "gid://shopify/Order/1"})
    stats = http.get("http://127.0.0.1/_simulator/stats").json()
    assert stats["requests"] == 4
    assert stats["throttled"] >= 2
    assert stats["points_spent"] >= 10
    assert "faults_injected" in stats
    ledger = http.get("http://127.0.0.1/_simulator/ledger").json()
    assert len(ledger["entries"]) == 4 - stats["throttled"]
