"""Reconciliation, pure: the approved plan, the journal and the orders as read back → a status per row.

Nothing here reads a file or the network (SPEC §8; the I/O is `reconciler.py`). Orders and gift
cards come in as the `OrdersReconcile` document answers them. Money is `Decimal` with its currency.
Only refunds created at or after the plan's `created_at` belong to this run: earlier ones (a partly
refunded order) never count as duplicates. A PENDING refund transaction is money on its way, not in
`totalRefundedSet` yet (SHOPIFY-FACTS §10.4): it is counted as pending, never as missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pipeline import currencies

STATUSES = (
    "matched",
    "mismatch",
    "pending",
    "failed",
    "duplicate",
    "drifted",
    "blocked",
    "skipped",
    "not_executed",
)
#: Rows that need no one's attention: what was asked happened, or nothing was to be done.
QUIET = frozenset({"matched", "blocked", "skipped"})
STORE_CREDIT_GATEWAY = "shopify_store_credit"
# Shopify's OrderTransactionStatus: money that left, money still on its way, money that did not move.
SETTLED = frozenset({"SUCCESS"})
IN_FLIGHT = frozenset({"PENDING", "AWAITING_RESPONSE", "UNKNOWN"})
RESTOCKING = frozenset({"CANCEL", "RETURN"})
ZERO = Decimal(0)


@dataclass(frozen=True)
class Money:
    """An exact amount in one currency."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> Money | None:
        """A MoneyV2 (`{"amount": "12.5", "currencyCode": "EUR"}`), or None."""
        if not value:
            return None
        return cls(Decimal(str(value["amount"])), str(value["currencyCode"]))


@dataclass(frozen=True)
class RefundTransaction:
    """One refund transaction made since the plan: a line finance matches against payouts."""

    order_id: str
    order_name: str
    refund_id: str
    refund_created_at: str
    transaction_id: str
    parent_transaction_id: str | None
    gateway: str
    kind: str
    status: str
    amount: Money
    shop_amount: Money | None
    processed_at: str | None
    method: str  # original | store_credit, from the gateway
    origin: str  # "cancel", "refund step", or "not planned"
    action_key: str


@dataclass(frozen=True)
class ReconciledRow:
    """One input row: its status and what the shop shows against what was approved."""

    row: int
    order: str
    status: str
    detail: str
    order_name: str | None = None
    order_id: str | None = None
    action_key: str | None = None
    action: str | None = None  # cancel | refund_only
    method: str | None = None  # as planned: original, store_credit, gift_card (joined by "+")
    currency: str | None = None
    planned: Decimal | None = None
    refunded: Decimal = ZERO  # settled since the plan, plus gift cards issued
    pending: Decimal = ZERO
    shop_currency: str | None = None
    refunded_shop: Decimal = ZERO
    cancelled: bool | None = None
    cancel_reason: str | None = None
    refunds_since_plan: int = 0
    restocked_units: int = 0
    gift_card: str | None = None
    gift_card_value: Decimal = ZERO  # part of `refunded`; a gift card is no refund transaction
    tagged: bool | None = None
    notify: bool = False
    customer_name: str | None = None
    customer_email: str | None = None
    differences: tuple[str, ...] = ()

    @property
    def is_exception(self) -> bool:
        return self.status not in QUIET


@dataclass(frozen=True)
class Reconciliation:
    """Every row's outcome and every refund transaction made since the plan."""

    run_id: str
    rows: list[ReconciledRow]
    transactions: list[RefundTransaction] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Rows per status, every status listed."""
        return {status: sum(row.status == status for row in self.rows) for status in STATUSES}

    @property
    def exceptions(self) -> list[ReconciledRow]:
        return [row for row in self.rows if row.is_exception]


def when(text: str | None) -> dt.datetime | None:
    """An ISO time from Shopify or plan.json (`…Z` included) as an aware datetime."""
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def reconcile(
    plan: Mapping[str, Any],
    journal_rows: Iterable[Mapping[str, Any]],
    orders: Mapping[str, Mapping[str, Any] | None],
    gift_cards: Mapping[str, Mapping[str, Any] | None] | None = None,
) -> Reconciliation:
    """Every plan row reconciled; `orders` maps each action's order id to its re-read (None: unreadable)."""
    since = when(plan["created_at"])
    assert since is not None
    steps_by_action: dict[str, list[Mapping[str, Any]]] = {}
    for record in journal_rows:
        steps_by_action.setdefault(record["action_key"], []).append(record)
    rows, transactions = [], []
    for plan_row in plan["rows"]:
        action = plan_row.get("action")
        if plan_row["decision"] != "execute" or not action:
            status = "skipped" if plan_row["decision"] == "skip" else "blocked"
            rows.append(ReconciledRow(plan_row["row"], str(plan_row["order"]), status, plan_row["message"]))
            continue
        journal = sorted(steps_by_action.get(action["action_key"], []), key=lambda r: r["idx"])
        check = _OrderCheck(action, journal, orders.get(action["order_id"]), gift_cards or {}, since)
        rows.append(check.row(plan_row))
        transactions.extend(check.transactions)
    return Reconciliation(str(plan["run_id"]), rows, transactions)


def planned_money(action: Mapping[str, Any]) -> tuple[Decimal | None, str | None, str | None]:
    """(amount, method, currency) of an action's money steps, as `plan_files.action_row` sums them."""
    money = [s for s in action["steps"] if s["method"] and s["amount"] is not None and s["currency"]]
    if not money:
        return None, None, None
    amount = sum((Decimal(s["amount"]) for s in money), ZERO)
    return (
        amount,
        "+".join(sorted({s["method"] for s in money})),
        "+".join(sorted({s["currency"] for s in money})),
    )


def _method_of(gateway: str) -> str:
    return "store_credit" if gateway == STORE_CREDIT_GATEWAY else "original"


def _tolerance(currency: str, count: int) -> Decimal:
    """Shop money is converted per transaction: sums may differ by one minor unit per transaction."""
    return Decimal(1).scaleb(-currencies.decimals(currency)) * max(count, 1)


class _OrderCheck:
    """The comparisons of SPEC §8 for one action; `differences`, `extra` and `waiting` are what it found."""

    def __init__(
        self,
        action: Mapping[str, Any],
        journal: list[Mapping[str, Any]],
        order: Mapping[str, Any] | None,
        gift_cards: Mapping[str, Mapping[str, Any] | None],
        since: dt.datetime,
    ) -> None:
        self.action, self.journal, self.order, self.since = action, journal, order, since
        self.gift_cards = gift_cards
        self.differences: list[str] = []
        self.extra: list[str] = []  # more money or more refunds than planned
        self.waiting: list[str] = []  # transactions still pending
        self.transactions: list[RefundTransaction] = []
        self.refunded = self.pending = self.refunded_shop = ZERO
        self.restocked = 0
        self.gift_card: str | None = None
        self.gift_card_value = ZERO
        self.tagged: bool | None = None
        self._amount_noted = False
        if order is not None:
            self._compare(order)
        else:
            self.differences.append("the order could not be read back from Shopify")

    def row(self, plan_row: Mapping[str, Any]) -> ReconciledRow:
        action, order = self.action, self.order or {}
        planned, method, currency = planned_money(action)
        status, detail = self._status()
        customer = order.get("customer") or {}
        email = order.get("email") or ((customer.get("defaultEmailAddress") or {}).get("emailAddress"))
        cancel_step = next((s for s in action["steps"] if s["kind"] == "cancel"), None)
        return ReconciledRow(
            row=plan_row["row"],
            order=str(plan_row["order"]),
            status=status,
            detail=detail,
            order_name=action["order_name"],
            order_id=action["order_id"],
            action_key=action["action_key"],
            action="cancel" if cancel_step else "refund_only",
            method=method,
            currency=currency or order.get("presentmentCurrencyCode"),
            planned=planned,
            refunded=self.refunded,
            pending=self.pending,
            shop_currency=order.get("currencyCode"),
            refunded_shop=self.refunded_shop,
            cancelled=bool(order.get("cancelledAt")) if self.order is not None else None,
            cancel_reason=order.get("cancelReason"),
            refunds_since_plan=len(self._new_refunds()),
            restocked_units=self.restocked,
            gift_card=self.gift_card,
            gift_card_value=self.gift_card_value,
            tagged=self.tagged,
            notify=any(bool(s.get("notify")) for s in action["steps"]),
            customer_name=customer.get("displayName"),
            customer_email=email,
            differences=tuple(self.differences + self.extra),
        )

    def _status(self) -> tuple[str, str]:
        """The journal says what was attempted; the shop says whether it is so."""
        found = "; ".join(self.extra + self.differences + self.waiting)
        if not self.journal:
            return "not_executed", "not executed: run `bulkcancel execute` on this run directory"
        state = self.journal[0]["action_state"]
        if state == "drifted":
            return "drifted", str(self.journal[0]["action_detail"] or "the order changed since the plan")
        if self.extra:  # money out twice outranks whatever the journal says
            return "duplicate", found
        if state == "failed":
            failed = [r for r in self.journal if r["state"] == "failed"]
            message = "; ".join(
                f"{r['kind']} refused by Shopify: {r['error_message']}"
                + (f" ({r['error_code']})" if r["error_code"] else "")
                for r in failed
            )
            return "failed", message or "failed"
        if state != "done":
            steps = ", ".join(f"{r['kind']} {r['state']}" for r in self.journal)
            return "not_executed", f"not finished ({steps}): run `bulkcancel execute` again"
        if self.differences:
            return "mismatch", found
        if self.waiting:
            return "pending", found + ": reconcile again later"
        return "matched", "as planned"

    # --- the comparisons -----------------------------------------------------------------------

    def _new_refunds(self) -> list[Mapping[str, Any]]:
        refunds = (self.order or {}).get("refunds") or []
        return [r for r in refunds if (when(r.get("createdAt")) or self.since) >= self.since]

    def _done(self, kind: str) -> list[Mapping[str, Any]]:
        return [r for r in self.journal if r["kind"] == kind and r["state"] == "done"]

    def _compare(self, order: Mapping[str, Any]) -> None:
        steps = self.action["steps"]
        cancel = next((s for s in steps if s["kind"] == "cancel"), None)
        refund_steps = {i: s for i, s in enumerate(steps) if s["kind"] == "refund"}
        journaled = {r["refund_id"]: r["idx"] for r in self.journal if r.get("refund_id")}
        new = self._new_refunds()
        by_id = {r["id"]: r for r in new}
        for refund_id in journaled:
            if refund_id not in by_id:
                self.differences.append(f"refund {refund_id} (journal) is not on the order")
        unplanned = [r for r in new if r["id"] not in journaled]
        cancel_refunds = 1 if cancel and cancel["method"] and Decimal(cancel["amount"] or 0) > 0 else 0
        if len(unplanned) > cancel_refunds:
            self.extra.append(
                f"{len(new)} refunds since the plan, {len(refund_steps) + cancel_refunds} planned"
            )
        for refund in new:
            if refund["id"] in journaled:
                step = steps[journaled[refund["id"]]]
                self._refund(order, refund, step, "refund step")
            elif cancel_refunds and refund is unplanned[0] and cancel:
                self._refund(order, refund, cancel, "cancel")
            else:
                self._refund(order, refund, None, "not planned")
        self._money(order)
        if cancel is not None:
            self._cancel(order, cancel)
        elif order.get("cancelledAt") and (when(order["cancelledAt"]) or self.since) >= self.since:
            self.differences.append("cancelled since the plan, which asked only for a refund")
        for index, step in enumerate(steps):
            if step["kind"] == "gift_card":
                self._gift_card(step, index)
        self.tagged = self._tags(order)
        if order.get("truncated"):
            self.differences.append("more refunds or transactions than one read returns: check by hand")

    def _refund(
        self,
        order: Mapping[str, Any],
        refund: Mapping[str, Any],
        step: Mapping[str, Any] | None,
        origin: str,
    ) -> None:
        """One refund made since the plan: its transactions, method, amount and restock."""
        moved = ZERO
        for tx in refund["transactions"]["nodes"]:
            amount = Money.of(tx["amountSet"]["presentmentMoney"])
            shop = Money.of(tx["amountSet"].get("shopMoney"))
            assert amount is not None
            method = _method_of(tx["gateway"])
            self.transactions.append(
                RefundTransaction(
                    order_id=str(order["id"]),
                    order_name=str(order.get("name") or self.action["order_name"]),
                    refund_id=str(refund["id"]),
                    refund_created_at=str(refund.get("createdAt") or ""),
                    transaction_id=str(tx["id"]),
                    parent_transaction_id=(tx.get("parentTransaction") or {}).get("id"),
                    gateway=str(tx["gateway"]),
                    kind=str(tx["kind"]),
                    status=str(tx["status"]),
                    amount=amount,
                    shop_amount=shop,
                    processed_at=tx.get("processedAt"),
                    method=method,
                    origin=origin,
                    action_key=str(self.action["action_key"]),
                )
            )
            if tx["kind"] != "REFUND":
                continue
            if tx["status"] in SETTLED:
                self.refunded += amount.amount
                self.refunded_shop += shop.amount if shop else ZERO
                moved += amount.amount
            elif tx["status"] in IN_FLIGHT:
                self.pending += amount.amount
                moved += amount.amount
                self.waiting.append(f"{tx['gateway']} refund {money(amount)} is {tx['status']}")
            else:
                self.differences.append(f"refund transaction {tx['id']} is {tx['status']}")
            if step is not None and amount.currency != step["currency"]:
                self.differences.append(f"refund in {amount.currency}, planned in {step['currency']}")
            if step is not None and step["method"] and method != step["method"]:
                self.differences.append(
                    f"refunded as {method} ({tx['gateway']}), planned as {step['method']}"
                )
        if step is not None and step.get("kind") == "refund" and step.get("transactions"):
            planned_gateways = {t["gateway"] for t in step["transactions"]}
            actual = {tx["gateway"] for tx in refund["transactions"]["nodes"]}
            if not actual <= planned_gateways:
                self.differences.append(
                    f"refunded through {', '.join(sorted(actual - planned_gateways))}, planned "
                    f"{', '.join(sorted(planned_gateways))}"
                )
        if step is not None and step["amount"] is not None and moved != Decimal(step["amount"]):
            words = f"{step['kind']} refunded {moved} {step['currency']}, planned {step['amount']}"
            (self.extra if moved > Decimal(step["amount"]) else self.differences).append(words)
            self._amount_noted = True
        self._restock(refund, step)

    def _restock(self, refund: Mapping[str, Any], step: Mapping[str, Any] | None) -> None:
        """Units restocked, by restock type, against the step's refund lines (or the cancel's restock)."""
        observed: dict[str, int] = {}
        for line in refund["refundLineItems"]["nodes"]:
            observed[line["restockType"]] = observed.get(line["restockType"], 0) + int(line["quantity"])
        self.restocked += sum(units for kind, units in observed.items() if kind in RESTOCKING)
        if step is None:
            return
        if step["kind"] == "refund":
            planned: dict[str, int] = {}
            for line in step.get("refund_lines") or ():
                planned[line["restock_type"]] = planned.get(line["restock_type"], 0) + int(line["quantity"])
            if planned != observed:
                self.differences.append(f"refund lines {_units(observed)}, planned {_units(planned)}")
        elif step["kind"] == "cancel":
            restocked = sum(units for kind, units in observed.items() if kind in RESTOCKING)
            if step.get("restock") and observed and restocked == 0:
                self.differences.append("the cancel did not restock, restock was planned")
            if not step.get("restock") and restocked:
                self.differences.append(f"the cancel restocked {restocked} units, no restock was planned")

    def _money(self, order: Mapping[str, Any]) -> None:
        """This run's money against the plan, and Shopify's order totals against its transactions."""
        planned = sum(
            (
                Decimal(s["amount"])
                for s in self.action["steps"]
                if s["kind"] in ("cancel", "refund") and s["method"] and s["amount"]
            ),
            ZERO,
        )
        moved = self.refunded + self.pending  # gift cards are added later: they are not refunds
        words = (
            f"refunded {moved} {order.get('presentmentCurrencyCode') or ''} since the plan, {planned} planned"
        )
        if moved > planned:
            self.extra.append(words)
        elif moved < planned and not self._amount_noted and self._all_done():
            self.differences.append(words)
        if order.get("truncated"):
            return
        total = order.get("totalRefundedSet") or {}
        settled = [
            tx
            for refund in order.get("refunds") or []
            for tx in refund["transactions"]["nodes"]
            if tx["kind"] == "REFUND" and tx["status"] in SETTLED
        ]
        for side in ("presentmentMoney", "shopMoney"):
            shown = Money.of(total.get(side))
            if shown is None:
                continue
            summed = sum((Decimal(str(tx["amountSet"][side]["amount"])) for tx in settled), ZERO)
            slack = ZERO if side == "presentmentMoney" else _tolerance(shown.currency, len(settled))
            if abs(shown.amount - summed) > slack:
                self.differences.append(
                    f"Shopify's total refunded {money(shown)} differs from its refund transactions "
                    f"{summed} {shown.currency}"
                )

    def _cancel(self, order: Mapping[str, Any], step: Mapping[str, Any]) -> None:
        if not self._done("cancel"):
            return
        if not order.get("cancelledAt"):
            self.differences.append("not cancelled, although the journal says the cancel is done")
            return
        if step.get("reason") and str(order.get("cancelReason") or "").upper() != str(step["reason"]).upper():
            self.differences.append(
                f"cancel reason {order.get('cancelReason')}, planned {str(step['reason']).upper()}"
            )

    def _gift_card(self, step: Mapping[str, Any], index: int) -> None:
        record = next((r for r in self.journal if r["idx"] == index), None)
        if record is None or record["state"] != "done":
            return
        card_id = record.get("gift_card_id")
        card = self.gift_cards.get(card_id) if card_id else None
        if card is None:
            self.differences.append(f"gift card {card_id or '(no id in the journal)'} could not be read back")
            return
        self.gift_card = (
            f"{card_id} (…{card.get('lastCharacters') or record.get('gift_card_last_chars') or ''})"
        )
        value = Money.of(card.get("initialValue"))
        planned = Money(Decimal(step["amount"]), step["currency"])
        if value is not None:
            self.refunded += value.amount
            self.gift_card_value += value.amount
            if value != planned:
                self.differences.append(f"gift card of {money(value)}, planned {money(planned)}")
        customer = (card.get("customer") or {}).get("id")
        if step.get("customer_id") and customer != step["customer_id"]:
            self.differences.append(f"gift card belongs to {customer}, planned {step['customer_id']}")
        if card.get("enabled") is False:
            self.differences.append("gift card is disabled")

    def _tags(self, order: Mapping[str, Any]) -> bool | None:
        tag_steps = [s for s in self.action["steps"] if s["kind"] == "tag"]
        if not tag_steps or not self._done("tag"):
            return None
        tags = {str(t).casefold() for t in order.get("tags") or ()}
        missing = [t for s in tag_steps for t in s["tags"] if t.casefold() not in tags]
        if missing:
            self.differences.append(f"tags missing: {', '.join(missing)}")
        return not missing

    def _all_done(self) -> bool:
        return bool(self.journal) and all(r["state"] == "done" for r in self.journal)


def money(value: Money) -> str:
    """`12.50 EUR`."""
    return f"{value.amount} {value.currency}"


def _units(by_type: Mapping[str, int]) -> str:
    return ", ".join(f"{units} {kind}" for kind, units in sorted(by_type.items())) or "none"
