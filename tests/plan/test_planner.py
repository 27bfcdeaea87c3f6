"""The planner against the simulator: every decision of SPEC §6 on seeded orders, and nothing written."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from pipeline.models import Action, Reason, RefundMode
from pipeline.plan.decide import Decision, ReasonCode
from pipeline.plan.lookup import Lookup, name_query
from pipeline.plan.planner import make_plan
from pipeline.plan.steps import StepKind
from pipeline.settings import ConnectionSettings, Secret
from pipeline.shopify.client import ShopifyClient
from pipeline.simulator import accounting as acc
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store
from pipeline.simulator.store import Order
from pipeline.simulator.transport import SimulatorTransport
from pipeline.validate.rows import OrderRow

TOKEN = "shpat_simulator"


def row(number: int, order: str, mode: RefundMode = RefundMode.ORIGINAL, **changes) -> OrderRow:
    gid = order if order.startswith("gid://") else None
    base = OrderRow(
        row=number,
        order=order,
        order_name=order,
        order_key=order.removeprefix("#").casefold(),
        order_gid=gid,
        mode=mode,
        action=Action.CANCEL,
        amount=None,
        currency=None,
        lines=(),
        shipping=True,
        restock=False,
        notify=True,
        reason=Reason.INVENTORY,
        note="",
    )
    return replace(base, **changes)


def pick(api: ShopApi, predicate) -> Order:
    names = [o.name for o in api.store.orders.values()]
    for order in api.store.orders.values():
        if names.count(order.name) == 1 and predicate(order):
            return order
    raise AssertionError("the seeded store has no such order")


def plain(order: Order) -> bool:
    return (
        not order.test
        and order.cancelled_at is None
        and acc.fulfillment_status(order) == "UNFULFILLED"
        and acc.financial_status(order) == "PAID"
        and order.customer_id is not None
        and {t.gateway for t in order.transactions} == {"shopify_payments"}
        and order.presentment_currency == order.currency
    )


def plan_rows(client, rows):
    return {
        p.row: p
        for p in make_plan(
            rows,
            Lookup(client),
            run_id="20261126-000000-test",
            shop="sim",
            api_version="2026-07",
            input_name="t.csv",
            input_sha256="0",
        ).rows
    }


def test_every_decision_of_the_table(shop):
    api, simulator, client = shop
    full = pick(api, plain)
    cancelled_paid = pick(api, lambda o: o.cancelled_at is not None and acc.financial_status(o) == "PAID")
    cancelled_done = pick(api, lambda o: o.cancelled_at is not None and acc.financial_status(o) == "REFUNDED")
    fulfilled = pick(
        api, lambda o: not o.test and o.cancelled_at is None and acc.fulfillment_status(o) == "FULFILLED"
    )
    test_order = pick(api, lambda o: o.test and o.cancelled_at is None)
    no_customer = pick(api, lambda o: plain(replace(o, customer_id=1)) and o.customer_id is None)
    other = pick(api, lambda o: plain(o) and o.id != full.id)
    duplicate = next(
        name
        for name in (o.name for o in api.store.orders.values())
        if [p.name for p in api.store.orders.values()].count(name) > 1
    )
    rows = [
        row(2, "#999999"),
        row(3, duplicate),
        row(4, test_order.name),
        row(5, other.name, currency="USD" if other.presentment_currency != "USD" else "GBP"),
        row(6, cancelled_done.name),
        row(7, cancelled_paid.name),
        row(8, fulfilled.name),
        row(9, other.name.replace("#", ""), action=Action.REFUND_ONLY, amount=Decimal("100000")),
        row(10, no_customer.name, mode=RefundMode.STORE_CREDIT),
        row(11, full.name),
    ]
    planned = plan_rows(client, rows)
    expected = {
        2: (Decision.BLOCKED, ReasonCode.NOT_FOUND),
        3: (Decision.BLOCKED, ReasonCode.AMBIGUOUS),
        4: (Decision.BLOCKED, ReasonCode.TEST_ORDER),
        5: (Decision.BLOCKED, ReasonCode.CURRENCY_MISMATCH),
        6: (Decision.SKIP, ReasonCode.ALREADY_DONE),
        7: (Decision.BLOCKED, ReasonCode.ALREADY_CANCELLED),
        8: (Decision.BLOCKED, ReasonCode.FULFILLED),
        9: (Decision.BLOCKED, ReasonCode.EXCEEDS_REFUNDABLE),
        10: (Decision.BLOCKED, ReasonCode.NO_CUSTOMER),
        11: (Decision.EXECUTE, None),
    }
    assert {n: (p.decision, p.reason) for n, p in planned.items()} == expected
    assert all(p.message for p in planned.values())
    [cancel, tag] = planned[11].action.steps[1:]
    assert cancel.kind is StepKind.CANCEL and cancel.amount == acc.net_payment(full)
    assert tag.kind is StepKind.TAG
    # Planning reads only.
    assert api.ledger_json()["entries"] == []
    assert simulator.stats.points_spent > 0


def test_only_exact_names_match_though_the_search_is_loose(shop):
    api, _, client = shop
    order = pick(api, lambda o: plain(o) and o.name.endswith("0"))
    bare = order.name.removeprefix("#")
    # Shopify's name search is prefix-loose: "#101" also finds #1010…#1019; none of them is #101.
    planned = plan_rows(client, [row(2, bare), row(3, f"#{bare[:-1]}"), row(4, f"#{bare}9")])
    assert planned[2].action is not None and planned[2].action.order_id.endswith(f"/{order.id}")
    assert planned[3].reason is ReasonCode.NOT_FOUND
    assert planned[4].reason is ReasonCode.NOT_FOUND


def test_lookup_by_id(shop):
    api, _, client = shop
    order = pick(api, plain)
    planned = plan_rows(client, [row(2, f"gid://shopify/Order/{order.id}"), row(3, "gid://shopify/Order/42")])
    assert planned[2].decision is Decision.EXECUTE
    assert planned[3].reason is ReasonCode.NOT_FOUND


def test_partly_refunded_order_is_cancelled_without_refund_then_refunded_the_rest(shop):
    api, _, client = shop
    order = pick(
        api,
        lambda o: (
            not o.test
            and o.cancelled_at is None
            and acc.fulfillment_status(o) == "UNFULFILLED"
            and acc.financial_status(o) == "PARTIALLY_REFUNDED"
        ),
    )
    [planned] = plan_rows(client, [row(2, order.name)]).values()
    kinds = [
        (s.kind, s.refund_method if s.kind is StepKind.CANCEL else s.amount) for s in planned.action.steps[1:]
    ]
    assert kinds[0] == (StepKind.CANCEL, "none") or str(kinds[0][1]) == "none"
    refund = planned.action.steps[2]
    assert refund.kind is StepKind.REFUND and refund.idempotency_key
    assert refund.amount == acc.net_payment(order) > 0


def test_multi_currency_partial_refund_is_in_the_presentment_currency(shop):
    api, _, client = shop
    order = pick(
        api,
        lambda o: (
            o.presentment_currency not in (o.currency, "JPY")
            and not o.test
            and o.cancelled_at is None
            and acc.financial_status(o) == "PAID"
        ),
    )
    [planned] = plan_rows(
        client, [row(2, order.name, action=Action.REFUND_ONLY, amount=Decimal("1.00"), shipping=False)]
    ).values()
    [refund, _tag] = planned.action.steps[1:]
    assert (refund.amount, refund.currency) == (Decimal("1.00"), order.presentment_currency)
    assert sum(t.amount for t in refund.transactions) == Decimal("1.00")


def test_split_tender_spreads_over_the_suggested_transactions(shop):
    api, _, client = shop
    order = pick(
        api,
        lambda o: (
            {t.gateway for t in o.transactions} == {"gift_card", "shopify_payments"}
            and not o.test
            and o.cancelled_at is None
            and acc.financial_status(o) == "PAID"
        ),
    )
    total = acc.net_payment(order)
    [planned] = plan_rows(
        client, [row(2, order.name, action=Action.REFUND_ONLY, amount=total, shipping=False)]
    ).values()
    [refund, _tag] = planned.action.steps[1:]
    assert {t.gateway for t in refund.transactions} == {"gift_card", "shopify_payments"}
    assert sum(t.amount for t in refund.transactions) == total


def test_lines_beyond_refundable_quantity_are_blocked_with_the_maximum(shop):
    api, _, client = shop
    order = pick(api, lambda o: plain(o) and o.line_items[0].sku)
    other = pick(api, lambda o: plain(o) and o.line_items[0].sku and o.id != order.id)
    sku, other_sku = order.line_items[0].sku, other.line_items[0].sku
    planned = plan_rows(
        client,
        [
            row(2, order.name, action=Action.REFUND_ONLY, lines=((sku, 999),), shipping=False),
            row(
                3,
                other.name.removeprefix("#"),
                action=Action.REFUND_ONLY,
                lines=((other_sku, 1),),
                shipping=False,
            ),
        ],
    )
    assert planned[2].reason is ReasonCode.EXCEEDS_REFUNDABLE and "999" in planned[2].message
    refund = planned[3].action.steps[1]
    assert refund.kind is StepKind.REFUND and [line.quantity for line in refund.refund_lines] == [1]


def test_cost_points_per_order_stay_low_for_a_stock_out_file(shop):
    api, simulator, client = shop
    orders = [o for o in api.store.orders.values() if plain(o)][:120]
    plan_rows(client, [row(i + 2, o.name) for i, o in enumerate(orders)])
    assert simulator.stats.points_spent / len(orders) <= 12


def test_name_query_quotes_and_tries_the_hash():
    assert name_query(["1001", "#EU-2", 'a"b']) == (
        'name:"1001" OR name:"#1001" OR name:"#EU-2" OR name:"a\\"b" OR name:"#a\\"b"'
    )


def test_throttling_never_reaches_the_planner_on_a_small_bucket():
    api = ShopApi(seed_store(orders=120, seed=5), cancel_delay=0.0)
    # The bucket holds one name lookup (about 410 points requested: the refunds' transactions come along).
    simulator = Simulator(api, SimulatorConfig(bucket=450, restore_rate=100))
    settings = ConnectionSettings(shop_url="http://127.0.0.1:1", token=Secret(TOKEN))
    with ShopifyClient(settings, SimulatorTransport(simulator)) as client:
        rows = [
            row(i + 2, o.name, action=Action.REFUND_ONLY, amount=Decimal("0.50"), shipping=False)
            for i, o in enumerate(o for o in api.store.orders.values() if plain(o))
        ]
        planned = plan_rows(client, rows)
    assert len(planned) == len(rows) > 20
    assert all(p.decision is not None for p in planned.values())
