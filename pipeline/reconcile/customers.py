"""customers.csv: the people to tell by hand, because Shopify was told not to notify them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipeline.plan.words import ARRIVAL_DEFAULT, ARRIVAL_GIFT_CARD, ARRIVALS, for_customer
from pipeline.reconcile.model import ReconciledRow, Reconciliation
from pipeline.reports.cells import money_text

# Rows where something reached the customer (or may have): the others have nothing to tell.
TOLD = ("matched", "pending", "mismatch", "duplicate")


def customer_rows(result: Reconciliation) -> list[dict[str, Any]]:
    """One row per customer to tell by hand: Shopify was told not to notify, and something happened."""
    return list(customers_to_tell(result))


def customers_to_tell(result: Reconciliation) -> Iterator[dict[str, Any]]:
    """`customer_rows` one at a time: only each person's rows are gathered (the rows are already
    held), each line made as it is written."""
    gateways: dict[str, list[str]] = {}
    for tx in result.transactions:
        gateways.setdefault(tx.order_id, []).append(tx.gateway)
    people: dict[str, list[ReconciledRow]] = {}
    for row in result.rows:
        if row.status not in TOLD or row.notify:
            continue
        if not (row.cancelled or row.refunded or row.pending):
            continue
        key = (row.customer_email or "").casefold() or f"order:{row.order_id}"
        people.setdefault(key, []).append(row)
    for rows in people.values():
        amounts = [_amount(row) for row in rows]
        methods = [_how(row) for row in rows]
        arrivals = [_arrival(row, gateways.get(str(row.order_id), [])) for row in rows]
        yield {
            "email": rows[-1].customer_email or "",  # the last row's, as the sheet always said
            "name": rows[-1].customer_name or "",
            "orders": ", ".join(str(row.order_name) for row in rows),
            "what_was_done": "; ".join(_what_was_done(row) for row in rows),
            "amount": "; ".join(a for a in amounts if a),
            "method": "; ".join(m for m in methods if m),
            "money_arrives": "; ".join(a for a in arrivals if a),
        }


def _amount(row: ReconciledRow) -> str:
    money = row.refunded + row.pending
    return money_text(money, row.currency) if money and row.currency else ""


def _how(row: ReconciledRow) -> str:
    return " and ".join(for_customer(m) for m in (row.method or "").split("+") if m)


def _what_was_done(row: ReconciledRow) -> str:
    money = row.refunded + row.pending
    words = [f"order {row.order_name} cancelled"] if row.cancelled and row.action == "cancel" else []
    if money and row.currency:
        words.append(f"{money_text(money, row.currency)} refunded {_how(row)}".strip())
    text = ", ".join(words) if words else f"order {row.order_name} updated"
    return text if words and words[0].startswith("order") else f"order {row.order_name}: {text}"


def _arrival(row: ReconciledRow, gateways: list[str]) -> str:
    if not (row.refunded or row.pending):
        return ""
    methods = set((row.method or "").split("+"))
    parts = []
    if "gift_card" in methods:
        parts.append(ARRIVAL_GIFT_CARD)
    for gateway in dict.fromkeys(gateways):
        parts.append(ARRIVALS.get(gateway, ARRIVAL_DEFAULT))
    if "store_credit" in methods and not gateways:
        parts.append(ARRIVALS["shopify_store_credit"])
    return "; ".join(dict.fromkeys(parts))
