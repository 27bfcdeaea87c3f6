"""An unreachable shop: retried only while connections have failed for less than `--timeout`, then
said in words (nothing listening, unknown host, no answer within the timeout)."""

from __future__ import annotations

import httpx
import pytest

from pipeline.errors import OutcomeUnknownError, ServerError, UnreachableError
from pipeline.settings import ConnectionSettings, Secret
from pipeline.shopify import client as client_module
from pipeline.shopify.client import ShopifyClient, unreachable_reason
from pipeline.shopify.retry import execute_with_retry, retrying


class Clock:
    """Time that moves only when the retry policy sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def refusing_client(timeout: float) -> tuple[ShopifyClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ConnectError("[Errno 111] Connection refused")

    settings = ConnectionSettings(shop_url="http://127.0.0.1:9", token=Secret("shpat_x"), timeout=timeout)
    return ShopifyClient(settings, transport=httpx.MockTransport(handler)), seen


@pytest.mark.parametrize(("timeout", "most"), [(5.0, 5), (30.0, 7)])
def test_connection_errors_are_retried_for_the_timeout_and_no_longer(timeout, most, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(client_module.time, "monotonic", lambda: clock.now)
    client, seen = refusing_client(timeout)
    policy = retrying(sleep=clock.sleep, initial=0.5, maximum=30.0, attempts=20, max_elapsed=300)
    with pytest.raises(UnreachableError) as caught:
        execute_with_retry(client, "OrderCancelled", {"id": "x"}, mutation=False, policy=policy)
    # The last wait may start just before the budget ends: the whole is at most about twice the timeout.
    assert sum(clock.sleeps) < 2 * timeout + 1
    assert len(seen) <= most and not caught.value.retryable
    assert "cannot reach http://127.0.0.1:9: nothing is listening there" in str(caught.value)


def test_a_connection_that_comes_back_resets_the_budget(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(client_module.time, "monotonic", lambda: clock.now)
    answers: list[object] = [httpx.ConnectError("Connection refused"), httpx.Response(200, json={"data": {}})]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0) if answers else httpx.ConnectError("Connection refused")
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    settings = ConnectionSettings(shop_url="http://127.0.0.1:9", token=Secret("shpat_x"), timeout=5)
    client = ShopifyClient(settings, transport=httpx.MockTransport(handler))
    with pytest.raises(UnreachableError):
        client.execute("OrderCancelled", {"id": "x"}, mutation=False)
    clock.now += 60  # long after: but an answer came in between
    client.execute("OrderCancelled", {"id": "x"}, mutation=False)
    clock.now += 60
    with pytest.raises(UnreachableError) as caught:
        client.execute("OrderCancelled", {"id": "x"}, mutation=False)
    assert caught.value.retryable  # a fresh failure starts a fresh budget


def test_a_refused_connection_on_a_mutation_was_never_sent():
    client, _ = refusing_client(5.0)
    with pytest.raises(ServerError) as caught:
        client.execute("OrderCancel", {"orderId": "gid://shopify/Order/1"}, mutation=True)
    assert isinstance(caught.value, UnreachableError) and not isinstance(caught.value, OutcomeUnknownError)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "nothing is listening there"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "no such host"),
        (httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number"), "TLS"),
        (httpx.ConnectTimeout("timed out"), "no answer within 5 s"),
    ],
)
def test_why_a_shop_is_unreachable_in_words(error, words):
    assert words in unreachable_reason(error, 5.0)
