"""The simulated shop as plain dataclasses: orders, payments, refunds, gift cards, jobs, the ledger.

Nothing here reads the wall clock: `Store.clock` is injected (an aware UTC datetime callable).
Business rules live in `cancel.py`, `rules.py`, `giftcards.py` and `tags.py`; arithmetic in `accounting.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.simulator.persist import (
    RUNTIME,
    dump,
    dump_rows,
    load,
    no_collection,
    read_json,
    row_fields,
    write_json,
)

FORMAT = "bulkcancel-simulator-store/1"
COMPACT_FORMAT = "bulkcancel-simulator-store-compact/1"
COMPACT_ABOVE = 10_000  # orders: past this, the store is written in the compact format
Clock = Callable[[], datetime]

#: gateways whose refunds stay PENDING for a while (asynchronous processors, e.g. bank debits),
#: so reconciliation's `pending` status can be exercised; see README.
PENDING_REFUND_GATEWAYS = frozenset({"klarna", "sofort"})
STORE_CREDIT_GATEWAY = "shopify_store_credit"
PRIMARY_LOCATION = 7001  # a shop always has a primary location


#: every scope the simulator's fields need: a token without `--scopes` holds them all.
ALL_SCOPES = (
    "read_customers",
    "write_customers",
    "read_gift_cards",
    "write_gift_cards",
    "read_orders",
    "write_orders",
    "read_all_orders",
    "read_shopify_payments_payouts",
)


@dataclass(frozen=True)
class Access:
    """The token's scopes and its staff member's permissions (an app token has every permission)."""

    scopes: tuple[str, ...] = ALL_SCOPES
    refund_orders: bool = True  # staff permission `refund_orders`
    refund_to_store_credit: bool = True  # staff permission `refund_to_store_credit`

    def holds(self, scope: str) -> bool:
        return scope in self.scopes or scope.replace("read_", "write_", 1) in self.scopes


def utc_clock() -> datetime:
    """The production clock; tests inject their own."""
    return datetime.now(UTC)


@dataclass
class Shop:
    domain: str = "bulkcancel-sim.myshopify.com"
    name: str = "Bulkcancel Simulator"
    currency: str = "EUR"
    # CustomerAccountsVersion: store credit refunds need NEW_CUSTOMER_ACCOUNTS (CLASSIC refuses them)
    customer_accounts: str = "NEW_CUSTOMER_ACCOUNTS"
    store_credit_enabled: bool = True  # StoreCreditConfiguration.storeCreditEnabled (at checkout)
    # Locations live outside the id sequence so that adding them moved no seeded id; see README.
    locations: dict[int, str] = field(default_factory=lambda: {PRIMARY_LOCATION: "Shop location"})
    primary_location_id: int = PRIMARY_LOCATION


@dataclass
class Customer:
    id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    tags: list[str] = field(default_factory=list)
    updated_at: datetime | None = None


@dataclass
class LineItem:
    id: int
    sku: str | None
    title: str
    quantity: int
    unit_price: Decimal  # presentment currency, before tax
    tax: Decimal  # presentment tax for the whole original quantity
    vendor: str | None = None
    variant_title: str | None = None
    requires_shipping: bool = True
    taxable: bool = True
    refunded_quantity: int = 0
    removed_quantity: int = 0  # removed by cancellation
    fulfilled_quantity: int = 0
    restocked_quantity: int = 0
    location_id: int | None = None  # the location its fulfillment order is assigned to (None: primary)


@dataclass
class ShippingLine:
    id: int
    title: str
    code: str | None
    price: Decimal  # presentment


@dataclass
class Transaction:
    id: int
    kind: str  # SALE CAPTURE AUTHORIZATION REFUND VOID
    status: str  # SUCCESS PENDING FAILURE ...
    gateway: str
    amount: Decimal  # presentment
    created_at: datetime
    parent_id: int | None = None
    test: bool = False
    settles_at: datetime | None = None  # a PENDING refund becomes SUCCESS then


@dataclass
class Fulfillment:
    id: int
    name: str
    status: str  # FulfillmentStatus: SUCCESS, CANCELLED ...
    display_status: str | None
    quantity: int
    created_at: datetime
    location_id: int | None = None  # where it was fulfilled from (None: the primary location)


@dataclass
class RefundLineItem:
    id: int
    line_item_id: int
    quantity: int
    restock_type: str
    restocked: bool
    price: Decimal  # unit price, presentment
    subtotal: Decimal
    tax: Decimal
    location_id: int | None = None  # where it was restocked


@dataclass
class Refund:
    id: int
    created_at: datetime
    note: str | None
    line_items: list[RefundLineItem] = field(default_factory=list)
    transaction_ids: list[int] = field(default_factory=list)
    shipping: Decimal = Decimal("0")


@dataclass
class Metafield:
    id: int
    namespace: str
    key: str
    type: str
    value: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Order:
    id: int
    name: str
    number: int
    created_at: datetime
    updated_at: datetime
    processed_at: datetime
    currency: str  # shop currency
    presentment_currency: str
    rate: Decimal  # shop money = presentment × rate
    test: bool = False
    email: str | None = None
    phone: str | None = None
    note: str | None = None
    po_number: str | None = None
    tags: list[str] = field(default_factory=list)
    customer_id: int | None = None
    line_items: list[LineItem] = field(default_factory=list)
    shipping_lines: list[ShippingLine] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    fulfillment_in_progress: bool = False  # a fulfillment request accepted, not yet shipped
    refunds: list[Refund] = field(default_factory=list)
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    cancel_staff_note: str | None = None
    closed_at: datetime | None = None
    cancelling_job: str | None = None  # id of a cancel job still running
    metafields: list[Metafield] = field(default_factory=list)
    b2b: bool = False  # bought by a company (purchasingEntity a PurchasingCompany)


@dataclass
class GiftCard:
    id: int
    code: str
    initial_value: Decimal
    balance: Decimal
    currency: str
    created_at: datetime
    updated_at: datetime
    customer_id: int | None = None
    note: str | None = None
    expires_on: str | None = None
    enabled: bool = True
    order_id: int | None = None


@dataclass
class Job:
    id: str  # a UUID, as in gid://shopify/Job/<uuid>
    order_id: int
    due_at: datetime
    reason: str
    restock: bool
    refund_method: str | None  # "original", "store_credit" or None
    staff_note: str | None
    done: bool = False


@dataclass
class LedgerEntry:
    seq: int
    at: datetime
    order_id: str | None
    order_name: str | None
    kind: str  # cancel refund gift_card tag order_update claim
    amount: Decimal | None
    currency: str | None
    method: str | None  # original store_credit gift_card
    idempotency_key: str | None = None
    replayed: bool = False
    extra: dict[str, str] | None = None  # kind-specific keys, e.g. a claim's namespace, key and value


@dataclass
class IdempotencyRecord:
    fingerprint: str
    order_id: int
    refund_id: int
    created_at: datetime | None = None  # None in stores written before keys expired: kept
    in_progress_until: datetime | None = None  # its answer was lost: "still being processed" until then


@dataclass
class Store:
    """The whole shop. `clock` and `cancel_delay` are runtime settings, not saved."""

    shop: Shop = field(default_factory=Shop)
    next_id: int = 6_100_000_000_000
    next_order_number: int = 1001
    customers: dict[int, Customer] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    gift_cards: dict[int, GiftCard] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    job_seed: int = 0
    clock: Clock = field(default=utc_clock, repr=False, compare=False, metadata=RUNTIME)
    cancel_delay: timedelta = field(default=timedelta(seconds=0.2), compare=False, metadata=RUNTIME)
    refund_settle_delay: timedelta = field(default=timedelta(seconds=30), compare=False, metadata=RUNTIME)
    access: Access = field(default_factory=Access, compare=False, metadata=RUNTIME)  # the token's
    # What `settle` may have to settle, so it need not scan the whole shop on every request.
    # None until the first settle, which scans once (a loaded store may hold open work); derived
    # from the saved jobs and transactions, so not saved (a set is no JSON value either).
    unsettled: set[int] | None = field(default=None, repr=False, compare=False, metadata=RUNTIME)
    open_jobs: set[str] | None = field(default=None, repr=False, compare=False, metadata=RUNTIME)

    @classmethod
    def load(cls, path: Path, clock: Clock = utc_clock) -> Store:
        """Read a store JSON file (format in README.md)."""
        with no_collection():
            return store_from_json(read_json(path), clock)

    def save(self, path: Path) -> None:
        """Write the store JSON file, deterministically and atomically; a large shop in compact form."""
        compact = len(self.orders) > COMPACT_ABOVE
        write_json(store_to_json(self, compact=compact), path, indent=None if compact else 2)

    def now(self) -> datetime:
        """The injected clock, checked to be timezone-aware."""
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the simulator clock must return an aware UTC datetime")
        return moment.astimezone(UTC)

    def new_id(self) -> int:
        """Next numeric id; one sequence for every kind, as Shopify's ids never collide."""
        self.next_id += 1
        return self.next_id

    def new_job_id(self) -> str:
        """A deterministic UUID, so a seeded run replays identically."""
        self.job_seed += 1
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.shop.domain}/job/{self.job_seed}"))

    def customer(self, cid: int | None) -> Customer | None:
        return self.customers.get(cid) if cid is not None else None

    def record(self, order: Order | None, kind: str, **fields: object) -> LedgerEntry:
        """Append one ledger entry (SPEC §14) for an applied mutation."""
        entry = LedgerEntry(
            seq=len(self.ledger) + 1,
            at=self.now(),
            order_id=f"gid://shopify/Order/{order.id}" if order else None,
            order_name=order.name if order else None,
            kind=kind,
            amount=fields.pop("amount", None),  # type: ignore[arg-type]
            currency=fields.pop("currency", None),  # type: ignore[arg-type]
            method=fields.pop("method", None),  # type: ignore[arg-type]
            idempotency_key=fields.pop("idempotency_key", None),  # type: ignore[arg-type]
            replayed=bool(fields.pop("replayed", False)),
            extra=fields.pop("extra", None),  # type: ignore[arg-type]
        )
        if fields:
            raise TypeError(f"unknown ledger fields {sorted(fields)}")
        self.ledger.append(entry)
        return entry

    def track(self, *, job: str | None = None, unsettled_order: int | None = None) -> None:
        """Tell `tick` about new open work: a cancel job, or an order with a refund that will settle."""
        if job is not None and self.open_jobs is not None:
            self.open_jobs.add(job)
        if unsettled_order is not None and self.unsettled is not None:
            self.unsettled.add(unsettled_order)


def store_to_json(store: Store, *, compact: bool = False) -> dict[str, Any]:
    """The store file's content: its format, then every saved field (compact: as rows, with the
    field names of each kind of row once)."""
    if compact:
        return {"format": COMPACT_FORMAT, "fields": row_fields(Store), "store": dump_rows(store)}
    return {"format": FORMAT, **dump(store)}


def store_from_json(data: dict[str, Any], clock: Clock = utc_clock) -> Store:
    """The store a file's content describes (either format), running on `clock`."""
    if data.get("format") == COMPACT_FORMAT:
        if data.get("fields") != row_fields(Store):
            raise ValueError(
                "the compact store was written by another version of the simulator: seed it again"
            )
        store = load(Store, data["store"], rows=True)
        store.clock = clock
        return store
    if data.get("format") != FORMAT:
        raise ValueError(f"not a simulator store (format {data.get('format')!r}, expected {FORMAT!r})")
    store = load(Store, data)
    store.clock = clock
    return store
