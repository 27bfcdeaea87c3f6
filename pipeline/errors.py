"""The exception tree. Every expected failure is a `PipelineError`; the CLI prints it as one line.

PipelineError                    base; `exit_code` says how the CLI exits
├── InputError                   the input file cannot be read or is not valid (exit 2)
├── ConfigError                  bad settings: shop, token, API version, run directory (exit 2)
├── RefusedError                 execution refused for approval or safety reasons (exit 3)
├── TieOutError                  reconciliation totals do not tie out: no file is written (exit 1)
├── JournalError                 an illegal journal transition or an unusable journal file (terminal)
└── ShopifyError                 talking to Shopify failed
    ├── AuthError                401/403: wrong token or missing scope; stops the run (terminal)
    │   └── TokenRefusedError    401: the shop refused the access token itself
    ├── GraphQLError             the API answered `errors` (invalid document, unknown id...) (terminal)
    ├── MaxCostExceededError     a single query costs more than 1,000 points (terminal)
    ├── BulkOperationError       a bulk operation ended FAILED or CANCELED; carries its partial file
    └── TransientError           worth retrying as is: nothing was executed, or it was a read
        ├── ThrottledError       THROTTLED or HTTP 429; carries the seconds to wait
        ├── ConcurrentRequestError  IDEMPOTENCY_CONCURRENT_REQUEST: the key's first request is still
        │                        being processed; resend with the same key after a pause
        └── ServerError          HTTP 5xx, a non-JSON body, a dropped connection, a timeout
            ├── UnreachableError  no connection at all (refused, unknown name, TLS): nothing was sent
            ├── NoAnswerError    a read got no answer within the timeout
            └── OutcomeUnknownError  a mutation was sent and its answer was lost: verify first

Whether an error is retried is a property of its type (`retryable`), never a message match.
Shopify `userErrors` are not exceptions: they are values recorded per order.
"""

from __future__ import annotations

from typing import Any


class PipelineError(Exception):
    """Base of every expected failure."""

    exit_code = 1
    retryable = False


class InputError(PipelineError):
    """The input file cannot be read, or its rows are not valid."""

    exit_code = 2


class ConfigError(PipelineError):
    """A setting is wrong: shop domain, token, API version, paths."""

    exit_code = 2


class RefusedError(PipelineError):
    """Execution refused: plan tampered with, too old, over the limit, not confirmed."""

    exit_code = 3


class TieOutError(PipelineError):
    """Raised when the reconciliation's totals disagree with the plan or with the transactions."""

    exit_code = 1


class JournalError(PipelineError):
    """An illegal transition or an unusable journal file: a bug or a second writer, never retried."""


class ShopifyError(PipelineError):
    """Talking to Shopify failed."""


class AuthError(ShopifyError):
    """HTTP 401/403: the token is wrong or lacks a scope. Stops the run."""


class TokenRefusedError(AuthError):
    """HTTP 401: the shop refused the access token itself (not a missing scope)."""


class GraphQLError(ShopifyError):
    """The API answered top-level `errors` that are not throttling."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class MaxCostExceededError(GraphQLError):
    """A single query would cost more than Shopify's 1,000-point maximum."""


class BulkOperationError(ShopifyError):
    """A bulk operation ended without completing; `partial_data_url` holds what it did, if anything."""

    def __init__(self, message: str, partial_data_url: str | None = None) -> None:
        super().__init__(message)
        self.partial_data_url = partial_data_url


class TransientError(ShopifyError):
    """A failure worth retrying as is."""

    retryable = True


class ThrottledError(TransientError):
    """THROTTLED (HTTP 200) or HTTP 429: not executed; wait `retry_after` seconds."""

    def __init__(
        self, message: str, retry_after: float, requested: float | None = None, maximum: float | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # A request that costs more than the whole bucket can never run as is: split it, don't wait.
        self.too_big = bool(requested and maximum and requested > maximum)
        self.retryable = not self.too_big


class ConcurrentRequestError(TransientError):
    """Shopify is still processing an earlier request with this idempotency key: resend it, same key.

    The earlier request may yet land, so its step is not known to have failed, nor to have happened.
    """


class ServerError(TransientError):
    """HTTP 5xx, a non-JSON answer, a dropped connection or a timeout."""


class UnreachableError(ServerError):
    """No connection could be made, so nothing was sent; `reason` says why in the merchant's words.

    Retried like any server error until connections have failed for longer than the timeout, then
    `retryable` is False: an unreachable shop is said within `--timeout`, not after minutes.
    """

    exit_code = 2  # like a wrong setting: nothing was done, the address or the network needs fixing

    def __init__(self, message: str, reason: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.reason = reason
        self.retryable = retryable


class NoAnswerError(ServerError):
    """A read got no answer within the timeout: retried by the work, said at once by the first look."""


class OutcomeUnknownError(ServerError):
    """A mutation was sent and no answer came back: it may or may not have been applied."""

    retryable = False
