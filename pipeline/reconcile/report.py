"""The reconciliation files (SPEC §8): reconciliation.xlsx and .csv, refund_transactions.csv,
customers.csv and report.html, all views of one `Reconciliation`.

Every total is computed once from the per-order rows, then checked against two independent sources
before anything is written: the plan's own totals (`Plan.totals_by_currency_and_method`) for what
was planned, and the refund transactions plus gift cards for what was refunded. Files that would
not tie out are never written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.plan.model import Plan
from pipeline.reconcile.compare import QUIET, STATUSES, ZERO, ReconciledRow, Reconciliation, RefundTransaction
from pipeline.reports import Chart, Column, Sheet, render_page, write_csv, write_workbook
from pipeline.reports.cells import money_text
from pipeline.reports.files import write_bytes

_C = {
    c.key: c
    for c in (
        Column("row", "Row", "int"),
        Column("order", "Order as written"),
        Column("order_name", "Order"),
        Column("order_id", "Order id"),
        Column("status", "Status"),
        Column("detail", "Detail", width=60),
        Column("action", "Action"),
        Column("method", "Method"),
        Column("currency", "Currency"),
        Column("planned", "Planned", "money", currency_key="currency"),
        Column("refunded", "Refunded", "money", currency_key="currency"),
        Column("pending", "Pending", "money", currency_key="currency"),
        Column("difference", "Refunded − planned", "money", currency_key="currency"),
        Column("shop_currency", "Shop currency"),
        Column("refunded_shop", "Refunded (shop currency)", "money", currency_key="shop_currency"),
        Column("cancelled", "Cancelled"),
        Column("cancel_reason", "Cancel reason"),
        Column("refunds_since_plan", "Refunds since plan", "int"),
        Column("restocked_units", "Units restocked", "int"),
        Column("gift_card", "Gift card"),
        Column("tagged", "Tagged"),
        Column("notify", "Shopify notified"),
        Column("customer_name", "Customer"),
        Column("customer_email", "Email"),
        Column("note", "Note", width=40),
        Column("action_key", "Action key"),
        Column("count", "Rows", "int"),
        Column("reason", "Reason"),
    )
}
ORDER_KEYS = [
    "row",
    "order",
    "order_name",
    "order_id",
    "status",
    "detail",
    "action",
    "method",
    "currency",
    "planned",
    "refunded",
    "pending",
    "difference",
    "shop_currency",
    "refunded_shop",
    "cancelled",
    "cancel_reason",
    "refunds_since_plan",
    "restocked_units",
    "gift_card",
    "tagged",
    "notify",
    "customer_name",
    "customer_email",
    "note",
    "action_key",
]
ORDER_COLUMNS = [_C[k] for k in ORDER_KEYS]
EXCEPTION_COLUMNS = [
    _C[k]
    for k in [
        "row",
        "order_name",
        "status",
        "detail",
        "method",
        "currency",
        "planned",
        "refunded",
        "pending",
        "action_key",
    ]
]
TOTAL_KEYS = ("planned", "refunded", "pending", "difference", "refunded_shop")
TOTAL_COLUMNS = [_C[k] for k in ("currency", "method", "count", *TOTAL_KEYS[:4], "shop_currency")] + [
    _C["refunded_shop"]
]
REASON_COLUMNS = [_C[k] for k in ("reason", "status", "currency", "count", "planned", "refunded")]
STATUS_COLUMNS = [_C["status"], _C["count"]]
TRANSACTION_COLUMNS = [
    Column("order_name", "Order"),
    Column("order_id", "Order id"),
    Column("refund_id", "Refund id"),
    Column("refund_created_at", "Refund created at"),
    Column("transaction_id", "Transaction id"),
    Column("parent_transaction_id", "Parent transaction"),
    Column("gateway", "Gateway"),
    Column("kind", "Kind"),
    Column("status", "Status"),
    Column("amount", "Amount", "money", currency_key="currency"),
    Column("currency", "Currency"),
    Column("shop_amount", "Shop amount", "money", currency_key="shop_currency"),
    Column("shop_currency", "Shop currency"),
    Column("processed_at", "Processed at"),
    Column("method", "Method"),
    Column("origin", "Made by"),
    Column("run_id", "Run id"),
    Column("action_key", "Action key"),
]
TX_TOTAL_COLUMNS = [
    Column("currency", "Currency"),
    Column("method", "Method"),
    Column("status", "Status"),
    Column("count", "Transactions", "int"),
    Column("amount", "Amount", "money", currency_key="currency"),
    Column("shop_currency", "Shop currency"),
    Column("shop_amount", "Shop amount", "money", currency_key="shop_currency"),
]
CUSTOMER_COLUMNS = [
    Column("email", "email"),
    Column("name", "name"),
    Column("orders", "orders"),
    Column("what_was_done", "what_was_done"),
    Column("amount", "amount"),
    Column("method", "method"),
    Column("money_arrives", "money_arrives"),
]
_METHOD_WORDS = {
    "original": "to the original payment method",
    "store_credit": "as store credit",
    "gift_card": "as a gift card",
}
# When refunded money reaches the customer; card networks, not Shopify, set the delay.
_ARRIVAL = {
    "shopify_payments": "typically 5–10 business days, per the card issuer",
    "paypal": "typically 5–10 business days, per PayPal",
    "klarna": "typically 5–10 business days, per Klarna",
    "manual": "as arranged with the shop (the payment was taken by hand)",
    "gift_card": "at once, back onto the gift card used to pay",
    "shopify_store_credit": "at once, as store credit",
}
_ARRIVAL_DEFAULT = "typically 5–10 business days, per the card issuer"
HTML_ROW_LIMIT = 2_000


@dataclass(frozen=True)
class ReportFiles:
    xlsx: Path
    csv: Path
    transactions: Path
    customers: Path
    html: Path


def write_reports(
    run_dir: Path,
    plan: dict[str, Any],
    result: Reconciliation,
    *,
    extra: Sequence[tuple[str, object]] = (),
) -> ReportFiles:
    """Write the five files into `run_dir` (each replaced whole); ValueError when totals do not tie out."""
    run_dir = Path(run_dir)
    notes = _notes(plan)
    rows = [order_row(row, notes.get(row.row, "")) for row in result.rows]
    transactions = [transaction_row(tx, result.run_id) for tx in result.transactions]
    totals = _totals(rows, ("currency", "method"), TOTAL_KEYS, skip_empty=True)
    _check_ties_out(plan, result, totals)
    statuses = [{"status": s, "count": n} for s, n in result.counts().items() if n]
    codes = {r["row"]: r.get("reason") for r in plan["rows"]}
    by_reason = _totals(
        [{**r, "reason": _reason(r, codes)} for r in rows], ("reason", "status", "currency"), TOTAL_KEYS[:2]
    )
    tx_totals = _totals(
        transactions, ("currency", "method", "status", "shop_currency"), ("amount", "shop_amount")
    )
    title = f"bulkcancel reconciliation {result.run_id}"
    reconciled_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    summary: list[Any] = [
        ("Run id", result.run_id),
        ("Shop", plan["shop"]),
        ("Plan created at", plan["created_at"]),
        ("Reconciled at (UTC)", reconciled_at),
        ("Rows", len(rows)),
        ("Exceptions", len(result.exceptions)),
        *extra,
        Sheet("Rows per status", STATUS_COLUMNS, statuses),
        Sheet(
            "Planned vs refunded per currency and method",
            TOTAL_COLUMNS,
            totals,
            highlight=lambda r: bool(r.get("difference")),
            notes=("Refunded: settled since the plan, gift cards included; pending: still on its way.",),
        ),
        Sheet("By reason", REASON_COLUMNS, by_reason),
        Sheet("Refund transactions per currency, method and status", TX_TOTAL_COLUMNS, tx_totals),
    ]
    is_exception = lambda r: r["status"] not in QUIET  # noqa: E731
    orders = Sheet("Orders", ORDER_COLUMNS, rows, highlight=is_exception)
    exceptions = Sheet(
        "Exceptions",
        EXCEPTION_COLUMNS,
        [r for r in rows if is_exception(r)],
        highlight=is_exception,
        notes=("Every row that is not matched, blocked or skipped.",),
    )
    tx_sheet = Sheet(
        "Refund transactions",
        TRANSACTION_COLUMNS,
        transactions,
        highlight=lambda r: r["status"] != "SUCCESS" or r["origin"] == "not planned",
    )
    xlsx = write_workbook(
        run_dir / "reconciliation.xlsx", [orders, exceptions, tx_sheet], summary, title=title
    )
    csv = write_csv(run_dir / "reconciliation.csv", ORDER_COLUMNS, rows)
    tx_csv = write_csv(run_dir / "refund_transactions.csv", TRANSACTION_COLUMNS, transactions)
    customers = write_csv(run_dir / "customers.csv", CUSTOMER_COLUMNS, customer_rows(result))
    page = render_page(
        title,
        f"{plan['shop']} · plan of {plan['created_at']} · reconciled {reconciled_at}",
        _headline(result, totals),
        _charts(result, totals),
        [exceptions, *(block for block in summary if isinstance(block, Sheet))],
        row_limit=HTML_ROW_LIMIT,
    )
    html = write_bytes(run_dir / "report.html", page.encode())
    return ReportFiles(xlsx, csv, tx_csv, customers, html)


def order_row(row: ReconciledRow, note: str = "") -> dict[str, Any]:
    """One Orders row (and reconciliation.csv line)."""
    executed = row.action_key is not None
    difference = (row.refunded + row.pending - row.planned) if row.planned is not None else None
    return {
        "row": row.row,
        "order": row.order,
        "order_name": row.order_name,
        "order_id": row.order_id,
        "status": row.status,
        "detail": row.detail,
        "action": row.action,
        "method": row.method,
        "currency": row.currency,
        "planned": row.planned,
        "refunded": row.refunded if executed else None,
        "pending": row.pending if executed else None,
        "difference": difference,
        "shop_currency": row.shop_currency,
        "refunded_shop": row.refunded_shop if executed else None,
        "cancelled": _yes(row.cancelled),
        "cancel_reason": row.cancel_reason,
        "refunds_since_plan": row.refunds_since_plan if executed else None,
        "restocked_units": row.restocked_units if executed else None,
        "gift_card": row.gift_card,
        "tagged": _yes(row.tagged),
        "notify": _yes(row.notify) if executed else None,
        "customer_name": row.customer_name,
        "customer_email": row.customer_email,
        "note": note or None,
        "action_key": row.action_key,
    }


def transaction_row(tx: RefundTransaction, run_id: str) -> dict[str, Any]:
    """One refund transaction as finance matches it against payouts."""
    return {
        "order_name": tx.order_name,
        "order_id": tx.order_id,
        "refund_id": tx.refund_id,
        "refund_created_at": tx.refund_created_at,
        "transaction_id": tx.transaction_id,
        "parent_transaction_id": tx.parent_transaction_id,
        "gateway": tx.gateway,
        "kind": tx.kind,
        "status": tx.status,
        "amount": tx.amount.amount,
        "currency": tx.amount.currency,
        "shop_amount": tx.shop_amount.amount if tx.shop_amount else None,
        "shop_currency": tx.shop_amount.currency if tx.shop_amount else None,
        "processed_at": tx.processed_at,
        "method": tx.method,
        "origin": tx.origin,
        "run_id": run_id,
        "action_key": tx.action_key,
    }


def customer_rows(result: Reconciliation) -> list[dict[str, Any]]:
    """One row per customer to tell by hand: Shopify was told not to notify, and something happened."""
    gateways: dict[str, list[str]] = {}
    for tx in result.transactions:
        gateways.setdefault(tx.order_id, []).append(tx.gateway)
    people: dict[str, dict[str, list[str]]] = {}
    for row in result.rows:
        if row.status not in ("matched", "pending", "mismatch", "duplicate") or row.notify:
            continue
        if not (row.cancelled or row.refunded or row.pending):
            continue
        key = (row.customer_email or "").casefold() or f"order:{row.order_id}"
        person = people.setdefault(
            key, {k: [] for k in ("email", "name", "orders", "done", "amount", "method", "arrives")}
        )
        person["email"][:1] = [row.customer_email or ""]
        person["name"][:1] = [row.customer_name or ""]
        person["orders"].append(str(row.order_name))
        person["done"].append(_what_was_done(row))
        money = row.refunded + row.pending
        person["amount"].append(money_text(money, row.currency) if money and row.currency else "")
        person["method"].append(
            " and ".join(_METHOD_WORDS.get(m, m) for m in (row.method or "").split("+") if m)
        )
        person["arrives"].append(_arrival(row, gateways.get(str(row.order_id), [])))
    return [
        {
            "email": p["email"][0],
            "name": p["name"][0],
            "orders": ", ".join(p["orders"]),
            "what_was_done": "; ".join(p["done"]),
            "amount": "; ".join(a for a in p["amount"] if a),
            "method": "; ".join(m for m in p["method"] if m),
            "money_arrives": "; ".join(a for a in p["arrives"] if a),
        }
        for p in people.values()
    ]


def _what_was_done(row: ReconciledRow) -> str:
    money = row.refunded + row.pending
    words = [f"order {row.order_name} cancelled"] if row.cancelled and row.action == "cancel" else []
    if money and row.currency:
        how = " and ".join(_METHOD_WORDS.get(m, m) for m in (row.method or "").split("+") if m)
        words.append(f"{money_text(money, row.currency)} refunded {how}".strip())
    text = ", ".join(words) if words else f"order {row.order_name} updated"
    return text if words and words[0].startswith("order") else f"order {row.order_name}: {text}"


def _arrival(row: ReconciledRow, gateways: list[str]) -> str:
    if not (row.refunded or row.pending):
        return ""
    methods = set((row.method or "").split("+"))
    parts = []
    if "gift_card" in methods:
        parts.append("at once, as a gift card")
    for gateway in dict.fromkeys(gateways):
        parts.append(_ARRIVAL.get(gateway, _ARRIVAL_DEFAULT))
    if "store_credit" in methods and not gateways:
        parts.append(_ARRIVAL["shopify_store_credit"])
    return "; ".join(dict.fromkeys(parts))


def _totals(
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    amounts: Sequence[str],
    *,
    skip_empty: bool = False,
) -> list[dict[str, Any]]:
    """Exact sums of several amount columns per distinct `keys`, sorted like `reports.totals_by`."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        if skip_empty and row.get("planned") is None and not row.get("refunded") and not row.get("pending"):
            continue
        group = tuple(row.get(k) for k in keys)
        total = groups.setdefault(group, {**dict(zip(keys, group, strict=True)), "count": 0})
        total["count"] += 1
        for amount in amounts:  # a group without any value stays blank rather than 0
            value = row.get(amount)
            total[amount] = total.get(amount) if value is None else (total.get(amount) or ZERO) + value
        if "shop_currency" in row and "shop_currency" not in keys and row.get("shop_currency"):
            total["shop_currency"] = row["shop_currency"]
    return [groups[g] for g in sorted(groups, key=lambda g: tuple(str(p) for p in g))]


def _check_ties_out(plan: dict[str, Any], result: Reconciliation, totals: list[dict[str, Any]]) -> None:
    """Summary totals against the plan's totals and against the transactions and gift cards."""
    planned = {(t["currency"], t["method"]): t["planned"] for t in totals if t["planned"]}
    plan_totals = Plan.from_json(plan).totals_by_currency_and_method()
    if planned != {k: v for k, v in plan_totals.items() if v}:
        raise ValueError(f"planned per order {planned} does not tie out with the plan {plan_totals}")
    summed: dict[str, Decimal] = {}
    for tx in result.transactions:
        if tx.kind == "REFUND" and tx.status == "SUCCESS":
            summed[tx.amount.currency] = summed.get(tx.amount.currency, ZERO) + tx.amount.amount
    by_row: dict[str, Decimal] = {}
    for total in totals:
        by_row[str(total["currency"])] = by_row.get(str(total["currency"]), ZERO) + (
            total["refunded"] or ZERO
        )
    for row in result.rows:  # a gift card's value is in `refunded`, but it is no transaction
        if row.gift_card_value and row.currency:
            summed[row.currency] = summed.get(row.currency, ZERO) + row.gift_card_value
    for currency in set(summed) | set(by_row):
        expected = summed.get(currency, ZERO)
        if by_row.get(currency, ZERO) != expected:
            raise ValueError(
                f"refunded {currency}: rows {by_row.get(currency)} ≠ transactions and cards {expected}"
            )


def _notes(plan: Mapping[str, Any]) -> dict[int, str]:
    notes = {}
    for row in plan["rows"]:
        action = row.get("action") or {}
        for step in action.get("steps") or ():
            text = step.get("staff_note") or step.get("note")
            if text:
                notes[row["row"]] = str(text).removesuffix(f"[{action['action_key']}]").rstrip()
                break
    return notes


def _reason(row: Mapping[str, Any], codes: Mapping[int, str | None]) -> str:
    """Blocked and skipped rows by their plan reason code; actions by what was asked of Shopify."""
    if row["status"] in ("blocked", "skipped"):
        return f"{row['status']}: {codes.get(row['row']) or 'no reason'}"
    if row["action"] == "cancel":
        return f"cancel: {row['cancel_reason'] or 'not cancelled'}"
    return "refund only"


def _yes(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _headline(result: Reconciliation, totals: list[dict[str, Any]]) -> list[tuple[str, object]]:
    counts = result.counts()
    per_currency: dict[str, dict[str, Decimal]] = {}
    for total in totals:
        money = per_currency.setdefault(str(total["currency"]), {"planned": ZERO, "refunded": ZERO})
        money["planned"] += total["planned"] or ZERO
        money["refunded"] += total["refunded"] or ZERO
    figures: list[tuple[str, object]] = [
        ("Rows", len(result.rows)),
        ("Matched", counts["matched"]),
        ("Exceptions", len(result.exceptions)),
        ("Pending", counts["pending"]),
        ("Duplicates", counts["duplicate"]),
    ]
    for code, money in sorted(per_currency.items()):
        figures.append((f"Refunded ({code})", money_text(money["refunded"], code)))
        figures.append((f"Planned ({code})", money_text(money["planned"], code)))
    return figures


def _charts(result: Reconciliation, totals: list[dict[str, Any]]) -> list[Chart]:
    counts = {s: n for s, n in result.counts().items() if n}
    charts = [Chart("Rows per status", "bar", list(counts), list(counts.values()), unit="rows")]
    for code in sorted({str(t["currency"]) for t in totals}):
        mine = [t for t in totals if t["currency"] == code]
        charts.append(
            Chart(
                f"Refunded by method ({code})",
                "barh",
                [str(t["method"] or "none") for t in mine],
                [t["refunded"] or ZERO for t in mine],
                unit=code,
            )
        )
    return charts


__all__ = ["STATUSES", "ReportFiles", "customer_rows", "order_row", "transaction_row", "write_reports"]
