"""The shop itself as the API answers it: settings, currencies, the calling app's scopes, versions."""

from __future__ import annotations

from typing import Any

from pipeline.simulator.errors import numeric_id
from pipeline.simulator.gids import gid
from pipeline.simulator.locations import location
from pipeline.simulator.payouts import account
from pipeline.simulator.store import Store
from pipeline.simulator.versions import SCHEMA_FILES


def _shop(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    """The Shop object: its currencies and customer-account setting."""
    presentment = {o.presentment_currency for o in store.orders.values()} | {store.shop.currency}
    return {
        "id": gid("Shop", 1),
        "name": store.shop.name,
        "myshopifyDomain": store.shop.domain,
        "currencyCode": store.shop.currency,
        "enabledPresentmentCurrencies": sorted(presentment),
        "customerAccountsV2": {"customerAccountsVersion": store.shop.customer_accounts},
    }


def _installation(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    """The calling app: the scopes its token holds (AccessScope descriptions are ours)."""
    return {
        "id": gid("AppInstallation", 1),
        "accessScopes": [{"handle": h, "description": h.replace("_", " ")} for h in store.access.scopes],
    }


SHOP_ROOTS: dict[str, Any] = {
    "shop": _shop,
    "currentAppInstallation": _installation,
    # Whether customers can spend store credit at checkout (StoreCreditConfiguration, 2026-07).
    "storeCreditConfiguration": lambda s, a: {"storeCreditEnabled": s.shop.store_credit_enabled},
    # QueryRoot.location: the primary location when no id is given (its argument is optional).
    "location": lambda s, a: location(s, numeric_id(a["id"], "Location") or -1 if a.get("id") else None),
    "shopifyPaymentsAccount": account,  # balance transactions and payouts (payouts.py)
    "publicApiVersions": lambda s, a: [
        {"handle": v, "displayName": v, "supported": True} for v in sorted(SCHEMA_FILES)
    ],
}
