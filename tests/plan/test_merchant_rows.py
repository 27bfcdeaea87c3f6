"""Rows as merchants write them, validated then planned: currency signs, ids, amounts without action."""

from __future__ import annotations

from pathlib import Path

from pipeline.plan.decide import Decision, ReasonCode
from pipeline.plan.steps import StepKind
from pipeline.simulator.store import Order
from pipeline.validate.check import validate_table
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults
from tests.plan.test_planner import pick, plain, plan_rows


def planned(client, tmp_path: Path, text: str):
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    result = validate_table(read_input([path]), Defaults())
    assert result.ok, result.problems
    return plan_rows(client, result.rows)


def other_sign(order: Order) -> str:
    return "$" if order.presentment_currency != "USD" else "£"


def test_an_amount_written_in_another_currency_is_blocked_as_written(shop, tmp_path: Path) -> None:
    api, _, client = shop
    order = pick(api, plain)
    sign = other_sign(order)
    rows = planned(client, tmp_path, f"order,refund_mode,amount\n{order.name},partial,{sign}3.20\n")
    assert (rows[2].decision, rows[2].reason) == (Decision.BLOCKED, ReasonCode.CURRENCY_MISMATCH)
    assert f"{sign}3.20" in rows[2].message and order.presentment_currency in rows[2].message


def test_an_amount_written_in_the_orders_currency_is_planned(shop, tmp_path: Path) -> None:
    api, _, client = shop
    order = pick(api, plain)
    text = f"order,refund_mode,amount\n{order.name},partial,3.20 {order.presentment_currency}\n"
    rows = planned(client, tmp_path, text)
    assert rows[2].decision is Decision.EXECUTE, rows[2].message


def test_an_amount_without_action_refunds_without_cancelling(shop, tmp_path: Path) -> None:
    api, _, client = shop
    order = pick(api, plain)
    rows = planned(client, tmp_path, f"order,refund_mode,amount\n{order.name},partial,3.20\n")
    kinds = [step.kind for step in rows[2].action.steps]
    assert StepKind.CANCEL not in kinds and StepKind.REFUND in kinds


def test_an_order_id_column_resolves_by_id_and_checks_the_name(shop, tmp_path: Path) -> None:
    api, _, client = shop
    order = pick(api, plain)
    other = pick(api, lambda o: plain(o) and o.id != order.id)
    rows = planned(
        client,
        tmp_path,
        f"Order ID,Order,refund_mode\n{order.id},,original\n{other.id},{order.name},original\n",
    )
    assert rows[2].decision is Decision.EXECUTE and rows[2].action.order_id.endswith(f"/{order.id}")
    assert rows[3].reason is ReasonCode.NAME_MISMATCH
