"""An order of the bulk read turned into the shape `OrdersReconcile` answers (pure), or None when the
bulk read cannot say all that the paced read would and the order must be read again through it.

A bulk query refuses a connection inside a list, so a refund's transactions and line items are not
in its line. The transactions are the order's own (`Order.transactions`, a list): each REFUND
transaction is given to its refund where that is certain — the order's only refund, or the one
refund created at the transaction's moment whose settled total it makes up, with no other way to
split them. Restock (refund line items) cannot be read at all: when a unit left the order
(`currentSubtotalLineItemsQuantity` below `subtotalLineItemsQuantity`) and it has a refund, a
refund may carry line items, and the order is read again; otherwise no refund carries any, and
"none restocked" is what the shop shows, not an assumption.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from pipeline.reconcile.readback import PAGE

REFUND_KIND = "REFUND"
SETTLED = "SUCCESS"
#: Ways to split one moment's transactions between its refunds tried before giving up (k ** n).
MAX_SPLITS = 4096
_NO_MORE = {"hasNextPage": False}

Node = dict[str, Any]


RESTOCK = "restock"  # a refund may carry line items
SPLIT = "refunds"  # which refund moved which money is not certain
MANY = "many refunds"  # as many refunds as the paced read's page: it says what it says of those


def as_reconcile_node(line: Mapping[str, Any]) -> tuple[Node | None, str | None]:
    """The order as `OrdersReconcile` shows it, or (None, why) when only that read can say it all."""
    refunds = list(line.get("refunds") or ())
    if len(refunds) >= PAGE["refundsFirst"]:
        return None, MANY
    if refunds and units_left(line):
        return None, RESTOCK
    found = attribute(refunds, [t for t in line.get("transactions") or () if t.get("kind") == REFUND_KIND])
    if found is None:
        return None, SPLIT
    node: Node = {
        key: value
        for key, value in line.items()
        if key
        not in ("refunds", "transactions", "subtotalLineItemsQuantity", "currentSubtotalLineItemsQuantity")
    }
    node["__typename"] = "Order"
    node["refunds"] = [
        {
            "id": refund["id"],
            "createdAt": refund.get("createdAt"),
            "note": refund.get("note"),
            "transactions": {"pageInfo": _NO_MORE, "nodes": found[refund["id"]]},
            "refundLineItems": {"pageInfo": _NO_MORE, "nodes": []},
        }
        for refund in refunds
    ]
    return node, None


def units_left(line: Mapping[str, Any]) -> bool:
    """True when fewer units are on the order than it was placed with (or the counts are missing)."""
    ordered, current = line.get("subtotalLineItemsQuantity"), line.get("currentSubtotalLineItemsQuantity")
    return ordered is None or current is None or int(current) < int(ordered)


def attribute(
    refunds: Sequence[Mapping[str, Any]], transactions: Sequence[Node]
) -> dict[str, list[Node]] | None:
    """Each refund's transactions in the order's own order, or None when that is not certain."""
    if not refunds:
        return {} if not transactions else None  # money out without a refund: the paced read says
    if len(refunds) == 1:
        return {str(refunds[0]["id"]): list(transactions)}
    found: dict[str, list[Node]] = {str(r["id"]): [] for r in refunds}
    moments: dict[str, list[Mapping[str, Any]]] = {}
    for refund in refunds:
        moments.setdefault(str(refund.get("createdAt")), []).append(refund)
    placed: set[int] = set()
    for moment, together in moments.items():
        at_moment = [i for i, t in enumerate(transactions) if str(t.get("processedAt")) == moment]
        split = _split(together, [transactions[i] for i in at_moment])
        if split is None:
            return None
        for refund_id, indexes in split.items():
            found[refund_id].extend(transactions[at_moment[i]] for i in indexes)
        placed.update(at_moment)
    if len(placed) != len(transactions):
        return None  # a transaction processed at no refund's moment
    position = {id(t): i for i, t in enumerate(transactions)}
    for txs in found.values():  # each refund's transactions in the order's own order
        txs.sort(key=lambda t: position[id(t)])
    return found


def _split(refunds: Sequence[Mapping[str, Any]], txs: Sequence[Node]) -> dict[str, list[int]] | None:
    """The one way to give `txs` to `refunds` so that each refund's settled total is its own."""
    if len(refunds) == 1:
        return {str(refunds[0]["id"]): list(range(len(txs)))}
    if len(refunds) ** len(txs) > MAX_SPLITS:
        return None
    wanted = [_amount(r.get("totalRefundedSet")) for r in refunds]
    if any(w is None for w in wanted):
        return None
    answers = []
    for choice in itertools.product(range(len(refunds)), repeat=len(txs)):
        sums = [Decimal(0)] * len(refunds)
        for tx, owner in zip(txs, choice, strict=True):
            if tx.get("status") == SETTLED:
                sums[owner] += _amount(tx.get("amountSet")) or Decimal(0)
        if sums == wanted:
            answers.append(choice)
            if len(answers) > 1:
                return None  # two ways fit: which refund moved which money is not certain
    if not answers:
        return None
    split: dict[str, list[int]] = {str(r["id"]): [] for r in refunds}
    for index, owner in enumerate(answers[0]):
        split[str(refunds[owner]["id"])].append(index)
    return split


def _amount(money_bag: Mapping[str, Any] | None) -> Decimal | None:
    shown = (money_bag or {}).get("presentmentMoney") or {}
    return None if shown.get("amount") is None else Decimal(str(shown["amount"]))
