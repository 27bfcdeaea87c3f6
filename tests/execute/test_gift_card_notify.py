"""Gift cards reach the customer: sent by giftCardSendNotificationToCustomer, or, when the row says no,
their codes written once to gift_card_codes.csv (0600) and to no other file of the run."""

from __future__ import annotations

import stat
from pathlib import Path

from pipeline.execute.codes import CODES_FILE
from pipeline.execute.executor import execute_run
from pipeline.plan.planner import plan_input
from pipeline.simulator.store import Order
from pipeline.simulator.transport import SimulatorTransport
from pipeline.validate.check import validate_table
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults
from tests.harness import settings, simulator

FAST = {"cancel_wait": 0.3, "poll": 0.01}


def _orders(sim, n: int) -> list[Order]:  # type: ignore[no-untyped-def]
    """Open, paid, unfulfilled orders with a customer and nothing refunded: plain gift-card cancels."""
    return [
        o
        for o in sim.api.store.orders.values()
        if o.customer_id and not o.test and o.cancelled_at is None and not o.refunds and not o.fulfillments
        and not o.fulfillment_in_progress and o.presentment_currency == "EUR"
        and any(t.kind == "SALE" and t.status == "SUCCESS" for t in o.transactions)
        and not any(t.kind == "AUTHORIZATION" for t in o.transactions)
    ][:n]  # fmt: skip


def _run(tmp_path: Path, sim, notify_cells: list[str]):  # type: ignore[no-untyped-def]
    orders = _orders(sim, len(notify_cells))
    rows = "".join(
        f"gid://shopify/Order/{o.id},cancel,gift_card,{cell}\n"
        for o, cell in zip(orders, notify_cells, strict=True)
    )
    source = tmp_path / "rows.csv"
    source.write_text("order,action,refund_mode,notify\n" + rows)
    table = read_input([source])
    result = validate_table(table, Defaults())
    assert not result.problems
    plan, run_dir = plan_input(
        table, result.rows, settings(), tmp_path / "reports", transport=SimulatorTransport(sim)
    )
    outcome = execute_run(run_dir, settings(), transport=SimulatorTransport(sim), runner_options=FAST)
    assert outcome.all_done
    return orders, plan, run_dir


def test_a_blank_notify_cell_sends_the_card_to_the_customer(tmp_path):
    sim = simulator(orders=200, seed=5)
    _orders_used, plan, run_dir = _run(tmp_path, sim, ["", "yes"])
    assert all(
        row.action and [s.kind for s in row.action.steps].count("gift_card_notify") == 1 for row in plan.rows
    )
    ledger = sim.api.ledger_json()["entries"]
    cards = [e for e in ledger if e["kind"] == "gift_card"]
    sent = [e for e in ledger if e["kind"] == "gift_card_notification"]
    assert len(cards) == len(sent) == 2
    created = {f"gid://shopify/GiftCard/{g.id}" for g in sim.api.store.gift_cards.values()}
    assert {e["gift_card_id"] for e in sent} == created
    assert not (run_dir / CODES_FILE).exists()


def test_notify_no_writes_the_code_once_to_a_private_file_and_nowhere_else(tmp_path):
    sim = simulator(orders=200, seed=5)
    orders, plan, run_dir = _run(tmp_path, sim, ["no", ""])
    unsent = plan.rows[0]
    assert "warning: the customer is not sent the gift card" in unsent.message
    assert not any(e["kind"] == "gift_card_notification" and e["customer_id"] == str(orders[0].customer_id)
                   for e in sim.api.ledger_json()["entries"])  # fmt: skip
    codes = run_dir / CODES_FILE
    assert stat.S_IMODE(codes.stat().st_mode) == 0o600
    lines = codes.read_text(encoding="utf-8").splitlines()
    card = next(g for g in sim.api.store.gift_cards.values() if g.customer_id == orders[0].customer_id)
    email = sim.api.store.customers[orders[0].customer_id].email
    assert lines == ["order,customer_email,code,amount,currency", f"{orders[0].name},{email},{card.code},"
                     f"{card.initial_value:.2f},EUR"]  # fmt: skip
    # A rerun changes nothing: the code is written once.
    execute_run(run_dir, settings(), transport=SimulatorTransport(sim), runner_options=FAST)
    assert codes.read_text(encoding="utf-8").splitlines() == lines
    # The code is a bearer credential: no other file of the run directory holds it.
    others = [p for p in run_dir.rglob("*") if p.is_file() and p != codes]
    assert len(others) > 5
    for path in others:
        assert card.code.encode() not in path.read_bytes(), path
        assert card.code.upper().encode() not in path.read_bytes(), path


def test_a_card_found_after_a_lost_answer_has_a_row_saying_its_code_is_lost(tmp_path):
    import threading
    from decimal import Decimal
    from types import SimpleNamespace

    from pipeline.execute.action import LOST_CODE, Executor
    from pipeline.execute.codes import CodesFile
    from pipeline.execute.runner import Outcome, Status
    from pipeline.models import RefundMode
    from pipeline.plan.facts import Fingerprint
    from pipeline.plan.model import PlannedAction
    from pipeline.plan.steps import Step, StepKind

    card = Step(StepKind.GIFT_CARD, RefundMode.GIFT_CARD, Decimal("5.00"), "EUR", "k1", notify=False)
    action = PlannedAction("gid://shopify/Order/1", "#1001", "bc-1", Fingerprint("t", "PAID", "UNFULFILLED",
                           Decimal(0)), (card,))  # fmt: skip
    runner, journal = SimpleNamespace(client=None), SimpleNamespace(run_id="r")
    executor = Executor(runner, journal, {}, threading.Event(), codes=CodesFile(tmp_path))  # type: ignore[arg-type]
    executor._keep_code(action, card, Outcome(Status.DONE, {"gift_card_id": "gid://shopify/GiftCard/9"}))
    assert (tmp_path / CODES_FILE).read_text().splitlines()[1] == f"#1001,,{LOST_CODE},5.00,EUR"
