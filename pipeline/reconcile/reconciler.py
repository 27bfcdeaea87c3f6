"""`reconcile RUN_DIR`: read back every planned order and the run's gift cards, compare, write reports.

The reads are `OrdersReconcile` over `nodes(ids:)`, at most 250 ids a call, through the shared
client (its cost governor paces them); an order with more refunds or transactions than one page
shows is read again alone with larger pages. The comparison is `reconcile.py`; the files are
`reconcile_report.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pipeline.errors import ThrottledError
from pipeline.execute.journal import Journal
from pipeline.plan.files import load_plan
from pipeline.reconcile.compare import Reconciliation, reconcile
from pipeline.reconcile.report import ReportFiles, write_reports
from pipeline.settings import ConnectionSettings
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.retry import execute_with_retry

JOURNAL = "journal.sqlite"
MAX_IDS = 250  # nodes(ids:) takes at most 250 ids (SHOPIFY-FACTS §12)
PAGE = {"refundsFirst": 10, "transactionsFirst": 5, "refundLinesFirst": 10}
# One order alone, when it has more than a page shows: still far under the 1,000-point ceiling.
LARGE_PAGE = {"refundsFirst": 50, "transactionsFirst": 50, "refundLinesFirst": 50}


@dataclass(frozen=True)
class ReconcileResult:
    """The reconciliation, the files written and the points the reads cost."""

    reconciliation: Reconciliation
    files: ReportFiles
    points: int
    orders_read: int

    @property
    def all_matched(self) -> bool:
        return not self.reconciliation.exceptions


def journal_rows(run_dir: Path, run_id: str) -> list[dict[str, Any]]:
    """The journal's steps, or none when the run was never executed (no journal file is created)."""
    path = Path(run_dir) / JOURNAL
    if not path.is_file():
        return []
    with Journal.open(path, run_id) as journal:
        return journal.rows_for_report()


def reconcile_run(
    run_dir: Path,
    settings: ConnectionSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReconcileResult:
    """Re-reads, compares, and writes the reconciliation files into `run_dir` (SPEC §8)."""
    run_dir = Path(run_dir)
    typed = load_plan(run_dir)  # refuses a plan.json that no longer matches plan.sha256
    plan = typed.to_json()  # the comparison and its report still read the plan.json document
    rows = journal_rows(run_dir, typed.run_id)
    order_ids = list(dict.fromkeys(action.order_id for action in typed.actions()))
    card_ids = list(dict.fromkeys(r["gift_card_id"] for r in rows if r.get("gift_card_id")))
    with ShopifyClient(settings, transport) as client:
        reader = _Reader(client, progress or (lambda _n: None))
        nodes = reader.read([*order_ids, *card_ids])
        truncated = [i for i in order_ids if _truncated(nodes.get(i))]
        if truncated:
            nodes.update(reader.read(truncated, one_by_one=True))
    orders = {i: _mark(nodes.get(i)) for i in order_ids}
    cards = {i: nodes.get(i) for i in card_ids}
    result = reconcile(plan, rows, orders, cards)
    files = write_reports(run_dir, plan, result)
    return ReconcileResult(result, files, reader.points, len(order_ids))


class _Reader:
    def __init__(self, client: ShopifyClient, progress: Callable[[int], None]) -> None:
        self.client, self.progress, self.points = client, progress, 0

    def read(self, ids: Sequence[str], *, one_by_one: bool = False) -> dict[str, dict[str, Any] | None]:
        """Every id's node (None when Shopify has no such node), at most `MAX_IDS` a call.

        A call that costs more than the shop's whole bucket is split in halves until it fits."""
        found: dict[str, dict[str, Any] | None] = {}
        size, pages = (1, LARGE_PAGE) if one_by_one else (MAX_IDS, PAGE)
        start = 0
        while start < len(ids):
            batch = list(ids[start : start + size])
            try:
                result = execute_with_retry(
                    self.client, "OrdersReconcile", {"ids": batch, **pages}, mutation=False
                )
            except ThrottledError as exc:
                if not exc.too_big or len(batch) == 1:
                    raise
                size = max(1, len(batch) // 2)
                continue
            if result.cost is not None:
                self.points += int(result.cost.actual or 0)
            for node_id, node in zip(batch, result.data["nodes"], strict=True):
                found[node_id] = node
            self.progress(sum(1 for i in batch if "/Order/" in i))
            start += len(batch)
        return found


def _truncated(order: Mapping[str, Any] | None) -> bool:
    """True when a page was full: there may be refunds, transactions or lines that were not read."""
    if not order or order.get("__typename") != "Order":
        return False
    refunds = order.get("refunds") or []
    if len(refunds) >= PAGE["refundsFirst"]:
        return True
    return any(
        refund[part]["pageInfo"]["hasNextPage"]
        for refund in refunds
        for part in ("transactions", "refundLineItems")
    )


def _mark(order: dict[str, Any] | None) -> dict[str, Any] | None:
    """Flag an order still truncated after the large read: reconcile says to check it by hand."""
    if order is None or order.get("__typename") != "Order":
        return None
    refunds = order.get("refunds") or []
    still = len(refunds) >= LARGE_PAGE["refundsFirst"] or any(
        refund[part]["pageInfo"]["hasNextPage"]
        for refund in refunds
        for part in ("transactions", "refundLineItems")
    )
    return {**order, "truncated": True} if still else order
