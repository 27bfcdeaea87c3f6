"""What the token may do and what the shop allows: access scopes, staff permissions, store credit.

Sources: the recorded ACCESS_DENIED answer (2026-04-admin-platform-utility-roots.json), the
refund-to-store-credit changelog (new customer accounts, a customer) and OrderCancelUserErrorCode.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError

from pipeline.simulator.errors import UserErr
from pipeline.simulator.store import ALL_SCOPES, Access, Order, Store

__all__ = ["ALL_SCOPES", "Access", "check_scope", "store_credit_refusal"]

ACCESS_DOC = "https://shopify.dev/api/usage/access-scopes"
#: root field → the scope it needs (Shopify reference pages; a write scope includes its read scope).
REQUIRED_SCOPE = {
    "order": "read_orders",
    "orders": "read_orders",
    "ordersCount": "read_orders",
    "orderCancel": "write_orders",
    "refundCreate": "write_orders",
    "orderUpdate": "write_orders",
    "tagsAdd": "write_orders",
    "metafieldsSet": "write_orders",
    "customer": "read_customers",
    "giftCard": "read_gift_cards",
    "giftCards": "read_gift_cards",
    "giftCardCreate": "write_gift_cards",
    "giftCardSendNotificationToCustomer": "write_gift_cards",
    "shopifyPaymentsAccount": "read_shopify_payments_payouts",
}
NEW_ACCOUNTS = "NEW_CUSTOMER_ACCOUNTS"  # CustomerAccountsVersion; CLASSIC is the other value


def check_scope(access: Access, field: str, nodes: Any) -> None:
    """Refuse a root field the token has no scope for, with Shopify's recorded ACCESS_DENIED error."""
    scope = REQUIRED_SCOPE.get(field)
    if scope is None or access.holds(scope):
        return
    required = f"`{scope}` access scope."
    raise GraphQLError(
        f"Access denied for {field} field. Required access: {required}",
        nodes,
        extensions={"code": "ACCESS_DENIED", "documentation": ACCESS_DOC, "requiredAccess": required},
    )


def store_credit_refusal(store: Store, order: Order, expires_at: str | None) -> UserErr | None:
    """Why this order cannot be refunded to store credit now, or None; `field` relative to the input.

    The codes are OrderCancelUserErrorCode's; every message is inferred (no recording shows one).
    """
    if not store.access.refund_to_store_credit:
        return UserErr(
            [],
            "You don't have the permission to refund to store credit.",
            "NO_REFUND_TO_STORE_CREDIT_PERMISSION",
        )
    if store.shop.customer_accounts != NEW_ACCOUNTS:  # changelog refund-to-store-credit; no code exists
        return UserErr([], "New customer accounts must be enabled to refund to store credit.", "INVALID")
    if order.b2b:
        return UserErr(
            [],
            "Store credit refunds are not supported for B2B orders.",
            "STORE_CREDIT_REFUND_B2B_NOT_SUPPORTED",
        )
    moment = _parse(str(expires_at)) if expires_at is not None else None
    if expires_at is not None and (moment is None or moment <= store.now()):  # unreadable: refused too
        return UserErr(
            ["expiresAt"], "Expiration date can't be in the past.", "STORE_CREDIT_REFUND_EXPIRATION_IN_PAST"
        )
    return None


def _parse(value: str) -> datetime | None:
    """A DateTime scalar (one without an offset is read as UTC); None when it is no date-time."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
