"""A bulk query's node plan (bulkexport) answers exactly what graphql-core answers for the same document:
the client's bulk documents and the GraphQL forms they could take, over a seeded shop in every state."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.shopify.bulk import inline
from pipeline.simulator.bulk import BulkSettings
from pipeline.simulator.bulkquery import check, flatten, query_lines
from pipeline.simulator.cancel import order_cancel, settle
from pipeline.simulator.resolvers import ShopApi, _resolve
from pipeline.simulator.seed import seed_store
from tests.simulator.factory import FakeClock

EVERY = "status:any"
DOCUMENTS = [
    inline("OrdersBulkPlan", {"query": EVERY, "withQuote": True, "quoteShipping": q, "withLines": True})
    for q in (True, False)
] + [
    inline(
        "OrdersBulkPlan", {"query": EVERY, "withQuote": False, "quoteShipping": False, "withLines": False}
    ),
    inline("SelectOrdersBulk", {"query": EVERY}),
    inline("OrdersReconcileBulk", {"query": EVERY}),
    inline("OrdersBulkState", {"query": EVERY}),
    """{ orders(query: "status:any", reverse: true) { nodes { ...O __typename
         t: __typename lines: lineItems(first: 2, after: "x") { nodes { ... on LineItem { id sku } id } }
         totalPriceSet { shopMoney { amount } } refunds { id note } skipped: name @skip(if: true)
         kept: name @include(if: true) fulfillments { id status } } } }
       fragment O on Order { id name displayFinancialStatus customer { id email } }""",
    """{ orders(query: "financial_status:paid") { edges { cursor node { id
         transactions { id kind status gateway parentTransaction { id } amountSet { shopMoney { amount } } }
         lineItems { edges { node { id quantity refundableQuantity originalUnitPriceSet {
           presentmentMoney { amount currencyCode } } } } } } } pageInfo { hasNextPage } } }""",
]


def answers(api: ShopApi, text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The lines of every order through the node plan, then through graphql-core."""
    plan = check(api.schema, text)
    roots = sorted(api.store.orders.values(), key=lambda o: o.id)
    answer = api._compile(plan)
    assert answer is not None, "the document has a node plan"
    with api.lock:
        settle(api.store)
        planned = [line for root in roots for line in flatten(answer(root), plan.shape)]
    core, error = query_lines(api.execute, _resolve, plan, roots)
    assert error is None
    return planned, core


@pytest.fixture(scope="module")
def api() -> ShopApi:
    clock = FakeClock()
    shop = ShopApi(
        seed_store(orders=120, seed=11, clock=clock), cancel_delay=0.0, bulk=BulkSettings(background=False)
    )
    for order in list(shop.store.orders.values())[:6]:  # a few cancelled and refunded by the simulator
        order_cancel(
            shop.store,
            {
                "orderId": f"gid://shopify/Order/{order.id}",
                "reason": "OTHER",
                "refund": True,
                "restock": True,
            },
        )
    clock.advance(5)
    return shop


@pytest.mark.parametrize("text", DOCUMENTS)
def test_the_node_plan_answers_as_graphql_core(api: ShopApi, text: str) -> None:
    planned, core = answers(api, text)
    assert planned and planned == core
    assert [list(line) for line in planned] == [list(line) for line in core]  # keys in the same order


def test_an_object_root_and_an_aliased_nodes_field_run_through_graphql_core(api: ShopApi) -> None:
    balance = "{ shopifyPaymentsAccount { balanceTransactions { nodes { id } } } }"
    aliased = "{ orders { nodes: edges { node { id } } } }"
    for text in (balance, aliased):
        assert api._compile(check(api.schema, text)) is None
