"""Replays recorded Shopify answers (tests/cassettes, `make record`) through the real client.

They pin the wire format the client must understand: a read, userErrors as values, a cancel job,
THROTTLED, 401, a 503 HTML page, and the answers the simulator infers from reference pages.
No network: vcrpy answers from the cassette or fails.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from pipeline.errors import AuthError, GraphQLError, ServerError, ThrottledError
from pipeline.settings import ConnectionSettings, Secret
from pipeline.shopify.client import ShopifyClient
from tests.record_cassettes import (
    CASSETTES,
    CLAIM_UNKNOWN_ORDER,
    HIDDEN,
    REFUND_UNKNOWN_ORDER,
    REFUND_ZERO,
    TOO_MANY_IDS,
    recorder,
)

REPLAY_TOKEN = "shpat_replay_token_0123456789abcdef"


@pytest.fixture
def client():
    settings = ConnectionSettings(shop_url="http://127.0.0.1:9", token=Secret(REPLAY_TOKEN))
    with ShopifyClient(settings) as shop:
        yield shop


def replay(name: str):
    return recorder(REPLAY_TOKEN, mode="none").use_cassette(name, allow_playback_repeats=False)


def test_a_read_returns_data_and_cost(client):
    with replay("orders_by_name.yaml"):
        result = client.execute(
            "OrdersByName", {"query": 'name:"#1001" OR name:"1001"', "first": 5}, mutation=False
        )
    [order] = [o for o in result.data["orders"]["nodes"] if o["name"] == "#1001"]
    assert order["id"].startswith("gid://shopify/Order/")
    assert isinstance(Decimal(order["totalRefundedSet"]["presentmentMoney"]["amount"]), Decimal)
    assert result.cost is not None and result.cost.requested > 0


def test_user_errors_come_back_as_values_not_exceptions(client):
    with replay("refund_create_user_errors.yaml"):
        result = client.execute("RefundCreate", REFUND_UNKNOWN_ORDER, mutation=True)
    errors = result.data["refundCreate"]["userErrors"]
    assert errors and all(set(e) == {"field", "message"} for e in errors)
    assert result.data["refundCreate"]["refund"] is None


def test_a_cancel_answers_a_job_not_yet_done(client):
    with replay("order_cancel_job.yaml") as cassette:
        gid = client.execute("OrdersByName", {"query": 'name:"#1001"', "first": 5}, mutation=False).data[
            "orders"
        ]["nodes"][0]["id"]
        result = client.execute(
            "OrderCancel",
            {
                "orderId": gid,
                "reason": "INVENTORY",
                "restock": False,
                "refundMethod": {"originalPaymentMethodsRefund": True},
            },
            mutation=True,
        )
        assert cassette.all_played
    payload = result.data["orderCancel"]
    assert payload["job"]["done"] is False and payload["job"]["id"].startswith("gid://shopify/Job/")
    assert payload["orderCancelUserErrors"] == []


def test_throttled_is_a_throttled_error_with_a_wait(client):
    with replay("throttled.yaml"), pytest.raises(ThrottledError) as caught:
        client.execute("OrdersByName", {"query": 'name:"#1001"', "first": 5}, mutation=False)
    assert caught.value.retry_after >= 0


def test_401_is_an_auth_error(client):
    with replay("unauthorized.yaml"), pytest.raises(AuthError):
        client.execute("OrdersByName", {"query": 'name:"#1001"', "first": 5}, mutation=False)


def test_503_html_page_is_a_server_error(client):
    with replay("html_503.yaml"), pytest.raises(ServerError) as caught:
        client.execute("OrdersByName", {"query": 'name:"#1001"', "first": 5}, mutation=False)
    assert "not JSON" in str(caught.value) or "server error" in str(caught.value)


def test_no_cassette_holds_an_access_token():
    texts = [p.read_text(encoding="utf-8") for p in sorted(CASSETTES.glob("*.yaml"))]
    assert len(texts) == 7
    for text in texts:
        assert not re.search(r"shpat_[0-9a-f]{32}", text)
        assert "c0ffee" not in text and "shpat_wrong" not in text
        headers = re.findall(r"X-Shopify-Access-Token:\n\s+- (.+)", text)
        assert headers and set(headers) == {HIDDEN}


def test_the_inferred_answers_replay_as_the_simulator_gives_them(client):
    """`make record` against a dev shop re-records these from Shopify; until then they pin the simulator."""
    with replay("inferred_answers.yaml"):
        claim = client.execute("ClaimSet", CLAIM_UNKNOWN_ORDER, mutation=True).data["metafieldsSet"]
        zero = client.execute("RefundCreate", REFUND_ZERO, mutation=True).data["refundCreate"]
        with pytest.raises(GraphQLError, match="250"):
            client.execute("OrdersByIds", TOO_MANY_IDS, mutation=False)
    assert claim["metafields"] in ([], None) and claim["userErrors"]
    assert all(set(e) == {"field", "message", "code"} for e in claim["userErrors"])
    assert zero["refund"] is None and zero["userErrors"]
