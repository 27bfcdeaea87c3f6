"""`select` (SPEC §15): exactly the open orders holding the SKU, by the bulk and the paced path alike."""

from __future__ import annotations

import csv
import dataclasses
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.app import cli
from pipeline.errors import BulkOperationError, ShopifyError
from pipeline.select.affected import Line, Selection, ShopOrder, affected, search_query
from pipeline.select.selector import select_orders
from pipeline.shopify.bulk import BulkOperations
from pipeline.shopify.client import ShopifyClient
from pipeline.shopify.progress import Progress
from pipeline.simulator.bulk import BulkSettings
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import CATALOGUE, seed_store
from pipeline.simulator.server import SimulatorServer
from pipeline.simulator.store import Store
from pipeline.simulator.transport import SimulatorTransport
from pipeline.validate.check import validate_table
from pipeline.validate.exports import only_sku
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults
from tests.harness import settings
from tests.simulator.factory import FakeClock

SKU = "BC-03M"


def shop(orders: int = 400) -> tuple[ShopifyClient, BulkOperations, Store]:
    client, bulk, api = shop_api(orders)
    return client, bulk, api.store


def shop_api(orders: int = 400) -> tuple[ShopifyClient, BulkOperations, ShopApi]:
    clock = FakeClock()
    store = seed_store(orders=orders, seed=9, clock=clock)
    api = ShopApi(store, cancel_delay=0.0, bulk=BulkSettings(query_rate=200, background=False))
    transport = SimulatorTransport(Simulator(api, SimulatorConfig(bucket=1e6, restore_rate=1e6)))
    client = ShopifyClient(settings(), transport)
    return client, BulkOperations(client, transport, sleep=clock.advance), api


def expected(store: Store) -> dict[str, str]:
    """The truth from the store itself: order gid → the lines column."""
    rows = {}
    for o in store.orders.values():
        if o.test or o.cancelled_at or o.closed_at:
            continue
        units = sum(
            li.quantity - li.refunded_quantity - li.removed_quantity - li.fulfilled_quantity
            for li in o.line_items
            if li.sku == SKU
        )
        if units > 0:
            rows[f"gid://shopify/Order/{o.id}"] = f"{SKU}:{units}"
    return rows


def written(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["order_id"]: row for row in csv.DictReader(fh)}


@pytest.mark.parametrize("engine", ["bulk", "paced"])
def test_select_finds_exactly_the_open_orders_holding_the_sku(tmp_path: Path, engine: str) -> None:
    client, bulk, store = shop()
    out = tmp_path / "stockout.csv"
    done = select_orders(client, bulk, Selection((SKU,)), out, mode="original", engine=engine)
    assert done.engine == engine
    rows = written(out)
    assert {k: r["lines"] for k, r in rows.items()} == expected(store)
    assert list(next(iter(rows.values()))) == [
        "order",
        "order_id",
        "lines",
        "refund_mode",
        "all_lines_affected",
    ]
    for gid, row in rows.items():
        order = store.orders[int(gid.rsplit("/", 1)[1])]
        assert row["order"] == order.name and row["refund_mode"] == "original"
        only_this = all(li.sku == SKU for li in order.line_items) and not any(
            li.fulfilled_quantity for li in order.line_items
        )
        assert (row["all_lines_affected"] == "yes") == (
            only_this and not any(li.refunded_quantity for li in order.line_items)
        )


def test_auto_reads_a_small_shop_paced_and_a_large_one_in_bulk(tmp_path: Path) -> None:
    client, bulk, _ = shop(orders=300)
    small = select_orders(client, bulk, Selection((SKU,)), tmp_path / "a.csv")
    assert small.engine == "paced"
    every_sku = tuple(sku for sku, *_ in CATALOGUE)
    big = select_orders(client, bulk, Selection(every_sku, "any"), tmp_path / "b.csv")
    assert big.matched > 250 and big.engine == "bulk"


def test_the_file_is_taken_by_plan_only_sku_as_it_is(tmp_path: Path) -> None:
    client, bulk, _ = shop()
    out = tmp_path / "stockout.csv"
    select_orders(client, bulk, Selection((SKU,)), out, mode="original", engine="bulk")
    table = only_sku(read_input([out]), [SKU])
    assert not table.warnings
    result = validate_table(table, Defaults())
    assert not result.problems, result.problems[:3]
    rows = written(out)
    actions = dict(zip(table.frame["order_id"], table.frame["action"], strict=True))
    assert {
        k: "cancel" if r["all_lines_affected"] == "yes" else "refund_only" for k, r in rows.items()
    } == actions


def test_the_search_sent_to_shopify() -> None:
    selection = Selection(("A-1", "B 2"), "open", date(2026, 5, 1), "tag:vip")
    assert search_query(selection) == '(sku:A-1 OR sku:"B 2") status:open created_at:>=2026-05-01 (tag:vip)'
    assert search_query(Selection(("A",), "any")) == "sku:A"


def test_partly_fulfilled_or_mixed_orders_are_not_all_affected() -> None:
    def order(*lines: Line, test: bool = False) -> ShopOrder:
        return ShopOrder("gid://shopify/Order/1", "#1", test, False, False, lines)

    sel = Selection(("A",))
    whole = affected(order(Line("A", 2, 2), Line("A", 1, 1)), sel)
    assert whole is not None and whole.lines == {"A": 3} and whole.all_lines_affected
    part = affected(order(Line("A", 2, 1)), sel)
    assert part is not None and part.lines == {"A": 1} and not part.all_lines_affected
    mixed = affected(order(Line("A", 1, 1), Line("B", 1, 1)), sel)
    assert mixed is not None and not mixed.all_lines_affected
    assert affected(order(Line("A", 1, 0)), sel) is None  # shipped already
    assert affected(order(Line("A", 1, 1), test=True), sel) is None


def test_the_command_writes_the_file_and_refuses_bad_options(tmp_path: Path) -> None:
    store = seed_store(orders=60, seed=9)
    server = SimulatorServer(Simulator(ShopApi(store, cancel_delay=0.0)), port=0)
    server.start_background()
    try:
        env = {"SHOPIFY_ACCESS_TOKEN": "shpat_simulator", "SHOPIFY_SHOP": server.url}
        out = tmp_path / "s.csv"
        args = ["select", "--sku", SKU, "--engine", "paced", "--out", str(out)]
        result = CliRunner().invoke(cli, args, env=env, standalone_mode=True)
        assert result.exit_code == 0, result.output
        assert f"wrote {len(written(out))} orders" in result.output
        bad = CliRunner().invoke(
            cli, ["select", "--sku", SKU, "--status", "later", "--out", str(out)], env=env
        )
        assert bad.exit_code == 2
        missing = CliRunner().invoke(
            cli, ["select", "--sku", SKU, "--out", str(tmp_path / "no" / "x.csv")], env=env
        )
        assert missing.exit_code == 2 and "does not exist" in missing.output
    finally:
        server.shutdown()
        server.server_close()


def test_an_order_longer_than_a_page_is_read_in_bulk(tmp_path: Path) -> None:
    client, bulk, store = shop(orders=40)
    order = next(o for o in store.orders.values() if not (o.test or o.cancelled_at or o.closed_at))
    template = order.line_items[0]
    for k in range(35):
        line = dataclasses.replace(
            template,
            id=store.new_id(),
            sku=SKU if k == 0 else f"X-{k}",
            quantity=1,
            refunded_quantity=0,
            removed_quantity=0,
            fulfilled_quantity=0,
        )
        order.line_items.append(line)
    auto = select_orders(client, bulk, Selection((SKU,)), tmp_path / "a.csv")
    assert auto.engine == "bulk" and f"gid://shopify/Order/{order.id}" in written(tmp_path / "a.csv")
    with pytest.raises(ShopifyError, match="--engine bulk"):
        select_orders(client, bulk, Selection((SKU,)), tmp_path / "b.csv", engine="paced")


def test_a_bulk_read_that_failed_part_way_is_read_again(tmp_path: Path) -> None:
    client, bulk, api = shop_api()
    engine = api.bulk
    assert engine is not None
    engine.faults(1.0, seed=3)  # the next operation ends FAILED part way

    def heal(_reading: Progress) -> None:  # the operation after the failed one runs to the end
        engine.settings.fail_share = 0.0

    out = tmp_path / "s.csv"
    done = select_orders(client, bulk, Selection((SKU,)), out, engine="bulk", progress=heal)
    assert [op.status for op in engine.operations.values()] == ["FAILED", "COMPLETED"]
    assert done.engine == "bulk" and {k: r["lines"] for k, r in written(out).items()} == expected(api.store)


def test_a_bulk_read_that_keeps_failing_is_one_clear_error(tmp_path: Path) -> None:
    client, bulk, api = shop_api()
    assert api.bulk is not None
    api.bulk.faults(1.0, seed=3)
    with pytest.raises(BulkOperationError, match="ended FAILED"):
        select_orders(client, bulk, Selection((SKU,)), tmp_path / "s.csv", engine="bulk")
    assert len(api.bulk.operations) == 3
