"""Writes the demo's inputs/ from the demo's seeded store: `python -m tests.data.make_samples`.

The demo seeds `seed_store(orders=DEMO_ORDERS, seed=DEMO_SEED)`; these files name its orders, picked
by what they are (paid and open, partly refunded, multi-currency, split tender, fulfilled, test…),
so the demo exercises every refund mode and shows each common reason a row is blocked.
"""

from __future__ import annotations

import codecs
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from pipeline.demo import DEMO_ORDERS, DEMO_SEED
from pipeline.simulator import accounting as acc
from pipeline.simulator.seed import seed_store
from pipeline.simulator.store import Order

INPUTS = Path(__file__).resolve().parents[2] / "inputs"


class Picker:
    """Hands out distinct seeded orders matching a predicate, in a stable order."""

    def __init__(self) -> None:
        self.store = seed_store(orders=DEMO_ORDERS, seed=DEMO_SEED)
        self.names = Counter(o.name for o in self.store.orders.values())
        self.used: set[int] = set()

    def take(self, predicate: Callable[[Order], bool]) -> Order:
        for order in sorted(self.store.orders.values(), key=lambda o: o.number):
            if order.id not in self.used and self.names[order.name] == 1 and predicate(order):
                self.used.add(order.id)
                return order
        raise LookupError("no such order in the demo store")

    def duplicate_name(self) -> str:
        return next(name for name, n in sorted(self.names.items()) if n > 1)


def open_order(o: Order) -> bool:
    return not o.test and o.cancelled_at is None and acc.fulfillment_status(o) == "UNFULFILLED"


def plain(o: Order) -> bool:
    """Paid in full by card, in the shop's currency, with a customer: the common case."""
    gateways = {t.gateway for t in o.transactions}
    return (
        open_order(o)
        and acc.financial_status(o) == "PAID"
        and o.customer_id is not None
        and gateways <= {"shopify_payments", "paypal"}
        and o.presentment_currency == o.currency
    )


def multi_line(o: Order) -> bool:
    return plain(o) and len(o.line_items) >= 2 and all(li.sku for li in o.line_items)


def rows(p: Picker) -> Iterator[tuple[str, list[str]]]:
    """(file, row) pairs: French rows first, then English. Every order is used once."""
    fr, en = "fr", "en"
    for _ in range(3):
        yield (
            fr,
            [
                p.take(plain).name,
                "origine",
                "annuler",
                "",
                "",
                "",
                "",
                "non",
                "oui",
                "rupture",
                "Rupture fournisseur",
            ],
        )
    yield (
        fr,
        [
            p.take(plain).name,
            "avoir",
            "annuler",
            "",
            "",
            "",
            "",
            "non",
            "oui",
            "rupture",
            "Avoir proposé au client",
        ],
    )
    yield (
        fr,
        [
            p.take(plain).name,
            "carte-cadeau",
            "annuler",
            "",
            "",
            "",
            "",
            "non",
            "oui",
            "rupture",
            "Carte-cadeau à la place",
        ],
    )
    authorized = p.take(lambda o: open_order(o) and acc.financial_status(o) == "AUTHORIZED")
    yield (
        fr,
        [authorized.name, "aucun", "annuler", "", "", "", "", "oui", "non", "fraude", "Commande suspecte"],
    )
    yield (
        fr,
        [
            p.take(plain).name,
            "partiel",
            "annuler",
            "5,50",
            "",
            "",
            "non",
            "non",
            "oui",
            "rupture",
            "Geste commercial",
        ],
    )
    lines = p.take(multi_line)
    yield (
        fr,
        [
            lines.name,
            "partiel",
            "annuler",
            "",
            "",
            f"{lines.line_items[0].sku}:1",
            "",
            "non",
            "oui",
            "rupture",
            "Article en rupture",
        ],
    )
    yield (
        fr,
        [
            p.take(plain).name,
            "origine",
            "rembourser",
            "4,90",
            "",
            "",
            "non",
            "",
            "oui",
            "client",
            "Remboursement partiel",
        ],
    )
    yield fr, [p.take(plain).name, "avoir", "rembourser", "3,00", "", "", "non", "", "non", "client", ""]
    refunded = p.take(lambda o: open_order(o) and acc.financial_status(o) == "PARTIALLY_REFUNDED")
    yield (
        fr,
        [
            refunded.name,
            "origine",
            "annuler",
            "",
            "",
            "",
            "",
            "non",
            "oui",
            "rupture",
            "Déjà remboursée en partie",
        ],
    )
    yield fr, ["#99999", "origine", "annuler", "", "", "", "", "non", "oui", "rupture", "Numéro mal saisi"]
    cancelled = p.take(lambda o: o.cancelled_at is not None and acc.financial_status(o) == "PAID")
    yield fr, [cancelled.name, "origine", "annuler", "", "", "", "", "non", "oui", "rupture", ""]
    fulfilled = p.take(
        lambda o: not o.test and o.cancelled_at is None and acc.fulfillment_status(o) == "FULFILLED"
    )
    yield fr, [fulfilled.name, "origine", "annuler", "", "", "", "", "non", "oui", "rupture", "Déjà expédiée"]
    yield (
        fr,
        [
            p.take(lambda o: o.test and o.cancelled_at is None).name,
            "origine",
            "annuler",
            "",
            "",
            "",
            "",
            "non",
            "non",
            "autre",
            "",
        ],
    )
    for _ in range(3):
        yield (
            fr,
            [
                p.take(plain).name.removeprefix("#"),
                "origine",
                "annuler",
                "",
                "",
                "",
                "",
                "non",
                "oui",
                "rupture",
                "",
            ],
        )

    for _ in range(4):
        yield (
            en,
            [
                p.take(plain).name,
                "original",
                "cancel",
                "",
                "",
                "",
                "",
                "no",
                "yes",
                "inventory",
                "Supplier stock-out",
            ],
        )
    yield (
        en,
        [
            p.take(plain).name,
            "store_credit",
            "cancel",
            "",
            "",
            "",
            "",
            "no",
            "yes",
            "customer",
            "Customer asked",
        ],
    )
    yield en, [p.take(plain).name, "gift_card", "cancel", "", "", "", "", "no", "yes", "inventory", ""]
    yield en, [p.take(plain).name, "none", "cancel", "", "", "", "", "yes", "no", "fraud", "High-risk order"]
    yield (
        en,
        [
            p.take(plain).name,
            "partial",
            "cancel",
            "4.50",
            "",
            "",
            "no",
            "no",
            "yes",
            "inventory",
            "Goodwill amount",
        ],
    )
    lines = p.take(multi_line)
    yield (
        en,
        [
            lines.name,
            "partial",
            "refund_only",
            "",
            "",
            f"{lines.line_items[1].sku}:1",
            "",
            "yes",
            "yes",
            "inventory",
            "Damaged item",
        ],
    )
    yield en, [p.take(plain).name, "gift card", "refund_only", "2.50", "", "", "no", "", "no", "other", ""]
    multi = p.take(
        lambda o: (
            open_order(o)
            and acc.financial_status(o) == "PAID"
            and o.customer_id is not None
            and o.presentment_currency not in (o.currency, "JPY")
        )
    )
    yield (
        en,
        [
            multi.name,
            "original",
            "cancel",
            "",
            multi.presentment_currency,
            "",
            "",
            "no",
            "yes",
            "inventory",
            "Foreign customer",
        ],
    )
    split = p.take(
        lambda o: (
            open_order(o)
            and acc.financial_status(o) == "PAID"
            and {t.gateway for t in o.transactions} == {"gift_card", "shopify_payments"}
        )
    )
    yield (
        en,
        [
            split.name,
            "original",
            "refund_only",
            str(acc.net_payment(split) - Decimal("1.00")),
            "",
            "",
            "no",
            "",
            "yes",
            "customer",
            "Paid by card and gift card",
        ],
    )
    yield en, [p.duplicate_name(), "original", "cancel", "", "", "", "", "no", "yes", "inventory", ""]
    yield (
        en,
        [
            p.take(plain).name,
            "original",
            "refund_only",
            "99999.00",
            "",
            "",
            "no",
            "",
            "yes",
            "customer",
            "Typo in amount",
        ],
    )
    nobody = p.take(lambda o: open_order(o) and acc.financial_status(o) == "PAID" and o.customer_id is None)
    yield (
        en,
        [nobody.name, "store_credit", "cancel", "", "", "", "", "no", "yes", "inventory", "Guest checkout"],
    )
    euro = p.take(plain)
    yield (
        en,
        [
            euro.name,
            "original",
            "cancel",
            "",
            "GBP",
            "",
            "",
            "no",
            "yes",
            "inventory",
            "Wrong currency column",
        ],
    )
    many = p.take(multi_line)
    yield (
        en,
        [
            many.name,
            "partial",
            "refund_only",
            "",
            "",
            f"{many.line_items[0].sku}:99",
            "",
            "no",
            "yes",
            "inventory",
            "",
        ],
    )
    for _ in range(2):
        yield en, [p.take(plain).name, "original", "cancel", "", "", "", "", "no", "yes", "inventory", ""]


FRENCH_HEADER = (
    "Commande;Mode de remboursement;Action;Montant;Devise;Articles;Frais de port;Remise en stock;"
    "Prévenir le client;Motif;Commentaire"
)
ENGLISH_HEADER = [
    "Order number",
    "Refund mode",
    "Action",
    "Refund amount",
    "Currency",
    "Items",
    "Shipping",
    "Restock",
    "Notify customer",
    "Reason",
    "Staff note",
]


STOCK_OUT = "stock_out_orders_export.csv"


def stock_out_export(p: Picker) -> tuple[str, bytes]:
    """A Shopify orders export (the 79-column header, one row per line item) of plain paid unfulfilled
    orders the other samples do not use, for the SKU that gives the most cancellations and line refunds;
    the merchant appended "Refund mode" and "Notify customer" on each order's first row."""
    from tests.data.make_exports import HEADER_79, export_csv, export_rows, spec_from_order

    candidates = [
        o
        for o in sorted(p.store.orders.values(), key=lambda o: o.number)
        if o.id not in p.used and p.names[o.name] == 1 and plain(o) and all(li.sku for li in o.line_items)
    ]

    def skus(o: Order) -> list[str]:
        return [li.sku or "" for li in o.line_items]

    def score(sku: str) -> tuple[int, int, str]:
        full = sum(1 for o in candidates if set(skus(o)) == {sku})
        partial = sum(1 for o in candidates if sku in skus(o) and set(skus(o)) != {sku})
        return min(full, partial), full + partial, sku

    sku = max({s for o in candidates for s in skus(o)}, key=score)
    full = [o for o in candidates if set(skus(o)) == {sku} and skus(o).count(sku) == 1][:6]
    partial = [o for o in candidates if sku in skus(o) and len(skus(o)) > 1 and skus(o).count(sku) == 1][:10]
    unaffected = [o for o in candidates if sku not in skus(o) and len(skus(o)) > 1][:4]
    chosen = sorted(full + partial + unaffected, key=lambda o: o.number, reverse=True)  # newest first
    specs = []
    for order in chosen:
        p.used.add(order.id)
        spec = spec_from_order(p.store, order)
        spec.appended = {"Refund mode": "original", "Notify customer": "yes"}
        specs.append(spec)
    rows = export_rows(specs, HEADER_79, ["Refund mode", "Notify customer"])
    return sku, export_csv(rows)


def write_samples() -> None:
    picker = Picker()
    picked = list(rows(picker))
    french = [FRENCH_HEADER] + [";".join(r) for lang, r in picked if lang == "fr"]
    INPUTS.mkdir(exist_ok=True)
    (INPUTS / "annulations_rupture.csv").write_bytes(
        codecs.BOM_UTF8 + ("\r\n".join(french) + "\r\n").encode()
    )
    book = Workbook()
    sheet = book.active
    sheet.title = "Cancellations"
    sheet.append(ENGLISH_HEADER)
    for lang, r in picked:
        if lang == "en":
            amount = Decimal(r[3]) if r[3] else None  # a number cell, as people type it in Excel
            sheet.append([r[0], r[1], r[2], amount, *[v or None for v in r[4:]]])
    book.save(INPUTS / "cancellations.xlsx")
    sku, export = stock_out_export(picker)
    (INPUTS / STOCK_OUT).write_bytes(export)
    print(f"{STOCK_OUT}: plan it with --only-sku {sku}")


if __name__ == "__main__":
    write_samples()
    print(f"wrote {INPUTS / 'annulations_rupture.csv'} and {INPUTS / 'cancellations.xlsx'}")
