"""tagsAdd and orderUpdate.

Recorded in 2025-01-tags-add-multi-resource.json and 2026-04-orderUpdate-input-validation.json.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipeline.simulator.errors import UserErr, numeric_id
from pipeline.simulator.gids import parse_gid
from pipeline.simulator.store import Customer, Order, Store

_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]{5,19}$")
_UPDATABLE = (
    "email",
    "phone",
    "note",
    "tags",
    "shippingAddress",
    "customAttributes",
    "metafields",
    "localizationExtensions",
    "localizedFields",
    "poNumber",
)


@dataclass
class UpdateResult:
    order: Order | None
    errors: list[UserErr] = field(default_factory=list)


def split_tags(values: list[str] | str) -> list[str]:
    """Comma strings and comma-joined list elements both split (recorded commaStringAdd and co.)."""
    items = [values] if isinstance(values, str) else values
    return [t.strip() for v in items for t in v.split(",") if t.strip()]


def merge_tags(existing: list[str], new: list[str]) -> list[str]:
    """Case-insensitive de-duplication keeping the stored spelling, sorted case-insensitively.

    Recorded: ["red"] onto ["Red"] stays ["Red"]; ["b", "A"] onto ["Red"] gives ["A", "b", "Red"].
    """
    seen = {t.casefold(): t for t in existing}
    for tag in new:
        seen.setdefault(tag.casefold(), tag)
    return sorted(seen.values(), key=lambda t: (t.casefold(), t))


def taggable(store: Store, gid: str) -> Order | Customer | None:
    parsed = parse_gid(gid)
    if parsed is None:
        return None
    if parsed[0] == "Order":
        return store.orders.get(numeric_id(gid, "Order") or -1)
    if parsed[0] == "Customer":
        return store.customers.get(numeric_id(gid, "Customer") or -1)
    return None


def tags_add(store: Store, node: Order | Customer, tags: list[str] | str) -> None:
    """Add tags (never removes); bumps updatedAt; one ledger entry for an order."""
    node.tags = merge_tags(node.tags, split_tags(tags))
    node.updated_at = store.now()
    if isinstance(node, Order):
        store.record(node, "tag")


def order_update(store: Store, data: dict[str, Any]) -> UpdateResult:
    oid = numeric_id(data["id"], "Order")
    order = store.orders.get(oid) if oid is not None else None
    if order is None:  # inferred from refundCreate's recorded unknown-order message
        return UpdateResult(None, [UserErr(["id"], "Order does not exist")])
    given = [k for k in _UPDATABLE if k in data]
    if not given:  # recorded emptyInput: the order is still returned
        return UpdateResult(order, [UserErr(None, "No valid update parameters have been provided")])
    phone = data.get("phone")
    if phone is not None and not _PHONE.match(phone):  # recorded invalidPhone
        return UpdateResult(order, [UserErr(["phone"], "Phone is invalid")])
    for key, attr in (("email", "email"), ("note", "note"), ("poNumber", "po_number"), ("phone", "phone")):
        if key in data:
            setattr(order, attr, data[key])
    if data.get("tags") is not None:  # orderUpdate replaces the tags (SHOPIFY-FACTS §6)
        order.tags = merge_tags([], split_tags(data["tags"]))
    order.updated_at = store.now()
    store.record(order, "order_update")
    return UpdateResult(order)
