"""Locations: where units are fulfilled from and restocked to, and the restock rules of refundCreate.

Sources: RefundLineItemRestockType (2026-07: RETURN restocks fulfilled units, CANCEL unfulfilled
ones), the REST refund reference (`location_id` required for return/cancel restocks), and
2025-01-refund-create-partial-shipping-restock-parity.json (RETURN with a locationId accepted on
an unfulfilled order). Every message is inferred.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.simulator import accounting as acc
from pipeline.simulator.errors import UserErr, numeric_id
from pipeline.simulator.gids import gid
from pipeline.simulator.refunds import RESTOCKING
from pipeline.simulator.shapes import Sub, connection
from pipeline.simulator.store import LineItem, Order, Store


@dataclass
class FulfillmentOrderView:
    """One location's fulfillment order: the order's lines assigned to it."""

    id: int
    order: Order
    location_id: int
    items: list[LineItem]


def location(store: Store, location_id: int | None) -> dict[str, Any] | None:
    """A Location as the API answers it (None for ids the shop does not have)."""
    lid = store.shop.primary_location_id if location_id is None else location_id
    name = store.shop.locations.get(lid)
    if name is None:
        return None
    return {
        "id": gid("Location", lid),
        "legacyResourceId": str(lid),
        "name": name,
        "isActive": True,
        "isPrimary": lid == store.shop.primary_location_id,
    }


def cancelled_units(order: Order, item: LineItem) -> int:
    return sum(
        x.quantity
        for r in order.refunds
        for x in r.line_items
        if x.line_item_id == item.id and x.restock_type == "CANCEL"
    )


def unfulfilled_units(order: Order, item: LineItem) -> int:
    """Units never fulfilled and still refundable: what a CANCEL restock may take."""
    left = item.quantity - item.fulfilled_quantity - item.removed_quantity - cancelled_units(order, item)
    return max(0, min(left, acc.refundable_quantity(item)))


def restock_error(
    store: Store, order: Order, item: LineItem, rli: dict[str, Any], path: list[str]
) -> tuple[UserErr | None, int | None]:
    """(error, location) of a refund line: RETURN/CANCEL need a known location, CANCEL unfulfilled units."""
    restock = rli.get("restockType") or "NO_RESTOCK"
    if restock not in RESTOCKING:
        return None, None
    raw = rli.get("locationId")
    if raw is None:  # the REST reference requires location_id for return and cancel restocks
        return UserErr([*path, "locationId"], f"Location is required to restock with {restock.lower()}"), None
    lid = numeric_id(raw, "Location")
    if lid is None or lid not in store.shop.locations:
        return UserErr([*path, "locationId"], "Location does not exist"), None
    if restock == "CANCEL" and rli["quantity"] > unfulfilled_units(
        order, item
    ):  # enum: CANCEL is unfulfilled
        return (
            UserErr(
                [*path, "restockType"],
                "Cancel can only restock unfulfilled items; use return for fulfilled items",
            ),
            None,
        )
    return None, lid


def fulfillment_orders(store: Store, order: Order) -> list[FulfillmentOrderView]:
    """The order's lines grouped by assigned location, primary location first."""
    by_location: dict[int, list[LineItem]] = {}
    for item in order.line_items:
        by_location.setdefault(item.location_id or store.shop.primary_location_id, []).append(item)
    return [
        FulfillmentOrderView(order.id * 10 + n, order, lid, items)
        for n, (lid, items) in enumerate(sorted(by_location.items()))
    ]


def fulfillment_order_field(store: Store, fo: FulfillmentOrderView, name: str, args: dict[str, Any]) -> Any:
    if name == "id":
        return gid("FulfillmentOrder", fo.id)
    if name == "status":
        if fo.order.cancelled_at is not None:
            return "CLOSED"
        return "OPEN" if any(unfulfilled_units(fo.order, i) for i in fo.items) else "CLOSED"
    if name == "assignedLocation":
        found = location(store, fo.location_id)
        return {"location": found, "name": found["name"] if found else ""}
    if name == "lineItems":
        return connection(fo.items, args, lambda i: Sub(fo.order, FulfillmentOrderLine(i)))
    raise KeyError(name)


@dataclass
class FulfillmentOrderLine:
    item: LineItem

    @property
    def id(self) -> int:
        return self.item.id


def fulfillment_order_line_field(s: Sub, name: str) -> Any:
    line: FulfillmentOrderLine = s.obj
    return {
        "id": gid("FulfillmentOrderLineItem", line.item.id),
        "lineItem": Sub(s.order, line.item),
        "totalQuantity": line.item.quantity,
        "remainingQuantity": unfulfilled_units(s.order, line.item),
    }[name]
