"""Order metafields with compare-and-set (the claims of SPEC §7a), `cancellation.staffNote`, saving."""

from __future__ import annotations

import json
from typing import Any

from pipeline.simulator.cancel import settle
from pipeline.simulator.metafields import STALE
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.store import Store
from tests.simulator.factory import add_order, new_store, run

SET = """mutation S($m: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $m) {
    metafields { id namespace key type value compareDigest createdAt updatedAt }
    userErrors { field message code elementIndex } } }"""
READ = """query R($id: ID!) { order(id: $id) {
  metafield(namespace: "bulkcancel", key: "claim") {
    id type value jsonValue compareDigest createdAt updatedAt }
  cancellation { staffNote } } }"""
CANCEL = """mutation C($id: ID!, $note: String) {
  orderCancel(orderId: $id, restock: false, reason: CUSTOMER, staffNote: $note) { job { id } } }"""


def gid(order: Any) -> str:
    return f"gid://shopify/Order/{order.id}"


def claim(order: Any, run_id: str, **extra: Any) -> dict[str, Any]:
    value = json.dumps({"run_id": run_id, "action_key": f"{run_id}:{order.id}"})
    return {
        "ownerId": gid(order),
        "namespace": "bulkcancel",
        "key": "claim",
        "type": "json",
        "value": value,
        **extra,
    }


def set_(api: ShopApi, *inputs: dict[str, Any]) -> dict[str, Any]:
    out = run(api, SET, {"m": list(inputs)})
    assert "errors" not in out, out
    return dict(out["data"]["metafieldsSet"])


def claims(api: ShopApi) -> list[dict[str, Any]]:
    return [e for e in api.ledger_json()["entries"] if e["kind"] == "claim"]


def test_a_null_compare_digest_creates_only_if_absent() -> None:
    store, _ = new_store()
    order = add_order(store)
    api = ShopApi(store)
    first = set_(api, claim(order, "run-a", compareDigest=None))
    assert first["userErrors"] == []
    (mf,) = first["metafields"]
    assert (mf["namespace"], mf["key"], mf["type"]) == ("bulkcancel", "claim", "json")
    assert json.loads(mf["value"])["run_id"] == "run-a" and len(mf["compareDigest"]) == 64

    second = set_(api, claim(order, "run-b", compareDigest=None))
    assert second == {
        "metafields": [],
        "userErrors": [
            {"field": ["metafields", "0"], "message": STALE, "code": "STALE_OBJECT", "elementIndex": None}
        ],
    }
    read = run(api, READ, {"id": gid(order)})["data"]["order"]["metafield"]
    assert read["jsonValue"]["run_id"] == "run-a"
    assert len(claims(api)) == 1  # the refused write applied nothing


def test_a_stale_digest_is_refused_and_the_current_one_is_accepted() -> None:
    store, clock = new_store()
    order = add_order(store)
    api = ShopApi(store)
    old = set_(api, claim(order, "run-a", compareDigest=None))["metafields"][0]["compareDigest"]
    clock.advance(5)
    newer = set_(api, claim(order, "run-b", compareDigest=old))["metafields"][0]
    assert newer["compareDigest"] != old and newer["createdAt"] != newer["updatedAt"]

    stale = set_(api, claim(order, "run-c", compareDigest=old))
    assert stale["metafields"] == [] and stale["userErrors"][0]["code"] == "STALE_OBJECT"
    read = run(api, READ, {"id": gid(order)})["data"]["order"]["metafield"]
    assert read["compareDigest"] == newer["compareDigest"] and json.loads(read["value"])["run_id"] == "run-b"
    assert [json.loads(e["value"])["run_id"] for e in claims(api)] == ["run-a", "run-b"]


def test_no_compare_digest_is_a_plain_set() -> None:
    store, _ = new_store()
    order = add_order(store)
    api = ShopApi(store)
    set_(api, claim(order, "run-a"))
    assert set_(api, claim(order, "run-b"))["userErrors"] == []
    assert api.orders_json()["orders"][0]["claim"]["run_id"] == "run-b"


def test_a_two_item_call_is_all_or_nothing() -> None:
    store, _ = new_store()
    one, two = add_order(store), add_order(store)
    api = ShopApi(store)
    set_(api, claim(two, "run-a", compareDigest=None))
    both = set_(api, claim(one, "run-b", compareDigest=None), claim(two, "run-b", compareDigest=None))
    assert both["metafields"] == [] and [e["field"] for e in both["userErrors"]] == [["metafields", "1"]]
    assert run(api, READ, {"id": gid(one)})["data"]["order"]["metafield"] is None
    assert len(claims(api)) == 1


def test_more_than_25_inputs_are_refused() -> None:
    store, _ = new_store()
    order = add_order(store)
    api = ShopApi(store)
    inputs = [{**claim(order, "r"), "key": f"k{i:02}"} for i in range(26)]
    out = set_(api, *inputs)
    assert out["metafields"] == []
    assert out["userErrors"] == [
        {
            "field": ["metafields"],
            "message": "Exceeded the maximum metafields input limit of 25.",
            "code": "LESS_THAN_OR_EQUAL_TO",
            "elementIndex": None,
        }
    ]
    assert set_(api, *inputs[:25])["userErrors"] == [] and len(claims(api)) == 25


def test_json_values_must_be_json_and_owners_must_exist() -> None:
    store, _ = new_store()
    order = add_order(store)
    api = ShopApi(store)
    bad = set_(api, {**claim(order, "r"), "value": "{not json"})
    assert bad["userErrors"][0]["field"] == ["metafields", "0", "value"]
    assert bad["userErrors"][0]["code"] == "INVALID_VALUE"
    missing = set_(api, {**claim(order, "r"), "ownerId": "gid://shopify/Order/1"})
    assert missing["userErrors"][0]["field"] == ["metafields", "0", "ownerId"]
    digest_of_nothing = set_(api, claim(order, "r", compareDigest="abc"))
    assert digest_of_nothing["userErrors"][0]["code"] == "INVALID_COMPARE_DIGEST"
    assert claims(api) == []


def test_claims_show_in_the_orders_and_the_ledger() -> None:
    store, _ = new_store()
    claimed, free = add_order(store), add_order(store)
    api = ShopApi(store)
    set_(api, claim(claimed, "run-a", compareDigest=None))
    orders = {o["id"]: o for o in api.orders_json()["orders"]}
    assert orders[gid(claimed)]["claim"] == {"run_id": "run-a", "action_key": f"run-a:{claimed.id}"}
    assert orders[gid(free)]["claim"] is None
    (entry,) = claims(api)
    assert entry["order_id"] == gid(claimed) and entry["order_name"] == claimed.name
    assert (entry["amount"], entry["currency"], entry["method"]) == (None, None, None)
    assert (entry["namespace"], entry["key"], entry["type"]) == ("bulkcancel", "claim", "json")
    assert json.loads(entry["value"])["run_id"] == "run-a"


def test_cancellation_carries_the_staff_note() -> None:
    store, clock = new_store()
    noted, bare, open_ = add_order(store), add_order(store), add_order(store)
    api = ShopApi(store)
    run(api, CANCEL, {"id": gid(noted), "note": "bulkcancel run-a:1"})
    run(api, CANCEL, {"id": gid(bare)})
    clock.advance(1)
    read = [run(api, READ, {"id": gid(o)})["data"]["order"]["cancellation"] for o in (noted, bare, open_)]
    assert read == [{"staffNote": "bulkcancel run-a:1"}, {"staffNote": None}, None]


def test_a_store_with_claims_and_settled_cancels_saves_and_loads(tmp_path) -> None:
    store, clock = new_store()
    order, other = add_order(store), add_order(store)
    api = ShopApi(store)
    set_(api, claim(order, "run-a", compareDigest=None))
    run(api, CANCEL, {"id": gid(other), "note": "n"})
    clock.advance(1)
    settle(store)  # the cancel job is done: the in-memory sets of open work are not part of the file
    path = tmp_path / "store.json"
    store.save(path)
    loaded = Store.load(path, clock=clock)
    again = ShopApi(loaded)
    read = run(again, READ, {"id": gid(order)})["data"]["order"]["metafield"]
    assert read == run(api, READ, {"id": gid(order)})["data"]["order"]["metafield"]
    assert run(again, READ, {"id": gid(other)})["data"]["order"]["cancellation"] == {"staffNote": "n"}
    assert again.ledger_json() == api.ledger_json()
    loaded.save(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == path.read_bytes()
