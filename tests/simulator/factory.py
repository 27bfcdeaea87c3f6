"""Small hand-built stores for the simulator tests: one order at a time, exact amounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from graphql import parse

from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.store import Customer, LineItem, Order, ShippingLine, Shop, Store, Transaction


class FakeClock:
    """A settable clock: tests move time instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def new_store(currency: str = "EUR") -> tuple[Store, FakeClock]:
    clock = FakeClock()
    return Store(shop=Shop(currency=currency), clock=clock), clock


def add_customer(store: Store, email: str = "ada@example.com") -> Customer:
    c = Customer(store.new_id(), "Ada", "Lovelace", email)
    store.customers[c.id] = c
    return c


def add_order(
    store: Store,
    lines: list[tuple[str, int, str, str]] = (("SKU-A", 1, "10.00", "0"),),  # type: ignore[assignment]
    shipping: str | None = None,
    payments: list[tuple[str, str, str]] = (("SALE", "manual", "10.00"),),  # type: ignore[assignment]
    presentment: str | None = None,
    rate: str = "1",
    customer: Customer | None = None,
    name: str | None = None,
) -> Order:
    """lines: (sku, qty, unit price, line tax); payments: (kind, gateway, amount), all SUCCESS."""
    number = store.next_order_number
    store.next_order_number += 1
    now = store.now()
    order = Order(
        id=store.new_id(),
        name=name or f"#{number}",
        number=number,
        created_at=now,
        updated_at=now,
        processed_at=now,
        currency=store.shop.currency,
        presentment_currency=presentment or store.shop.currency,
        rate=Decimal(rate),
        email=customer.email if customer else None,
        customer_id=customer.id if customer else None,
    )
    for sku, qty, price, tax in lines:
        order.line_items.append(
            LineItem(store.new_id(), sku, f"Item {sku}", qty, Decimal(price), Decimal(tax))
        )
    if shipping:
        order.shipping_lines.append(ShippingLine(store.new_id(), "Standard", "STD", Decimal(shipping)))
    for kind, gateway, amount in payments:
        order.transactions.append(Transaction(store.new_id(), kind, "SUCCESS", gateway, Decimal(amount), now))
    store.orders[order.id] = order
    return order


def run(api: ShopApi, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute and return the JSON-like answer ({"data", "errors"})."""
    result = api.execute(parse(text), variables)
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        out["errors"] = [e.formatted for e in result.errors]
    return out
