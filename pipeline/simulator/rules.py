"""refundCreate: Shopify's checks and idempotent refunds (orderCancel and its job are in `cancel.py`).

Sources: recorded answers in ../shared/shopify/recorded/ (named per rule) and SHOPIFY-FACTS.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pipeline.simulator import accounting as acc
from pipeline.simulator.access import store_credit_refusal
from pipeline.simulator.errors import UserErr, numeric_id
from pipeline.simulator.locations import restock_error
from pipeline.simulator.money import ZERO, fmt_message, parse_money, q
from pipeline.simulator.refunds import LineRequest, remaining_shipping, write_refund
from pipeline.simulator.store import IdempotencyRecord, Order, Refund, Store, Transaction

MISMATCH = "The same idempotency key cannot be used with different operation parameters."
IN_PROGRESS = "This request is currently in progress, please try again."  # IDEMPOTENCY_CONCURRENT_REQUEST
KEY_TTL = timedelta(hours=24)  # shopify.dev implementing-idempotency: keys are kept about 24 hours


@dataclass
class RefundResult:
    refund: Refund | None
    order: Order | None
    errors: list[UserErr] = field(default_factory=list)
    applied: bool = False  # a new refund was written (not a replay, not refused)


def fingerprint(value: Any) -> str:
    """Canonical hash of the mutation input: the same key must come with the same parameters."""

    def norm(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: norm(x) for k, x in sorted(v.items()) if x is not None}
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, (Decimal, float, int)) and not isinstance(v, bool):
            return str(Decimal(str(v)).normalize())
        return v

    return hashlib.sha256(json.dumps(norm(value), sort_keys=True, default=str).encode()).hexdigest()


def refund_create(store: Store, data: dict[str, Any], key: str) -> RefundResult:
    """Idempotent refund: a replay returns the original refund and applies nothing."""
    fp = fingerprint(data)
    seen = _remembered(store, key)
    if seen is not None:
        order = store.orders[seen.order_id]
        if seen.in_progress_until is not None and store.now() < seen.in_progress_until:
            return RefundResult(None, None, [UserErr(None, IN_PROGRESS)])  # shape inferred, see README
        if seen.fingerprint != fp:
            return RefundResult(None, order, [UserErr(None, MISMATCH)])
        refund = next(r for r in order.refunds if r.id == seen.refund_id)
        total = sum((t.amount for t in order.transactions if t.id in set(refund.transaction_ids)), ZERO)
        store.record(
            order,
            "refund",
            amount=total,
            currency=order.presentment_currency,
            method=_method_of(order, refund),
            idempotency_key=key,
            replayed=True,
        )
        return RefundResult(refund, order)
    result = _refund(store, data)
    if result.refund is not None and result.order is not None:
        store.idempotency[key] = IdempotencyRecord(fp, result.order.id, result.refund.id, store.now())
        result.applied = True
        total = sum(
            (t.amount for t in result.order.transactions if t.id in set(result.refund.transaction_ids)), ZERO
        )
        store.record(
            result.order,
            "refund",
            amount=total,
            currency=result.order.presentment_currency,
            method=_method_of(result.order, result.refund),
            idempotency_key=key,
        )
    return result


def _remembered(store: Store, key: str) -> IdempotencyRecord | None:
    """The key's record, forgotten once it is 24 hours old in shop time (then the key is new again)."""
    seen = store.idempotency.get(key)
    if seen is not None and seen.created_at is not None and store.now() - seen.created_at >= KEY_TTL:
        del store.idempotency[key]
        return None
    return seen


def hold_keys(store: Store, keys: list[str], window: timedelta) -> None:
    """Mark keys whose answer was lost as still being processed for `window` of shop time."""
    until = store.now() + window
    for key in keys:
        if key in store.idempotency:
            store.idempotency[key].in_progress_until = until


def _method_of(order: Order, refund: Refund) -> str:
    ids = set(refund.transaction_ids)
    gateways = {t.gateway for t in order.transactions if t.id in ids}
    return "store_credit" if gateways == {"shopify_store_credit"} else "original"


def _refund(store: Store, data: dict[str, Any]) -> RefundResult:
    oid = numeric_id(data["orderId"], "Order")
    order = store.orders.get(oid) if oid is not None else None
    if order is None:  # recorded 2025-01-refund-create-user-errors-and-quantities (unknownOrder)
        return RefundResult(None, None, [UserErr(["orderId"], "Order does not exist")])
    cur = order.presentment_currency
    if not store.access.refund_orders:  # staff permission refund_orders; wording inferred
        return RefundResult(None, order, [UserErr(None, "You don't have the permission to refund orders.")])
    errors = _currency_errors(order, data.get("currency"))
    lines: list[LineRequest] = []
    for i, rli in enumerate(data.get("refundLineItems") or []):
        lid = numeric_id(rli["lineItemId"], "LineItem")
        item = next((li for li in order.line_items if li.id == lid), None)
        path = ["refundLineItems", str(i)]
        restock = rli.get("restockType") or "NO_RESTOCK"
        if item is None:  # inferred wording
            errors.append(UserErr([*path, "lineItemId"], "Line item does not exist"))
        elif rli["quantity"] <= 0:  # inferred wording (Rails numericality, as giftCardCreate's recorded one)
            errors.append(UserErr([*path, "quantity"], "Quantity must be greater than 0"))
        elif rli["quantity"] > acc.refundable_quantity(item):  # recorded overRefundQuantityLineItem
            errors.append(
                UserErr([*path, "quantity"], "Quantity cannot refund more items than were purchased")
            )
        elif restock == "LEGACY_RESTOCK":  # SHOPIFY-FACTS §2: rejected for new refunds; wording inferred
            errors.append(UserErr([*path, "restockType"], "Restock type legacy_restock is not supported"))
        else:
            problem, where = restock_error(store, order, item, rli, path)
            if problem is not None:
                errors.append(problem)
            else:
                lines.append(LineRequest(item, rli["quantity"], restock, where))
    shipping = _shipping(order, data.get("shipping"), errors)
    money: list[tuple[Transaction | None, Decimal]] = []
    for i, tx in enumerate(data.get("transactions") or []):
        if tx["kind"] != "REFUND":  # recorded 2026-04-refund-create-transactions-validation (invalidKind)
            errors.append(UserErr(None, f"Kind {tx['kind'].lower()} is not a valid transaction"))
            continue
        if numeric_id(tx["orderId"], "Order") != order.id:  # inferred wording, see README
            errors.append(
                UserErr(["transactions", str(i), "orderId"], "Transactions must belong to the refunded order")
            )
            continue
        pid = numeric_id(tx.get("parentId") or "", "OrderTransaction")
        parent = next((t for t in acc.payments(order) if t.id == pid), None)
        if (
            parent is None
        ):  # recorded (missingParent); the gateway is taken from the parent (mismatchedGateway)
            errors.append(
                UserErr(["transactions"], "Transactions require a parent_id associated with the order")
            )
            continue
        amount = _amount(parse_money(tx["amount"]), cur, ["transactions", str(i), "amount"], errors)
        if amount is not None:
            money.append((parent, amount))
    for i, rm in enumerate(data.get("refundMethods") or []):
        credit = rm.get("storeCreditRefund")
        if credit is None:
            continue
        at = ["refundMethods", str(i), "storeCreditRefund"]
        refusal = store_credit_refusal(store, order, credit.get("expiresAt"))
        if refusal is not None:
            errors.append(UserErr([*at, *(refusal.field or [])], refusal.message))
        elif (
            order.customer_id is None
        ):  # needs a customer (changelog refund-to-store-credit); wording inferred
            errors.append(
                UserErr(
                    ["refundMethods", str(i), "storeCreditRefund"],
                    "A customer is required to refund to store credit.",
                )
            )
        elif credit["amount"]["currencyCode"] != cur:  # inferred
            errors.append(
                UserErr(
                    ["refundMethods", str(i), "storeCreditRefund", "amount"],
                    "Currency must match the order's presentment currency.",
                )
            )
        else:
            amount = _amount(parse_money(credit["amount"]["amount"]), cur, [*at, "amount", "amount"], errors)
            if amount is not None:
                money.append((None, amount))
    if errors:
        return RefundResult(None, order, errors)
    total, net = sum((a for _, a in money), ZERO), acc.net_payment(order)
    # Recorded: refused even with allowOverRefunding true (overRefundAllowed) for a manual gateway.
    if total > net:
        return RefundResult(
            None,
            order,
            [
                UserErr(
                    None,
                    f"Refund amount {fmt_message(total, cur)} is greater than net payment received "
                    f"{fmt_message(net, cur)}",
                )
            ],
        )
    for parent, amount in money:  # per payment, same wording with the payment's remaining (inferred)
        if parent is not None and amount > acc.txn_refundable(order, parent):
            return RefundResult(
                None,
                order,
                [
                    UserErr(
                        None,
                        f"Refund amount {fmt_message(amount, cur)} is greater than net payment received "
                        f"{fmt_message(acc.txn_refundable(order, parent), cur)}",
                    )
                ],
            )
    refund = write_refund(store, order, lines, shipping, money, data.get("note"))
    return RefundResult(refund, order)


def _amount(
    value: Decimal, currency: str, path: list[str], errors: list[UserErr], zero_ok: bool = False
) -> Decimal | None:
    """A refund amount: above zero, with no more decimals than the currency has (inferred wording)."""
    if value < ZERO or (value == ZERO and not zero_ok):
        errors.append(UserErr(path, "Amount must be greater than 0"))
        return None
    if q(value, currency) != value:
        errors.append(UserErr(path, f"Amount has too many decimal places for {currency}"))
        return None
    return value


def _currency_errors(order: Order, currency: str | None) -> list[UserErr]:
    """`currency` must be the presentment currency, and is required when it differs from the shop's."""
    if currency is None and order.presentment_currency != order.currency:
        return [
            UserErr(
                ["currency"],
                "Currency is required when the presentment currency differs from the shop currency.",
            )
        ]
    if currency is not None and currency != order.presentment_currency:
        return [
            UserErr(
                ["currency"],
                f"Currency must be {order.presentment_currency}, the order's presentment currency.",
            )
        ]
    return []


def _shipping(order: Order, shipping: dict[str, Any] | None, errors: list[UserErr]) -> Decimal:
    if not shipping:
        return ZERO
    left = remaining_shipping(order)
    if shipping.get("fullRefund"):
        return left
    if shipping.get("amount") is None:
        return ZERO
    found = _amount(
        parse_money(shipping["amount"]), order.presentment_currency, ["shipping", "amount"], errors, True
    )
    if found is None:
        return ZERO
    amount = found
    if amount > left:  # inferred wording
        cur = order.presentment_currency
        errors.append(
            UserErr(
                ["shipping", "amount"],
                f"Shipping refund amount {fmt_message(amount, cur)} "
                f"is greater than the refundable shipping {fmt_message(left, cur)}",
            )
        )
    return amount
