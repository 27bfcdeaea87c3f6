"""Starting one bulk mutation exactly once (SPEC §15): the newest operation on the shop is journaled
before the start and the document's operation is named for the run and record, so a start whose
answer was lost (or a crash right after it) is found among the operations created after it, running
or not, never confused with another run's, and never started a second time.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from typing import Any

from graphql import OperationDefinitionNode, parse
from graphql.error import GraphQLError

from pipeline.errors import BulkOperationError, OutcomeUnknownError, ShopifyError
from pipeline.execute.bulkjournal import BulkJournal, BulkRecord
from pipeline.shopify.bulk import LIMIT_REACHED, BulkOperations
from pipeline.shopify.client import load_document
from pipeline.shopify.retry import execute_with_retry, retrying

MAX_WAITS = 100  # for a free slot while five operations run on the shop
NO_SUCH_FILE = "NO_SUCH_FILE"  # BulkMutationUserErrorCode: the staged upload expired or never was
LOST_ANSWER_WAIT = 60.0  # seconds: a request whose answer was lost may still be processed meanwhile


class StartUnknownError(ShopifyError):
    """The start's answer was lost and more than one operation could be ours: once they have all
    finished, the lines are verified by a read instead."""

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates


class UploadGoneError(ShopifyError):
    """The staged file is no longer there (staged uploads expire): this record can never be started."""


def number(gid: str) -> int:
    return int(str(gid).rsplit("/", 1)[-1])


def _send(bulk: BulkOperations, document: str, variables: Mapping[str, Any], *, mutation: bool) -> Any:
    policy = retrying(sleep=bulk.sleep)
    return execute_with_retry(bulk.client, document, variables, mutation=mutation, policy=policy).data


def _mutations(bulk: BulkOperations) -> list[dict[str, Any]]:
    data = _send(bulk, "BulkOperationsActive", {"query": "operation_type:mutation"}, mutation=False)
    return list(data["bulkOperations"]["nodes"])


def newest_operation(bulk: BulkOperations) -> int:
    """The id number of the newest mutation operation on the shop (0 when there is none)."""
    return max((number(n["id"]) for n in _mutations(bulk)), default=0)


def tagged(name: str, run_id: str, seq: int) -> str:
    """The document `name`, its operation renamed for this run and record: every run sends the same
    documents, and BulkOperation shows nothing else (no upload path, no clientIdentifier) to tell
    whose it is."""
    tag = re.sub(r"\W", "_", f"{run_id}_{seq}")
    text = load_document(name).text
    return re.sub(r"\b(mutation\s+)(\w+)", lambda m: f"{m[1]}{m[2]}_{tag}", text, count=1)


def operation_name(text: str) -> str | None:
    """The name of the document's operation (spacing and comments aside), None if it does not parse."""
    try:
        definitions = parse(text).definitions
    except GraphQLError:
        return None
    names = [d.name.value for d in definitions if isinstance(d, OperationDefinitionNode) and d.name]
    return names[0] if len(names) == 1 else None


def find_started(bulk: BulkOperations, text: str, newest_before: int, known: set[str]) -> str | None:
    """The operation of `text` (a `tagged` document: its name is this record's alone) created after
    `newest_before` and not journaled for another line set."""
    name = operation_name(text)
    mine = [
        n["id"]
        for n in _mutations(bulk)
        if name is not None
        and operation_name(n["query"]) == name
        and number(n["id"]) > newest_before
        and n["id"] not in known
    ]
    if len(mine) > 1:
        raise StartUnknownError(
            f"{len(mine)} bulk operations could be the one whose start answer was lost", mine
        )
    return mine[0] if mine else None


def start(bulk: BulkOperations, text: str, staged_path: str, newest_before: int, known: set[str]) -> str:
    """Starts the mutation `text` over the staged file, waiting for a slot; returns its id."""
    variables = {"mutation": text, "stagedUploadPath": staged_path, "clientIdentifier": None}
    delay = bulk.poll
    for _ in range(MAX_WAITS):
        try:
            data = _send(bulk, "BulkMutationRun", variables, mutation=True)
        except OutcomeUnknownError:
            return _after_lost_answer(bulk, text, newest_before, known)
        payload = data["bulkOperationRunMutation"]
        errors = payload.get("userErrors") or []
        if not errors:
            return str(payload["bulkOperation"]["id"])
        if any(e.get("code") == NO_SUCH_FILE for e in errors):
            raise UploadGoneError(f"bulkOperationRunMutation: staged file {staged_path} is gone")
        if all(e.get("code") == LIMIT_REACHED for e in errors):
            bulk.sleep(delay)
            delay = min(delay * 2, bulk.max_poll)
            continue
        raise ShopifyError("bulkOperationRunMutation: " + "; ".join(str(e.get("message")) for e in errors))
    raise ShopifyError("bulkOperationRunMutation: no slot or no answer after many tries")


def _after_lost_answer(bulk: BulkOperations, text: str, newest_before: int, known: set[str]) -> str:
    """The operation of a start whose answer was lost, looked for until LOST_ANSWER_WAIT has passed
    (the request may still be processed); never sent again blindly: not found, its lines are verified
    (StartUnknownError without candidates), and the next rounds look for it again before any resend."""
    waited, delay = 0.0, bulk.poll
    while True:
        found = find_started(bulk, text, newest_before, known)
        if found is not None:
            return found
        if waited >= LOST_ANSWER_WAIT:
            raise StartUnknownError("bulkOperationRunMutation: answer lost, no operation found", [])
        bulk.sleep(delay)
        waited, delay = waited + delay, min(delay * 2, bulk.max_poll)


def outwait(bulk: BulkOperations, operation_ids: list[str]) -> None:
    """Waits until each of these operations is over, however it ends."""
    for operation_id in operation_ids:
        with contextlib.suppress(BulkOperationError):
            bulk.wait(operation_id)


def late_starts(bulk: BulkOperations, journal: BulkJournal, text_of: Callable[[BulkRecord], str]) -> None:
    """A start whose answer was lost may have made its operation since (its name is its record's
    alone): that operation is waited out before its lines are read, so nothing is sent again."""
    for record in journal.operations():
        if record.status == "unknown" and record.operation_id is None:
            known = {r.operation_id for r in journal.operations() if r.operation_id}
            found = find_started(bulk, text_of(record), record.newest_before, known)
            if found is not None:
                journal.started(record.seq, found)
                outwait(bulk, [found])
                journal.close(record.seq, "unknown")
