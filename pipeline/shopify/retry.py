"""Retry policies (tenacity). Whether an error is retried is a property of its type, never its text.

Transient errors (THROTTLED and 429, 5xx, dropped connections, timeouts of reads) are retried with
exponential backoff and jitter, bounded in attempts and time; a throttle waits what Shopify asked.
`OutcomeUnknownError` is not retried: the execution stage verifies first. The one exception is an
idempotent mutation (`refundCreate` with `@idempotent(key:)`), which is resent with the same key,
also when Shopify answers that the key's first request is still in progress.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from tenacity import (
    RetryCallState,
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)
from tenacity.wait import wait_base

from pipeline.errors import ConcurrentRequestError, ThrottledError, TransientError
from pipeline.shopify.client import CONCURRENT_REQUEST, Result, ShopifyClient, load_document

log = logging.getLogger(__name__)

ATTEMPTS = 8
MAX_ELAPSED = 300.0  # seconds: past this, a failure is reported rather than retried
INITIAL_WAIT = 0.5
MAX_WAIT = 30.0
# refundCreate's UserError has no `code`: the concurrent-request answer can only be known by its words.
CONCURRENT_MESSAGE = "currently in progress"


def is_transient(exc: BaseException) -> bool:
    """Retryable as is: nothing was executed, or it was a read."""
    return isinstance(exc, TransientError) and exc.retryable


def is_transient_or_unknown(exc: BaseException) -> bool:
    """Also an unknown outcome: only for mutations that Shopify de-duplicates by key."""
    return isinstance(exc, TransientError)


class wait_shopify(wait_base):
    """Waits a throttle's `retry_after` (plus jitter), else exponential backoff with jitter."""

    def __init__(self, initial: float, maximum: float, ceiling: float) -> None:
        self._initial = initial
        self._maximum = maximum
        self._ceiling = ceiling

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, ThrottledError):
            # Jitter keeps the threads that were throttled together from returning together.
            return min(exc.retry_after + random.uniform(0, self._initial), self._ceiling)
        backoff: float = self._initial * 2 ** (retry_state.attempt_number - 1)
        return min(backoff, self._maximum) + random.uniform(0, self._initial)


def retrying(
    *,
    idempotent: bool = False,
    attempts: int | None = None,
    max_elapsed: float | None = None,
    initial: float | None = None,
    maximum: float | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Retrying:
    """A tenacity policy; `idempotent=True` also resends after an unknown outcome.

    Defaults are read from this module when the policy is made, so a test can shorten the waits.
    """
    ceiling = MAX_ELAPSED if max_elapsed is None else max_elapsed
    return Retrying(
        retry=retry_if_exception(is_transient_or_unknown if idempotent else is_transient),
        stop=stop_after_attempt(attempts or ATTEMPTS) | stop_after_delay(ceiling),
        wait=wait_shopify(INITIAL_WAIT if initial is None else initial, maximum or MAX_WAIT, ceiling=ceiling),
        sleep=sleep or time.sleep,
        reraise=True,  # the caller sees our own exception, not tenacity's RetryError
        before_sleep=before_sleep_log(log, logging.INFO),  # retries are routine
    )


def execute_with_retry(
    client: ShopifyClient,
    document_name: str,
    variables: Mapping[str, Any] | None = None,
    *,
    mutation: bool,
    policy: Retrying | None = None,
) -> Result:
    """`client.execute` under the transient policy: an unknown outcome is raised, not resent."""
    policy = policy or retrying()
    return policy(client.execute, document_name, variables, mutation=mutation)


def execute_idempotent(
    client: ShopifyClient,
    document_name: str,
    variables: Mapping[str, Any],
    *,
    policy: Retrying | None = None,
) -> Result:
    """Sends an `@idempotent` mutation, resending with the same key until it gets an answer."""
    document = load_document(document_name)
    if not document.is_mutation or "@idempotent" not in document.text:
        raise ValueError(f"{document_name} is not an @idempotent mutation: it must not be resent blindly")
    if not str(variables.get("idempotencyKey") or "").strip():
        raise ValueError(f"{document_name} needs an idempotencyKey minted at plan time")
    policy = policy or retrying(idempotent=True)
    return policy(_send_idempotent, client, document_name, variables)


def _send_idempotent(client: ShopifyClient, document_name: str, variables: Mapping[str, Any]) -> Result:
    result = client.execute(document_name, variables, mutation=True)
    raise_if_in_progress(document_name, result.data)
    return result


def raise_if_in_progress(document_name: str, data: Mapping[str, Any]) -> None:
    """ConcurrentRequestError when the payload's userErrors say the key's first request is in progress."""
    for payload in data.values():
        for error in (payload or {}).get("userErrors") or ():
            if error.get("code") == CONCURRENT_REQUEST or CONCURRENT_MESSAGE in str(error.get("message")):
                raise ConcurrentRequestError(f"{document_name}: {error.get('message')}")
