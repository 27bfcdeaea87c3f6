"""The typed plan: its figures, plan.json's shape, and the round trip `to_json` → `from_json`."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from pipeline.models import Action, Reason, RefundMode
from pipeline.plan.decide import decide
from pipeline.plan.facts import Fingerprint
from pipeline.plan.files import load_plan
from pipeline.plan.model import Decision, Plan, PlannedAction, PlannedRow, ReasonCode
from pipeline.plan.steps import CancelRefund, RefundLine, RefundTransaction, RestockType, Step, StepKind
from tests.harness import make_run, simulator
from tests.plan.test_decide import RUN, make_facts, make_row, plan_one
from tests.plan.test_files import build_plan

# --- the plan and its summaries ---------------------------------------------------------------


def _plan() -> Plan:
    usd = make_facts(
        id="gid://shopify/Order/600",
        presentment_currency="USD",
        net_payment=D(30),
        customer_id=None,
        email=None,
    )
    return Plan(
        run_id=RUN,
        rows=[
            plan_one(make_row(notify=True, restock=True)),  # 50.00 EUR original, 3 units
            plan_one(
                make_row(row=3, mode=RefundMode.STORE_CREDIT, amount=D(10), notify=True),
                make_facts(id="gid://shopify/Order/601", name="#1002"),
            ),
            plan_one(make_row(row=4), usd),
            plan_one(make_row(row=5, mode=RefundMode.GIFT_CARD, amount=D(5)), usd),  # no customer
            decide(make_row(row=6), [], None, run_id=RUN),
            plan_one(make_row(row=7, mode=RefundMode.NONE), make_facts(cancelled_at="2026-11-02T08:00:00Z")),
        ],
        created_at="2026-11-05T09:30:00Z",
        shop="demo.myshopify.com",
        api_version="2026-07",
        input_name="stockout.csv",
        input_sha256="ab" * 32,
    )


def test_totals_per_currency_and_method():
    assert _plan().totals_by_currency_and_method() == {
        ("EUR", "original"): D("50.00"),
        ("EUR", "store_credit"): D("10.00"),
        ("USD", "original"): D("30.00"),
    }


def test_counts_customers_and_units():
    plan = _plan()
    assert plan.counts_by_decision() == {"execute": 3, "skip": 1, "blocked": 2}
    assert plan.customers_notified() == 1  # the same customer on two orders
    assert plan.units_to_restock() == 3


# --- what reconciliation reads of the plan --------------------------------------------------------


def test_things_count_since_the_plan_was_created():
    assert _plan().since == dt.datetime(2026, 11, 5, 9, 30, tzinfo=dt.UTC)
    assert Plan(run_id=RUN, rows=[], created_at="2026-11-05T09:30:00").since == _plan().since


def test_an_action_names_its_money_cancel_note_and_gateways():
    refund = plan_one(make_row(action=Action.REFUND_ONLY, amount=D(20), note="stock out")).action
    assert refund is not None and refund.cancel is None and not refund.cancels
    assert refund.money() == (D("20.00"), "original", "EUR") and refund.refunds_planned == D("20.00")
    assert refund.note == "stock out" and refund.steps[1].gateways == ("shopify_payments",)
    assert refund.steps[-1].gateways == () and refund.steps[-1].money_moved is None
    cancel = plan_one(make_row(restock=True)).action
    assert cancel is not None and cancel.cancel is cancel.steps[1] and cancel.note == ""
    card = plan_one(make_row(mode=RefundMode.GIFT_CARD, amount=D(5))).action
    assert card is not None and card.money() == (D("5.00"), "gift_card", "EUR")
    assert card.refunds_planned == 0  # a gift card is no refund
    nothing = plan_one(make_row(mode=RefundMode.NONE)).action
    assert nothing is not None and nothing.money() is None


def test_several_money_steps_join_their_methods():
    rows = _plan().rows
    both = PlannedAction(
        "o", "#1", "k", rows[0].action.fingerprint, (*rows[0].action.steps, *rows[1].action.steps)
    )
    assert both.money() == (D("60.00"), "original+store_credit", "EUR")


def test_to_json_has_spec_14_shape_with_amounts_as_strings():
    document = json.loads(json.dumps(_plan().to_json()))
    assert {"run_id", "created_at", "shop", "api_version", "input", "rows"} <= document.keys()
    assert document["input"] == {"name": "stockout.csv", "sha256": "ab" * 32}
    first, *_, blocked, skipped = document["rows"]
    assert set(first) == {"row", "order", "decision", "reason", "message", "action"}
    assert (first["decision"], first["reason"]) == ("execute", None)
    assert (blocked["reason"], blocked["action"]) == ("not_found", None)
    assert (skipped["decision"], skipped["reason"]) == ("skip", "already_done")
    action = first["action"]
    assert {"order_id", "order_name", "action_key", "fingerprint", "steps"} <= action.keys()
    assert action["fingerprint"] == {
        "updated_at": "2026-11-01T10:00:00Z",
        "financial_status": "PAID",
        "fulfillment_status": "UNFULFILLED",
        "total_refunded": "0.0",
    }
    claim, cancel, tag = action["steps"]
    assert claim == {
        "kind": "claim",
        "method": None,
        "amount": None,
        "currency": None,
        "idempotency_key": claim["idempotency_key"],
        "compare_digest": None,
    }
    assert {"kind", "method", "amount", "currency", "idempotency_key"} <= cancel.keys()
    assert (cancel["kind"], cancel["method"], cancel["amount"], cancel["currency"]) == (
        "cancel",
        "original",
        "50.00",
        "EUR",
    )
    assert cancel["refund_method"] == "original" and cancel["restock"] is True
    assert (tag["kind"], tag["method"], tag["amount"], tag["tags"]) == (
        "tag",
        None,
        None,
        ["bulkcancel", f"bulkcancel-{RUN}"],
    )
    refund = document["rows"][1]["action"]["steps"][2]
    assert refund["amount"] == "10.00" and refund["method"] == "store_credit" and refund["transactions"] == []


def test_fingerprint_changes_compare_amounts_as_numbers():
    planned = Fingerprint("2026-11-01T10:00:00Z", "PAID", "UNFULFILLED", D("0.0"))
    node = {
        "updatedAt": "2026-11-01T10:00:00Z",
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "totalRefundedSet": {"presentmentMoney": {"amount": "0.00", "currencyCode": "EUR"}},
    }
    assert planned.changes(Fingerprint.of_order(node)) is None
    moved = {
        **node,
        "displayFinancialStatus": None,
        "totalRefundedSet": {"presentmentMoney": {"amount": "5.0"}},
    }
    assert planned.changes(Fingerprint.of_order(moved)) == (
        "changed since the plan: financial_status PAID → , total_refunded 0.0 → 5.0"
    )


# --- the round trip -------------------------------------------------------------------------------


def _round_trip(plan: Plan) -> Plan:
    return Plan.from_json(json.loads(json.dumps(plan.to_json())))


def test_from_json_rebuilds_an_equal_plan_with_every_step_kind_blocked_and_skipped_rows():
    for plan in (_plan(), build_plan()):
        again = _round_trip(plan)
        assert again == plan and again.to_json() == plan.to_json()
    kinds = {step.kind for action in build_plan().actions() for step in action.steps}
    assert kinds == set(StepKind)
    decisions = {row.decision for row in build_plan().rows}
    assert decisions == set(Decision)


def test_from_json_gives_typed_values():
    refund = next(s for a in _round_trip(build_plan()).actions() for s in a.steps if s.transactions)
    assert isinstance(refund.amount, D) and isinstance(refund.transactions[0].amount, D)
    assert refund.kind is StepKind.REFUND and refund.method is RefundMode.ORIGINAL


def test_shop_url_comes_first_and_round_trips():
    plan = Plan(run_id=RUN, rows=[plan_one()], shop="demo.myshopify.com", shop_url="http://127.0.0.1:9")
    assert next(iter(plan.to_json())) == "shop_url"
    assert _round_trip(plan) == plan


def test_a_planned_run_round_trips_byte_for_byte(tmp_path):
    run_dir = make_run(tmp_path, simulator(orders=60, seed=5), rows=40, seed=5)
    plan = load_plan(run_dir)
    assert Plan.from_json(plan.to_json()).to_json() == plan.to_json()
    assert json.loads((run_dir / "plan.json").read_text(encoding="utf-8")) == plan.to_json()


def test_a_released_document_gives_the_same_plan_and_lets_its_rows_go():
    plan = build_plan()
    document = json.loads(json.dumps(plan.to_json()))
    assert Plan.from_json(document, release=True) == plan
    assert document["rows"] == []  # each raw row let go once typed: never both whole in memory


_amounts = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False)
_text = st.text(max_size=20)
_cancel = st.builds(
    Step,
    kind=st.just(StepKind.CANCEL),
    method=st.sampled_from([None, RefundMode.ORIGINAL, RefundMode.STORE_CREDIT]),
    amount=st.none() | _amounts,
    currency=st.sampled_from([None, "EUR", "JPY"]),
    idempotency_key=_text,
    refund_method=st.sampled_from(CancelRefund),
    reason=st.sampled_from(Reason),
    restock=st.booleans(),
    staff_note=_text,
    notify=st.booleans(),
)
_refund = st.builds(
    Step,
    kind=st.just(StepKind.REFUND),
    method=st.sampled_from([RefundMode.ORIGINAL, RefundMode.STORE_CREDIT]),
    amount=_amounts,
    currency=st.just("EUR"),
    idempotency_key=_text,
    notify=st.booleans(),
    transactions=st.lists(st.builds(RefundTransaction, _text, _text, _amounts), max_size=3).map(tuple),
    refund_lines=st.lists(
        st.builds(RefundLine, _text, st.integers(0, 99), st.sampled_from(RestockType)), max_size=3
    ).map(tuple),
    shipping_amount=st.none() | _amounts,
    note=_text,
)
_gift_card = st.builds(
    Step,
    kind=st.just(StepKind.GIFT_CARD),
    method=st.just(RefundMode.GIFT_CARD),
    amount=_amounts,
    currency=st.just("USD"),
    idempotency_key=_text,
    notify=st.booleans(),
    customer_id=st.none() | _text,
    note=_text,
)
_tag = st.builds(
    Step,
    kind=st.just(StepKind.TAG),
    method=st.none(),
    amount=st.none(),
    currency=st.none(),
    idempotency_key=_text,
    tags=st.lists(_text, max_size=3).map(tuple),
)
_fingerprints = st.builds(Fingerprint, _text, _text, _text, _amounts)
_actions = st.builds(
    PlannedAction,
    _text,
    _text,
    _text,
    _fingerprints,
    st.lists(_cancel | _refund | _gift_card | _tag, min_size=1, max_size=4).map(tuple),
)
_rows = st.builds(
    PlannedRow,
    st.integers(1, 10**6),
    _text,
    st.sampled_from(Decision),
    st.none() | st.sampled_from(ReasonCode),
    _text,
    st.none() | _actions,
)


@given(
    st.builds(
        Plan,
        run_id=_text,
        rows=st.lists(_rows, max_size=4),
        created_at=_text,
        shop=_text,
        api_version=_text,
        input_name=_text,
        input_sha256=_text,
        shop_url=_text,
    )
)
def test_any_plan_round_trips_through_plan_json(plan):
    assert _round_trip(plan) == plan
    assert _round_trip(plan).to_json() == plan.to_json()


def test_facts_are_no_part_of_plan_json_nor_of_equality():
    planned = decide(make_row(), [make_facts()], None, run_id=RUN)
    assert planned.facts is not None and PlannedRow.from_json(planned.to_json()) == planned
    assert PlannedRow.from_json(planned.to_json()).facts is None
