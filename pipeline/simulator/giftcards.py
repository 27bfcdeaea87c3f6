"""giftCardCreate with Shopify's validation (recorded 2026-04-gift-card-create-validation.json)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.simulator.errors import UserErr, numeric_id
from pipeline.simulator.money import ZERO, parse_money, q
from pipeline.simulator.store import GiftCard, Store

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class GiftCardResult:
    gift_card: GiftCard | None
    code: str | None
    errors: list[UserErr] = field(default_factory=list)


def masked(code: str) -> str:
    """Recorded: "•••• •••• •••• yteu" whatever the code's length."""
    return "•••• •••• •••• " + code[-4:]


def _generated_code(store: Store) -> str:
    """16 lowercase alphanumerics, as recorded ("2af37haec63b376g"); deterministic per store."""
    seed = f"{store.shop.domain}/{store.next_id}".encode()
    digest = hashlib.sha256(seed).digest()
    return "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:16])


def gift_card_create(store: Store, data: dict[str, Any]) -> GiftCardResult:
    """Customer first (recorded shortCodeMissingCustomer: CUSTOMER_NOT_FOUND wins), then value, then code."""
    cid = data.get("customerId")
    if cid is not None and store.customer(numeric_id(cid, "Customer")) is None:
        return GiftCardResult(
            None,
            None,
            [UserErr(["input", "customerId"], "The customer could not be found.", "CUSTOMER_NOT_FOUND")],
        )
    currency = store.shop.currency
    if data.get("initialAmount") is not None:
        amount_field = "initialAmount"
        currency = data["initialAmount"]["currencyCode"]
        value = parse_money(data["initialAmount"]["amount"])
    elif data.get("initialValue") is not None:
        amount_field, value = "initialValue", parse_money(data["initialValue"])
    else:  # 2026-07 made initialValue optional; one of the two is still needed (wording inferred)
        return GiftCardResult(
            None,
            None,
            [UserErr(["input", "initialAmount"], "Initial amount is required", "MISSING_ARGUMENT")],
        )
    if value <= ZERO:
        return GiftCardResult(
            None, None, [UserErr(["input", amount_field], "must be greater than 0", "GREATER_THAN")]
        )
    if q(value, currency) != value:  # refused, not rounded; code from GiftCardErrorCode, wording inferred
        return GiftCardResult(
            None,
            None,
            [UserErr(["input", amount_field], f"has too many decimal places for {currency}", "INVALID")],
        )
    code = data.get("code")
    if code is not None:
        if len(code) < 8:
            return GiftCardResult(
                None,
                None,
                [UserErr(["input", "code"], "Code must be at least 8 characters long", "TOO_SHORT")],
            )
        if len(code) > 20:
            return GiftCardResult(
                None,
                None,
                [UserErr(["input", "code"], "Code must be at most 20 characters long", "TOO_LONG")],
            )
        if not all(c in _ALNUM for c in code.lower()):
            return GiftCardResult(
                None,
                None,
                [
                    UserErr(
                        ["input", "code"], "Code can only contain letters(a-z) and numbers(0-9)", "INVALID"
                    )
                ],
            )
        # Codes are not case sensitive (GiftCardCreateInput docs); recorded duplicate has code null.
        if any(g.code.lower() == code.lower() for g in store.gift_cards.values()):
            return GiftCardResult(None, None, [UserErr(["input", "code"], "Code has already been taken")])
    else:
        code = _generated_code(store)
    now = store.now()
    card = GiftCard(
        id=store.new_id(),
        code=code,
        initial_value=q(value, currency),
        balance=q(value, currency),
        currency=currency,
        created_at=now,
        updated_at=now,
        customer_id=numeric_id(cid, "Customer") if cid else None,
        note=data.get("note"),
        expires_on=data.get("expiresOn"),
    )
    store.gift_cards[card.id] = card
    store.record(None, "gift_card", amount=card.initial_value, currency=currency, method="gift_card")
    return GiftCardResult(card, code)


def send_notification(store: Store, card_id: str) -> GiftCardResult:
    """giftCardSendNotificationToCustomer: mails the card (with its code) to its customer again or first.

    Codes from GiftCardSendNotificationToCustomerUserErrorCode (2026-07); wording inferred. Each send is
    one `gift_card_notification` ledger entry: sending twice mails the customer twice, nothing more.
    """
    numeric = numeric_id(card_id, "GiftCard")
    card = store.gift_cards.get(numeric) if numeric is not None else None
    if card is None:
        return GiftCardResult(
            None, None, [UserErr(["id"], "Gift card does not exist", "GIFT_CARD_NOT_FOUND")]
        )
    if card.customer_id is None or store.customer(card.customer_id) is None:
        return GiftCardResult(
            None, None, [UserErr(["id"], "Gift card has no customer to notify", "CUSTOMER_NOT_FOUND")]
        )
    if not card.enabled:
        return GiftCardResult(None, None, [UserErr(["id"], "Gift card is deactivated", "INVALID")])
    order = store.orders.get(card.order_id) if card.order_id is not None else None
    extra = {"gift_card_id": f"gid://shopify/GiftCard/{card.id}", "customer_id": str(card.customer_id)}
    store.record(order, "gift_card_notification", currency=card.currency, extra=extra)
    return GiftCardResult(card, None)


def gift_card_matches(card: GiftCard, term: tuple[str | None, str, str]) -> bool:
    """One `giftCards(query:)` term: default text searches the code; `id`, `customer_id`, `status`."""
    name, op, value = term
    low = value.lower()
    if name is None:
        return low in card.code.lower()
    if name == "id":
        return str(card.id) == value.rsplit("/", 1)[-1]
    if name == "customer_id":
        return str(card.customer_id) == value.rsplit("/", 1)[-1]
    if name == "status":
        return (low == "enabled") == card.enabled if low in ("enabled", "disabled") else True
    if name == "last_characters":
        return card.code.lower().endswith(low)
    if name in ("created_at", "updated_at"):  # the documented date filters: `created_at:>=2026-11-30`
        return _on_or_after(getattr(card, name), op, value)
    return True  # Shopify ignores filters it does not know (with a search warning)


def _on_or_after(moment: datetime, op: str, value: str) -> bool:
    """A date filter; an unreadable date is ignored, as Shopify ignores what it cannot parse."""
    try:
        bound = datetime.fromisoformat(value.strip("'\"").replace("Z", "+00:00"))
    except ValueError:
        return True
    bound = bound if bound.tzinfo else bound.replace(tzinfo=UTC)
    return {">": moment > bound, ">=": moment >= bound, "<": moment < bound, "<=": moment <= bound}.get(
        op, moment == bound
    )
