"""`bulkcancel doctor` against served simulators: ready, missing scopes, no store credit, no connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.shopify.readiness import Needs, ShopState, findings
from pipeline.simulator.server import SimulatorServer
from tests.cli.test_cli import bulkcancel
from tests.harness import free_port, simulator

ROWS = "order,refund_mode,currency\n#1001,gift_card,EUR\n#1002,store_credit,EUR\n"


@contextmanager
def served(**config: object) -> Iterator[SimulatorServer]:
    classic = config.pop("classic", False)
    sim = simulator(orders=20, seed=7, **config)
    if classic:
        sim.api.store.shop.customer_accounts = "CLASSIC"
    server = SimulatorServer(sim, port=0)
    server.start_background()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _input(tmp_path: Path) -> str:
    path = tmp_path / "rows.csv"
    path.write_text(ROWS)
    return str(path)


def test_a_shop_that_can_do_everything_is_ready(tmp_path):
    with served() as shop:
        result = bulkcancel("doctor", "--shop", shop.url, "--input", _input(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "API version 2026-07: supported" in result.stdout
    assert "rate limits: 20000 points" in result.stdout and result.stdout.rstrip().endswith("ready")


def test_a_token_without_write_gift_cards_is_told_the_fix(tmp_path):
    with served(scopes=("read_orders", "write_orders", "read_customers", "write_customers")) as shop:
        result = bulkcancel("doctor", "--shop", shop.url, "--input", _input(tmp_path))
        bare = bulkcancel("doctor", "--shop", shop.url)
    assert result.returncode == 1
    assert "fix: add write_gift_cards to the app's scopes" in result.stderr
    assert "Traceback" not in result.stderr
    assert bare.returncode == 0, bare.stderr  # without a file, gift cards are nobody's need


def test_a_shop_without_new_customer_accounts_cannot_take_store_credit(tmp_path):
    with served(classic=True) as shop:
        result = bulkcancel("doctor", "--shop", shop.url, "--input", _input(tmp_path))
    assert result.returncode == 1
    assert "store credit needs new customer accounts" in result.stderr
    assert "store credit: cannot be issued" in result.stdout


def test_no_shop_to_talk_to_exits_2():
    port = free_port()
    result = bulkcancel("doctor", "--shop", f"http://127.0.0.1:{port}", "--timeout", "2")
    assert result.returncode == 2 and f"cannot reach http://127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_base_scopes_and_foreign_currencies_block():
    state = ShopState("2026-07", frozenset({"read_orders"}), "EUR", frozenset({"EUR"}), None, None,
                      {"2026-07": True})  # fmt: skip
    found = findings(state, Needs(currencies=frozenset({"JPY"})))
    blocking = [f.fix for f in found if f.blocking]
    assert blocking == [
        "add write_orders to the app's scopes",
        "check the currency column (the shop sells in EUR)",
    ]
    assert [f.what for f in found if not f.blocking] == [
        "orders older than 60 days cannot be found without read_all_orders"
    ]
    retired = ShopState("2025-01", frozenset({"write_orders"}), "EUR", frozenset({"EUR"}), None, None,
                        {"2026-04": True, "2026-07": True, "unstable": False})  # fmt: skip
    assert findings(retired, Needs())[0].fix == "use --api-version 2026-07"


def test_plan_checks_the_shop_first_and_refuses_at_once_what_would_block(tmp_path):
    out = tmp_path / "reports"
    with served(scopes=("read_orders", "write_orders", "read_customers", "write_customers")) as shop:
        refused = bulkcancel("plan", _input(tmp_path), "--shop", shop.url, "--out", str(out))
        requests = shop.simulator.stats.requests
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "blocks: " in refused.stderr and "fix: add write_gift_cards to the app's scopes" in refused.stderr
    assert "nothing was planned" in refused.stderr and "Traceback" not in refused.stderr
    assert not out.exists() or not list(out.iterdir())  # no run directory
    assert requests == 1  # the readiness read alone: no order was looked up


def test_plan_against_a_shop_that_is_not_there_fails_with_exit_2_and_one_line(tmp_path):
    port = free_port()
    result = bulkcancel(
        "plan", _input(tmp_path), "--shop", f"http://127.0.0.1:{port}", "--out", str(tmp_path)
    )
    assert result.returncode == 2
    assert f"cannot reach http://127.0.0.1:{port}: nothing is listening" in result.stderr
    assert "Traceback" not in result.stderr
