"""Locations and restocks: RETURN for fulfilled units, CANCEL for unfulfilled ones, always at a location."""

from __future__ import annotations

import uuid

from pipeline.simulator.access import Access
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store
from pipeline.simulator.store import PRIMARY_LOCATION, Fulfillment
from tests.simulator.factory import add_customer, add_order, new_store, run

REFUND = """mutation R($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { refundLineItems(first: 5) { nodes { restockType restocked location { id name } } } }
    userErrors { field message } } }"""
PRIMARY = f"gid://shopify/Location/{PRIMARY_LOCATION}"


def _order(fulfilled: int):  # type: ignore[no-untyped-def]
    store, _ = new_store()
    order = add_order(store, lines=[("SKU-A", 2, "10.00", "0")], payments=[("SALE", "manual", "20.00")])
    item = order.line_items[0]
    item.fulfilled_quantity = fulfilled
    if fulfilled:
        order.fulfillments.append(
            Fulfillment(store.new_id(), "#1-F1", "SUCCESS", "FULFILLED", fulfilled, store.now())
        )
    return store, order, item, ShopApi(store)


def _line(item, restock: str, quantity: int = 1, location: str | None = PRIMARY) -> dict:  # type: ignore[no-untyped-def, type-arg]
    line = {"lineItemId": f"gid://shopify/LineItem/{item.id}", "quantity": quantity, "restockType": restock}
    return line if location is None else {**line, "locationId": location}


def _refund(api: ShopApi, order, lines: list) -> dict:  # type: ignore[no-untyped-def, type-arg]
    data = {"orderId": f"gid://shopify/Order/{order.id}", "refundLineItems": lines}
    return run(api, REFUND, {"input": data, "key": str(uuid.uuid4())})["data"]["refundCreate"]


def test_cancel_restock_of_fulfilled_units_is_refused() -> None:
    _store, order, item, api = _order(fulfilled=2)
    out = _refund(api, order, [_line(item, "CANCEL")])
    assert out == {
        "refund": None,
        "userErrors": [
            {
                "field": ["refundLineItems", "0", "restockType"],
                "message": "Cancel can only restock unfulfilled items; use return for fulfilled items",
            }
        ],
    }
    ok = _refund(api, order, [_line(item, "RETURN")])
    assert ok["userErrors"] == []
    assert ok["refund"]["refundLineItems"]["nodes"] == [
        {"restockType": "RETURN", "restocked": True, "location": {"id": PRIMARY, "name": "Shop location"}}
    ]


def test_cancel_restock_takes_only_the_unfulfilled_units() -> None:
    _store, order, item, api = _order(fulfilled=1)
    assert _refund(api, order, [_line(item, "CANCEL", 2)])["userErrors"][0]["field"] == [
        "refundLineItems",
        "0",
        "restockType",
    ]
    assert _refund(api, order, [_line(item, "CANCEL", 1)])["userErrors"] == []
    assert _refund(api, order, [_line(item, "CANCEL", 1)])["userErrors"] != []  # none left unfulfilled


def test_return_on_unfulfilled_units_is_accepted_as_recorded() -> None:
    # 2025-01-refund-create-partial-shipping-restock-parity.json: RETURN on an UNFULFILLED order, restocked.
    _store, order, item, api = _order(fulfilled=0)
    assert _refund(api, order, [_line(item, "RETURN")])["userErrors"] == []


def test_a_restock_needs_a_known_location() -> None:
    _store, order, item, api = _order(fulfilled=0)
    missing = _refund(api, order, [_line(item, "CANCEL", location=None)])
    assert missing["userErrors"] == [
        {
            "field": ["refundLineItems", "0", "locationId"],
            "message": "Location is required to restock with cancel",
        }
    ]
    unknown = _refund(api, order, [_line(item, "CANCEL", location="gid://shopify/Location/1")])
    assert unknown["userErrors"] == [
        {"field": ["refundLineItems", "0", "locationId"], "message": "Location does not exist"}
    ]
    plain = _refund(api, order, [_line(item, "NO_RESTOCK", location=None)])
    assert plain["userErrors"] == [] and plain["refund"]["refundLineItems"]["nodes"][0]["location"] is None


def test_the_client_can_read_every_location_it_needs() -> None:
    store = seed_store(orders=40, seed=3)
    api = ShopApi(store)
    primary = run(api, "{ location { id name isPrimary } }")["data"]["location"]
    assert primary == {"id": PRIMARY, "name": "Warehouse Berlin", "isPrimary": True}
    fulfilled = next(o for o in store.orders.values() if o.fulfillments)
    query = """query O($id: ID!) { order(id: $id) { fulfillments { location { id } }
      fulfillmentOrders(first: 5) { nodes { status assignedLocation { location { id } }
        lineItems(first: 10) { nodes { lineItem { id } totalQuantity remainingQuantity } } } } } }"""
    got = run(api, query, {"id": f"gid://shopify/Order/{fulfilled.id}"})["data"]["order"]
    where = f"gid://shopify/Location/{fulfilled.line_items[0].location_id}"
    assert got["fulfillments"][0]["location"] == {"id": where}
    assert got["fulfillmentOrders"]["nodes"][0]["assignedLocation"] == {"location": {"id": where}}
    lines = got["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"]
    assert [x["totalQuantity"] for x in lines] == [li.quantity for li in fulfilled.line_items]
    assert {li.location_id for o in store.orders.values() for li in o.line_items} == {7001, 7002}


def test_shop_settings_and_scopes_are_readable() -> None:
    store, _ = new_store()
    add_order(store, presentment="USD", customer=add_customer(store))
    api = ShopApi(store, access=Access(scopes=("read_orders", "write_orders")))
    out = run(
        api,
        """{ shop { currencyCode enabledPresentmentCurrencies customerAccountsV2 { customerAccountsVersion } }
        currentAppInstallation { accessScopes { handle } } storeCreditConfiguration { storeCreditEnabled }
        publicApiVersions { handle supported } }""",
    )["data"]
    assert out["shop"] == {
        "currencyCode": "EUR",
        "enabledPresentmentCurrencies": ["EUR", "USD"],
        "customerAccountsV2": {"customerAccountsVersion": "NEW_CUSTOMER_ACCOUNTS"},
    }
    assert out["currentAppInstallation"] == {
        "accessScopes": [{"handle": "read_orders"}, {"handle": "write_orders"}]
    }
    assert out["storeCreditConfiguration"] == {"storeCreditEnabled": True}
    assert {"handle": "2026-04", "supported": True} in out["publicApiVersions"]
