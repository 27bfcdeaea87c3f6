"""The bundled samples against the demo's store: every refund mode runs and every common block shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.demo import DEMO_ORDERS, DEMO_SEED, SAMPLES
from pipeline.plan.decide import Decision, ReasonCode
from pipeline.plan.lookup import Lookup
from pipeline.plan.planner import make_plan
from pipeline.shopify.client import ShopifyClient
from pipeline.simulator.transport import SimulatorTransport
from pipeline.validate.check import validate_table
from pipeline.validate.exports import only_sku
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults
from tests.harness import settings, simulator

INPUTS = Path(__file__).resolve().parents[2] / "inputs"


@pytest.fixture(scope="module")
def planned():
    sim = simulator(orders=DEMO_ORDERS, seed=DEMO_SEED)
    rows = []
    with ShopifyClient(settings(), SimulatorTransport(sim)) as client:
        for name, skus in SAMPLES:
            table = read_input([INPUTS / name])
            validation = validate_table(only_sku(table, skus) if skus else table, Defaults())
            assert validation.problems == []
            plan = make_plan(
                validation.rows,
                Lookup(client),
                run_id=f"demo-{name}",
                shop="sim",
                api_version="2026-07",
                input_name=name,
                input_sha256="0",
            )
            rows.extend(plan.rows)
    return rows


def test_every_refund_mode_is_executed(planned):
    methods = {str(s.method) for r in planned if r.action for s in r.action.steps if s.method}
    cancels = {
        str(s.refund_method) for r in planned if r.action for s in r.action.steps if s.kind == "cancel"
    }
    assert methods == {"original", "store_credit", "gift_card"}
    assert cancels == {"original", "store_credit", "none"}
    kinds = {str(s.kind) for r in planned if r.action for s in r.action.steps}
    assert kinds == {"claim", "cancel", "refund", "gift_card", "gift_card_notify", "tag"}


def test_each_common_reason_to_block_shows_up(planned):
    reasons = {r.reason for r in planned if r.decision is Decision.BLOCKED}
    assert reasons == {
        ReasonCode.NOT_FOUND,
        ReasonCode.AMBIGUOUS,
        ReasonCode.TEST_ORDER,
        ReasonCode.CURRENCY_MISMATCH,
        ReasonCode.ALREADY_CANCELLED,
        ReasonCode.FULFILLED,
        ReasonCode.EXCEEDS_REFUNDABLE,
        ReasonCode.NO_CUSTOMER,
    }
    executable = [r for r in planned if r.decision is Decision.EXECUTE]
    assert len(executable) >= 25


def test_the_stock_out_export_gives_cancellations_and_line_refunds(planned):
    rows = [r for r in planned if r.action and r.action.order_id.rsplit("/", 1)[-1] in _export_ids()]
    kinds = [tuple(str(s.kind) for s in r.action.steps) for r in rows]
    assert rows and all(r.decision is Decision.EXECUTE for r in rows)
    assert kinds.count(("claim", "cancel", "tag")) >= 3
    assert kinds.count(("claim", "refund", "tag")) >= 5
    refunds = [s for r in rows for s in r.action.steps if s.kind == "refund"]
    assert all(
        s.refund_lines and all(line.restock_type == "NO_RESTOCK" for line in s.refund_lines) for s in refunds
    )


def _export_ids() -> set[str]:
    import csv

    with (INPUTS / SAMPLES[2][0]).open(encoding="utf-8") as fh:
        return {row["Id"] for row in csv.DictReader(fh) if row["Id"]}
