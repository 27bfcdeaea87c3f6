"""The planner never plans money that already moved (SPEC §6's money rules), on orders the simulator
changed through its own API: a refund still pending, a stray tag on an order staff cancelled, the
shipping kept, one order named twice, and a plan time fine enough to tell refunds apart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from graphql import parse

from pipeline.execute.approval import check
from pipeline.models import Action, RefundMode
from pipeline.plan.decide import Decision, ReasonCode
from pipeline.plan.lookup import Lookup
from pipeline.plan.planner import make_plan
from pipeline.plan.steps import CancelRefund, StepKind
from pipeline.simulator import accounting as acc
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.store import Order
from tests.plan.test_planner import pick, plain, plan_rows, row

REFUND = """
mutation Refund($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) { refund { id } userErrors { field message } }
}"""
CANCEL = """
mutation Cancel($id: ID!) {
  orderCancel(
    orderId: $id, reason: STAFF, restock: false, refundMethod: {originalPaymentMethodsRefund: false}
  ) {
    job { id } orderCancelUserErrors { message }
  }
}"""
TAGS = """
mutation Tags($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { message } } }
"""


def shop_call(api: ShopApi, document: str, **variables: Any) -> dict[str, Any]:
    result = api.execute(parse(document), variables)
    assert not result.errors, result.errors
    assert result.data is not None
    return result.data


def gid(order: Order) -> str:
    return f"gid://shopify/Order/{order.id}"


def refund(api: ShopApi, order: Order, amount: str) -> None:
    """A partial refund to the order's first payment, as staff would make it in the admin."""
    [payment, *_] = acc.payments(order)
    transaction = {
        "orderId": gid(order),
        "parentId": f"gid://shopify/OrderTransaction/{payment.id}",
        "gateway": payment.gateway,
        "kind": "REFUND",
        "amount": amount,
    }
    data = shop_call(
        api,
        REFUND,
        input={"orderId": gid(order), "transactions": [transaction], "note": "goodwill"},
        key=f"test-{order.id}-{amount}",
    )
    assert data["refundCreate"]["userErrors"] == []


def klarna(order: Order) -> bool:
    """A paid, open, unshipped order paid with Klarna: its refunds stay PENDING for a while."""
    return (
        not order.test
        and order.cancelled_at is None
        and acc.fulfillment_status(order) == "UNFULFILLED"
        and acc.financial_status(order) == "PAID"
        and {t.gateway for t in order.transactions} == {"klarna"}
    )


def test_a_refund_pending_at_the_gateway_counts_as_refunded(shop):
    api, _, client = shop
    full, rest = [o for o in api.store.orders.values() if klarna(o)][:2]
    for order in (full, rest):
        refund(api, order, "10.00")
        assert [t.status for t in order.transactions if t.kind == "REFUND"] == ["PENDING"]
        assert acc.financial_status(order) == "PAID"  # the status does not show it, nor totalRefunded
    planned = plan_rows(client, [row(2, full.name), row(3, rest.name, action=Action.REFUND_ONLY)])
    cancel, money, tag = planned[2].action.steps[1:]
    # Never a refunding orderCancel: it would give the pending 10.00 back a second time.
    assert cancel.kind is StepKind.CANCEL and cancel.refund_method is CancelRefund.NONE
    assert money.kind is StepKind.REFUND and money.amount == acc.received(full) - Decimal("10.00")
    assert sum(t.amount for t in money.transactions) == money.amount and tag.kind is StepKind.TAG
    [money, _] = planned[3].action.steps[1:]
    assert money.amount == acc.received(rest) - Decimal("10.00")


def test_shipping_no_on_a_full_refund_keeps_the_shipping(shop):
    api, _, client = shop
    order = pick(api, lambda o: plain(o) and acc.shipping_total(o) > 0)
    planned = plan_rows(client, [row(2, order.name, shipping=False)])
    cancel, money, _ = planned[2].action.steps[1:]
    assert cancel.refund_method is CancelRefund.NONE
    assert money.amount == acc.net_payment(order) - acc.shipping_total(order)
    assert money.shipping_amount is None and sum(t.amount for t in money.transactions) == money.amount


def test_a_stray_tag_on_an_order_staff_cancelled_is_not_already_done(shop):
    api, _, client = shop
    order = pick(api, lambda o: plain(o) and acc.total_price(o) > 10)
    refund(api, order, "5.00")  # a goodwill refund of an earlier run left its tags
    shop_call(api, TAGS, id=gid(order), tags=["bulkcancel", "bulkcancel-20261101-080000-goodwill"])
    assert shop_call(api, CANCEL, id=gid(order))["orderCancel"]["orderCancelUserErrors"] == []
    api.execute(parse("{ shop { name } }"))  # settles the cancel job
    assert order.cancelled_at is not None
    left = acc.net_payment(order)
    planned = plan_rows(client, [row(2, order.name), row(3, "#999999", mode=RefundMode.NONE)])
    assert (planned[2].decision, planned[2].reason) == (Decision.BLOCKED, ReasonCode.ALREADY_CANCELLED)
    assert f"{left} {order.presentment_currency} still refundable" in planned[2].message
    assert "refund_only" in planned[2].message
    # As the message says: refund_only refunds what is left (no claim is on the order, only the tag).
    refund_only = plan_rows(client, [row(2, order.name, action=Action.REFUND_ONLY)])[2]
    assert refund_only.decision is Decision.EXECUTE, refund_only.message
    claim, money, _ = refund_only.action.steps
    assert claim.kind is StepKind.CLAIM and claim.compare_digest is None
    assert money.kind is StepKind.REFUND and money.amount == left


def test_one_order_by_name_and_by_id_blocks_both_rows(shop):
    api, _, client = shop
    order = pick(api, plain)
    planned = plan_rows(client, [row(3, order.name), row(7, gid(order), action=Action.REFUND_ONLY)])
    assert {n: (p.decision, p.reason) for n, p in planned.items()} == {
        3: (Decision.BLOCKED, ReasonCode.SAME_ORDER),
        7: (Decision.BLOCKED, ReasonCode.SAME_ORDER),
    }
    assert planned[3].message.startswith("row 3 names the same order as row 7")
    assert planned[7].message.startswith("row 7 names the same order as row 3")
    assert planned[3].action is None and planned[7].action is None


def test_plan_time_has_milliseconds_and_both_forms_are_read(shop):
    _, _, client = shop
    moment = dt.datetime(2026, 11, 30, 7, 13, 23, 123456, tzinfo=dt.UTC)
    plan = make_plan(
        [],
        Lookup(client),
        run_id="r",
        shop="demo.myshopify.com",
        api_version="2026-07",
        input_name="t.csv",
        input_sha256="0",
        now=lambda: moment,
    )
    assert plan.created_at == "2026-11-30T07:13:23.123Z"
    assert plan.since == moment.replace(microsecond=123000)
    older = type(plan)(run_id="r", rows=[], created_at="2026-11-30T07:13:23Z")  # plans made before
    assert older.since == moment.replace(microsecond=0)
    for created_at in (plan.created_at, "2026-11-30T07:13:23Z"):
        old = type(plan)(run_id="r", rows=[], created_at=created_at, shop="demo.myshopify.com")
        check(old, shop="demo.myshopify.com", now=moment, max_age=dt.timedelta(hours=1))


def test_an_order_with_many_refunds_is_read_again_with_all_of_them(shop):
    api, _, client = shop
    order = next(o for o in api.store.orders.values() if klarna(o) and acc.received(o) > 25)
    for cents in range(21):  # more than the lookup's first page of refunds
        refund(api, order, f"1.{cents:02d}")
    by_name, by_id = row(2, order.name), row(3, gid(order))
    matches = Lookup(client).matches([by_name, by_id])
    for number in (2, 3):
        [facts] = matches[number]
        assert len(facts.refunds) == 21
        assert facts.refundable == acc.received(order) - sum(Decimal(f"1.{c:02d}") for c in range(21))
