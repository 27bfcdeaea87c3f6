"""Calculated query cost: the arithmetic on small documents, then against real recorded answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from pipeline.simulator import cost
from tests.conftest import RECORDED, require_shared

SDL = """
schema { query: QueryRoot mutation: Mutation }
interface Node { id: ID! }
type MoneyV2 { amount: String! currencyCode: String! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type PageInfo { hasNextPage: Boolean! endCursor: String }
type Customer implements Node { id: ID! email: String }
type LineItem implements Node { id: ID! title: String! priceSet: MoneyBag! }
type LineItemEdge { cursor: String! node: LineItem! }
type LineItemConnection { edges: [LineItemEdge!]! nodes: [LineItem!]! pageInfo: PageInfo! }
type Transaction { id: ID! amountSet: MoneyBag! }
type Order implements Node {
  id: ID! name: String! customer: Customer totalPriceSet: MoneyBag!
  lineItems(first: Int, last: Int): LineItemConnection! transactions(first: Int): [Transaction!]!
}
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }
type Job { id: ID! done: Boolean! }
type UserError { field: [String!] message: String! }
type OrderCancelPayload { job: Job orderCancelUserErrors: [UserError!]! }
type Refund { id: ID! transactions(first: Int): TransactionConnection! }
type TransactionConnection { nodes: [Transaction!]! pageInfo: PageInfo! }
type RefundCreatePayload { refund: Refund order: Order userErrors: [UserError!]! }
type QueryRoot {
  order(id: ID!): Order
  orders(first: Int, last: Int, query: String): OrderConnection!
  nodes(ids: [ID!]!): [Node]!
}
type Mutation {
  orderCancel(orderId: ID!): OrderCancelPayload
  refundCreate(orderId: ID!): RefundCreatePayload
}
"""


@pytest.fixture(scope="module")
def schema():
    return build_schema(SDL)


def requested(schema, text: str, variables: dict | None = None) -> int:
    document = parse(text)
    assert validate(schema, document) == []
    return cost.requested_cost(schema, document, variables or {}, None)


def actual(schema, text: str, data: dict, variables: dict | None = None) -> int:
    return cost.actual_cost(schema, parse(text), variables or {}, None, data)


@pytest.mark.parametrize(
    ("size", "factor"), [(0, 0), (1, 1), (2, 1), (3, 2), (5, 3), (10, 4), (50, 7), (200, 10), (250, 11)]
)
def test_page_factor_grows_with_the_log_of_the_page_size(size: int, factor: int) -> None:
    assert cost.page_factor(size) == factor


def test_scalars_are_free_and_an_object_costs_one(schema) -> None:
    assert requested(schema, "{ order(id: 1) { id name } }") == 1
    assert requested(schema, "{ order(id: 1) { id customer { email } } }") == 2


def test_money_bags_are_embedded_values_and_cost_nothing(schema) -> None:
    query = "{ order(id: 1) { totalPriceSet { shopMoney { amount } presentmentMoney { amount } } } }"
    assert requested(schema, query) == 1


def test_a_connection_costs_two_plus_its_node_times_the_page_factor(schema) -> None:
    assert requested(schema, "{ orders(first: 1) { nodes { id } pageInfo { hasNextPage } } }") == 3
    assert requested(schema, "{ orders(first: 250) { edges { cursor node { id } } } }") == 2 + 11
    nested = "{ orders(first: 10) { nodes { customer { id } lineItems(first: 50) { nodes { id } } } } }"
    assert requested(schema, nested) == 2 + 4 * (1 + 1 + (2 + 7))


def test_page_size_comes_from_variables_and_defaults_to_a_full_page(schema) -> None:
    query = "query($n: Int) { orders(first: $n) { nodes { id } } }"
    assert requested(schema, query, {"n": 3}) == 2 + 2
    assert requested(schema, query, {}) == 2 + 11


def test_a_list_of_objects_costs_its_element(schema) -> None:
    assert (
        requested(schema, "{ order(id: 1) { transactions { id amountSet { shopMoney { amount } } } } }") == 2
    )


def test_fragments_and_aliases_are_counted_once_per_response_key(schema) -> None:
    query = """{ a: order(id: 1) { ...O } b: order(id: 2) { ...O customer { id } customer { email } } }
               fragment O on Order { customer { id } }"""
    assert requested(schema, query) == 2 + 2


def test_an_interface_costs_its_dearest_possible_selection(schema) -> None:
    query = "{ nodes(ids: [1]) { id ... on Order { customer { id } } ... on Customer { email } } }"
    assert requested(schema, query) == 2


def test_a_mutation_costs_ten_and_its_payload_objects_come_with_it(schema) -> None:
    query = "mutation { orderCancel(orderId: 1) { job { id done } orderCancelUserErrors { message } } }"
    assert requested(schema, query) == 10


def test_refund_create_costs_twenty_plus_what_lies_below_its_payload_objects(schema) -> None:
    query = "mutation { refundCreate(orderId: 1) { refund { transactions(first: 5) { nodes { id } } } } }"
    assert requested(schema, query) == 20 + 2 + 3


def test_actual_cost_stops_below_a_null_object(schema) -> None:
    query = "{ order(id: 1) { customer { id } lineItems(first: 50) { nodes { id } } } }"
    assert requested(schema, query) == 1 + 1 + 9
    assert actual(schema, query, {"order": None}) == 1


def test_actual_cost_pays_connections_for_the_nodes_returned(schema) -> None:
    query = "{ orders(first: 50) { nodes { id customer { id } } } }"
    three = [{"id": str(i), "customer": None} for i in range(3)]
    assert actual(schema, query, {"orders": {"nodes": three}}) == 2 + 2 * 2
    # An empty page is paid as asked, as the recorded answers show.
    assert actual(schema, query, {"orders": {"nodes": []}}) == requested(schema, query)


def test_actual_cost_of_a_mutation_whose_result_is_null(schema) -> None:
    query = "mutation { refundCreate(orderId: 1) { refund { transactions(first: 5) { nodes { id } } } } }"
    assert actual(schema, query, {"refundCreate": {"refund": None}}) == 20


def test_max_cost_exceeded_is_shopifys_refusal() -> None:
    (error,) = cost.max_cost_errors(1258)
    assert error["message"].startswith(
        "Query cost is 1258, which exceeds the single query max cost limit (1000).\n\n"
    )
    assert error["extensions"] == {
        "code": "MAX_COST_EXCEEDED",
        "cost": 1258,
        "maxCost": 1000,
        "documentation": "https://shopify.dev/api/usage/rate-limits",
    }


def _recorded_calls():
    def walk(node):
        if isinstance(node, dict):
            if "query" in node and "response" in node:
                yield node
                return
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for path in sorted(Path(require_shared(RECORDED)).glob("*.json")):
        for call in walk(json.loads(path.read_text(encoding="utf-8"))):
            response = call["response"]
            body = response.get("payload", response.get("body", response))
            variables = call.get("variables") or (call.get("request") or {}).get("variables") or {}
            spent = (body.get("extensions") or {}).get("cost")
            if spent:
                yield path.name, call["query"], variables, body.get("data") or {}, spent


def test_costs_match_the_recorded_shopify_answers(real_schema) -> None:
    exact = close = total = 0
    misses = []
    for name, text, variables, data, spent in _recorded_calls():
        document = parse(text)
        if validate(real_schema, document):
            continue  # recorded on an older version and no longer valid on 2026-07
        total += 1
        got = cost.requested_cost(real_schema, document, variables, None)
        want = spent["requestedQueryCost"]
        exact += got == want
        close += got != want and abs(got - want) <= max(2, want * 0.15)
        if got != want:
            misses.append((name, got, want))
        assert cost.actual_cost(real_schema, document, variables, None, data) <= max(got, want)
    assert total >= 90, "the recorded answers were expected beside this clone"
    # Known misses: customer fields and `nodes` carry hand-set costs we do not know.
    assert exact / total >= 0.88, misses


@pytest.mark.parametrize(
    ("needle", "want"),
    [("shippingLines(first: 10)", 23), ("OrderCatalogNextPage", 3), ("OrderRefundReadParity", 8)],
)
def test_the_order_reads_cost_exactly_what_shopify_asked(real_schema, needle: str, want: int) -> None:
    texts = {text for _, text, _, _, _ in _recorded_calls() if needle in text}
    assert texts, f"no recorded call named {needle}"
    for text in texts:
        assert cost.requested_cost(real_schema, parse(text), {"pageSize": 1}, None) == want


def test_selections_left_out_by_skip_or_include_are_not_charged():
    from graphql import build_schema, parse

    from pipeline.simulator.subset import SCHEMA_PATH

    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    doc = parse(
        "query Q($id: ID!, $lines: Boolean!) { order(id: $id) { id "
        "lineItems(first: 50) @include(if: $lines) { nodes { id } } } }"
    )
    with_lines = cost.requested_cost(schema, doc, {"id": "gid://shopify/Order/1", "lines": True}, None)
    without = cost.requested_cost(schema, doc, {"id": "gid://shopify/Order/1", "lines": False}, None)
    assert without == 1
    assert with_lines > without


def test_the_remembered_walk_prices_as_a_fresh_one_and_is_bounded(schema) -> None:
    text = """query Q($first: Int, $ids: [ID!]!, $lines: Boolean!) {
      orders(first: $first) { nodes { id lineItems(first: 5) @include(if: $lines) { nodes { title } } } }
      nodes(ids: $ids) { id }
    }"""
    document = parse(text)
    cases = [
        {"first": 10, "ids": ["a"], "lines": True},
        {"first": 10, "ids": ["b"], "lines": True},  # same length: same price, from memory
        {"first": 10, "ids": ["a", "b", "c"], "lines": True},
        {"first": 250, "ids": ["a"], "lines": False},
        {"first": 10, "ids": ["a"], "lines": True},
    ]
    for variables in cases:
        fresh = cost._Coster(schema, document, variables, cost._Walk(schema, document))
        assert cost.requested_cost(schema, document, variables, None) == fresh.operation(None, None)
        data = {"orders": {"nodes": [{"id": "1", "lineItems": {"nodes": []}}]}, "nodes": [None]}
        assert cost.actual_cost(schema, document, variables, None, data) == fresh.operation(None, data)
    prices = {cost.requested_cost(schema, document, v, None) for v in cases}
    assert len(prices) > 2  # page size, list length and @include all change the price
    for n in range(cost.DOCUMENTS_KEPT + 20):
        cost.requested_cost(schema, parse(f'query Q{n} {{ order(id: "{n}") {{ id }} }}'), {}, None)
    assert len(cost._walks) <= cost.DOCUMENTS_KEPT
