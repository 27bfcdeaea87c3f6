"""One bulk operation as the shop keeps it (SPEC §15), and the settings of the shop's bulk work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from graphql import DocumentNode

from pipeline.simulator.bulkquery import BulkQuery
from pipeline.simulator.gids import gid
from pipeline.simulator.shapes import ts

MAX_RUNNING = 5  # per shop since 2026-01 (bulk-operations/imports; "faster bulk operations" changelog)
DEFAULT_RATE = 50.0  # mutation lines per second (`--bulk-rate`)
DEFAULT_QUERY_RATE = 1000.0  # exported objects per second (`--bulk-query-rate`); see README
ACTIVE = ("CREATED", "RUNNING", "CANCELING")


@dataclass(eq=False)
class BulkOperation:
    """One operation and where its work stands."""

    id: int
    type: str  # QUERY or MUTATION
    query: str
    created_at: datetime
    status: str = "CREATED"
    error_code: str | None = None
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    url: str | None = None
    partial_data_url: str | None = None
    total: int = 0  # roots (query) or lines (mutation) to do
    done: int = 0  # of those, done
    fail_at: int | None = None  # the `bulk` fault: fails once `done` reaches it
    plan: BulkQuery | None = None
    order_ids: list[int] = field(default_factory=list)  # the roots to export (balance transactions' too)
    mutation: DocumentNode | None = None
    source: Path | None = None  # the uploaded variables, read line by line from `offset`
    offset: int = 0
    name: str = ""
    # Its start's answer was lost while the request was still being processed: until then the
    # operation is neither listed nor run (the simulator's `in_progress_s`).
    hidden_until: datetime | None = None
    answer: Any = None  # a query's compiled node plan (bulkexport), False when it has none
    unit_s: float = 0.0  # real seconds its last step took per line or root object (sizes the slices)

    def visible(self, now: datetime) -> bool:
        return self.hidden_until is None or now >= self.hidden_until

    def view(self) -> dict[str, Any]:
        """The BulkOperation object as the API answers it (UnsignedInt64 as strings)."""
        return {
            "id": gid("BulkOperation", self.id),
            "status": self.status,
            "type": self.type,
            "errorCode": self.error_code,
            "createdAt": ts(self.created_at),
            "completedAt": ts(self.completed_at),
            "objectCount": str(self.object_count),
            "rootObjectCount": str(self.root_object_count),
            "fileSize": None if self.file_size is None else str(self.file_size),
            "url": self.url,
            "partialDataUrl": self.partial_data_url,
            "query": self.query,
        }


@dataclass
class BulkSettings:
    """`--bulk-rate`, `--bulk-query-rate`, and the `bulk` fault's share and seed."""

    rate: float = DEFAULT_RATE
    query_rate: float = DEFAULT_QUERY_RATE
    fail_share: float = 0.0
    seed: int = 0
    background: bool = True  # a thread does the work (False: each request does what is due, for tests)
    worker: bool = True  # start that thread (False: the caller plays it, calling `BulkEngine.work()`)
