"""A bulk line as OrdersReconcile's node: money given to refunds only where certain, restock never assumed."""

from __future__ import annotations

from pipeline.reconcile.bulkorders import MANY, RESTOCK, SPLIT, as_reconcile_node, attribute, with_lines

AT, LATER = "2026-11-30T10:00:00Z", "2026-11-30T10:03:00Z"


def _tx(tid, amount, at=AT, status="SUCCESS", kind="REFUND"):
    return {
        "id": f"gid://shopify/OrderTransaction/{tid}",
        "kind": kind,
        "status": status,
        "gateway": "shopify_payments",
        "processedAt": at,
        "amountSet": {"presentmentMoney": {"amount": amount, "currencyCode": "EUR"}},
        "parentTransaction": {"id": "gid://shopify/OrderTransaction/1"},
    }


def _refund(rid, total, at=AT):
    return {
        "id": f"gid://shopify/Refund/{rid}",
        "createdAt": at,
        "note": None,
        "totalRefundedSet": {"presentmentMoney": {"amount": total, "currencyCode": "EUR"}},
    }


def _line(refunds, txs, ordered=3, current=3):
    sale = _tx(1, "50.00", kind="SALE")
    return {
        "id": "gid://shopify/Order/9",
        "name": "#1009",
        "refunds": refunds,
        "transactions": [sale, *txs],
        "subtotalLineItemsQuantity": ordered,
        "currentSubtotalLineItemsQuantity": current,
    }


def _ids(found):
    return {rid.rsplit("/", 1)[1]: [t["id"].rsplit("/", 1)[1] for t in txs] for rid, txs in found.items()}


def test_the_only_refund_takes_every_refund_transaction() -> None:
    node, why = as_reconcile_node(_line([_refund(5, "30.00")], [_tx(6, "20.00"), _tx(7, "10.00")]))
    assert why is None and node is not None and node["__typename"] == "Order"
    (refund,) = node["refunds"]
    assert [t["id"][-1] for t in refund["transactions"]["nodes"]] == ["6", "7"]
    assert refund["refundLineItems"]["nodes"] == [] and "transactions" not in node


def test_refunds_at_different_moments_take_the_transactions_of_their_moment() -> None:
    refunds = [_refund(5, "30.00"), _refund(8, "1.00", LATER)]
    found = attribute(refunds, [_tx(6, "30.00"), _tx(9, "1.00", LATER)])
    assert found is not None and _ids(found) == {"5": ["6"], "8": ["9"]}


def test_refunds_of_one_moment_are_split_by_their_totals_when_only_one_split_fits() -> None:
    refunds = [_refund(5, "30.00"), _refund(8, "5.00")]
    found = attribute(refunds, [_tx(6, "30.00"), _tx(9, "5.00")])
    assert found is not None and _ids(found) == {"5": ["6"], "8": ["9"]}


def test_two_splits_that_fit_or_money_at_no_refunds_moment_leave_the_order_to_the_paced_read() -> None:
    assert attribute([_refund(5, "5.00"), _refund(8, "5.00")], [_tx(6, "5.00"), _tx(9, "5.00")]) is None
    assert (
        attribute([_refund(5, "5.00"), _refund(8, "1.00", LATER)], [_tx(6, "5.00"), _tx(9, "1.00")]) is None
    )
    assert attribute([], [_tx(6, "5.00")]) is None
    node, why = as_reconcile_node(
        _line([_refund(5, "5.00"), _refund(8, "5.00")], [_tx(6, "5.00"), _tx(9, "5.00")])
    )
    assert node is None and why == SPLIT


def test_a_unit_gone_from_the_order_means_its_refund_lines_must_be_read() -> None:
    node, why = as_reconcile_node(_line([_refund(5, "30.00")], [_tx(6, "30.00")], ordered=3, current=1))
    assert why == RESTOCK and node is not None
    lines = {"quantity": 2, "restockType": "CANCEL", "location": {"name": "Berlin"}}
    read = {
        "id": node["id"],
        "refunds": [
            {
                "id": "gid://shopify/Refund/5",
                "refundLineItems": {"pageInfo": {"hasNextPage": False}, "nodes": [lines]},
            }
        ],
    }
    merged = with_lines(node, read)
    assert merged is not None and merged["refunds"][0]["refundLineItems"]["nodes"] == [lines]
    assert with_lines(node, {"id": node["id"], "refunds": []}) is None  # a refund it did not read
    # No unit gone: no refund carries a line, and none restocked is what the shop shows.
    _node, why = as_reconcile_node(_line([_refund(5, "30.00")], [_tx(6, "30.00")], ordered=3, current=3))
    assert why is None


def test_as_many_refunds_as_a_paced_page_is_left_to_the_paced_read() -> None:
    refunds = [_refund(i, "1.00", f"2026-11-30T10:{i:02d}:00Z") for i in range(10)]
    txs = [_tx(100 + i, "1.00", f"2026-11-30T10:{i:02d}:00Z") for i in range(10)]
    assert as_reconcile_node(_line(refunds, txs)) == (None, MANY)
