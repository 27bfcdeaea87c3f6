"""Shopify's bulk operations (SPEC §15): start, poll, stream results; stage a JSONL upload.

The calls that start, poll and cancel go through `ShopifyClient` (the cost governor, the retry
policy); the work itself is not charged. Result files and uploads live on Shopify's storage, so
they go through a second HTTP client that never carries the access token.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from graphql import (
    BooleanValueNode,
    IntValueNode,
    NullValueNode,
    StringValueNode,
    ValueNode,
    Visitor,
    print_ast,
    visit,
)
from graphql.language import OperationDefinitionNode, VariableNode

from pipeline.errors import BulkOperationError, OutcomeUnknownError, ServerError, ShopifyError
from pipeline.shopify.client import ShopifyClient, load_document
from pipeline.shopify.jsonl import Record, lines, records
from pipeline.shopify.progress import Progress, ProgressTracker
from pipeline.shopify.retry import execute_with_retry, retrying

MAX_UPLOAD = 100 * 1024 * 1024  # Shopify's limit for one JSONL file of variables
RUNNING = ("CREATED", "RUNNING", "CANCELING")
READ_TRIES = 3  # runs of a bulk query that keeps ending FAILED before its error is raised
LIMIT_REACHED = "LIMIT_REACHED"  # five operations already run on this shop


class OperationGoneError(ShopifyError):
    """The shop no longer knows this bulk operation (its id was journaled long ago, or by mistake)."""


@dataclass(frozen=True)
class BulkStatus:
    """One answer of `bulkOperation(id:)`."""

    id: str
    status: str
    error_code: str | None
    object_count: int
    root_object_count: int
    file_size: int | None
    url: str | None
    partial_data_url: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BulkStatus:
        def number(key: str) -> int | None:
            return None if data.get(key) is None else int(data[key])

        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            error_code=data.get("errorCode"),
            object_count=number("objectCount") or 0,
            root_object_count=number("rootObjectCount") or 0,
            file_size=number("fileSize"),
            url=data.get("url"),
            partial_data_url=data.get("partialDataUrl"),
        )

    @property
    def running(self) -> bool:
        return self.status in RUNNING


def inline(document_name: str, variables: Mapping[str, Any]) -> str:
    """The document's text with its variables written in: bulk queries take no variables."""
    document = load_document(document_name)

    class _Inline(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> ValueNode:
            return _literal(variables.get(node.name.value))

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> Any:
            return OperationDefinitionNode(
                operation=node.operation,
                name=node.name,
                directives=node.directives,
                selection_set=visit(node.selection_set, _Inline()),
                variable_definitions=(),
            )

    return print_ast(visit(document.ast, _Inline()))


def id_range(numbers: Iterable[int]) -> str:
    """The search for the orders from the lowest to the highest of these numbers (an order id's digits),
    cancelled and closed ones too: a bulk read of a run's orders, matched to them as it streams."""
    ordered = sorted(numbers)
    return f"status:any id:>={ordered[0]} id:<={ordered[-1]}"


def _literal(value: Any) -> ValueNode:
    if value is None:
        return NullValueNode()
    if isinstance(value, bool):
        return BooleanValueNode(value=value)
    if isinstance(value, int):
        return IntValueNode(value=str(value))
    return StringValueNode(value=str(value))


class BulkOperations:
    """Runs bulk operations on one shop. `sleep` paces the polls (tests pass the simulator's clock)."""

    def __init__(
        self,
        client: ShopifyClient,
        files: httpx.BaseTransport | None = None,
        *,
        poll: float = 1.0,
        max_poll: float = 15.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.poll, self.max_poll, self.sleep, self.clock = client, poll, max_poll, sleep, clock
        # No token header: result files and uploads are on Shopify's storage, not the Admin API.
        self._files = httpx.Client(transport=files, timeout=client.settings.timeout, verify=True)

    def close(self) -> None:
        self._files.close()

    def _send(
        self, document: str, variables: Mapping[str, Any], *, mutation: bool, resend: bool = False
    ) -> dict[str, Any]:
        """`resend`: a lost answer is sent again (only for what changes nothing on the shop)."""
        policy = retrying(idempotent=resend, sleep=self.sleep)
        return execute_with_retry(self.client, document, variables, mutation=mutation, policy=policy).data

    def _start(self, document: str, variables: Mapping[str, Any], kind: str, text: str) -> BulkStatus:
        """Starts an operation, waiting while five run; after a lost answer, finds the one it started
        (a read not found running is started again: reading twice changes nothing)."""
        delay = self.poll
        for _ in range(100):
            try:
                payload = next(iter(self._send(document, variables, mutation=True).values()))
            except OutcomeUnknownError:
                found = self._find_running(kind, text)
                if found is None and kind == "QUERY":
                    continue
                if found is None:
                    raise
                return found
            errors = payload.get("userErrors") or []
            if not errors:
                return self.status(payload["bulkOperation"]["id"])
            if all(e.get("code") == LIMIT_REACHED for e in errors):
                self.sleep(delay)
                delay = min(delay * 2, self.max_poll)
                continue
            raise ShopifyError(f"{document}: " + "; ".join(str(e.get("message")) for e in errors))
        raise ShopifyError(f"{document}: five bulk operations kept running on the shop")

    def _find_running(self, kind: str, text: str) -> BulkStatus | None:
        data = self._send("BulkOperationsActive", {"query": f"operation_type:{kind}"}, mutation=False)
        mine = [n for n in data["bulkOperations"]["nodes"] if n["query"] == text and n["status"] in RUNNING]
        return self.status(mine[0]["id"]) if len(mine) == 1 else None

    def run_query(self, document_name: str, variables: Mapping[str, Any]) -> BulkStatus:
        """Starts the bulk query `document_name` with its variables written in."""
        text = inline(document_name, variables)
        return self._start("BulkQueryRun", {"query": text}, "QUERY", text)

    def run_mutation(
        self, document_name: str, staged_path: str, client_identifier: str | None = None
    ) -> BulkStatus:
        """Starts the mutation `document_name` once per line of the uploaded variables."""
        text = load_document(document_name).text
        variables = {"mutation": text, "stagedUploadPath": staged_path, "clientIdentifier": client_identifier}
        return self._start("BulkMutationRun", variables, "MUTATION", text)

    def status(self, operation_id: str) -> BulkStatus:
        data = self._send("BulkOperationStatus", {"id": operation_id}, mutation=False)
        if data.get("bulkOperation") is None:
            raise OperationGoneError(f"bulk operation {operation_id} does not exist")
        return BulkStatus.from_json(data["bulkOperation"])

    def cancel(self, operation_id: str) -> BulkStatus:
        self._send("BulkOperationCancel", {"id": operation_id}, mutation=True)
        return self.status(operation_id)

    def wait(
        self,
        operation_id: str,
        total: int | None = None,
        progress: Callable[[Progress], None] | None = None,
        unit: str = "objects",
    ) -> BulkStatus:
        """Polls until the operation is over, each poll later than the last (up to `max_poll`);
        `total`: the root objects expected (orders of a query, lines of a mutation), for the ETA.
        FAILED raises BulkOperationError."""
        tracker = ProgressTracker(total, self.clock, unit)
        delay, began = self.poll, self.clock()
        while True:
            status = self.status(operation_id)
            reading = tracker.update(status.root_object_count)
            if progress is not None:
                progress(reading)
            if not status.running:
                break
            # Near the end, poll when the rate says it will be over, not a whole interval later; and
            # never wait longer than a tenth of the time waited so far (a short read is not overshot
            # by a whole interval; a long operation is polled at `max_poll`).
            delay = min(delay, max(self.poll, (self.clock() - began) / 10))
            self.sleep(delay if reading.eta is None else min(delay, max(reading.eta, self.poll / 5)))
            delay = min(delay * 1.5, self.max_poll)
        if status.status != "COMPLETED":
            raise BulkOperationError(
                f"bulk operation {operation_id} ended {status.status}"
                + (f" ({status.error_code})" if status.error_code else ""),
                partial_data_url=status.partial_data_url,
            )
        return status

    def orders_total(self, query: str) -> int | None:
        """The orders a bulk read of `query` will export, uncapped, for its progress' time left; None
        when Shopify only estimates."""
        data = self._send("OrdersCountAll", {"query": query}, mutation=False)
        found = data.get("ordersCount") or {}
        return int(found["count"]) if found.get("precision") == "EXACT" else None

    def read(
        self,
        document_name: str,
        variables: Mapping[str, Any],
        total: int | None = None,
        progress: Callable[[Progress], None] | None = None,
        unit: str = "orders",
    ) -> Iterator[dict[str, Any]]:
        """The objects a bulk query exports, a line at a time, once it has COMPLETED; a read that ended
        FAILED is simply run again (reading twice changes nothing), up to READ_TRIES times."""
        return self.begin(document_name, variables).lines(self, total, progress, unit)

    def begin(self, document_name: str, variables: Mapping[str, Any]) -> StartedRead:
        """Starts the bulk query and returns at once: its lines are read later (`StartedRead.lines`,
        through this or another `BulkOperations` of the shop), while the caller does other work."""
        return StartedRead(document_name, dict(variables), self.run_query(document_name, variables).id)

    def stream(self, url: str | None, *, partial: bool = False) -> Iterator[dict[str, Any]]:
        """The result file's objects, downloaded and parsed as they arrive; none when `url` is null."""
        if url is None:
            return
        _check_url(url)
        try:
            with self._files.stream("GET", url) as answer:
                if answer.status_code != 200:
                    raise ServerError(f"result file: HTTP {answer.status_code} from {urlsplit(url).netloc}")
                yield from lines(answer.iter_bytes(), partial=partial)
        except httpx.TransportError as exc:
            raise ServerError(f"result file: {type(exc).__name__} from {urlsplit(url).netloc}") from None

    def records(self, url: str | None) -> Iterator[Record]:
        """A query's objects with their nested children."""
        return records(self.stream(url))

    def upload(
        self, variables: Iterable[Mapping[str, Any]], filename: str = "variables.jsonl"
    ) -> tuple[str, int]:
        """Writes the JSONL of `variables` to a temporary file, uploads it; (stagedUploadPath, lines)."""
        with tempfile.TemporaryFile("w+b") as spool:
            count = 0
            for item in variables:
                spool.write(json.dumps(item, separators=(",", ":"), default=str).encode() + b"\n")
                count += 1
            if spool.tell() > MAX_UPLOAD:
                raise ShopifyError(f"{count} lines of variables exceed Shopify's 100 MB per bulk operation")
            spool.seek(0)
            # A reserved upload target that is never used changes nothing: a lost answer is asked again.
            data = self._send("StagedUploadCreate", {"filename": filename}, mutation=True, resend=True)[
                "stagedUploadsCreate"
            ]
            if data.get("userErrors") or not data.get("stagedTargets"):
                raise ShopifyError(f"stagedUploadsCreate: {data.get('userErrors')}")
            target = data["stagedTargets"][0]
            params = {p["name"]: p["value"] for p in target["parameters"]}
            _check_url(target["url"])
            try:  # httpx writes the form fields first and the file last, as the bucket requires
                answer = self._files.post(
                    target["url"], data=params, files={"file": (filename, spool, "text/jsonl")}
                )
            except httpx.TransportError as exc:
                raise ServerError(f"upload: {type(exc).__name__}") from None
            if answer.status_code not in (200, 201, 204):
                raise ShopifyError(f"upload refused: HTTP {answer.status_code}: {answer.text[:200]}")
            return params["key"], count


@dataclass
class StartedRead:
    """A bulk query running on the shop (`BulkOperations.begin`), its lines not read yet."""

    document_name: str
    variables: dict[str, Any]
    operation_id: str

    def lines(
        self,
        bulk: BulkOperations,
        total: int | None = None,
        progress: Callable[[Progress], None] | None = None,
        unit: str = "orders",
    ) -> Iterator[dict[str, Any]]:
        """Its objects a line at a time once it has COMPLETED; a run that ended otherwise (FAILED, or
        CANCELED by someone) is started again (reading twice changes nothing), READ_TRIES runs in all."""
        for attempt in range(READ_TRIES):
            try:
                done = bulk.wait(self.operation_id, total, progress=progress, unit=unit)
            except BulkOperationError:
                if attempt + 1 == READ_TRIES:
                    raise
                self.operation_id = bulk.run_query(self.document_name, self.variables).id
                continue
            return bulk.stream(done.url)
        raise AssertionError("unreachable")  # pragma: no cover


def _check_url(url: str) -> None:
    """Files travel over TLS, plain http only to the simulator on loopback."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    ):
        return
    raise ShopifyError(f"refusing to fetch a bulk file over {parts.scheme or 'no scheme'}: {parts.netloc}")
