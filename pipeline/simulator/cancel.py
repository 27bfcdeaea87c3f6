"""orderCancel: Shopify's checks, the asynchronous cancel job, and settling what time has completed.

Sources: recorded answers in ../shared/shopify/recorded/ (named per rule) and SHOPIFY-FACTS.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pipeline.simulator import accounting as acc
from pipeline.simulator.access import store_credit_refusal
from pipeline.simulator.errors import UserErr, numeric_id
from pipeline.simulator.refunds import LineRequest, allocate, remaining_shipping, write_refund
from pipeline.simulator.store import Job, Store, Transaction

ALREADY_CANCELLED = "Cannot cancel an order that has already been canceled"  # recorded, code INVALID
PENDING_AUTHORIZATION = "Cannot cancel an order with pending payment authorizations"  # inferred wording
CREDIT_FIELD = ["refundMethod", "storeCreditRefund"]
NO_REFUND_PERMISSION = "You don't have the permission to refund orders."  # inferred wording


@dataclass
class CancelResult:
    job: Job | None
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
    if any(t.kind == "AUTHORIZATION" and t.status == "PENDING" for t in order.transactions):
        # orderCancel reference: orders with pending payment authorizations can't be cancelled
        return CancelResult(None, [UserErr(["orderId"], PENDING_AUTHORIZATION, "INVALID")])
    status = acc.fulfillment_status(order)
    if status in ("FULFILLED", "PARTIALLY_FULFILLED", "IN_PROGRESS"):  # message inferred, see README
        what = "a fulfillment in progress" if status == "IN_PROGRESS" else "fulfillments"
        return CancelResult(None, [UserErr(["orderId"], f"Cannot cancel an order with {what}", "INVALID")])
    method = _refund_method(args.get("refund"), method_in)
    if isinstance(method, UserErr):
        return CancelResult(None, [method])
    if method is not None and not store.access.refund_orders:  # code and its description: the enum
        return CancelResult(None, [UserErr(["refundMethod"], NO_REFUND_PERMISSION, "NO_REFUND_PERMISSION")])
    credit = (method_in or {}).get("storeCreditRefund")
    refusal = store_credit_refusal(store, order, credit.get("expiresAt")) if credit is not None else None
    if refusal is not None:
        return CancelResult(
            None,
            [
                UserErr(
                    ["refundMethod", "storeCreditRefund", *(refusal.field or [])],
                    refusal.message,
                    refusal.code,
                )
            ],
        )
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
        LineRequest(
            li,
            acc.refundable_quantity(li),
            "CANCEL" if job.restock else "NO_RESTOCK",
            li.location_id or store.shop.primary_location_id,
        )
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


def settle(store: Store) -> None:
    """Settle what time has completed: due cancel jobs, then pending refunds (lazy, on every read)."""
    now = store.now()
    if store.open_jobs is None or store.unsettled is None:
        store.open_jobs = {j.id for j in store.jobs.values() if not j.done}
        store.unsettled = {
            o.id for o in store.orders.values() if any(t.settles_at is not None for t in o.transactions)
        }
    due = sorted(
        (store.jobs[i] for i in store.open_jobs if store.jobs[i].due_at <= now),
        key=lambda j: (j.due_at, j.id),
    )
    for job in due:
        store.open_jobs.discard(job.id)
        if not job.done:
            complete_cancel(store, job)
    for order_id in list(store.unsettled):
        waiting = False
        for txn in store.orders[order_id].transactions:
            if txn.status == "PENDING" and txn.settles_at is not None and txn.settles_at <= now:
                txn.status, txn.settles_at = "SUCCESS", None
            waiting = waiting or txn.settles_at is not None
        if not waiting:
            store.unsettled.discard(order_id)
