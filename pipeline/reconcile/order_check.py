"""The comparisons of SPEC §8 for one order (pure): what the shop shows since the plan against its action.

Refunds made before the plan (a partly refunded order) are never duplicates. A PENDING transaction is
money on its way, not in `totalRefundedSet` yet (SHOPIFY-FACTS §10.4): pending, never missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from pipeline import currencies
from pipeline.models import instant
from pipeline.money import ZERO, Money
from pipeline.plan.claims import parse_claim
from pipeline.plan.model import PlannedAction
from pipeline.plan.steps import Step, StepKind
from pipeline.reconcile import cards
from pipeline.reconcile.attribution import NOBODY, Maker, in_shop, key_in, maker
from pipeline.reconcile.bulkorders import UNREAD
from pipeline.reconcile.model import RefundTransaction

# Shopify's OrderTransactionStatus: money that left, money still on its way, money that did not move.
SETTLED = frozenset({"SUCCESS"})
IN_FLIGHT = frozenset({"PENDING", "AWAITING_RESPONSE", "UNKNOWN"})
RESTOCKING = frozenset({"CANCEL", "RETURN"})
NO_REFUND_LINE = (
    "restock not verified: a cancel that refunds nothing leaves no refund line to read it from "
    "(check the inventory)"
)
NOT_READ = (
    "restock not read: neither restock nor lines were planned, and the bulk read reads refund lines only "
    "where they were (`reconcile --engine paced` reads them all)"
)


class OrderCheck:
    """One action against its order as read back; `differences`, `extra` and `waiting` are what it found."""

    def __init__(
        self,
        action: PlannedAction,
        journal: list[Mapping[str, Any]],
        order: Mapping[str, Any] | None,
        gift_cards: Mapping[str, Mapping[str, Any] | None],
        since: dt.datetime,
        run_id: str = "",
        cards_found: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.action, self.journal, self.order, self.since = action, journal, order, since
        self.gift_cards, self.cards_found = gift_cards, cards_found
        self.ours = Maker(run_id, action.action_key)
        self.differences: list[str] = []
        self.extra: list[str] = []  # more money or more refunds than planned
        self.waiting: list[str] = []  # transactions still pending
        self.transactions: list[RefundTransaction] = []
        self.refunded = self.pending = self.refunded_shop = self.gift_card_value = ZERO
        self.kept = self.kept_shop = ZERO  # what a cancelled order still holds: kept on a partial cancel
        self.restocked = 0
        self.restock_unread: str | None = None  # why the restock was not verified (never "0 units")
        self.restocked_at: dict[str, int] = {}  # units restocked per location name, read from the shop
        self._restock_noted = False
        self.gift_card: str | None = None
        self.tagged: bool | None = None
        self._amount_noted = False
        if order is not None:
            self._compare(order)
        else:
            self.differences.append("the order could not be read back from Shopify")

    def new_refunds(self) -> list[Mapping[str, Any]]:
        """The order's refunds made at or after the plan."""
        refunds = (self.order or {}).get("refunds") or []
        seen = self.action.fingerprint
        return [
            r
            for r in refunds
            if seen.new_since_plan(
                r["id"], instant(r["createdAt"]) if r.get("createdAt") else self.since, self.since
            )
        ]

    def _done(self, kind: str) -> list[Mapping[str, Any]]:
        return [r for r in self.journal if r["kind"] == kind and r["state"] == "done"]

    def _compare(self, order: Mapping[str, Any]) -> None:
        steps = self.action.steps
        cancel = self.action.cancel
        refund_steps = [s for s in steps if s.kind is StepKind.REFUND]
        journaled = {r["refund_id"]: r["idx"] for r in self.journal if r.get("refund_id")}
        new = self.new_refunds()
        by_id = {r["id"]: r for r in new}
        for refund_id in journaled:
            if refund_id not in by_id:
                self.differences.append(f"refund {refund_id} (journal) is not on the order")
        unplanned = [r for r in new if r["id"] not in journaled]
        cancel_refunds = 1 if cancel and cancel.method and (cancel.amount or ZERO) > 0 else 0
        if len(unplanned) > cancel_refunds:
            self.extra.append(
                f"{len(new)} refunds since the plan, {len(refund_steps) + cancel_refunds} planned"
            )
        by_cancel = self._cancel_refund(unplanned) if cancel_refunds else None
        for refund in new:
            if refund["id"] in journaled:
                self._refund(order, refund, steps[journaled[refund["id"]]], "refund step", self.ours)
            elif cancel is not None and refund is by_cancel:
                self._refund(order, refund, cancel, "cancel", self.ours)
            else:
                self._refund(order, refund, None, "not planned", self._maker(order, refund))
        self._money(order)
        self._restock_planned(cancel is not None and cancel_refunds > 0)
        if cancel is not None:
            self._cancel(order, cancel)
        elif order.get("cancelledAt") and instant(order["cancelledAt"]) >= self.since:
            self.differences.append("cancelled since the plan, which asked only for a refund")
        for index, step in enumerate(steps):
            if step.kind is StepKind.GIFT_CARD:
                cards.check_card(self, step, index)
        cards.check_other_cards(self)
        self._kept(order)
        self.tagged = self._tags(order)
        if order.get("truncated"):
            self.differences.append("more refunds or transactions than one read returns: check by hand")

    def _cancel_refund(self, unplanned: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        """The refund our refunding cancel made: only once the journal says the cancel is done, the
        earliest refund since the plan that carries no other action's key (a refund by hand before
        our cancel would have stopped it as drift)."""
        if not self._done("cancel"):
            return None
        for refund in sorted(unplanned, key=lambda r: str(r.get("createdAt") or "")):
            key = key_in(refund.get("note"))
            if key is None or key == self.action.action_key:
                return refund
        return None

    def _maker(self, order: Mapping[str, Any], refund: Mapping[str, Any]) -> Maker:
        """Who made a refund the plan did not: the key in its note, else another run's claim, else nobody."""
        key = key_in(refund.get("note"))
        if key is not None:
            return maker(key)
        claim = parse_claim(order.get("claim"))
        if claim is not None and claim.action_key and claim.action_key != self.action.action_key:
            return Maker(claim.run_id, claim.action_key)
        return NOBODY

    def _refund(
        self,
        order: Mapping[str, Any],
        refund: Mapping[str, Any],
        step: Step | None,
        origin: str,
        made_by: Maker,
    ) -> None:
        """One refund made since the plan: its transactions, method, amount and restock."""
        moved = ZERO
        for tx in refund["transactions"]["nodes"]:
            made = RefundTransaction.of(order, refund, tx, self.action.order_name, origin, made_by)
            self.transactions.append(made)
            amount, shop, method = made.amount, made.shop_amount, made.method
            if tx["kind"] != "REFUND":
                continue
            if tx["status"] in SETTLED:
                self.refunded += amount.amount
                self.refunded_shop += shop.amount if shop else ZERO
                moved += amount.amount
            elif tx["status"] in IN_FLIGHT:
                self.pending += amount.amount
                moved += amount.amount
                self.waiting.append(f"{tx['gateway']} refund {amount} is {tx['status']}")
            else:
                self.differences.append(f"refund transaction {tx['id']} is {tx['status']}")
            if step is not None and amount.currency != step.currency:
                self.differences.append(f"refund in {amount.currency}, planned in {step.currency}")
            if step is not None and step.method and method != step.method:
                self.differences.append(f"refunded as {method} ({tx['gateway']}), planned as {step.method}")
        if step is not None and step.kind is StepKind.REFUND and step.gateways:
            planned_gateways = set(step.gateways)
            actual = {tx["gateway"] for tx in refund["transactions"]["nodes"]}
            if not actual <= planned_gateways:
                self.differences.append(
                    f"refunded through {', '.join(sorted(actual - planned_gateways))}, planned "
                    f"{', '.join(sorted(planned_gateways))}"
                )
        if step is not None and step.amount is not None and moved != step.amount:
            words = f"{step.kind} refunded {moved} {step.currency}, planned {step.amount}"
            (self.extra if moved > step.amount else self.differences).append(words)
            self._amount_noted = True
        self._restock(refund, step)

    def _restock(self, refund: Mapping[str, Any], step: Step | None) -> None:
        """Units restocked, by restock type, against the step's refund lines (or the cancel's restock)."""
        observed = _units_by_type(
            (line["restockType"], line["quantity"]) for line in refund["refundLineItems"]["nodes"]
        )
        restocked = sum(units for kind, units in observed.items() if kind in RESTOCKING)
        self.restocked += restocked
        for line in refund["refundLineItems"]["nodes"]:
            if line["restockType"] in RESTOCKING:
                place = (line.get("location") or {}).get("name") or "an unnamed location"
                self.restocked_at[place] = self.restocked_at.get(place, 0) + int(line["quantity"])
        if step is None:
            return
        if step.kind is StepKind.REFUND:
            planned = _units_by_type((str(line.restock_type), line.quantity) for line in step.refund_lines)
            if planned != observed:
                self.differences.append(f"refund lines {_units(observed)}, planned {_units(planned)}")
                self._restock_noted = True
        elif step.kind is StepKind.CANCEL:
            if step.restock and observed and restocked == 0:
                self.differences.append("the cancel did not restock, restock was planned")
                self._restock_noted = True
            if not step.restock and restocked:
                self.differences.append(f"the cancel restocked {restocked} units, no restock was planned")

    def _restock_planned(self, cancel_refunded: bool) -> None:
        """A planned restock that the shop's refund line items do not show (SPEC §8: read, never assumed).

        A cancel that refunds nothing leaves no refund to read its restock from: its restock is
        reported as not read (`restock_unread`), never as matched units.
        """
        planned = sum(
            line.quantity
            for step in self.action.steps
            if step.kind is StepKind.REFUND
            for line in step.refund_lines
            if line.restocks
        )
        cancel = self.action.cancel
        wanted = planned > 0 or (cancel is not None and cancel.restock and cancel_refunded)
        if wanted and self.restocked == 0 and not self._restock_noted and self._all_done():
            units = f" ({planned} units)" if planned else ""
            self.differences.append(f"restock was planned{units}, nothing was restocked")
        if cancel is not None and cancel.restock and not cancel_refunded and self.restocked == 0:
            self.restock_unread = NO_REFUND_LINE if self._all_done() else None
        elif (self.order or {}).get(UNREAD) and self._all_done():
            self.restock_unread = NOT_READ

    def restock_words(self) -> str | None:
        """Where the units went back, e.g. "2 at Warehouse Berlin, 1 at Store Hamburg"."""
        return ", ".join(f"{units} at {place}" for place, units in self.restocked_at.items()) or None

    def _money(self, order: Mapping[str, Any]) -> None:
        """This run's money against the plan, and Shopify's order totals against its transactions."""
        planned = self.action.refunds_planned
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
                    f"Shopify's total refunded {shown} differs from its refund transactions "
                    f"{summed} {shown.currency}"
                )

    def _cancel(self, order: Mapping[str, Any], step: Step) -> None:
        if not self._done("cancel"):
            return
        if not order.get("cancelledAt"):
            self.differences.append("not cancelled, although the journal says the cancel is done")
            return
        if step.reason and str(order.get("cancelReason") or "").upper() != step.reason.upper():
            self.differences.append(
                f"cancel reason {order.get('cancelReason')}, planned {step.reason.upper()}"
            )

    def _kept(self, order: Mapping[str, Any]) -> None:
        """On an order this action cancelled: the money the shop still holds (a partial cancel, or a
        cancel that refunds nothing), net of refunds on their way and gift cards given instead."""
        if self.action.cancel is None or not order.get("cancelledAt"):
            return
        net = Money.of((order.get("netPaymentSet") or {}).get("presentmentMoney"))
        if net is None:
            return
        # A gift card given instead of a refund leaves the payment on the order: it is not kept.
        cards = sum(
            (
                t.amount.amount
                for t in self.transactions
                if t.method == "gift_card" and t.moves_money and t.amount.currency == net.currency
            ),
            ZERO,
        )
        if net.amount - self.pending - cards > 0:
            self.kept = net.amount - self.pending - cards
            shop, _converted = in_shop(Money(self.kept, net.currency), order)
            self.kept_shop = shop.amount if shop else ZERO

    def _tags(self, order: Mapping[str, Any]) -> bool | None:
        tag_steps = [s for s in self.action.steps if s.kind is StepKind.TAG]
        if not tag_steps or not self._done("tag"):
            return None
        tags = {str(t).casefold() for t in order.get("tags") or ()}
        missing = [t for s in tag_steps for t in s.tags if t.casefold() not in tags]
        if missing:
            self.differences.append(f"tags missing: {', '.join(missing)}")
        return not missing

    def _all_done(self) -> bool:
        return bool(self.journal) and all(r["state"] == "done" for r in self.journal)


def _tolerance(currency: str, count: int) -> Decimal:
    """Shop money is converted per transaction: sums may differ by one minor unit per transaction."""
    return Decimal(1).scaleb(-currencies.decimals(currency)) * max(count, 1)


def _units_by_type(lines: Iterable[tuple[str, Any]]) -> dict[str, int]:
    units: dict[str, int] = {}
    for kind, quantity in lines:
        units[kind] = units.get(kind, 0) + int(quantity)
    return units


def _units(by_type: Mapping[str, int]) -> str:
    return ", ".join(f"{units} {kind}" for kind, units in sorted(by_type.items())) or "none"
