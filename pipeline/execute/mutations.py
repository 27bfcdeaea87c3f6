"""The mutation each planned step sends: its GraphQL document's name and its variables, from the plan."""

from __future__ import annotations

from typing import Any

from pipeline.models import RefundMode
from pipeline.plan.steps import CancelRefund, Step, StepKind

CANCEL_REFUND: dict[CancelRefund, dict[str, Any]] = {
    CancelRefund.ORIGINAL: {"originalPaymentMethodsRefund": True},
    CancelRefund.STORE_CREDIT: {"storeCreditRefund": {}},
    CancelRefund.NONE: {"originalPaymentMethodsRefund": False},
}


def _money(step: Step) -> dict[str, str]:
    """The step's amount as Shopify's MoneyInput; amounts travel as the plan's strings."""
    return {"amount": str(step.amount), "currencyCode": str(step.currency)}


def variables(order_id: str, step: Step, gift_card_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """The document and variables of one planned step (`gift_card_id`: the card a notify step sends)."""
    if step.kind is StepKind.CANCEL:
        assert step.refund_method is not None, "a cancel step always says how it refunds"
        return "OrderCancel", {
            "orderId": order_id,
            "reason": str(step.reason).upper(),
            "restock": step.restock,
            "notifyCustomer": step.notify,
            "staffNote": step.staff_note,
            "refundMethod": CANCEL_REFUND[step.refund_method],
        }
    if step.kind is StepKind.REFUND:
        refund: dict[str, Any] = {
            "orderId": order_id,
            "currency": step.currency,
            "notify": step.notify,
            "note": step.note,
        }
        if step.method is RefundMode.STORE_CREDIT:
            refund["refundMethods"] = [{"storeCreditRefund": {"amount": _money(step)}}]
        else:
            refund["transactions"] = [
                {
                    "orderId": order_id,
                    "parentId": t.parent_id,
                    "gateway": t.gateway,
                    "kind": "REFUND",
                    "amount": str(t.amount),
                }
                for t in step.transactions
            ]
        if step.refund_lines:
            refund["refundLineItems"] = [line.as_input() for line in step.refund_lines]
        if step.shipping_amount is not None:  # "0.00" was sent as well: it is a value, not "none"
            refund["shipping"] = {"amount": str(step.shipping_amount)}
        return "RefundCreate", {"input": refund, "idempotencyKey": step.idempotency_key}
    if step.kind is StepKind.GIFT_CARD:
        return "GiftCardCreate", {
            "input": {"initialAmount": _money(step), "customerId": step.customer_id, "note": step.note}
        }
    if step.kind is StepKind.GIFT_CARD_NOTIFY:
        assert gift_card_id is not None, "a notification names the card its gift card step created"
        return "GiftCardSendNotification", {"id": gift_card_id}
    assert step.kind is StepKind.TAG, "a claim is written by claim.py: its value is made at execution"
    return "TagsAdd", {"id": order_id, "tags": list(step.tags)}
