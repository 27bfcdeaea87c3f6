"""orderCancel and refundCreate: Shopify's checks, the asynchronous cancel job, idempotent refunds.

Sources: recorded answers in ../shared/shopify/recorded/ (named per rule) and SHOPIFY-FACTS.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pipeline.simulator import accounting as acc
from pipeline.simulator.errors import UserErr, numeric_id
from pipeline.simulator.money import ZERO, fmt_message, parse_money, q
from pipeline.simulator.refunds import LineRequest, allocate, remaining_shipping, write_refund
from pipeline.simulator.store import Job, Order, Refund, Store, Transaction

ALREADY_CANCELLED = "Cannot cancel an order that has already been canceled"  # recorded, code INVALID
MISMATCH = "The same idempotency key cannot be used with different operation parameters."


@dataclass
class CancelResult:
    job: Job | None
    errors: list[UserErr] = field(default_factory=list)


@dataclass
class RefundResult:
    refund: Refund | None
    order: Order | None
    errors: list[UserErr] = field(default_factory=list)


def order_cancel(store: Store, args: dict[str, Any]) -> CancelResult:
    """Synchronous checks, then a Job that cancels `cancel_delay` later (job.done false)."""
    oid = numeric_id(args["orderId"], "Order")
    order = store.orders.get(oid) if oid is not None else None
    if order is None:  # message as refundCreate's recorded unknown-order error; code per the enum
        return CancelResult(None, [UserErr(["orderId"], "Order does not exist", "NOT_FOUND")])
    method_in = args.get("refundMethod")
    if args.get("refund") is not None and method_in is not None:  # recorded orderCancel-error-messages
        return CancelResult(
            None,
            [
                UserErr(
                    ["refund"], "Only one of the arguments `refund` or `refund_method` is allowed.", "INVALID"
                )
            ],
        )
    note = args.get("staffNote")
    if note is not None and len(note) > 255:  # recorded orderCancel-error-messages
        return CancelResult(
            None,
            [UserErr(["staffNote"], "Staff note is too long. Maximum length is 255 characters.", "INVALID")],
        )
    # Decision: already-cancelled is checked at mutation time (recorded: job null, INVALID); an order
    # whose cancel job is still running counts as cancelled, so a retried cancel never runs twice.
    if order.cancelled_at is not None or order.cancelling_job is not None:
        return CancelResult(None, [UserErr(["orderId"], ALREADY_CANCELLED, "INVALID")])
    status = acc.fulfillment_status(order)
    if status in ("FULFILLED", "PARTIALLY_FULFILLED", "IN_PROGRESS"):  # message inferred, see README
        what = "a fulfillment in progress" if status == "IN_PROGRESS" else "fulfillments"
        return CancelResult(None, [UserErr(["orderId"], f"Cannot cancel an order with {what}", "INVALID")])
    method = _refund_method(args.get("refund"), method_in)
    if isinstance(method, UserErr):
        return CancelResult(None, [method])
    if method == "store_credit" and order.customer_id is None:  # code from OrderCancelUserErrorCode
        return CancelResult(
            None,
            [
                UserErr(
                    ["refundMethod", "storeCreditRefund"],
                    "Order must have a customer to refund to store credit.",
                    "STORE_CREDIT_REFUND_MISSING_CUSTOMER",
                )
            ],
        )
    job = Job(
        id=store.new_job_id(),
        order_id=order.id,
        due_at=store.now() + store.cancel_delay,
        reason=args["reason"],
        restock=bool(args["restock"]),
        refund_method=method,
        staff_note=note,
    )
    store.jobs[job.id] = job
    store.track(job=job.id)
    order.cancelling_job = job.id
    return CancelResult(job)


def _refund_method(legacy: bool | None, method: dict[str, Any] | None) -> str | UserErr | None:
    if legacy is not None:
        return "original" if legacy else None
    if not method:
        return None
    original, credit = method.get("originalPaymentMethodsRefund"), method.get("storeCreditRefund")
    if original and credit is not None:  # inferred: the input is a one-of in Shopify's description
        return UserErr(["refundMethod"], "Only one refund method can be specified.", "INVALID")
    if credit is not None:
        return "store_credit"
    return "original" if original else None


def complete_cancel(store: Store, job: Job) -> None:
    """The job's work: cancel, close, remove lines, void authorizations, refund per the method."""
    order = store.orders[job.order_id]
    job.done = True
    order.cancelling_job = None
    now = store.now()
    order.cancelled_at = order.closed_at = order.updated_at = now
    order.cancel_reason, order.cancel_staff_note = job.reason, job.staff_note
    lines = [
        LineRequest(li, acc.refundable_quantity(li), "CANCEL" if job.restock else "NO_RESTOCK")
        for li in order.line_items
        if acc.refundable_quantity(li) > 0
    ]
    # Authorizations are voided whatever the refund method (SHOPIFY-FACTS §1).
    for auth in acc.open_authorizations(order):
        order.transactions.append(
            Transaction(
                id=store.new_id(),
                kind="VOID",
                status="SUCCESS",
                gateway=auth.gateway,
                amount=auth.amount,
                created_at=now,
                parent_id=auth.id,
                test=order.test,
            )
        )
    store.record(order, "cancel", currency=order.presentment_currency, method=job.refund_method)
    amount = acc.net_payment(order)
    if job.refund_method and amount > 0:
        money: list[tuple[Transaction | None, Decimal]]
        if job.refund_method == "store_credit":
            money = [(None, amount)]
        else:
            money = [(s.parent, s.amount) for s in allocate(order, amount) if s.amount > 0]
        write_refund(store, order, lines, remaining_shipping(order), money, None)
        store.record(
            order, "refund", amount=amount, currency=order.presentment_currency, method=job.refund_method
        )
    elif job.restock:
        for li in order.line_items:
            li.restocked_quantity = li.quantity - li.refunded_quantity
    for li in order.line_items:  # Shopify removes the unfulfilled units: currentTotalPriceSet 0.0
        li.removed_quantity = li.quantity - li.refunded_quantity


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
    seen = store.idempotency.get(key)
    if seen is not None:
        order = store.orders[seen.order_id]
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
        from pipeline.simulator.store import IdempotencyRecord

        store.idempotency[key] = IdempotencyRecord(fp, result.order.id, result.refund.id)
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
    errors = _currency_errors(order, data.get("currency"))
    lines: list[LineRequest] = []
    for i, rli in enumerate(data.get("refundLineItems") or []):
        lid = numeric_id(rli["lineItemId"], "LineItem")
        item = next((li for li in order.line_items if li.id == lid), None)
        path = ["refundLineItems", str(i)]
        restock = rli.get("restockType") or "NO_RESTOCK"
        if item is None:  # inferred wording
            errors.append(UserErr([*path, "lineItemId"], "Line item does not exist"))
        elif rli["quantity"] > acc.refundable_quantity(item):  # recorded overRefundQuantityLineItem
            errors.append(
                UserErr([*path, "quantity"], "Quantity cannot refund more items than were purchased")
            )
        elif restock == "LEGACY_RESTOCK":  # SHOPIFY-FACTS §2: rejected for new refunds; wording inferred
            errors.append(UserErr([*path, "restockType"], "Restock type legacy_restock is not supported"))
        else:
            lines.append(LineRequest(item, rli["quantity"], restock))
    shipping = _shipping(order, data.get("shipping"), errors)
    money: list[tuple[Transaction | None, Decimal]] = []
    for tx in data.get("transactions") or []:
        if tx["kind"] != "REFUND":  # recorded 2026-04-refund-create-transactions-validation (invalidKind)
            errors.append(UserErr(None, f"Kind {tx['kind'].lower()} is not a valid transaction"))
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
        money.append((parent, q(parse_money(tx["amount"]), cur)))
    for i, rm in enumerate(data.get("refundMethods") or []):
        credit = rm.get("storeCreditRefund")
        if credit is None:
            continue
        if order.customer_id is None:  # needs a customer (changelog refund-to-store-credit); wording inferred
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
            money.append((None, q(parse_money(credit["amount"]["amount"]), cur)))
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
    amount = q(parse_money(shipping["amount"]), order.presentment_currency)
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
