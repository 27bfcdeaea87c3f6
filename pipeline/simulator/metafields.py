"""metafieldsSet on orders: compare-and-set by digest, all or nothing, up to 25 a call (see README).

Sources: the metafieldsSet reference page (2024-07+: compareDigest, atomic, 25 at most) and
MetafieldsSetUserErrorCode in the 2026-07 schema; messages marked "inferred" in README.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pipeline.simulator.errors import numeric_id
from pipeline.simulator.store import Metafield, Order, Store

MAX_INPUTS = 25
APP_NAMESPACE = "$app"  # an omitted namespace is the app-reserved one (Shopify: "app--<app id>")
STALE = "The resource has been updated since it was loaded. Try again with an updated `compareDigest` value."
CLAIM = ("bulkcancel", "claim")  # SPEC §7a: the claim shown by GET /_simulator/orders


@dataclass(frozen=True)
class SetError:
    """A MetafieldsSetUserError: field path, message, code and the index of the input at fault."""

    field: list[str] | None
    message: str
    code: str | None
    element_index: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "message": self.message,
            "code": self.code,
            "elementIndex": self.element_index,
        }


@dataclass
class SetResult:
    metafields: list[Metafield]
    errors: list[SetError] = field(default_factory=list)


def digest(mf: Metafield) -> str:
    """The opaque `compareDigest`: a hash of what is stored (Shopify's derivation is not published)."""
    return hashlib.sha256(json.dumps([mf.type, mf.value]).encode()).hexdigest()


def find(order: Order, namespace: str | None, key: str) -> Metafield | None:
    """The order's metafield by namespace and key, or None."""
    ns = namespace or APP_NAMESPACE
    return next((m for m in order.metafields if m.namespace == ns and m.key == key), None)


def parsed_value(mf: Metafield | None) -> Any:
    """A metafield's value as JSON when its type is json, else the raw string; None when absent."""
    if mf is None:
        return None
    return json.loads(mf.value) if mf.type == "json" else mf.value


def metafields_set(store: Store, inputs: list[dict[str, Any]]) -> SetResult:
    """Check every input, then write all of them or none (Shopify: "This operation is atomic")."""
    if len(inputs) > MAX_INPUTS:  # wording as public Shopify emulators answer it; inferred
        return SetResult(
            [],
            [
                SetError(
                    ["metafields"],
                    "Exceeded the maximum metafields input limit of 25.",
                    "LESS_THAN_OR_EQUAL_TO",
                )
            ],
        )
    errors: list[SetError] = []
    targets: list[tuple[Order, dict[str, Any], Metafield | None]] = []
    for i, data in enumerate(inputs):
        order, error = _check(store, i, data)
        if error is not None:
            errors.append(error)
        elif order is not None:
            targets.append((order, data, find(order, data.get("namespace"), data["key"])))
    if errors:
        return SetResult([], errors)
    return SetResult([_write(store, order, data, current) for order, data, current in targets])


def _check(store: Store, i: int, data: dict[str, Any]) -> tuple[Order | None, SetError | None]:
    path = ["metafields", str(i)]
    oid = numeric_id(data["ownerId"], "Order")
    order = store.orders.get(oid) if oid is not None else None
    if order is None:  # only orders own metafields here; wording inferred
        return None, SetError([*path, "ownerId"], "Owner does not exist.", "INVALID")
    namespace, key = data.get("namespace") or APP_NAMESPACE, data["key"]
    if not 3 <= len(namespace) <= 255:  # length limits and wording as public emulators; inferred
        return None, SetError(
            [*path, "namespace"],
            "Namespace is too short (minimum is 3 characters)"
            if len(namespace) < 3
            else "Namespace is too long (maximum is 255 characters)",
            "TOO_SHORT" if len(namespace) < 3 else "TOO_LONG",
        )
    if not 2 <= len(key) <= 64:
        return None, SetError(
            [*path, "key"],
            "Key is too short (minimum is 2 characters)"
            if len(key) < 2
            else "Key is too long (maximum is 64 characters)",
            "TOO_SHORT" if len(key) < 2 else "TOO_LONG",
        )
    current = find(order, namespace, key)
    kind = data.get("type") or (current.type if current else None)
    if kind is None:  # a new metafield needs its type (no definitions are modelled); inferred
        return None, SetError([*path, "type"], "Type can't be blank", "BLANK")
    if kind == "json":
        try:
            json.loads(data["value"])
        except ValueError:  # INVALID_VALUE per the enum; wording inferred
            return None, SetError([*path, "value"], "Value is invalid JSON.", "INVALID_VALUE")
    if "compareDigest" not in data:  # no compareDigest: a plain set, no write guarantee
        return order, None
    wanted = data["compareDigest"]
    if wanted is None:  # null: create only if absent
        return (order, None) if current is None else (None, SetError(path, STALE, "STALE_OBJECT"))
    if current is None:  # a digest of nothing that exists; code from the enum, wording inferred
        return None, SetError(
            [*path, "compareDigest"], "Invalid `compareDigest` value.", "INVALID_COMPARE_DIGEST"
        )
    return (order, None) if wanted == digest(current) else (None, SetError(path, STALE, "STALE_OBJECT"))


def _write(store: Store, order: Order, data: dict[str, Any], current: Metafield | None) -> Metafield:
    now = store.now()
    if current is None:
        current = Metafield(
            id=store.new_id(),
            namespace=data.get("namespace") or APP_NAMESPACE,
            key=data["key"],
            type=data["type"],
            value=data["value"],
            created_at=now,
            updated_at=now,
        )
        order.metafields.append(current)
    else:
        current.type, current.value, current.updated_at = data.get("type") or current.type, data["value"], now
    store.record(
        order,
        "claim",
        extra={
            "namespace": current.namespace,
            "key": current.key,
            "type": current.type,
            "value": current.value,
        },
    )
    return current
