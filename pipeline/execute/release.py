"""`release RUN_ID` (SPEC §3, §7a): a run that will not be resumed gives its orders back.

The orders are those of the run's own plan (a claim can only be on an order the run planned). For
each, what Shopify's records say the run did is shown first (its tag, a cancel whose staff note
carries the action key, refunds and gift cards whose note does); then each claim is overwritten,
compare-and-set, with itself marked released. The run directory gets a `released` file, so that run
can never be resumed without its claims. An order the run finished (its tag is on it) keeps its claim:
that is what tells the next plan it is done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from pipeline.errors import RefusedError
from pipeline.execute.claim import claim_input
from pipeline.execute.executor import RELEASED, run_lock
from pipeline.money import in_currency
from pipeline.plan.claims import Claim, moment, parse_claim, released_value
from pipeline.plan.files import load_plan
from pipeline.plan.keys import carries_key, legacy_id, run_tags
from pipeline.plan.model import PlannedAction
from pipeline.plan.steps import StepKind
from pipeline.settings import ConnectionSettings
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.retry import execute_with_retry, retrying


@dataclass(frozen=True)
class Held:
    """An order the run still holds, and what Shopify's records say the run did to it."""

    action: PlannedAction
    claim: Claim
    did: tuple[str, ...]
    finished: bool  # the run's tag is on the order: its claim stays, the record of what was done

    def line(self) -> str:
        done = "; ".join(self.did) if self.did else "nothing of this run on the order"
        kept = " — finished, its claim is kept" if self.finished else ""
        return f"{self.action.order_name}: {done}{kept}"


def _records(
    client: ShopifyClient, run_id: str, action: PlannedAction, order: dict[str, Any]
) -> tuple[str, ...]:
    """What Shopify shows this action did: the run's tag, our cancel, our refunds and gift cards."""
    key, did = action.action_key, []
    if carries_key((order.get("cancellation") or {}).get("staffNote"), key):
        did.append(f"cancelled at {order.get('cancelledAt')}")
    for refund in order.get("refunds") or ():
        if carries_key(refund.get("note"), key):
            money = refund["totalRefundedSet"]["presentmentMoney"]
            amount = in_currency(Decimal(str(money["amount"])), money["currencyCode"])
            did.append(f"refund {amount} {money['currencyCode']} ({refund['id']})")
    for step in action.steps:
        if step.kind is StepKind.GIFT_CARD and step.customer_id:
            query = f"customer_id:{legacy_id(step.customer_id)}"
            variables = {"query": query, "first": 50}
            data = execute_with_retry(client, "GiftCardsByQuery", variables, mutation=False).data
            for card in data["giftCards"]["nodes"]:
                if carries_key(card.get("note"), key):
                    value = card["initialValue"]
                    amount = in_currency(Decimal(str(value["amount"])), value["currencyCode"])
                    did.append(f"gift card {amount} {value['currencyCode']} ({card['id']})")
    tag = run_tags(run_id)[1].casefold()
    if any(t.casefold() == tag for t in order.get("tags") or ()):
        did.append(f"tagged {tag} (the run finished this order)")
    return tuple(did)


def release_run(
    run_dir: Path,
    settings: ConnectionSettings,
    *,
    confirm: Callable[[list[Held]], bool],
    transport: httpx.BaseTransport | None = None,
) -> tuple[list[Held], list[str]]:
    """Shows, confirms and releases the run's claims on the orders it did not finish; returns every order
    it holds and those it could not release (their claim changed meanwhile). RefusedError when not
    confirmed."""
    plan = load_plan(run_dir)
    held: list[Held] = []
    with run_lock(run_dir), ShopifyClient(settings, transport) as client:
        for action in plan.actions():
            read = execute_with_retry(client, "OrderRecords", {"id": action.order_id}, mutation=False)
            order = read.data["order"] or {}
            claim = parse_claim(order.get("claim"))
            if claim is None or claim.released or claim.run_id != plan.run_id:
                continue
            finished = claim.finished(order.get("tags") or ())
            held.append(Held(action, claim, _records(client, plan.run_id, action, order), finished))
        if not confirm(held):
            raise RefusedError("not confirmed: no claim was released")
        stale = []
        at = moment()
        for one in (h for h in held if not h.finished):
            read = execute_with_retry(client, "OrderClaim", {"id": one.action.order_id}, mutation=False)
            metafield = (read.data["order"] or {}).get("claim") or {}
            value = released_value(str(metafield.get("value") or "{}"), at)
            variables = {"metafields": [claim_input(one.action.order_id, value, one.claim.digest)]}
            answer = retrying()(client.execute, "ClaimSet", variables, mutation=True).data
            if (answer.get("metafieldsSet") or {}).get("userErrors"):
                stale.append(one.action.order_name)
        (run_dir / RELEASED).write_text(f"{at}\n", encoding="utf-8")
    return held, stale
