"""The Shopify Admin GraphQL client: one POST per operation, every answer mapped to the exception tree.

Concurrency: threads. One `ShopifyClient` (an `httpx.Client` with its kept-alive connection per
thread) and its `CostGovernor` are shared by every worker of the execution stage's
`ThreadPoolExecutor`; each `execute` call blocks its own thread only, first in the governor, then on
the network.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from email.utils import parsedate_to_datetime
from functools import cache
from importlib.resources import files
from typing import Any, NoReturn

import httpx
from graphql import DocumentNode, OperationDefinitionNode, OperationType, parse

from pipeline import __version__
from pipeline.errors import (
    AuthError,
    ConcurrentRequestError,
    GraphQLError,
    MaxCostExceededError,
    NoAnswerError,
    OutcomeUnknownError,
    ServerError,
    ShopifyError,
    ThrottledError,
    TokenRefusedError,
    UnreachableError,
)
from pipeline.settings import ConnectionSettings
from pipeline.shopify.governor import CostEstimator, CostGovernor, QueryCost, static_cost

log = logging.getLogger(__name__)

# Raised before a byte of the request left: nothing can have happened on Shopify's side.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
# Shopify's code when an @idempotent key's first request is still being processed (implementing-idempotency).
CONCURRENT_REQUEST = "IDEMPOTENCY_CONCURRENT_REQUEST"
# No connection at all: the shop is unreachable, and saying so at once beats minutes of retries.
_NO_CONNECTION = (httpx.ConnectError, httpx.ConnectTimeout)
_TERMINAL_STATUS = {
    402: "the shop is frozen (payment required)",
    404: "no such shop or API version",
    423: "the shop is locked",
}


@dataclass(frozen=True, slots=True)
class Document:
    """One `.graphql` file: a single named operation."""

    name: str
    text: str
    ast: DocumentNode
    is_mutation: bool


@cache
def load_document(name: str) -> Document:
    """Reads and parses `graphql/<name>.graphql` once per process."""
    resource = files("pipeline.shopify") / "graphql" / f"{name}.graphql"
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"no GraphQL document named {name!r}") from None
    ast = parse(text)
    operations = [d for d in ast.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].name is None or operations[0].name.value != name:
        raise ValueError(f"{name}.graphql must hold exactly one operation, named {name}")
    return Document(name, text, ast, operations[0].operation == OperationType.MUTATION)


@dataclass(frozen=True, slots=True)
class Result:
    """The `data` of a successful answer (userErrors included, as values) and what it cost."""

    data: dict[str, Any]
    cost: QueryCost | None


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)  # money travels as a string, never a float
    raise TypeError(f"cannot send {type(value).__name__} in GraphQL variables")


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
        date = parsedate_to_datetime(response.headers["Date"]) if "Date" in response.headers else None
        return max((moment - date).total_seconds(), 0.0) if date else 1.0
    except (TypeError, ValueError, IndexError):
        return 1.0  # Shopify's recommended pause when it gives no figure


def unreachable_reason(exc: httpx.TransportError, timeout: float) -> str:
    """Why no connection could be made, in the merchant's words (the socket's own text as a last resort)."""
    text = str(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no answer within {timeout:g} s (--timeout)"
    if "refused" in text.lower():
        return "nothing is listening there — is the simulator running?"
    if any(w in text for w in ("Name or service not known", "nodename nor servname", "name resolution")):
        return "no such host: check the shop's name"
    if "SSL" in text or "TLS" in text or "certificate" in text.lower():
        return "the secure connection failed (TLS): check the address (the simulator is http://)"
    return f"no connection ({text or type(exc).__name__})"


def _throttle_wait(cost: QueryCost | None) -> float:
    if cost is None or not cost.has_status or cost.requested is None or not cost.restore_rate:
        return 1.0
    assert cost.available is not None
    return max((cost.requested - cost.available) / cost.restore_rate, 0.0)


class ShopifyClient:
    """Sends the named documents to one shop; thread-safe."""

    def __init__(
        self,
        settings: ConnectionSettings,
        transport: httpx.BaseTransport | None = None,
        *,
        governor: CostGovernor | None = None,
    ) -> None:
        self.settings = settings
        self.governor = governor or CostGovernor()
        self._estimator = CostEstimator()
        self._unreachable_since: float | None = None  # when connections began to fail, if they do
        self._transport = transport
        # One connection pool per thread: httpx's shared pool scans every connection on each request,
        # which at dozens of threads costs more CPU than the request itself.
        self._local = threading.local()
        self._pools: list[httpx.Client] = []
        self._pools_lock = threading.Lock()
        # One TLS context (certificates verified, never configurable: the token must not travel over
        # unverified TLS) for every thread's pool: building one loads the CA bundle, ~30 ms of CPU,
        # which dozens of threads starting together would otherwise each pay.
        self._tls = httpx.create_ssl_context()

    def _http(self) -> httpx.Client:
        """This thread's connection pool (a kept-alive connection, reused by its next request)."""
        http: httpx.Client | None = getattr(self._local, "http", None)
        if http is None:
            http = httpx.Client(
                transport=self._transport,
                timeout=self.settings.timeout,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=2),
                verify=self._tls,
                headers={
                    "X-Shopify-Access-Token": self.settings.token.reveal(),
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "User-Agent": f"bulkcancel/{__version__}",
                },
            )
            with self._pools_lock:
                self._pools.append(http)
            self._local.http = http
        return http

    def __repr__(self) -> str:
        return f"ShopifyClient(shop={self.settings.shop!r}, api_version={self.settings.api_version!r})"

    def close(self) -> None:
        """Closes the connection pools."""
        with self._pools_lock:
            pools, self._pools = self._pools, []
        for http in pools:
            http.close()

    def __enter__(self) -> ShopifyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def execute(
        self, document_name: str, variables: Mapping[str, Any] | None = None, *, mutation: bool
    ) -> Result:
        """Sends one document, paced by the governor; raises a `ShopifyError` unless it succeeded."""
        document = load_document(document_name)
        if document.is_mutation != mutation:
            raise ValueError(f"{document_name} is {'a' if document.is_mutation else 'not a'} mutation")
        static = static_cost(document.ast, variables)
        reservation = self.governor.acquire(lambda: self._estimator.estimate(document_name, static))
        cost: QueryCost | None = None
        try:
            response = self._post(document, variables or {})
            body = self._decode(document, response)
            cost = QueryCost.from_body(body)
            if cost is not None:
                self._estimator.observe(document_name, static, cost.requested)
            return self._result(document, response, body, cost)
        finally:
            self.governor.release(reservation, cost)

    def _scrub(self, text: str) -> str:
        return text.replace(self.settings.token.reveal(), "<hidden>")

    def _post(self, document: Document, variables: Mapping[str, Any]) -> httpx.Response:
        content = json.dumps({"query": document.text, "variables": variables}, default=_json_default)
        try:
            response = self._http().post(self.settings.endpoint, content=content.encode("utf-8"))
        except _NO_CONNECTION as exc:
            raise self._unreachable(document, exc) from None
        except httpx.TransportError as exc:
            # Chaining is cut (`from None`): the request object inside carries the token header.
            what = f"{document.name}: {type(exc).__name__}: {self._scrub(str(exc)) or 'no answer'}"
            if isinstance(exc, httpx.TimeoutException):
                waited = f"gave no answer within {self.settings.timeout:g} s"
                what = f"{document.name}: {self.settings.shop} {waited}"
            if document.is_mutation and not isinstance(exc, _NOT_SENT):
                raise OutcomeUnknownError(f"{what}; the mutation may have been applied") from None
            if isinstance(exc, httpx.TimeoutException):
                raise NoAnswerError(what) from None
            raise ServerError(what) from None
        self._unreachable_since = None
        return response

    def _unreachable(self, document: Document, exc: httpx.TransportError) -> UnreachableError:
        """Retryable until connections have failed for longer than the timeout (the retry budget)."""
        now = time.monotonic()
        since = self._unreachable_since = self._unreachable_since or now
        reason = self._scrub(unreachable_reason(exc, self.settings.timeout))
        message = f"{document.name}: cannot reach {self.settings.shop_url}: {reason}"
        return UnreachableError(message, reason, retryable=now - since < self.settings.timeout)

    def _decode(self, document: Document, response: httpx.Response) -> Any:
        where = f"{document.name}: HTTP {response.status_code} from {self.settings.shop}"
        status = response.status_code
        if status == 401:
            raise TokenRefusedError(f"{where}: the shop refused the access token")
        if status == 403:
            raise AuthError(f"{where}: the access token lacks a scope or permission")
        if status == 429:
            self.governor.throttled()  # no cost came with it: the governor is told directly
            raise ThrottledError(f"{where}: too many requests", retry_after=_retry_after(response))
        if status >= 500:
            self._unknown_or_server(document, f"{where}: Shopify had a server error")
        if status in _TERMINAL_STATUS:
            raise ShopifyError(f"{where}: {_TERMINAL_STATUS[status]}")
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError:
            self._unknown_or_server(document, f"{where}: the answer is not JSON")

    def _unknown_or_server(self, document: Document, message: str) -> NoReturn:
        if document.is_mutation:
            raise OutcomeUnknownError(f"{message}; the mutation may have been applied")
        raise ServerError(message)

    def _result(
        self, document: Document, response: httpx.Response, body: Any, cost: QueryCost | None
    ) -> Result:
        where = f"{document.name}: HTTP {response.status_code} from {self.settings.shop}"
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            if not isinstance(errors, list):
                errors = [{"message": str(errors)}]
            codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
            message = self._scrub("; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict)))
            if "THROTTLED" in codes:
                requested, maximum = (cost.requested, cost.maximum) if cost is not None else (None, None)
                raise ThrottledError(
                    f"{where}: throttled",
                    retry_after=_throttle_wait(cost),
                    requested=requested,
                    maximum=maximum,
                )
            if CONCURRENT_REQUEST in codes:
                raise ConcurrentRequestError(f"{where}: {message}")
            if "MAX_COST_EXCEEDED" in codes:
                raise MaxCostExceededError(f"{where}: {message}", errors)
            if "ACCESS_DENIED" in codes:
                raise AuthError(f"{where}: access denied (missing scope or permission): {message}")
            if "INTERNAL_SERVER_ERROR" in codes:
                self._unknown_or_server(document, f"{where}: Shopify internal error: {message}")
            raise GraphQLError(f"{where}: {message}", errors)
        if not (200 <= response.status_code < 300) or not isinstance(body, dict):
            raise ShopifyError(f"{where}: unexpected answer")
        data = body.get("data")
        if not isinstance(data, dict):
            self._unknown_or_server(document, f"{where}: the answer has no data")
        log.debug("%s cost %s", document.name, cost)
        return Result(data, cost)
