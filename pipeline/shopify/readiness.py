"""Whether a shop and token can carry out a file's actions (`bulkcancel doctor`, SPEC §3), as pure checks.

Scopes: SHOPIFY-FACTS §8 (orders read/write for cancels, refunds, tags and claims; `write_gift_cards`
for giftCardCreate and giftCardSendNotificationToCustomer; `write_customers` to assign a card to a
customer; `read_all_orders` for orders older than 60 days). Store credit can be issued only with new
customer accounts (refund-to-store-credit changelog). Plan limits: the answer's `throttleStatus`
(SHOPIFY-FACTS §7). Versions: `publicApiVersions` (SHOPIFY-FACTS §8).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.shopify.governor import QueryCost

BASE_SCOPES = ("read_orders", "write_orders")
GIFT_CARD_SCOPES = ("write_gift_cards", "write_customers")
OLD_ORDERS_SCOPE = "read_all_orders"
NEW_ACCOUNTS = "NEW_CUSTOMER_ACCOUNTS"
#: Restore rate (points a second) → Shopify's plan (SHOPIFY-FACTS §7).
PLANS = {100: "Standard", 200: "Advanced", 1000: "Plus", 2000: "Shopify for enterprise"}


@dataclass(frozen=True, slots=True)
class ShopState:
    """What the shop answered about itself and the token."""

    api_version: str
    scopes: frozenset[str]
    shop_currency: str
    currencies: frozenset[str]
    customer_accounts: str | None
    store_credit_spendable: bool | None
    versions: Mapping[str, bool]
    bucket: float | None = None
    restore_rate: float | None = None

    @classmethod
    def from_answer(cls, data: Mapping[str, Any], cost: QueryCost | None, api_version: str) -> ShopState:
        """From the Readiness answer and its `extensions.cost`."""
        shop = data.get("shop") or {}
        accounts = (shop.get("customerAccountsV2") or {}).get("customerAccountsVersion")
        config = data.get("storeCreditConfiguration") or {}
        installation = data.get("currentAppInstallation") or {}
        currency = shop.get("currencyCode") or ""
        return cls(
            api_version=api_version,
            scopes=frozenset(s["handle"] for s in installation.get("accessScopes") or ()),
            shop_currency=currency,
            currencies=frozenset(shop.get("enabledPresentmentCurrencies") or ()) | {currency},
            customer_accounts=accounts,
            store_credit_spendable=config.get("storeCreditEnabled"),
            versions={v["handle"]: bool(v["supported"]) for v in data.get("publicApiVersions") or ()},
            bucket=cost.maximum if cost else None,
            restore_rate=cost.restore_rate if cost else None,
        )

    def holds(self, scope: str) -> bool:
        """A write scope includes its read scope."""
        return scope in self.scopes or (scope.startswith("read_") and "write_" + scope[5:] in self.scopes)


@dataclass(frozen=True, slots=True)
class Needs:
    """What an input file asks of the shop."""

    gift_cards: bool = False
    store_credit: bool = False
    currencies: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Finding:
    """Something that would block a run (or only deserves a word), and how to fix it."""

    what: str
    fix: str
    blocking: bool = True


def _missing(state: ShopState, scopes: Iterable[str]) -> list[str]:
    return [scope for scope in scopes if not state.holds(scope)]


def findings(state: ShopState, needs: Needs) -> list[Finding]:
    """Every problem for this file on this shop, blocking ones first."""
    found: list[Finding] = []
    missing = _missing(state, BASE_SCOPES)
    if missing:
        found.append(
            Finding(f"the token lacks {', '.join(missing)}", f"add {', '.join(missing)} to the app's scopes")
        )
    if state.versions and not state.versions.get(state.api_version, False):
        newest = max((v for v, ok in state.versions.items() if ok and v[:1].isdigit()), default="")
        found.append(
            Finding(
                f"API version {state.api_version} is not supported (Shopify would answer with another one)",
                f"use --api-version {newest}" if newest else "use a supported --api-version",
            )
        )
    if needs.gift_cards:
        for scope in _missing(state, GIFT_CARD_SCOPES):
            why = "to issue gift cards" if "gift" in scope else "to assign a gift card to its customer"
            found.append(
                Finding(
                    f"the file has gift cards; the token lacks {scope} ({why})",
                    f"add {scope} to the app's scopes",
                )
            )
    if needs.store_credit and state.customer_accounts != NEW_ACCOUNTS:
        found.append(
            Finding(
                f"the file refunds to store credit; the shop's customer accounts are "
                f"{state.customer_accounts or 'classic'}: store credit needs new customer accounts",
                "turn on new customer accounts (Settings > Customer accounts), or refund to the card",
            )
        )
    foreign = sorted(needs.currencies - state.currencies)
    if foreign:
        found.append(
            Finding(
                f"the file names {', '.join(foreign)}, which the shop does not sell in",
                f"check the currency column (the shop sells in {', '.join(sorted(state.currencies))})",
            )
        )
    if not state.holds(OLD_ORDERS_SCOPE):
        found.append(
            Finding(
                "orders older than 60 days cannot be found without read_all_orders",
                "add read_all_orders to the app's scopes if the file has older orders",
                False,
            )
        )
    if needs.store_credit and state.store_credit_spendable is False:
        found.append(
            Finding(
                "customers cannot spend store credit at checkout on this shop",
                "enable store credit in the shop's settings, or tell customers",
                False,
            )
        )
    return sorted(found, key=lambda f: not f.blocking)


def description(state: ShopState) -> list[str]:
    """What was read, one line each."""
    plan = PLANS.get(int(state.restore_rate or 0), "")
    limits = "not reported"
    if state.bucket is not None and state.restore_rate is not None:
        limits = f"{state.bucket:g} points, restoring {state.restore_rate:g} a second"
        limits += f" ({plan} plan)" if plan else ""
    supported = state.versions.get(state.api_version)
    version = {True: "supported", False: "not supported", None: "not listed"}[supported]
    credit = (
        "can be issued" if state.customer_accounts == NEW_ACCOUNTS else "cannot be issued (classic accounts)"
    )
    return [
        f"API version {state.api_version}: {version}",
        f"scopes: {', '.join(sorted(state.scopes)) or 'none'}",
        f"currencies: {state.shop_currency} (shop), {', '.join(sorted(state.currencies))} (sold in)",
        f"rate limits: {limits}",
        f"store credit: {credit}",
    ]
