"""Retry policies: what is retried is decided by the error's type; waits are bounded and jittered."""

from __future__ import annotations

import json

import httpx
import pytest

from pipeline.errors import (
    AuthError,
    ConcurrentRequestError,
    GraphQLError,
    MaxCostExceededError,
    OutcomeUnknownError,
    ServerError,
    ThrottledError,
    TransientError,
)
from pipeline.settings import ConnectionSettings
from pipeline.shopify import ShopifyClient, execute_idempotent, retrying

SETTINGS = ConnectionSettings.from_options(shop="mystore", environ={"SHOPIFY_ACCESS_TOKEN": "shpat_test"})


class Flaky:
    """A callable that raises the given errors in turn, then answers "done"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def test_transient_errors_are_retried_until_success():
    sleeps: list[float] = []
    flaky = Flaky(ServerError("503"), ServerError("reset"), ThrottledError("throttled", retry_after=2.0))
    assert retrying(sleep=sleeps.append)(flaky) == "done"
    assert flaky.calls == 4
    assert 2.0 <= sleeps[2] <= 2.5  # Shopify's wait, plus at most the initial jitter


@pytest.mark.parametrize(
    "error",
    [
        OutcomeUnknownError("lost answer"),
        AuthError("401"),
        GraphQLError("bad field"),
        MaxCostExceededError("too dear"),
    ],
)
def test_terminal_and_unknown_outcomes_are_not_retried(error):
    flaky = Flaky(error)
    with pytest.raises(type(error)):
        retrying(sleep=lambda _: None)(flaky)
    assert flaky.calls == 1


def test_attempts_are_bounded_and_the_last_error_is_raised_as_is():
    flaky = Flaky(*[ServerError(f"503 #{i}") for i in range(20)])
    with pytest.raises(ServerError, match="503 #4"):
        retrying(attempts=5, sleep=lambda _: None)(flaky)
    assert flaky.calls == 5


def test_backoff_is_exponential_capped_and_jittered():
    sleeps: list[float] = []
    flaky = Flaky(*[ServerError("503") for _ in range(7)])
    retrying(attempts=8, initial=1.0, maximum=8.0, sleep=sleeps.append)(flaky)
    floors = [1, 2, 4, 8, 8, 8, 8]
    assert all(floor <= slept <= floor + 1.0 for floor, slept in zip(floors, sleeps, strict=True))


def test_a_throttle_never_waits_past_the_time_budget():
    sleeps: list[float] = []
    retrying(max_elapsed=60.0, sleep=sleeps.append)(Flaky(ThrottledError("429", retry_after=3600)))
    assert sleeps == [60.0]


def test_the_idempotent_policy_resends_after_an_unknown_outcome():
    flaky = Flaky(OutcomeUnknownError("lost answer"), ServerError("502"))
    assert retrying(idempotent=True, sleep=lambda _: None)(flaky) == "done"
    assert flaky.calls == 3


REFUND = {"input": {"orderId": "gid://shopify/Order/1"}, "idempotencyKey": "bulkcancel-run-1-order-1-refund"}


def test_a_refund_whose_answer_was_lost_is_resent_with_the_same_key():
    bodies: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        if len(bodies) == 1:
            raise httpx.ReadTimeout("answer lost")
        return httpx.Response(
            200, json={"data": {"refundCreate": {"refund": {"id": "gid://shopify/Refund/9"}}}}
        )

    client = ShopifyClient(SETTINGS, transport=httpx.MockTransport(handler))
    result = execute_idempotent(
        client, "RefundCreate", REFUND, policy=retrying(idempotent=True, sleep=lambda _: None)
    )
    assert result.data["refundCreate"]["refund"]["id"] == "gid://shopify/Refund/9"
    assert [b["variables"]["idempotencyKey"] for b in bodies] == [REFUND["idempotencyKey"]] * 2


def test_only_idempotent_mutations_with_a_key_may_be_resent():
    client = ShopifyClient(SETTINGS, transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    with pytest.raises(ValueError, match="not an @idempotent mutation"):
        execute_idempotent(client, "OrderCancel", {"orderId": "gid://shopify/Order/1"})
    with pytest.raises(ValueError, match="idempotencyKey"):
        execute_idempotent(client, "RefundCreate", {"input": {}, "idempotencyKey": " "})


IN_PROGRESS = "This request is currently in progress, please try again."
CONCURRENT_ANSWERS = {
    "top-level error": {
        "errors": [{"message": IN_PROGRESS, "extensions": {"code": "IDEMPOTENCY_CONCURRENT_REQUEST"}}],
        "data": {"refundCreate": None},
    },
    "userError with the code": {
        "data": {
            "refundCreate": {
                "refund": None,
                "userErrors": [
                    {"field": None, "message": IN_PROGRESS, "code": "IDEMPOTENCY_CONCURRENT_REQUEST"}
                ],
            }
        }
    },
    "userError with the message": {
        "data": {"refundCreate": {"refund": None, "userErrors": [{"field": None, "message": IN_PROGRESS}]}}
    },
}


@pytest.mark.parametrize("answer", list(CONCURRENT_ANSWERS.values()), ids=list(CONCURRENT_ANSWERS))
def test_a_request_still_in_progress_is_resent_with_the_same_key(answer):
    bodies: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        if len(bodies) < 3:
            return httpx.Response(200, json=answer)
        return httpx.Response(
            200,
            json={"data": {"refundCreate": {"refund": {"id": "gid://shopify/Refund/9"}, "userErrors": []}}},
        )

    client = ShopifyClient(SETTINGS, transport=httpx.MockTransport(handler))
    result = execute_idempotent(
        client, "RefundCreate", REFUND, policy=retrying(idempotent=True, sleep=lambda _: None)
    )
    assert result.data["refundCreate"]["refund"]["id"] == "gid://shopify/Refund/9"
    assert [b["variables"]["idempotencyKey"] for b in bodies] == [REFUND["idempotencyKey"]] * 3


@pytest.mark.parametrize("answer", list(CONCURRENT_ANSWERS.values()), ids=list(CONCURRENT_ANSWERS))
def test_in_progress_is_a_transient_error_of_its_own_type(answer):
    client = ShopifyClient(
        SETTINGS, transport=httpx.MockTransport(lambda r: httpx.Response(200, json=answer))
    )
    policy = retrying(idempotent=True, attempts=2, sleep=lambda _: None)
    with pytest.raises(ConcurrentRequestError) as caught:
        execute_idempotent(client, "RefundCreate", REFUND, policy=policy)
    assert caught.value.retryable and isinstance(caught.value, TransientError)
    assert not isinstance(caught.value, OutcomeUnknownError)
