"""customers.csv: the people to tell by hand, because Shopify was told not to notify them."""

from __future__ import annotations

from typing import Any

from pipeline.plan.words import ARRIVAL_DEFAULT, ARRIVAL_GIFT_CARD, ARRIVALS, for_customer
from pipeline.reconcile.model import ReconciledRow, Reconciliation
from pipeline.reports.cells import money_text

# Rows where something reached the customer (or may have): the others have nothing to tell.
TOLD = ("matched", "pending", "mismatch", "duplicate")


def customer_rows(result: Reconciliation) -> list[dict[str, Any]]:
    """One row per customer to tell by hand: Shopify was told not to notify, and something happened."""
    gateways: dict[str, list[str]] = {}
    for tx in result.transactions:
        gateways.setdefault(tx.order_id, []).append(tx.gateway)
    people: dict[str, dict[str, list[str]]] = {}
    for row in result.rows:
        if row.status not in TOLD or row.notify:
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
        person["method"].append(_how(row))
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
