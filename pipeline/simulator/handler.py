"""The simulator's one request handler, shared by the HTTP server and the in-process transport.

It does what Shopify's edge does before and after GraphQL execution: versioned path, access-token
check, calculated-cost throttling against the leaky bucket, the 1,000-point ceiling, injected
faults (5xx, THROTTLED storms, lost answers), latency, and `extensions.cost` on every answer.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
)

from pipeline.simulator import cost
from pipeline.simulator.access import ALL_SCOPES, Access
from pipeline.simulator.bucket import CostBucket
from pipeline.simulator.faults import Fault, FaultInjector, FaultSpec
from pipeline.simulator.reply import Reply
from pipeline.simulator.staged import FILES_PREFIX
from pipeline.simulator.syntax import shopify_validate, variable_errors
from pipeline.simulator.versions import HEADER, served_version

DEFAULT_TOKEN = "shpat_simulator"
DOCUMENT_CACHE = 256
GRAPHQL_PATH = re.compile(r"^/admin/api/(?P<version>[^/]+)/graphql\.json$")
# Shopify's own wording for a bad token (REST and GraphQL Admin answer the same).
UNAUTHORIZED = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


class Shop(Protocol):
    """What the handler needs of the shop behind it: `resolvers.ShopApi`, or a fake in tests."""

    schema: GraphQLSchema  # the default version's
    schemas: dict[str, GraphQLSchema]  # API version → its schema

    def execute(
        self,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        schema: GraphQLSchema | None = None,
    ) -> ExecutionResult: ...

    def ledger_json(self) -> dict[str, Any]: ...

    def orders_json(self) -> dict[str, Any]: ...

    def hold_answer(self, seconds: float) -> None: ...

    def grant(self, access: Access) -> None: ...


@dataclass(frozen=True)
class SimulatorConfig:
    """The knobs of `simulator serve` (SPEC §10)."""

    token: str = DEFAULT_TOKEN
    restore_rate: float = 100.0
    bucket: float = 2000.0
    latency_ms: float = 0.0
    faults: FaultSpec = field(default_factory=FaultSpec)
    # After a lost answer, how long (shop time) its idempotency keys answer "in progress" (SPEC §10):
    # the moment a client's retry meets Shopify still processing the first request.
    in_progress_s: float = 3.0
    # The token: its access scopes (None: every scope the simulator knows) and its staff member's
    # `refund_orders` / `refund_to_store_credit` permissions (SPEC §10, issue 13).
    scopes: tuple[str, ...] | None = None
    refund_permission: bool = True
    store_credit_permission: bool = True

    def access(self) -> Access:
        """The token's scopes and permissions as the shop checks them."""
        return Access(
            scopes=ALL_SCOPES if self.scopes is None else self.scopes,
            refund_orders=self.refund_permission,
            refund_to_store_credit=self.store_credit_permission,
        )


@dataclass
class Stats:
    """Counters served at GET /_simulator/stats."""

    requests: int = 0
    throttled: int = 0
    points_spent: int = 0

    def as_json(self, faults: FaultInjector) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "throttled": self.throttled,
            "points_spent": self.points_spent,
            "faults_injected": faults.counts(),
        }


class Simulator:
    """The shop behind one access token: a store, its cost bucket, its faults and its counters."""

    def __init__(
        self,
        api: Shop,
        config: SimulatorConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.config = config or SimulatorConfig()
        api.grant(self.config.access())
        bulk = getattr(api, "bulk", None)  # a ShopApi's bulk operations (SPEC §15); fakes have none
        if bulk is not None:
            bulk.faults(self.config.faults.bulk, self.config.faults.seed)
        self.bucket = CostBucket(self.config.bucket, self.config.restore_rate, clock=clock)
        self.faults = FaultInjector(self.config.faults)
        self.stats = Stats()
        self._sleep = sleep
        self._jitter = random.Random(self.config.faults.seed)
        self._lock = threading.Lock()  # one writer at a time, like a row lock per shop
        self._documents: dict[tuple[str, str], tuple[DocumentNode, list[dict[str, Any]]]] = {}

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        """Answer one HTTP request."""
        path = path.split("?", 1)[0]
        bulk = getattr(self.api, "bulk", None)
        if bulk is not None and path.startswith(FILES_PREFIX):  # the bucket: no token, no cost
            reply: Reply = bulk.files.serve(method, path, headers, body)
            return reply
        if path.startswith("/_simulator/") and method == "GET":
            return self._inspect(path)
        found = GRAPHQL_PATH.match(path)
        version = served_version(found["version"], sorted(self.api.schemas)) if found else None
        if version is None:
            return Reply.json(404, {"errors": "Not Found"})
        if method != "POST":
            return Reply.json(405, {"errors": "Method Not Allowed"})
        lowered = {k.lower(): v for k, v in headers.items()}
        if lowered.get("x-shopify-access-token") != self.config.token:
            return Reply.json(401, UNAUTHORIZED)
        self._latency()
        with self._lock:
            self.stats.requests += 1
        reply = self._graphql(body, version)
        return Reply(reply.status, reply.body, {**reply.headers, HEADER: version}, lost=reply.lost)

    def _latency(self) -> None:
        if self.config.latency_ms > 0:
            with self._lock:
                factor = self._jitter.uniform(0.8, 1.2)
            self._sleep(self.config.latency_ms * factor / 1000)

    def _graphql(self, body: bytes, version: str) -> Reply:
        try:
            request = json.loads(body or b"{}")
            query = request["query"]
            if not isinstance(query, str):
                raise TypeError
            variables = request.get("variables") or {}
            operation_name = request.get("operationName")
        except (ValueError, KeyError, TypeError, AttributeError):
            return Reply.json(400, {"errors": {"query": "Required parameter missing or invalid"}})
        try:
            document, errors = self._checked(query, version)
        except GraphQLError as exc:
            return self._errors([_syntax_error(exc)])
        schema = self.api.schemas[version]
        operation = _operation(document, operation_name)
        is_mutation = operation is not None and operation.operation == OperationType.MUTATION
        fault = self.faults.before(is_mutation)
        if fault in (Fault.HTTP_500, Fault.HTTP_502, Fault.HTTP_503):
            return self.faults.reply(fault)
        if not errors and operation is not None:
            errors = variable_errors(schema, operation, variables)
        if errors:
            return self._errors(errors)
        requested = cost.requested_cost(schema, document, variables, operation_name)
        if requested > cost.MAX_COST:
            return self._errors(cost.max_cost_errors(requested))
        with self._lock:
            if fault is Fault.THROTTLE or not self.bucket.try_spend(requested):
                self.stats.throttled += 1
                return Reply.json(200, self.bucket.throttled_body(requested))
            result = self.api.execute(document, variables, operation_name, schema)
            data = result.data
            actual = cost.actual_cost(schema, document, variables, operation_name, data or {})
            actual = min(actual, requested)
            self.bucket.refund(requested - actual)
            self.stats.points_spent += actual
            payload: dict[str, Any] = {}
            if result.errors:
                payload["errors"] = [_execution_error(e) for e in result.errors]
            payload["data"] = data
            payload["extensions"] = {"cost": self.bucket.cost_extension(requested, actual)}
            # Decided under the lock, so no retry can slip in before its keys are marked in progress.
            lost = self.faults.lose_answer(is_mutation)
            if lost:
                self.api.hold_answer(self.config.in_progress_s)
        reply = Reply.json(200, payload)
        return Reply(reply.status, reply.body, reply.headers, lost=lost)

    def _checked(self, query: str, version: str) -> tuple[DocumentNode, list[dict[str, Any]]]:
        """The parsed document and its validation errors, computed once per distinct document text:
        a client sends the same few documents thousands of times, and validation is most of the CPU."""
        with self._lock:
            known = self._documents.get((version, query))
        if known is None:
            document = parse(query)
            known = (document, shopify_validate(self.api.schemas[version], document))
            with self._lock:
                if len(self._documents) >= DOCUMENT_CACHE:
                    self._documents.pop(next(iter(self._documents)))
                self._documents[(version, query)] = known
        return known

    def _errors(self, errors: list[dict[str, Any]]) -> Reply:
        """A document Shopify refuses before execution: no `data`, no cost (as recorded)."""
        return Reply.json(200, {"errors": errors})

    def _inspect(self, path: str) -> Reply:
        with self._lock:
            if path == "/_simulator/ledger":
                return Reply.json(200, self.api.ledger_json())
            if path == "/_simulator/orders":
                return Reply.json(200, self.api.orders_json())
            if path == "/_simulator/stats":
                return Reply.json(200, self.stats.as_json(self.faults))
        return Reply.json(404, {"errors": "Not Found"})


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in ops if o.name and o.name.value == name), None)
    return ops[0] if len(ops) == 1 else None


def _syntax_error(exc: GraphQLError) -> dict[str, Any]:
    locations = [{"line": loc.line, "column": loc.column} for loc in exc.locations or []]
    return {"message": exc.message, "locations": locations, "extensions": {"code": "parseError"}}


def _execution_error(error: GraphQLError) -> dict[str, Any]:
    formatted = dict(error.formatted)
    formatted.setdefault("extensions", {"code": "INTERNAL_SERVER_ERROR"})
    return formatted
