"""An order of the bulk read turned into the shape `OrdersReconcile` answers (pure), or left to that
read when the bulk line cannot say all it would.

A bulk query refuses a connection inside a list, so a refund's transactions and line items are not
in its line. The transactions are the order's own (`Order.transactions`, a list): each REFUND
transaction is given to its refund where that is certain — the order's only refund, or the one
refund created at the transaction's moment whose settled total it makes up, with no other way to
split them; otherwise the order is read again whole. Restock (refund line items) cannot be reached
by any bulk query (`orders → agreements → refund.refundLineItems` is three levels of connections,
Shopify takes two): when a unit left the order (`currentSubtotalLineItemsQuantity` below
`subtotalLineItemsQuantity`) and it has a refund, its refunds' line items are read through the
paced `OrdersRestock` and put in; when none left, no refund carries any, and "none restocked" is
what the shop shows, not an assumption.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from pipeline.reconcile.readback import LARGE_PAGE, PAGE

REFUND_KIND = "REFUND"
SETTLED = "SUCCESS"
#: Ways to split one moment's transactions between its refunds tried before giving up (k ** n).
MAX_SPLITS = 4096
_NO_MORE = {"hasNextPage": False}

Node = dict[str, Any]


RESTOCK = "restock"  # its refunds' line items are to be read (`with_lines`)
SPLIT = "refunds"  # which refund moved which money is not certain: read again whole
UNREAD = "restock_unread"  # key on a node whose refunds' line items were left unread (nothing planned)
MANY = "many refunds"  # as many refunds or transactions as the paced read pages: read again whole


def as_reconcile_node(line: Mapping[str, Any]) -> tuple[Node | None, str | None]:
    """The order as `OrdersReconcile` shows it; (node, RESTOCK) when its refunds' line items are still
    to be read, (None, why) when only that read can say it all."""
    refunds = list(line.get("refunds") or ())
    txs = [t for t in line.get("transactions") or () if t.get("kind") == REFUND_KIND]
    if len(refunds) >= PAGE["refundsFirst"] or len(txs) >= LARGE_PAGE["transactionsFirst"]:
        return None, MANY
    found = attribute(refunds, txs)
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
    return node, RESTOCK if refunds and units_left(line) else None


def with_lines(node: Node, read: Mapping[str, Any] | None) -> Node | None:
    """`node` with its refunds' line items as `OrdersRestock` read them (None: it did not read them
    all, the order is read again whole); an order with more lines than the large page is truncated."""
    if read is None or read.get("__typename", "Order") != "Order":
        return None
    lines = {str(r["id"]): r["refundLineItems"] for r in read.get("refunds") or ()}
    refunds = node["refunds"]
    if any(str(r["id"]) not in lines for r in refunds):
        return None  # a refund made between the two reads: read the order again whole
    for refund in refunds:
        refund["refundLineItems"] = lines[str(refund["id"])]
    return node


def lines_cut(read: Mapping[str, Any] | None) -> bool:
    """True when an `OrdersRestock` answer left a refund's line items on another page."""
    refunds = (read or {}).get("refunds") or ()
    return any(r["refundLineItems"]["pageInfo"]["hasNextPage"] for r in refunds)


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
    """The one way to give `txs` to `refunds` so that each refund's settled total is its own (one
    refund of several at this moment takes them only if they make up its total)."""
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
