"""Carrying out one planned step against Shopify, and finding out whether a step whose answer was lost
happened. Nothing here is re-sent blindly: `refundCreate` carries its plan-time idempotency key, and
every other step is verified by a read (order, or the customer's gift cards) before it is sent again.
A cancel answered with a job is waited for by its job id, never sent again.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import (
    AuthError,
    ConcurrentRequestError,
    GraphQLError,
    OutcomeUnknownError,
    ShopifyError,
    TransientError,
)
from pipeline.execute.mutations import variables
from pipeline.execute.ours import cancelled_by_us, carries_key
from pipeline.plan.keys import legacy_id
from pipeline.plan.steps import Step, StepKind
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.retry import execute_idempotent, execute_with_retry, retrying

# Shopify's answer to an orderCancel of a cancelled order (recorded): whose cancel it was is another matter.
ALREADY_CANCELLED = "already been canceled"
NOT_OURS = "cancelled by someone else"


class Status(enum.StrEnum):
    DONE = "done"  # applied; `ids` says what Shopify created
    FAILED = "failed"  # refused by Shopify (userErrors): terminal for the action
    UNKNOWN = "unknown"  # sent, answer lost, and a read could not settle it yet
    NOT_APPLIED = "not_applied"  # certainly did not happen: may be sent (again)
    ACCEPTED = "accepted"  # a cancel answered with a job (`ids["job_id"]`): journal it, then wait for it
    DRIFTED = "drifted"  # someone else did it (the order was cancelled by another hand): stop the action


@dataclass(frozen=True)
class Outcome:
    status: Status
    ids: dict[str, Any] = field(default_factory=dict)
    code: str = ""
    message: str = ""
    # A created gift card's full code and customer email, kept only for a card the customer is not sent.
    secret: tuple[str, str] | None = field(default=None, repr=False)


class StepRunner:
    """Sends steps and verifies lost ones for one shop; thread-safe (the client is)."""

    def __init__(
        self,
        client: ShopifyClient,
        *,
        cancel_wait: float = 30.0,
        poll: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.cancel_wait = cancel_wait
        self.poll = poll
        self.sleep = sleep
        self.clock = clock

    def _read(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        return execute_with_retry(self.client, document, variables, mutation=False).data

    def send(
        self,
        order_id: str,
        step: Step,
        action_key: str,
        *,
        sent_before: bool = False,
        gift_card_id: str | None = None,
    ) -> Outcome:
        """Sends the step once (retrying only what was certainly not executed) and reads its answer.

        `sent_before`: the journal holds an earlier attempt of this step that was sent;
        `gift_card_id`: the card a notify step sends.
        """
        document, values = variables(order_id, step, gift_card_id)
        try:
            if document == "RefundCreate":
                data = execute_idempotent(self.client, document, values).data
            else:
                # Throttled and not-sent failures are retried as is; an unknown outcome is raised.
                data = retrying()(self.client.execute, document, values, mutation=True).data
        except (OutcomeUnknownError, ConcurrentRequestError) as exc:
            # Still in progress is no failure: the first request may yet land, and is resent with its key.
            return Outcome(Status.UNKNOWN, message=str(exc))
        except TransientError as exc:
            return Outcome(Status.NOT_APPLIED, message=str(exc))
        except GraphQLError as exc:
            # Refused before execution (a document or variable error): nothing happened.
            return Outcome(Status.FAILED, code="graphql", message=str(exc))
        return self._answer(order_id, step, action_key, data, sent_before)

    def _answer(
        self, order_id: str, step: Step, action_key: str, data: dict[str, Any], sent_before: bool
    ) -> Outcome:
        kind = step.kind
        payload = next(iter(data.values()))
        errors = payload.get("orderCancelUserErrors") or payload.get("userErrors") or []
        if errors:
            if kind is StepKind.CANCEL and any(ALREADY_CANCELLED in e["message"] for e in errors):
                if not sent_before:  # nothing of ours was ever sent: the cancel is someone else's
                    return Outcome(
                        Status.DRIFTED, message=f"{NOT_OURS}: Shopify says it is already cancelled"
                    )
                # An earlier attempt of ours, its answer lost, may be the one that cancelled it: read.
                return self.verify(order_id, step, action_key)
            first = errors[0]
            return Outcome(
                Status.FAILED,
                code=str(first.get("code") or "user_error"),
                message="; ".join(e["message"] for e in errors),
            )
        if kind is StepKind.CANCEL:
            return Outcome(Status.ACCEPTED, {"job_id": payload["job"]["id"]})
        if kind is StepKind.REFUND:
            refund = payload["refund"]
            return Outcome(
                Status.DONE,
                {
                    "refund_id": refund["id"],
                    "transaction_ids": [t["id"] for t in refund["transactions"]["nodes"]],
                },
            )
        if kind is StepKind.GIFT_CARD:
            card = payload["giftCard"]  # `giftCardCode` is a bearer credential: never journaled
            # Unsent, the card's code would reach nobody: it goes to the codes file, once.
            email = ((card.get("customer") or {}).get("defaultEmailAddress") or {}).get("emailAddress") or ""
            secret = None if step.notify else (str(payload.get("giftCardCode") or ""), email)
            return Outcome(
                Status.DONE,
                {"gift_card_id": card["id"], "gift_card_last_chars": card["lastCharacters"]},
                secret=secret,
            )
        return Outcome(Status.DONE)

    def await_cancel(
        self, order_id: str, action_key: str, job_id: str | None, *, just_sent: bool = False
    ) -> Outcome:
        """Waits up to `cancel_wait` for a cancel: by its job when the answer gave one, else by the order.

        DONE when the order is cancelled by us, DRIFTED when by someone else, FAILED when our job
        finished without cancelling it; UNKNOWN (job still running) or NOT_APPLIED (no job, not
        cancelled) when time is up. `just_sent`: the job was answered a moment ago and cannot be done
        yet, so the first poll waits one interval (a poll costs points).
        """
        ids = {"job_id": job_id} if job_id else {}
        deadline = self.clock() + self.cancel_wait
        if just_sent:
            self.sleep(self.poll)
        while True:
            if job_id:
                data = self._read("CancelJob", {"jobId": job_id, "orderId": order_id})
                job, order = data["job"], data["order"] or {}
                # A job Shopify no longer knows (null) leaves the order's own word.
                finished = bool(job["done"]) if job else bool(order.get("cancelledAt"))
            else:
                order = self._read("OrderCancelled", {"id": order_id})["order"] or {}
                finished = bool(order.get("cancelledAt"))
            if finished:
                if not order.get("cancelledAt"):
                    return Outcome(
                        Status.FAILED, ids, "job_failed", "the cancel job ended without cancelling"
                    )
                if cancelled_by_us(order, action_key, we_sent_it=True):
                    return Outcome(Status.DONE, ids)
                return Outcome(Status.DRIFTED, ids, message=f"{NOT_OURS} (its staff note is not ours)")
            if self.clock() >= deadline:
                if job_id:
                    return Outcome(Status.UNKNOWN, ids, message="the cancel job has not finished yet")
                return Outcome(Status.NOT_APPLIED)
            self.sleep(self.poll)

    def verify(self, order_id: str, step: Step, action_key: str, job_id: str | None = None) -> Outcome:
        """Did this step happen? DONE (with what it created), NOT_APPLIED, DRIFTED, or still UNKNOWN."""
        if step.kind is StepKind.GIFT_CARD_NOTIFY:
            # Shopify keeps no readable trace of a sent notification, so it is sent again: at worst the
            # customer gets the same mail twice. It moves no money.
            return Outcome(Status.NOT_APPLIED)
        try:
            if step.kind is StepKind.GIFT_CARD:
                return self._verify_gift_card(step, action_key)
            if step.kind is StepKind.CANCEL:
                # A job may still be running: give it the time a job takes before calling it not applied.
                return self.await_cancel(order_id, action_key, job_id)
            order = self._read("OrderVerify", {"id": order_id})["order"] or {}
        except AuthError:
            raise
        except ShopifyError as exc:
            return Outcome(Status.UNKNOWN, message=f"could not verify: {exc}")
        if step.kind is StepKind.REFUND:
            for refund in order.get("refunds") or ():
                if carries_key(refund.get("note"), action_key):
                    ids = [t["id"] for t in refund["transactions"]["nodes"]]
                    return Outcome(Status.DONE, {"refund_id": refund["id"], "transaction_ids": ids})
            return Outcome(Status.NOT_APPLIED)
        tags = {t.casefold() for t in order.get("tags") or ()}
        return Outcome(Status.DONE if all(t.casefold() in tags for t in step.tags) else Status.NOT_APPLIED)

    def _verify_gift_card(self, step: Step, action_key: str) -> Outcome:
        query = f"customer_id:{legacy_id(str(step.customer_id))}"
        cards = self._read("GiftCardsByQuery", {"query": query, "first": 50})["giftCards"]["nodes"]
        for card in cards:
            if carries_key(card.get("note"), action_key):
                return Outcome(
                    Status.DONE, {"gift_card_id": card["id"], "gift_card_last_chars": card["lastCharacters"]}
                )
        return Outcome(Status.NOT_APPLIED)
