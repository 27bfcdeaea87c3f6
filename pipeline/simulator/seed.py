"""A realistic seeded shop (SPEC §10) and an input file that references its orders.

Deterministic: the same `seed` and clock give byte-identical JSON. About 70% of orders are plain
paid and unfulfilled, so a bulk cancellation has work to do; the rest cover every awkward case.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pipeline.simulator import accounting as acc
from pipeline.simulator.cancel import complete_cancel
from pipeline.simulator.money import q
from pipeline.simulator.persist import no_collection
from pipeline.simulator.refunds import LineRequest, write_refund
from pipeline.simulator.store import (
    PRIMARY_LOCATION,
    Clock,
    Customer,
    Fulfillment,
    Job,
    LineItem,
    Order,
    ShippingLine,
    Shop,
    Store,
    Transaction,
    utc_clock,
)

_PRODUCTS = (
    "Linen shirt",
    "Wool scarf",
    "Leather belt",
    "Canvas tote",
    "Rain jacket",
    "Merino socks",
    "Denim jeans",
    "Silk tie",
    "Cotton tee",
    "Knit beanie",
)
_VARIANTS = ("S", "M", "L", "XL")
#: 40 SKUs so a stock-out file can pick one: (sku, title, variant, EUR price)
CATALOGUE = tuple(
    (f"BC-{i:02d}{v}", _PRODUCTS[i], v, Decimal(19 + 7 * i) + Decimal("0.90"))
    for i in range(len(_PRODUCTS))
    for v in _VARIANTS
)
#: presentment currency → (shop EUR per unit, tax rate); one fixed rate per order.
_CURRENCIES = {
    "EUR": (Decimal(1), Decimal("0.20")),
    "USD": (Decimal("0.92"), Decimal(0)),
    "GBP": (Decimal("1.17"), Decimal("0.20")),
    "CHF": (Decimal("1.04"), Decimal("0.081")),
    "JPY": (Decimal("0.0061"), Decimal("0.10")),
}
_SCENARIOS = (
    ("plain", 70),
    ("partially_refunded", 5),
    ("fulfilled", 4),
    ("partially_fulfilled", 3),
    ("in_progress", 1),
    ("cancelled", 4),
    ("authorized", 4),
    ("pending", 3),
    ("partially_paid", 2),
    ("split_gift_card", 4),
)
_GATEWAYS = (("shopify_payments", 70), ("paypal", 15), ("klarna", 8), ("manual", 7))
CUSTOM_NAMES = ("#AP-512187", "EU-1203", "#10684-EXC", "Her2065", "2518826")
_FIRST = ("Anna", "Louis", "Marta", "Jonas", "Chloé", "Ben", "Sofia", "Noah", "Léa", "Omar")
_LAST = ("Martin", "Müller", "Rossi", "Dubois", "Smith", "García", "Novak", "Berg", "Costa", "Klein")


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


SECOND_LOCATION = PRIMARY_LOCATION + 1


def seed_store(orders: int, seed: int, clock: Clock = utc_clock) -> Store:
    """A shop in EUR with `orders` orders (duplicates and custom names included).

    History spans the 45 days before midnight UTC of `clock()`: identical JSON for one seed and day.
    """
    with no_collection():
        return _seed(orders, seed, clock)


def _seed(orders: int, seed: int, clock: Clock) -> Store:
    rng = random.Random(seed)
    store = Store(shop=Shop(), clock=clock)
    end = clock().replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=45)
    for _ in range(max(1, orders * 3 // 5)):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        cid = store.new_id()
        store.customers[cid] = Customer(
            cid, first, last, f"{first.lower()}.{last.lower()}.{cid % 100000}@example.com", updated_at=start
        )
    customer_ids = sorted(store.customers)
    for k in range(orders):
        at = start + timedelta(seconds=int((end - start).total_seconds() * (k + 1) / (orders + 1)))
        _make_order(store, rng, at, rng.choice(customer_ids) if rng.random() > 0.15 else None)
    _rename(store, rng)
    _locate(store)
    store.ledger.clear()
    store.jobs.clear()
    store.clock = clock
    return store


def _locate(store: Store) -> None:
    """Two locations; every fifth order's lines are assigned to the second (no draw: ids stay put)."""
    store.shop.locations = {PRIMARY_LOCATION: "Warehouse Berlin", SECOND_LOCATION: "Store Hamburg"}
    for order in store.orders.values():
        where = SECOND_LOCATION if order.number % 5 == 0 else PRIMARY_LOCATION
        for li in order.line_items:
            li.location_id = where
        for f in order.fulfillments:
            f.location_id = where


def _make_order(store: Store, rng: random.Random, at: datetime, customer_id: int | None) -> Order:
    store.clock = lambda: at
    cur = "EUR" if rng.random() < 0.8 else rng.choice(("USD", "GBP", "CHF", "JPY"))
    rate, tax_rate = _CURRENCIES[cur]
    number = store.next_order_number
    store.next_order_number += 1
    customer = store.customer(customer_id)
    order = Order(
        id=store.new_id(),
        name=f"#{number}",
        number=number,
        created_at=at,
        updated_at=at,
        processed_at=at,
        currency=store.shop.currency,
        presentment_currency=cur,
        rate=rate,
        test=rng.random() < 0.03,
        email=customer.email if customer else (None if rng.random() < 0.5 else f"guest{number}@example.com"),
        customer_id=customer_id,
    )
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4, 5, 7, 10))):
        sku, title, variant, eur = rng.choice(CATALOGUE)
        qty = rng.choice((1, 1, 1, 2, 3))
        price = q(eur / rate, cur)
        order.line_items.append(
            LineItem(
                id=store.new_id(),
                sku=sku,
                title=title,
                quantity=qty,
                unit_price=price,
                tax=q(price * qty * tax_rate, cur),
                vendor="Bulkcancel Apparel",
                variant_title=variant,
            )
        )
    if rng.random() < 0.85:
        express = rng.random() < 0.3
        order.shipping_lines.append(
            ShippingLine(
                store.new_id(),
                "Express" if express else "Standard",
                "EXP" if express else "STD",
                q(Decimal("9.90" if express else "4.90") / rate, cur),
            )
        )
    store.orders[order.id] = order
    scenario = _pick(rng, _SCENARIOS)
    if scenario == "split_gift_card" and cur != "EUR":
        scenario = "plain"
    _pay(store, rng, order, scenario)
    _after(store, rng, order, scenario, at)
    order.updated_at = at
    return order


def _txn(
    store: Store,
    order: Order,
    kind: str,
    gateway: str,
    amount: Decimal,
    status: str = "SUCCESS",
    parent: int | None = None,
) -> Transaction:
    t = Transaction(store.new_id(), kind, status, gateway, amount, order.created_at, parent, order.test)
    order.transactions.append(t)
    return t


def _pay(store: Store, rng: random.Random, order: Order, scenario: str) -> None:
    total, gateway = acc.total_price(order), _pick(rng, _GATEWAYS)
    if scenario == "authorized":
        _txn(store, order, "AUTHORIZATION", "shopify_payments", total)
    elif scenario == "pending":
        _txn(store, order, "SALE", "manual", total, status="PENDING")
    elif scenario == "partially_paid":
        _txn(store, order, "SALE", "manual", q(total / 2, order.presentment_currency))
    elif scenario == "split_gift_card":
        part = min(total, Decimal(rng.choice((10, 20, 25, 50))))
        _txn(store, order, "SALE", "gift_card", part)
        if total > part:
            _txn(store, order, "SALE", "shopify_payments", total - part)
    elif gateway == "shopify_payments" and rng.random() < 0.3:  # authorize then capture
        auth = _txn(store, order, "AUTHORIZATION", gateway, total)
        _txn(store, order, "CAPTURE", gateway, total, parent=auth.id)
    else:
        _txn(store, order, "SALE", gateway, total)


def _after(store: Store, rng: random.Random, order: Order, scenario: str, at: datetime) -> None:
    lines = order.line_items
    if scenario in ("fulfilled", "partially_fulfilled"):
        done = lines if scenario == "fulfilled" or len(lines) == 1 else lines[: len(lines) // 2]
        if scenario == "partially_fulfilled" and len(lines) == 1 and lines[0].quantity == 1:
            done = []
        for li in done:
            li.fulfilled_quantity = li.quantity if scenario == "fulfilled" or len(lines) > 1 else 1
        units = sum(li.fulfilled_quantity for li in lines)
        if units:
            order.fulfillments.append(
                Fulfillment(
                    store.new_id(),
                    f"{order.name}-F1",
                    "SUCCESS",
                    rng.choice(("FULFILLED", "IN_TRANSIT", "DELIVERED")),
                    units,
                    at,
                )
            )
        else:
            order.fulfillment_in_progress = True
    elif scenario == "in_progress":
        order.fulfillment_in_progress = True
    elif scenario == "partially_refunded":
        li = lines[0]
        amount = q(
            li.unit_price + acc.unit_tax(li, 1, order.presentment_currency), order.presentment_currency
        )
        parent = acc.payments(order)[0]
        write_refund(
            store,
            order,
            [LineRequest(li, 1, "NO_RESTOCK")],
            Decimal(0),
            [(parent, min(amount, acc.txn_refundable(order, parent)))],
            "Damaged item, partial refund",
        )
    elif scenario == "cancelled":
        method = rng.choice(("original", "original", None))
        job = Job(
            store.new_job_id(),
            order.id,
            at,
            rng.choice(("CUSTOMER", "INVENTORY", "FRAUD")),
            rng.random() < 0.5,
            method,
            "Cancelled before the import",
        )
        complete_cancel(store, job)


def _rename(store: Store, rng: random.Random) -> None:
    """A few custom names and true duplicates, so only exact name matches may count."""
    ordered = sorted(store.orders.values(), key=lambda o: o.id)
    if len(ordered) < 12:
        return
    picks = rng.sample(ordered[5:], k=min(len(ordered) - 5, len(CUSTOM_NAMES) + max(2, len(ordered) // 200)))
    for order, name in zip(picks, CUSTOM_NAMES, strict=False):
        order.name = name
    for order in picks[len(CUSTOM_NAMES) :]:  # an import that reused an existing name
        order.name = rng.choice(ordered[:5]).name


def write_input_file(store: Store, path: Path, rows: int, seed: int) -> int:
    """A CSV (order,refund_mode,action,amount,lines,notify,reason,note) over seeded orders; rows written."""
    rng = random.Random(seed)
    names: dict[str, int] = {}
    for o in store.orders.values():
        names[o.name] = names.get(o.name, 0) + 1
    pool = sorted(store.orders.values(), key=lambda o: o.id)
    chosen = rng.sample(pool, k=min(rows, len(pool)))
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["order", "refund_mode", "action", "amount", "lines", "notify", "reason", "note"])
        for order in chosen:
            row = _row(rng, order)
            if names[order.name] > 1:
                # Two orders share this name: only the id says which (validation would refuse the pair).
                row[0] = f"gid://shopify/Order/{order.id}"
            out.writerow(row)
    return len(chosen)


def _row(rng: random.Random, order: Order) -> list[str]:
    written = rng.choice((order.name, order.name, order.name.lstrip("#"), f"gid://shopify/Order/{order.id}"))
    mode = _pick(
        rng,
        (
            ("original", 50),
            ("store_credit", 15),
            ("gift_card", 10),
            ("none", 10),
            ("partial", 10),
            ("lines", 5),
        ),
    )
    action = "refund_only" if rng.random() < 0.15 and mode != "none" else "cancel"
    amount = lines = ""
    if mode == "partial":
        mode, amount = "original", str(q(acc.total_price(order) * Decimal("0.3"), order.presentment_currency))
    elif mode == "lines":
        li = order.line_items[0]
        mode, lines = "original", f"{li.sku}:1"
    notify = rng.choice(("yes", "no"))
    reason = _pick(rng, (("inventory", 70), ("customer", 15), ("fraud", 5), ("other", 10)))
    return [written, mode, action, amount, lines, notify, reason, "Stock-out: supplier cancelled"]
