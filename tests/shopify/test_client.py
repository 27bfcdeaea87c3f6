"""The client against fake Shopify answers: success, userErrors, throttling, auth, outages, lost answers."""

from __future__ import annotations

import json
import logging
import traceback
from decimal import Decimal

import httpx
import pytest

from pipeline.errors import (
    AuthError,
    GraphQLError,
    MaxCostExceededError,
    OutcomeUnknownError,
    ServerError,
    ShopifyError,
    ThrottledError,
)
from pipeline.settings import ConnectionSettings
from pipeline.shopify import ShopifyClient, execute_with_retry, retrying

TOKEN = "shpat_PLANTED_TOKEN_4f7c2e"
SETTINGS = ConnectionSettings.from_options(shop="mystore", environ={"SHOPIFY_ACCESS_TOKEN": TOKEN})
COST = {
    "requestedQueryCost": 10,
    "actualQueryCost": 10,
    "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0},
}
# SHOPIFY-FACTS §11 A, verbatim.
THROTTLED = {
    "errors": [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ],
    "extensions": {
        "cost": {
            "requestedQueryCost": 752,
            "actualQueryCost": None,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 666, "restoreRate": 50.0},
        }
    },
}
HTML_503 = "<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>"
CANCEL = {"orderId": "gid://shopify/Order/1", "reason": "INVENTORY", "restock": False}


def client_answering(*answers, seen: list | None = None) -> ShopifyClient:
    """A client whose transport gives these answers in turn (an exception is raised instead)."""
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return ShopifyClient(SETTINGS, transport=httpx.MockTransport(handler))


def ok(data: dict) -> httpx.Response:
    return httpx.Response(200, json={"data": data, "extensions": {"cost": COST}})


def test_success_posts_the_document_with_the_token_and_returns_data_and_cost():
    seen: list[httpx.Request] = []
    client = client_answering(ok({"job": {"id": "gid://shopify/Job/1", "done": True}}), seen=seen)
    result = client.execute("OrderCancelled", {"id": "gid://shopify/Job/1"}, mutation=False)
    assert result.data == {"job": {"id": "gid://shopify/Job/1", "done": True}}
    assert result.cost is not None and result.cost.available == 1990 and result.cost.restore_rate == 100
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://mystore.myshopify.com/admin/api/2026-07/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    body = json.loads(request.content)
    assert "query OrderCancelled(" in body["query"]
    assert body["variables"] == {"id": "gid://shopify/Job/1"}
    assert client.governor.snapshot().in_flight == 0


def test_money_travels_as_strings_both_ways():
    seen: list[httpx.Request] = []
    answer = httpx.Response(
        200, json={"data": {"refundCreate": {"amount": 12.5}}, "extensions": {"cost": COST}}
    )
    client = client_answering(answer, seen=seen)
    variables = {
        "input": {"orderId": "gid://shopify/Order/1", "amount": Decimal("12.50")},
        "idempotencyKey": "k",
    }
    result = client.execute("RefundCreate", variables, mutation=True)
    assert json.loads(seen[0].content)["variables"]["input"]["amount"] == "12.50"
    assert result.data["refundCreate"]["amount"] == Decimal("12.5")


def test_user_errors_are_data_not_exceptions():
    errors = [
        {
            "field": ["orderId"],
            "message": "Cannot cancel an order that has already been canceled",
            "code": "INVALID",
        }
    ]
    client = client_answering(ok({"orderCancel": {"job": None, "orderCancelUserErrors": errors}}))
    result = client.execute("OrderCancel", CANCEL, mutation=True)
    assert result.data["orderCancel"]["orderCancelUserErrors"] == errors


def test_throttled_body_waits_what_the_bucket_needs_and_resyncs_the_governor():
    client = client_answering(httpx.Response(200, json=THROTTLED))
    with pytest.raises(ThrottledError) as caught:
        client.execute("OrderCancelled", {"id": "gid://shopify/Job/1"}, mutation=False)
    assert caught.value.retry_after == pytest.approx((752 - 666) / 50.0)
    snapshot = client.governor.snapshot()
    assert snapshot.maximum == 1000.0 and snapshot.restore_rate == 50.0
    assert snapshot.available == pytest.approx(666, abs=1)


def test_http_429_honours_retry_after():
    client = client_answering(httpx.Response(429, headers={"Retry-After": "7"}, text="Too Many Requests"))
    with pytest.raises(ThrottledError) as caught:
        client.execute("OrderCancel", CANCEL, mutation=True)
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures(status):
    client = client_answering(
        httpx.Response(status, json={"errors": "[API] Invalid API key or access token"})
    )
    with pytest.raises(AuthError):
        client.execute("OrderCancelled", {"id": "x"}, mutation=False)


@pytest.mark.parametrize(("mutation", "expected"), [(False, ServerError), (True, OutcomeUnknownError)])
def test_503_html_page(mutation, expected):
    client = client_answering(httpx.Response(503, text=HTML_503, headers={"Content-Type": "text/html"}))
    name, variables = ("OrderCancel", CANCEL) if mutation else ("OrderCancelled", {"id": "x"})
    with pytest.raises(expected) as caught:
        client.execute(name, variables, mutation=mutation)
    assert type(caught.value) is expected


def test_non_json_200_on_a_query_is_a_server_error():
    client = client_answering(httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(ServerError):
        client.execute("OrderCancelled", {"id": "x"}, mutation=False)


def test_timeout_on_a_mutation_is_an_unknown_outcome():
    client = client_answering(httpx.ReadTimeout("timed out"))
    with pytest.raises(OutcomeUnknownError, match="may have been applied"):
        client.execute("OrderCancel", CANCEL, mutation=True)
    assert client.governor.snapshot().in_flight == 0


def test_connect_failure_on_a_mutation_was_never_sent():
    client = client_answering(httpx.ConnectError("connection refused"))
    with pytest.raises(ServerError) as caught:
        client.execute("OrderCancel", CANCEL, mutation=True)
    assert not isinstance(caught.value, OutcomeUnknownError)


def test_timeout_on_a_query_is_retried():
    seen: list[httpx.Request] = []
    answer = ok({"job": {"id": "gid://shopify/Job/1", "done": True}})
    client = client_answering(httpx.ReadTimeout("timed out"), answer, seen=seen)
    sleeps: list[float] = []
    result = execute_with_retry(
        client, "OrderCancelled", {"id": "x"}, mutation=False, policy=retrying(sleep=sleeps.append)
    )
    assert result.data["job"]["done"] is True
    assert len(seen) == 2 and len(sleeps) == 1


@pytest.mark.parametrize(
    ("code", "expected"),
    [("MAX_COST_EXCEEDED", MaxCostExceededError), ("ACCESS_DENIED", AuthError), (None, GraphQLError)],
)
def test_top_level_errors(code, expected):
    error = {
        "message": "Field 'nope' doesn't exist on type 'Order'",
        "extensions": {"code": code} if code else {},
    }
    client = client_answering(httpx.Response(200, json={"errors": [error]}))
    with pytest.raises(expected):
        client.execute("OrderCancelled", {"id": "x"}, mutation=False)


def test_internal_server_error_in_body():
    body = {"errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
    with pytest.raises(OutcomeUnknownError):
        client_answering(httpx.Response(200, json=body)).execute("OrderCancel", CANCEL, mutation=True)
    with pytest.raises(ServerError):
        client_answering(httpx.Response(200, json=body)).execute(
            "OrderCancelled", {"id": "x"}, mutation=False
        )


@pytest.mark.parametrize("status", [402, 404, 423])
def test_terminal_statuses(status):
    with pytest.raises(ShopifyError) as caught:
        client_answering(httpx.Response(status, text="")).execute(
            "OrderCancelled", {"id": "x"}, mutation=False
        )
    assert not caught.value.retryable


def test_the_mutation_flag_must_match_the_document():
    client = client_answering(ok({}))
    with pytest.raises(ValueError):
        client.execute("OrderCancel", CANCEL, mutation=False)
    with pytest.raises(ValueError):
        client.execute("NoSuchDocument", {}, mutation=False)


PLANTED_FAILURES = [
    httpx.Response(401, text=f"bad token {TOKEN}"),
    httpx.Response(429, headers={"Retry-After": "1"}),
    httpx.Response(503, text=HTML_503),
    httpx.Response(200, json=THROTTLED),
    httpx.Response(200, json={"errors": [{"message": f"echo {TOKEN}"}]}),
    httpx.ReadTimeout(f"timed out {TOKEN}"),
    httpx.ConnectError("refused"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
]


@pytest.mark.parametrize(
    "answer", PLANTED_FAILURES, ids=lambda a: getattr(a, "status_code", type(a).__name__)
)
@pytest.mark.parametrize("mutation", [False, True])
def test_the_planted_token_never_leaks(answer, mutation, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_answering(answer)
    name, variables = ("OrderCancel", CANCEL) if mutation else ("OrderCancelled", {"id": "x"})
    with pytest.raises(ShopifyError) as caught:
        client.execute(name, variables, mutation=mutation)
    shown = [str(caught.value), repr(caught.value), "".join(traceback.format_exception(caught.value))]
    shown += [repr(client), repr(client.settings), caplog.text]
    assert all(TOKEN not in text for text in shown)
