"""A bulk query over `shopifyPaymentsAccount { balanceTransactions }`: each balance transaction a line
of its own, the nodes a page shows; the document inlined as the client sends it; other selections
under the account refused."""

from __future__ import annotations

from graphql import parse

from pipeline.shopify.bulk import inline
from tests.simulator.test_bulk import Shop

SINCE = "processed_at:>=2026-01-01T00:00:00Z"
PAGE = """query($q: String!) { shopifyPaymentsAccount { balanceTransactions(first: 250, query: $q) {
  nodes { id sourceOrderTransactionId fee { amount currencyCode } net { amount currencyCode }
          associatedPayout { id status } } pageInfo { hasNextPage } } } }"""


def test_the_client_document_exports_every_balance_transaction_a_page_shows():
    shop = Shop(orders=40)
    text = inline("BalanceTransactionsBulk", {"query": SINCE})
    started = shop.run_query(text)
    assert started["userErrors"] == [], started
    done = shop.wait(started["bulkOperation"]["id"])
    assert done["status"] == "COMPLETED"
    lines = shop.lines(done["url"])
    paged = shop.gql(PAGE, q=SINCE)["data"]["shopifyPaymentsAccount"]["balanceTransactions"]
    assert not paged["pageInfo"]["hasNextPage"]
    assert lines and sorted(lines, key=lambda n: n["id"]) == sorted(paged["nodes"], key=lambda n: n["id"])
    assert int(done["rootObjectCount"]) == int(done["objectCount"]) == len(lines)
    assert all("__parentId" not in line for line in lines)


def test_the_search_narrows_the_export_and_an_empty_one_has_no_file():
    shop = Shop(orders=200)  # a few of its orders were refunded before
    refunds = shop.run_query(inline("BalanceTransactionsBulk", {"query": "transaction_type:refund"}))
    lines = shop.lines(shop.wait(refunds["bulkOperation"]["id"])["url"])
    assert lines and all(n["net"]["amount"].startswith("-") for n in lines)
    none = shop.run_query(inline("BalanceTransactionsBulk", {"query": "processed_at:>=2099-01-01"}))
    done = shop.wait(none["bulkOperation"]["id"])
    assert done["status"] == "COMPLETED" and done["url"] is None and done["objectCount"] == "0"


def test_more_than_the_connection_under_the_account_is_not_simulated():
    shop = Shop(orders=5)
    for text in (
        "{ shopifyPaymentsAccount { id balanceTransactions { edges { node { id } } } } }",
        "{ shopifyPaymentsAccount { payouts { edges { node { id } } } } }",
    ):
        parse(text)  # valid GraphQL: the simulator, not the schema, declines it
        errors = shop.run_query(text)["userErrors"]
        assert errors and errors[0]["code"] == "INVALID"
        assert "shopifyPaymentsAccount.balanceTransactions" in errors[0]["message"]
