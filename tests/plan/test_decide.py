"""The pure planner: SPEC §6's decision table, the steps table, amounts, keys and plan.json's shape."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal as D

import pytest

from pipeline.models import Action, Reason, RefundMode
from pipeline.plan.claims import Claim
from pipeline.plan.decide import block_same_order, decide, needs_lines, needs_quote
from pipeline.plan.facts import OrderFacts, RefundMoney
from pipeline.plan.keys import action_key, staff_note
from pipeline.plan.model import Decision, ReasonCode
from pipeline.plan.quote import QuotedLine, RefundQuote, SuggestedTransaction, suggested_refund_arguments
from pipeline.plan.steps import CancelRefund, RefundLine, RefundTransaction, RestockType, StepKind
from pipeline.validate.rows import OrderRow

RUN = "20261105-093000-stockout"
ORDER = "gid://shopify/Order/555"
CUSTOMER = "gid://shopify/Customer/7"
CARD = SuggestedTransaction(
    "gid://shopify/OrderTransaction/1", "shopify_payments", "SUGGESTED_REFUND", D(50), D(50)
)
PENDING_50 = RefundMoney("REFUND", "PENDING", "klarna", D(50))


def make_row(**changes: object) -> OrderRow:
    fields: dict[str, object] = dict(
        row=2,
        order="#1001",
        order_name="#1001",
        order_key="1001",
        order_gid=None,
        mode=RefundMode.ORIGINAL,
        action=Action.CANCEL,
        amount=None,
        currency=None,
        lines=(),
        shipping=None,
        restock=False,
        notify=False,
        reason=Reason.INVENTORY,
        note="",
    )
    fields.update(changes)
    if fields["shipping"] is None:  # validation's default: yes for full refunds, no for partial ones
        fields["shipping"] = fields["amount"] is None and not fields["lines"]
    return OrderRow(**fields)  # type: ignore[arg-type]


def make_facts(**changes: object) -> OrderFacts:
    fields: dict[str, object] = dict(
        id=ORDER,
        name="#1001",
        test=False,
        cancelled_at=None,
        financial_status="PAID",
        fulfillment_status="UNFULFILLED",
        presentment_currency="EUR",
        shop_currency="EUR",
        updated_at="2026-11-01T10:00:00Z",
        total_refunded=D("0.0"),
        net_payment=D("50.0"),
        customer_id=CUSTOMER,
        email="ann@example.com",
        can_notify=True,
        units=3,
    )
    fields.update(changes)
    return OrderFacts(**fields)  # type: ignore[arg-type]


def make_quote(**changes: object) -> RefundQuote:
    fields: dict[str, object] = dict(
        amount=D("50.0"),
        maximum_refundable=D("50.0"),
        shipping_amount=D("5.0"),
        shipping_maximum=D("5.0"),
        transactions=(CARD,),
    )
    fields.update(changes)
    return RefundQuote(**fields)  # type: ignore[arg-type]


def plan_one(
    row: OrderRow | None = None, facts: OrderFacts | None = None, quote: RefundQuote | None = None, **kw
):
    row = row or make_row()
    facts = facts or make_facts()
    if quote is None and needs_quote(row, facts, include_test=kw.get("include_test", False)):
        quote = make_quote()
    return decide(row, [facts], quote, run_id=kw.pop("run_id", RUN), **kw)


def kinds(planned) -> list[str]:
    """The steps after the claim, which every action starts with (SPEC §6)."""
    assert planned.action.steps[0].kind is StepKind.CLAIM
    return [str(step.kind) for step in planned.action.steps[1:]]


# --- the decision table, first row that applies ---------------------------------------------------


def test_no_match_is_not_found_and_mentions_the_60_day_scope():
    planned = decide(make_row(), [], None, run_id=RUN)
    assert (planned.decision, planned.reason) == (Decision.BLOCKED, ReasonCode.NOT_FOUND)
    assert "read_all_orders" in planned.message and planned.action is None


def test_two_matches_are_ambiguous_never_guessed():
    matches = [make_facts(), make_facts(id="gid://shopify/Order/556")]
    planned = decide(make_row(), matches, None, run_id=RUN)
    assert (planned.decision, planned.reason) == (Decision.BLOCKED, ReasonCode.AMBIGUOUS)
    assert "gid://shopify/Order/556" in planned.message


def test_test_order_is_blocked_unless_included():
    facts = make_facts(test=True)
    assert plan_one(facts=facts).reason is ReasonCode.TEST_ORDER
    assert plan_one(facts=facts, include_test=True).decision is Decision.EXECUTE


def test_test_order_comes_before_currency_mismatch():
    planned = plan_one(make_row(currency="USD"), make_facts(test=True))
    assert planned.reason is ReasonCode.TEST_ORDER


def test_currency_must_equal_the_presentment_currency_not_the_shop_currency():
    facts = make_facts(presentment_currency="USD", shop_currency="EUR")
    assert plan_one(make_row(currency="EUR"), facts).reason is ReasonCode.CURRENCY_MISMATCH
    assert plan_one(make_row(currency="USD"), facts).decision is Decision.EXECUTE


def test_currency_mismatch_comes_before_already_cancelled():
    facts = make_facts(cancelled_at="2026-11-02T08:00:00Z")
    assert plan_one(make_row(currency="USD"), facts).reason is ReasonCode.CURRENCY_MISMATCH


def test_an_amount_with_more_decimals_than_the_order_currency_allows_is_blocked():
    facts = make_facts(presentment_currency="JPY", net_payment=D(5000))
    planned = plan_one(make_row(amount=D("12.5")), facts)
    assert planned.reason is ReasonCode.CURRENCY_MISMATCH and "JPY" in planned.message


@pytest.mark.parametrize(
    ("row", "facts"),
    [
        (make_row(mode=RefundMode.NONE), make_facts(financial_status="PAID")),
        (make_row(), make_facts(financial_status="REFUNDED")),
        (make_row(amount=D(10)), make_facts(financial_status="VOIDED")),
        (make_row(), make_facts(financial_status="PARTIALLY_REFUNDED", net_payment=D(0))),
        (make_row(), make_facts(refunds=(PENDING_50,))),  # the rest is on its way back
    ],
)
def test_cancel_of_a_cancelled_order_already_as_asked_is_skipped(row, facts):
    planned = plan_one(row, replace(facts, cancelled_at="2026-11-02T08:00:00Z"))
    assert (planned.decision, planned.reason) == (Decision.SKIP, ReasonCode.ALREADY_DONE)
    assert planned.action is None


def test_cancel_of_a_cancelled_order_otherwise_is_blocked_pointing_to_refund_only():
    facts = make_facts(cancelled_at="2026-11-02T08:00:00Z", fulfillment_status="FULFILLED")
    planned = plan_one(make_row(), facts)
    assert (planned.decision, planned.reason) == (Decision.BLOCKED, ReasonCode.ALREADY_CANCELLED)
    assert planned.message == (
        "already cancelled on 2026-11-02 with 50.00 EUR still refundable"
        " — use action refund_only to refund it"
    )


def test_a_tag_of_this_tool_does_not_make_a_cancel_already_done():
    # A goodwill refund tagged the order; staff then cancelled it by hand, refunding nothing.
    facts = make_facts(
        cancelled_at="2026-11-02T08:00:00Z",
        financial_status="PARTIALLY_REFUNDED",
        total_refunded=D("5.00"),
        net_payment=D("154.22"),
        tags=("bulkcancel", "bulkcancel-20261101-080000-goodwill"),
    )
    planned = plan_one(make_row(), facts)
    assert (planned.decision, planned.reason) == (Decision.BLOCKED, ReasonCode.ALREADY_CANCELLED)
    assert "154.22 EUR still refundable" in planned.message and "refund_only" in planned.message


def test_rows_resolving_to_one_order_are_all_blocked_each_naming_the_others():
    by_name = plan_one(make_row(row=3))
    by_id = plan_one(make_row(row=7, order="555", order_name="555", order_key="555", order_gid=ORDER))
    third = plan_one(make_row(row=9, action=Action.REFUND_ONLY, amount=D(5)))
    other = plan_one(make_row(row=4, order="#1002"), make_facts(id="gid://shopify/Order/556", name="#1002"))
    missing = decide(make_row(row=5, order="#1001"), [], None, run_id=RUN)
    assert by_name.decision is by_id.decision is Decision.EXECUTE  # each alone is executable
    rows = {p.row: p for p in block_same_order([by_name, by_id, third, other, missing])}
    assert {n for n, p in rows.items() if p.reason is ReasonCode.SAME_ORDER} == {3, 7, 9}
    assert all(rows[n].decision is Decision.BLOCKED and rows[n].action is None for n in (3, 7, 9))
    assert rows[3].message == "row 3 names the same order as rows 7 and 9 (#1001) — keep one row per order"
    assert rows[7].message.startswith("row 7 names the same order as rows 3 and 9")
    assert rows[4] == other and rows[5] == missing


def test_refund_only_on_a_cancelled_order_is_executable():
    facts = make_facts(cancelled_at="2026-11-02T08:00:00Z")
    planned = plan_one(make_row(action=Action.REFUND_ONLY), facts)
    assert planned.decision is Decision.EXECUTE and kinds(planned) == ["refund", "tag"]


@pytest.mark.parametrize("status", ["FULFILLED", "PARTIALLY_FULFILLED", "IN_PROGRESS", "PENDING_FULFILLMENT"])
def test_cancel_of_a_fulfilled_or_in_progress_order_is_blocked(status):
    facts = make_facts(fulfillment_status=status)
    planned = plan_one(make_row(amount=D(999)), facts)  # fulfilled comes before exceeds refundable
    assert (planned.decision, planned.reason) == (Decision.BLOCKED, ReasonCode.FULFILLED)
    assert "refund_only" in planned.message
    assert not needs_quote(make_row(amount=D(999)), facts)


@pytest.mark.parametrize("status", ["UNFULFILLED", "ON_HOLD", "SCHEDULED", "REQUEST_DECLINED", "RESTOCKED"])
def test_unshipped_statuses_can_be_cancelled(status):
    assert plan_one(facts=make_facts(fulfillment_status=status)).decision is Decision.EXECUTE


def test_refund_only_on_a_fulfilled_order_is_executable():
    planned = plan_one(
        make_row(action=Action.REFUND_ONLY, amount=D(10)), make_facts(fulfillment_status="FULFILLED")
    )
    assert planned.decision is Decision.EXECUTE


def test_amount_over_the_maximum_refundable_is_blocked_with_the_maximum():
    planned = plan_one(make_row(amount=D("60.00")), quote=make_quote(maximum_refundable=D("45.5")))
    assert (planned.decision, planned.reason) == (Decision.BLOCKED, ReasonCode.EXCEEDS_REFUNDABLE)
    assert "45.50 EUR" in planned.message


def test_lines_beyond_refundable_quantity_or_unknown_sku_are_blocked():
    lines = (QuotedLine("gid://shopify/LineItem/1", "BC-01M", 2, 1),)
    too_many = plan_one(make_row(lines=(("BC-01M", 2),)), quote=make_quote(lines=lines))
    unknown = plan_one(make_row(lines=(("BC-99", 1),)), quote=make_quote(lines=lines))
    assert too_many.reason is ReasonCode.EXCEEDS_REFUNDABLE and "only 1" in too_many.message
    assert unknown.reason is ReasonCode.SKU_NOT_ON_ORDER and "BC-99" in unknown.message


def test_shipping_amount_over_what_is_left_is_blocked():
    planned = plan_one(make_row(amount=D(10), shipping=D(8)), quote=make_quote(shipping_maximum=D("4.9")))
    assert planned.reason is ReasonCode.EXCEEDS_REFUNDABLE and "4.90 EUR" in planned.message


def test_exceeds_refundable_comes_before_no_customer():
    facts = make_facts(customer_id=None)
    planned = plan_one(make_row(mode=RefundMode.STORE_CREDIT, amount=D(80)), facts)
    assert planned.reason is ReasonCode.EXCEEDS_REFUNDABLE


@pytest.mark.parametrize(
    "row",
    [
        make_row(mode=RefundMode.STORE_CREDIT),
        make_row(mode=RefundMode.GIFT_CARD),
        make_row(mode=RefundMode.STORE_CREDIT, action=Action.REFUND_ONLY, amount=D(5)),
    ],
)
def test_store_credit_or_gift_card_without_customer_is_blocked(row):
    planned = plan_one(row, make_facts(customer_id=None))
    assert (planned.decision, planned.reason) == (Decision.BLOCKED, ReasonCode.NO_CUSTOMER)


def test_original_refund_without_customer_is_fine():
    assert plan_one(facts=make_facts(customer_id=None)).decision is Decision.EXECUTE


def test_refund_only_with_nothing_left_is_already_done():
    quote = make_quote(amount=D(0), maximum_refundable=D(0), transactions=())
    planned = plan_one(make_row(action=Action.REFUND_ONLY), make_facts(financial_status="REFUNDED"), quote)
    assert (planned.decision, planned.reason) == (Decision.SKIP, ReasonCode.ALREADY_DONE)


def test_a_needed_quote_that_is_missing_is_a_programming_error():
    with pytest.raises(AssertionError, match="a refund quote is needed"):
        decide(make_row(amount=D(10)), [make_facts()], None, run_id=RUN)


# --- which lookups a row needs -------------------------------------------------------------------


def test_full_cancel_needs_no_quote_everything_else_that_refunds_does():
    facts = make_facts()
    assert not needs_quote(make_row(), facts)
    assert not needs_quote(make_row(mode=RefundMode.STORE_CREDIT), facts)
    assert not needs_quote(make_row(mode=RefundMode.NONE), facts)
    assert needs_quote(make_row(amount=D(5)), facts)
    assert needs_quote(make_row(lines=(("A", 1),)), facts)
    assert needs_quote(make_row(shipping=False), facts)
    assert needs_quote(make_row(mode=RefundMode.GIFT_CARD), facts)
    assert needs_quote(make_row(action=Action.REFUND_ONLY), facts)
    assert needs_quote(make_row(), make_facts(total_refunded=D("5.0"), financial_status="PARTIALLY_REFUNDED"))
    # a refund still pending is not in totalRefunded, but the status shows it
    assert needs_quote(make_row(), make_facts(financial_status="PARTIALLY_REFUNDED"))
    assert not needs_quote(make_row(amount=D(5)), make_facts(test=True))


def test_only_rows_with_lines_need_line_items():
    assert needs_lines(make_row(lines=(("A", 1),)))
    assert not needs_lines(make_row(amount=D(5)))


def test_suggested_refund_arguments_follow_lines_and_shipping():
    lines = (QuotedLine("gid://shopify/LineItem/1", "A", 2, 2),)
    assert suggested_refund_arguments(make_row()) == {"suggestFullRefund": True, "refundShipping": True}
    assert suggested_refund_arguments(make_row(amount=D(5), shipping=D("4.5"))) == {
        "suggestFullRefund": True,
        "shippingAmount": "4.5",
    }
    assert suggested_refund_arguments(make_row(lines=(("a", 1),), restock=True), lines) == {
        "suggestFullRefund": False,
        "refundLineItems": [
            {"lineItemId": "gid://shopify/LineItem/1", "quantity": 1, "restockType": "CANCEL"}
        ],
        "refundShipping": False,
    }


# --- the steps table ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [RefundMode.ORIGINAL, RefundMode.STORE_CREDIT])
def test_full_cancel_is_one_refunding_cancel_for_the_net_payment(mode):
    planned = decide(make_row(mode=mode, notify=True), [make_facts()], None, run_id=RUN)
    cancel, tag = planned.action.steps[1:]
    assert cancel.kind is StepKind.CANCEL and cancel.refund_method is CancelRefund(mode.value)
    assert (cancel.method, cancel.amount, str(cancel.amount), cancel.currency) == (
        mode,
        D(50),
        "50.00",
        "EUR",
    )
    assert cancel.reason is Reason.INVENTORY and cancel.notify and not cancel.restock
    assert tag.kind is StepKind.TAG and tag.tags == ("bulkcancel", f"bulkcancel-{RUN}")


def test_partial_cancel_refunds_nothing_at_cancel_then_exactly_the_amount():
    planned = plan_one(make_row(amount=D("20.5"), note="stock-out"))
    cancel, refund, _ = planned.action.steps[1:]
    assert cancel.refund_method is CancelRefund.NONE and cancel.amount is None and cancel.method is None
    assert (refund.kind, refund.method, str(refund.amount), refund.currency) == (
        StepKind.REFUND,
        RefundMode.ORIGINAL,
        "20.50",
        "EUR",
    )
    assert refund.transactions == (RefundTransaction(CARD.parent_id, "shopify_payments", D("20.50")),)
    assert refund.shipping_amount is None and planned.action.action_key in refund.note


def test_already_partly_refunded_order_is_never_refunded_in_full_by_the_cancel():
    facts = make_facts(total_refunded=D("10.0"), net_payment=D("40.0"), financial_status="PARTIALLY_REFUNDED")
    card = replace(CARD, amount=D("40.0"), maximum_refundable=D("40.0"))
    quote = make_quote(amount=D("40.0"), maximum_refundable=D("40.0"), transactions=(card,))
    planned = plan_one(make_row(), facts, quote)
    cancel, refund, _ = planned.action.steps[1:]
    assert cancel.refund_method is CancelRefund.NONE
    assert str(refund.amount) == "40.00" and [str(t.amount) for t in refund.transactions] == ["40.00"]
    assert refund.shipping_amount == D("5.00")


def test_full_refund_without_shipping_is_a_separate_refund():
    quote = make_quote(
        amount=D("45.0"), shipping_amount=D(0), transactions=(replace(CARD, amount=D("45.0")),)
    )
    planned = plan_one(make_row(shipping=False), quote=quote)
    assert kinds(planned) == ["cancel", "refund", "tag"]
    assert planned.action.steps[1].refund_method is CancelRefund.NONE
    assert str(planned.action.steps[2].amount) == "45.00" and planned.action.steps[2].shipping_amount is None


@pytest.mark.parametrize("action", [Action.CANCEL, Action.REFUND_ONLY])
def test_shipping_no_keeps_the_shipping_even_when_the_full_suggestion_includes_it(action):
    # suggestFullRefund may put the shipping in whatever refundShipping says (the simulator does).
    planned = plan_one(make_row(action=action, shipping=False), quote=make_quote())
    refund = planned.action.steps[-2]
    assert refund.kind is StepKind.REFUND and str(refund.amount) == "45.00"
    assert [str(t.amount) for t in refund.transactions] == ["45.00"] and refund.shipping_amount is None
    assert all(step.refund_method in (None, CancelRefund.NONE) for step in planned.action.steps[1:])


def test_a_pending_refund_counts_as_refunded():
    pending = RefundMoney("REFUND", "PENDING", "shopify_payments", D(20))
    facts = make_facts(refunds=(pending,))
    assert facts.refunded_before and facts.refundable == D(30)
    assert needs_quote(make_row(), facts)  # never a refunding orderCancel
    failed = RefundMoney("REFUND", "FAILURE", "shopify_payments", D(20))
    assert make_facts(refunds=(failed,), total_received=D(50)).refundable == D(50)


@pytest.mark.parametrize("shopify_counts_pending", [True, False])
def test_a_pending_refund_is_never_refunded_again_whichever_way_shopify_counts_it(shopify_counts_pending):
    pending = RefundMoney("REFUND", "PENDING", "shopify_payments", D(20))
    facts = make_facts(refunds=(pending,), total_received=D(50), net_payment=D(50))
    most = D(50) if shopify_counts_pending else D(30)  # does suggestedRefund still offer the pending 20?
    quote = make_quote(
        amount=most,
        maximum_refundable=most,
        transactions=(replace(CARD, amount=most, maximum_refundable=most),),
    )
    planned = plan_one(make_row(), facts, quote)
    cancel, refund, _ = planned.action.steps[1:]
    assert cancel.refund_method is CancelRefund.NONE
    assert str(refund.amount) == "30.00" and [str(t.amount) for t in refund.transactions] == ["30.00"]
    too_much = plan_one(make_row(action=Action.REFUND_ONLY, amount=D(40)), facts, quote)
    assert too_much.reason is ReasonCode.EXCEEDS_REFUNDABLE and "30.00 EUR" in too_much.message


def test_gift_card_cancel_is_a_cancel_without_refund_then_a_card_for_the_customer():
    planned = plan_one(make_row(mode=RefundMode.GIFT_CARD, notify=True))
    cancel, card, sent, _ = planned.action.steps[1:]
    # giftCardCreate has no `notify` (2026-07): the card is sent by a step of its own, after it.
    assert (sent.kind, sent.customer_id, sent.amount) == (StepKind.GIFT_CARD_NOTIFY, CUSTOMER, None)
    assert cancel.refund_method is CancelRefund.NONE
    assert (card.kind, card.method, str(card.amount), card.currency) == (
        StepKind.GIFT_CARD,
        RefundMode.GIFT_CARD,
        "50.00",
        "EUR",
    )
    assert card.customer_id == CUSTOMER and planned.action.action_key in card.note
    assert "code" not in card.to_json()
    assert card.transactions == () and card.notify


def test_cancel_without_refund():
    planned = plan_one(make_row(mode=RefundMode.NONE))
    assert kinds(planned) == ["cancel", "tag"]
    assert planned.action.steps[1].refund_method is CancelRefund.NONE
    assert planned.message == "cancel without refund, keeps 50.00 of 50.00 EUR"


def test_refund_only_original_store_credit_and_gift_card():
    original = plan_one(make_row(action=Action.REFUND_ONLY, amount=D(10)))
    credit = plan_one(make_row(action=Action.REFUND_ONLY, mode=RefundMode.STORE_CREDIT, amount=D(10)))
    card = plan_one(make_row(action=Action.REFUND_ONLY, mode=RefundMode.GIFT_CARD, amount=D(10)))
    assert kinds(original) == ["refund", "tag"] and original.action.steps[1].transactions
    assert kinds(credit) == ["refund", "tag"]
    assert (
        credit.action.steps[1].method is RefundMode.STORE_CREDIT and credit.action.steps[1].transactions == ()
    )
    assert kinds(card) == ["gift_card", "tag"]


def test_lines_become_refund_line_items_restocked_only_when_asked():
    quoted = (
        QuotedLine("gid://shopify/LineItem/1", "BC-01M", 1, 1),
        QuotedLine("gid://shopify/LineItem/2", "BC-01M", 2, 2),
        QuotedLine("gid://shopify/LineItem/3", "BC-02L", 1, 1),
    )
    quote = make_quote(amount=D("30.0"), lines=quoted, transactions=(replace(CARD, amount=D("30.0")),))
    restocked = plan_one(make_row(lines=(("bc-01m", 2),), restock=True), quote=quote)
    cancel, refund, _ = restocked.action.steps[1:]
    assert not cancel.restock  # only the lines are restocked, by the refund
    assert refund.refund_lines == (
        RefundLine("gid://shopify/LineItem/1", 1, RestockType.CANCEL),
        RefundLine("gid://shopify/LineItem/2", 1, RestockType.CANCEL),
    )
    assert str(refund.amount) == "30.00"
    first_line_only = plan_one(make_row(lines=(("BC-01M", 1),)), quote=quote).action.steps[2]
    assert first_line_only.refund_lines == (
        RefundLine("gid://shopify/LineItem/1", 1, RestockType.NO_RESTOCK),
    )
    kept = plan_one(make_row(lines=(("BC-02L", 1),)), quote=quote)
    assert kept.action.steps[2].refund_lines == (
        RefundLine("gid://shopify/LineItem/3", 1, RestockType.NO_RESTOCK),
    )


def test_an_amount_is_spread_over_the_suggested_transactions_in_order_capped_at_each_maximum():
    gift = SuggestedTransaction(
        "gid://shopify/OrderTransaction/9", "gift_card", "SUGGESTED_REFUND", D(15), D(15)
    )
    card = replace(CARD, amount=D(35), maximum_refundable=D(35))
    quote = make_quote(transactions=(gift, card))
    refund = plan_one(make_row(amount=D("30.00")), quote=quote).action.steps[2]
    assert refund.transactions == (
        RefundTransaction(gift.parent_id, "gift_card", D("15.00")),
        RefundTransaction(card.parent_id, "shopify_payments", D("15.00")),
    )
    short = make_quote(maximum_refundable=D(100), transactions=(gift, card))
    blocked = plan_one(make_row(amount=D(60)), quote=short)
    assert blocked.reason is ReasonCode.EXCEEDS_REFUNDABLE and "50.00 EUR" in blocked.message


def test_multi_currency_orders_plan_in_the_presentment_currency():
    facts = make_facts(presentment_currency="USD", shop_currency="EUR", net_payment=D("54.1"))
    planned = plan_one(make_row(), facts)
    assert (str(planned.action.steps[1].amount), planned.action.steps[1].currency) == ("54.10", "USD")
    partial = plan_one(make_row(amount=D(12)), facts).action.steps[2]
    assert (str(partial.amount), partial.currency) == ("12.00", "USD")


def test_jpy_amounts_have_no_decimals():
    facts = make_facts(presentment_currency="JPY", shop_currency="EUR", net_payment=D("5400.0"))
    assert str(plan_one(make_row(), facts).action.steps[1].amount) == "5400"
    jpy_card = replace(CARD, amount=D(5400), maximum_refundable=D(5400))
    quote = make_quote(amount=D(5400), maximum_refundable=D(5400), transactions=(jpy_card,))
    refund = plan_one(make_row(amount=D("1200")), facts, quote).action.steps[2]
    assert str(refund.amount) == "1200" and str(refund.transactions[0].amount) == "1200"


# --- keys and notes -------------------------------------------------------------------------------


def test_keys_are_deterministic_per_run_and_order():
    first = plan_one(make_row(amount=D(10)))
    again = plan_one(make_row(amount=D(10)))
    other_run = plan_one(make_row(amount=D(10)), run_id="20261106-000000-stockout")
    keys = [step.idempotency_key for step in first.action.steps[1:]]
    assert first.action.action_key == action_key(RUN, ORDER) == f"bc-{RUN}-555"
    assert keys == [step.idempotency_key for step in again.action.steps[1:]]
    assert len(set(keys)) == len(keys) and all(uuid.UUID(key).version == 5 for key in keys)
    assert not set(keys) & {step.idempotency_key for step in other_run.action.steps[1:]}


def test_staff_note_keeps_the_key_and_cuts_the_note_to_255():
    key = action_key(RUN, ORDER)
    note = staff_note("x" * 255, key)
    assert len(note) == 255 and note.endswith(f"[{key}]")
    assert staff_note("  out of stock ", key) == f"out of stock [{key}]"
    cancel = plan_one(make_row(note="y" * 255)).action.steps[1]
    assert len(cancel.staff_note) <= 255 and key in cancel.staff_note


def _claim(run_id: str = "20261130-0713-x", released: bool = False) -> Claim:
    steps = ({"kind": "claim"}, {"kind": "cancel", "amount": None}, {"kind": "refund", "amount": "10.00",
             "currency": "EUR", "method": "original"}, {"kind": "tag"})  # fmt: skip
    return Claim(run_id, f"bc-{run_id}-555", steps, "d1", released)


def test_a_claim_of_a_run_that_did_not_finish_blocks_the_row():
    planned = plan_one(make_row(), make_facts(claim=_claim()))
    assert (planned.decision, planned.reason) == (Decision.BLOCKED, ReasonCode.CLAIMED)
    assert planned.message == (
        "held by run 20261130-0713-x, which has not finished: resume it with bulkcancel execute, "
        "or bulkcancel release 20261130-0713-x"
    )


def test_a_claim_of_a_finished_run_is_already_done_naming_the_run_and_what_it_did():
    facts = make_facts(claim=_claim(), tags=("bulkcancel", "bulkcancel-20261130-0713-x"))
    planned = plan_one(make_row(action=Action.REFUND_ONLY, amount=D(10)), facts)
    assert (planned.decision, planned.reason) == (Decision.SKIP, ReasonCode.ALREADY_DONE)
    assert planned.message.startswith(
        "already done by run 20261130-0713-x: cancel, refund 10.00 EUR original"
    )
    repeat = decide(make_row(action=Action.REFUND_ONLY, amount=D(10)), [facts], make_quote(), run_id=RUN,
                    allow_repeat=True)  # fmt: skip
    assert repeat.decision is Decision.EXECUTE and repeat.action is not None
    assert repeat.message.startswith(
        "repeats what run 20261130-0713-x did (cancel, refund 10.00 EUR original)"
    )
    assert repeat.action.steps[0].compare_digest == "d1"  # replaces exactly that claim


def test_a_released_claim_holds_nothing_and_is_replaced_by_its_digest():
    planned = plan_one(make_row(), make_facts(claim=_claim(released=True)))
    assert planned.decision is Decision.EXECUTE and planned.action is not None
    assert planned.action.steps[0].compare_digest == "d1"


def test_a_cancel_is_ours_only_by_the_key_in_its_staff_note():
    claim = _claim(released=True)
    ours = make_facts(cancelled_at="2026-11-02T08:00:00Z", claim=claim, cancel_note=f"x [{claim.action_key}]")
    staff = make_facts(cancelled_at="2026-11-02T08:00:00Z", claim=claim, cancel_note="by hand")
    assert "by run 20261130-0713-x" in plan_one(make_row(mode=RefundMode.NONE), ours).message
    assert "by run" not in plan_one(make_row(mode=RefundMode.NONE), staff).message
