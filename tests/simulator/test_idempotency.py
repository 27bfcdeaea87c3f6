"""`@idempotent` keys: forgotten after 24 hours of shop time; "in progress" while a lost answer is pending."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from pipeline.simulator.cli import serve
from pipeline.simulator.faults import FaultInjector, FaultSpec
from pipeline.simulator.handler import DEFAULT_TOKEN, Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.rules import IN_PROGRESS
from pipeline.simulator.transport import SimulatorTransport
from tests.simulator.factory import add_order, new_store, run

REFUND = """mutation R($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) { refund { id } userErrors { field message } } }"""
URL = "http://shop.test/admin/api/2026-07/graphql.json"


def refund_input(order: Any, amount: str = "1.00") -> dict[str, Any]:
    parent = f"gid://shopify/OrderTransaction/{order.transactions[0].id}"
    tx = {
        "orderId": f"gid://shopify/Order/{order.id}",
        "parentId": parent,
        "gateway": "manual",
        "kind": "REFUND",
        "amount": amount,
    }
    return {"orderId": f"gid://shopify/Order/{order.id}", "transactions": [tx]}


def test_a_key_is_forgotten_after_24_hours_of_shop_time() -> None:
    store, clock = new_store()
    order = add_order(store)
    api = ShopApi(store)
    variables = {"input": refund_input(order), "key": "k1"}
    first = run(api, REFUND, variables)["data"]["refundCreate"]["refund"]["id"]
    clock.advance(24 * 3600 - 1)
    assert run(api, REFUND, variables)["data"]["refundCreate"]["refund"]["id"] == first
    clock.advance(1)
    later = run(api, REFUND, variables)["data"]["refundCreate"]["refund"]["id"]
    assert later != first and len(order.refunds) == 2  # Shopify's documented behaviour: a new refund
    entries = [(e["replayed"], e["idempotency_key"]) for e in api.ledger_json()["entries"]]
    assert entries == [(False, "k1"), (True, "k1"), (False, "k1")]


def post(http: httpx.Client, variables: dict[str, Any]) -> dict[str, Any]:
    answer = http.post(
        URL, json={"query": REFUND, "variables": variables}, headers={"X-Shopify-Access-Token": DEFAULT_TOKEN}
    )
    return dict(json.loads(answer.text)["data"]["refundCreate"])


def test_a_retry_while_the_lost_answer_is_in_progress_is_told_to_try_again_then_replayed() -> None:
    store, clock = new_store()
    order = add_order(store)
    sim = Simulator(ShopApi(store), SimulatorConfig(faults=FaultSpec.parse("lost=1"), in_progress_s=2.0))
    http = httpx.Client(transport=SimulatorTransport(sim))
    variables = {"input": refund_input(order), "key": "k1"}
    with pytest.raises(httpx.ReadTimeout):
        post(http, variables)
    sim.faults = FaultInjector(FaultSpec())  # the retries' answers arrive
    busy = post(http, variables)
    assert busy == {"refund": None, "userErrors": [{"field": None, "message": IN_PROGRESS}]}
    clock.advance(1.9)
    assert post(http, variables)["userErrors"][0]["message"] == IN_PROGRESS
    clock.advance(0.1)
    replay = post(http, variables)
    assert (
        replay["userErrors"] == [] and replay["refund"]["id"] == f"gid://shopify/Refund/{order.refunds[0].id}"
    )
    assert len(order.refunds) == 1
    ledger = sim.api.ledger_json()["entries"]
    assert [(e["kind"], e["replayed"]) for e in ledger] == [("refund", False), ("refund", True)]


def test_an_answer_that_arrives_leaves_nothing_in_progress() -> None:
    store, _ = new_store()
    order = add_order(store)
    sim = Simulator(ShopApi(store), SimulatorConfig(in_progress_s=60.0))
    http = httpx.Client(transport=SimulatorTransport(sim))
    variables = {"input": refund_input(order), "key": "k1"}
    first = post(http, variables)["refund"]["id"]
    assert post(http, variables)["refund"]["id"] == first


def test_keys_stay_in_progress_for_three_seconds_by_default() -> None:
    help_text = CliRunner().invoke(serve, ["--help"]).output
    assert "--in-progress-ms" in help_text and "3000" in help_text
    assert SimulatorConfig().in_progress_s == 3.0
