"""The seeded store: deterministic for a seed, and the SPEC §10 mix is present."""

from __future__ import annotations

import collections
import csv
from pathlib import Path

import pytest

from pipeline.simulator import accounting as acc
from pipeline.simulator.seed import CUSTOM_NAMES, seed_store, write_input_file
from pipeline.simulator.store import Store, store_to_json
from tests.simulator.factory import FakeClock


def test_same_seed_same_json_and_round_trip(tmp_path: Path) -> None:
    a, b = seed_store(200, 7, FakeClock()), seed_store(200, 7, FakeClock())
    assert store_to_json(a) == store_to_json(b)
    assert store_to_json(seed_store(200, 8, FakeClock())) != store_to_json(a)
    a.save(tmp_path / "s.json")
    again = Store.load(tmp_path / "s.json", FakeClock())
    assert store_to_json(again) == store_to_json(a)
    again.save(tmp_path / "t.json")
    assert (tmp_path / "s.json").read_bytes() == (tmp_path / "t.json").read_bytes()


def test_the_mix_is_present() -> None:
    store = seed_store(400, 7, FakeClock())
    orders = list(store.orders.values())
    assert len(orders) == 400
    financial = collections.Counter(acc.financial_status(o) for o in orders)
    assert {"PAID", "AUTHORIZED", "PENDING", "PARTIALLY_PAID", "PARTIALLY_REFUNDED"} <= set(financial)
    fulfilment = collections.Counter(acc.fulfillment_status(o) for o in orders)
    assert {"UNFULFILLED", "PARTIALLY_FULFILLED", "FULFILLED"} <= set(fulfilment)
    plain = [
        o
        for o in orders
        if acc.financial_status(o) == "PAID"
        and acc.fulfillment_status(o) == "UNFULFILLED"
        and not o.cancelled_at
    ]
    assert 0.6 <= len(plain) / len(orders) <= 0.8
    assert any(o.cancelled_at for o in orders)
    assert any(o.presentment_currency != o.currency for o in orders)
    assert any({t.gateway for t in acc.payments(o)} >= {"gift_card", "shopify_payments"} for o in orders)
    assert any(o.test for o in orders) and any(o.customer_id is None for o in orders)
    assert any(t.gateway == "klarna" for o in orders for t in o.transactions)
    assert {len(o.line_items) for o in orders} >= {1, 10}
    assert any(o.shipping_lines for o in orders)
    names = collections.Counter(o.name for o in orders)
    assert any(n > 1 for n in names.values()) and set(CUSTOM_NAMES) <= set(names)
    assert store.ledger == [] and store.jobs == {}


def test_input_file_references_seeded_orders(tmp_path: Path) -> None:
    store = seed_store(100, 3, FakeClock())
    path = tmp_path / "in.csv"
    assert write_input_file(store, path, rows=50, seed=3) == 50
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["order", "refund_mode", "action", "amount", "lines", "notify", "reason", "note"]
    known = (
        {o.name for o in store.orders.values()}
        | {o.name.lstrip("#") for o in store.orders.values()}
        | {f"gid://shopify/Order/{o.id}" for o in store.orders.values()}
    )
    assert all(r["order"] in known for r in rows)
    assert len({r["refund_mode"] for r in rows}) >= 3


def test_a_large_store_is_written_compact_and_reads_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past COMPACT_ABOVE orders the store is rows with their field names once; it loads to the same shop."""
    import json

    from pipeline.simulator import store as store_module
    from pipeline.simulator.store import COMPACT_FORMAT

    monkeypatch.setattr(store_module, "COMPACT_ABOVE", 50)
    shop = seed_store(orders=80, seed=4)
    path = tmp_path / "store.json"
    shop.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == COMPACT_FORMAT and data["fields"]["LineItem"][:3] == ["id", "sku", "title"]
    assert store_to_json(Store.load(path)) == store_to_json(shop)
    data["fields"]["LineItem"].append("colour")  # written by another version
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="seed it again"):
        Store.load(path)
