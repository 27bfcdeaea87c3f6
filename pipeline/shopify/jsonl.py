"""Shopify's bulk-operation result files, read line by line and never loaded whole.

A query's file holds one object per line; the nodes of a nested connection are lines of their own
with `__parentId`, right after their parent when the query ran with `groupObjects: true`
(shopify.dev bulk-operations/queries). `records` joins each parent with its children as it streams,
holding one parent at a time. A mutation's file holds each line's answer with `__lineNumber`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pipeline.errors import ServerError, ShopifyError

PARENT = "__parentId"
LINE_NUMBER = "__lineNumber"


class TruncatedFileError(ServerError):
    """The result file ended in the middle of a line: the download was cut; fetch it again."""


@dataclass
class Record:
    """One exported object and its children by type (`LineItem` → the order's line items)."""

    object: dict[str, Any]
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.object.get("id", ""))


def lines(chunks: Iterable[bytes], *, partial: bool = False) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSONL byte stream. A last line without its newline that is not JSON is a
    cut download (TruncatedFileError), except in a FAILED operation's partial file (`partial`),
    where it is dropped: the operation stopped while writing it."""
    rest = b""
    for chunk in chunks:
        rest += chunk
        *complete, rest = rest.split(b"\n")
        for raw in complete:
            if raw.strip():
                yield _decode(raw)
    if rest.strip():
        try:
            yield json.loads(rest, parse_float=Decimal)
        except ValueError:
            if not partial:
                raise TruncatedFileError(f"the result file ends mid-line ({len(rest)} bytes)") from None


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise ShopifyError(f"the result file holds a line that is not JSON: {raw[:80]!r}") from None
    if not isinstance(value, dict):
        raise ShopifyError(f"the result file holds a line that is not an object: {raw[:80]!r}")
    return value


def gid_type(gid: str) -> str:
    """`gid://shopify/LineItem/1` → `LineItem`."""
    parts = gid.split("/")
    return parts[3] if len(parts) > 4 and gid.startswith("gid://") else ""


def records(objects: Iterable[dict[str, Any]]) -> Iterator[Record]:
    """Parents with their children, in file order; a child whose parent is not the one being read
    means the file was not grouped, and is refused rather than misattributed."""
    current: Record | None = None
    for obj in objects:
        parent = obj.pop(PARENT, None)
        if parent is None:
            if current is not None:
                yield current
            current = Record(obj)
            continue
        if current is None or parent != current.id:
            raise ShopifyError(
                f"the result file lists a child of {parent} away from its parent (not grouped)"
            )
        current.children.setdefault(gid_type(str(obj.get("id", ""))), []).append(obj)
    if current is not None:
        yield current
