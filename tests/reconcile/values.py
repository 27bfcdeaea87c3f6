"""Plain values for the pure reconcile tests: a typed plan, journal rows and orders as Shopify answers."""

from __future__ import annotations

from decimal import Decimal

from pipeline.models import Reason, RefundMode
from pipeline.plan.facts import Fingerprint
from pipeline.plan.model import Decision, Plan, PlannedAction, PlannedRow, ReasonCode
from pipeline.plan.steps import CancelRefund, RefundLine, RefundTransaction, RestockType, Step, StepKind

CREATED = "2026-05-01T10:00:00Z"
BEFORE, AFTER = "2026-04-20T09:00:00Z", "2026-05-01T10:05:00Z"
ORDER = "gid://shopify/Order/1"
KEY = "bc-run-1"
TAGS = ["bulkcancel", "bulkcancel-run"]


def money(amount, currency="EUR", shop=None, shop_currency="EUR"):
    return {
        "presentmentMoney": {"amount": amount, "currencyCode": currency},
        "shopMoney": {"amount": shop or amount, "currencyCode": shop_currency},
    }


def tx(tid, amount, *, gateway="shopify_payments", status="SUCCESS", currency="EUR", shop=None):
    return {
        "id": f"gid://shopify/OrderTransaction/{tid}",
        "kind": "REFUND",
        "status": status,
        "gateway": gateway,
        "processedAt": AFTER,
        "amountSet": money(amount, currency, shop),
        "parentTransaction": {"id": "gid://shopify/OrderTransaction/9"},
    }


def refund(rid, *txs, created=AFTER, lines=(), note=None):
    return {
        "id": f"gid://shopify/Refund/{rid}",
        "createdAt": created,
        "note": note,
        "transactions": {"pageInfo": {"hasNextPage": False}, "nodes": list(txs)},
        "refundLineItems": {
            "pageInfo": {"hasNextPage": False},
            "nodes": [{"quantity": q, "restockType": t} for q, t in lines],
        },
    }


def order(*refunds, cancelled=True, reason="INVENTORY", tags=TAGS, total=None, currency="EUR"):
    settled = [t for r in refunds for t in r["transactions"]["nodes"] if t["status"] == "SUCCESS"]
    if total is None:
        total = str(sum((Decimal(t["amountSet"]["presentmentMoney"]["amount"]) for t in settled), Decimal(0)))
    return {
        "__typename": "Order",
        "id": ORDER,
        "name": "#1001",
        "email": "ana@example.com",
        "cancelledAt": AFTER if cancelled else None,
        "cancelReason": reason if cancelled else None,
        "tags": list(tags),
        "presentmentCurrencyCode": currency,
        "currencyCode": "EUR",
        "totalRefundedSet": money(total, currency),
        "customer": {
            "id": "gid://shopify/Customer/5",
            "displayName": "Ana Lima",
            "defaultEmailAddress": None,
        },
        "refunds": list(refunds),
    }


def cancel_step(method="original", amount="50.00", restock=False):
    return Step(
        StepKind.CANCEL,
        RefundMode(method) if method else None,
        Decimal(amount) if method else None,
        "EUR" if method else None,
        "k0",
        refund_method=CancelRefund(method or "none"),
        reason=Reason.INVENTORY,
        restock=restock,
        staff_note=f"note [{KEY}]",
    )


def refund_step(amount="20.00", method="original", lines=()):
    gateways = ("shopify_payments",) if method == "original" else ()
    return Step(
        StepKind.REFUND,
        RefundMode(method),
        Decimal(amount),
        "EUR",
        "k1",
        transactions=tuple(RefundTransaction("p", gateway, Decimal(amount)) for gateway in gateways),
        refund_lines=tuple(RefundLine("l", q, RestockType(t)) for q, t in lines),
        note=f"note [{KEY}]",
    )


def gift_step(amount="30.00"):
    return Step(
        StepKind.GIFT_CARD,
        RefundMode.GIFT_CARD,
        Decimal(amount),
        "EUR",
        "k2",
        customer_id="gid://shopify/Customer/5",
        note=f"note [{KEY}]",
    )


TAG = Step(StepKind.TAG, None, None, None, "kt", tags=tuple(TAGS))


def plan(*steps, decision="execute", reason=None):
    fingerprint = Fingerprint(BEFORE, "PAID", "UNFULFILLED", Decimal(0))
    action = PlannedAction(ORDER, "#1001", KEY, fingerprint, (*steps, TAG))
    row = PlannedRow(
        2,
        "#1001",
        Decision(decision),
        ReasonCode(reason) if reason else None,
        "planned",
        action if decision == "execute" else None,
    )
    return Plan(run_id="run", rows=[row], created_at=CREATED, shop="shop.myshopify.com")


def journal(the_plan, state="done", **ids_by_index):
    action = the_plan.rows[0].action
    rows = []
    for index, step in enumerate(action.steps):
        row = {
            "action_key": KEY,
            "order_id": ORDER,
            "order_name": "#1001",
            "action_state": state,
            "action_detail": None,
            "idx": index,
            "kind": str(step.kind),
            "state": "done" if state == "done" else "pending",
            "attempts": 1,
            "refund_id": None,
            "gift_card_id": None,
            "gift_card_last_chars": None,
            "transaction_ids": [],
            "error_code": None,
            "error_message": None,
        }
        row.update(ids_by_index.get(f"s{index}", {}))
        rows.append(row)
    return rows
