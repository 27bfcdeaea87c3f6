"""Writes the merchant-file corpus (SPEC §5a) in tests/data/: `python -m tests.data.make_exports`.

Shopify's orders export in its 79-column form and its older 71/73/75/78-column forms, Matrixify Orders
sheets, and the damage spreadsheets do to them; tests/test_exports.py holds what each must give.
`export_csv` is also how tests and inputs/ write exports of the simulator's seeded orders.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from pipeline.simulator import accounting as acc
from pipeline.simulator.store import Order, Store
from pipeline.validate.exports import SHOPIFY_COLUMNS

HERE = Path(__file__).parent

#: The export's header as it grew: each older form lacks the columns Shopify added since.
HEADER_79 = tuple(SHOPIFY_COLUMNS)
HEADER_78 = tuple(c for c in HEADER_79 if c != "Payment References")
HEADER_75 = tuple(
    c for c in HEADER_78 if c not in ("Payment ID", "Payment Terms Name", "Next Payment Due At")
)
HEADER_73 = tuple(
    c
    for c in HEADER_79
    if c
    not in ("Outstanding Balance", "Employee", "Location", "Device ID", "Payment ID", "Payment References")
)
HEADER_71 = tuple(c for c in HEADER_73 if c not in ("Payment Terms Name", "Next Payment Due At"))
assert [len(h) for h in (HEADER_79, HEADER_78, HEADER_75, HEADER_73, HEADER_71)] == [79, 78, 75, 73, 71]

#: A continuation row repeats these (plus every Lineitem column); the rest stays blank.
_REPEATED = ("Name", "Email", "Created at", "Vendor", "Lineitem discount")


@dataclass
class Line:
    sku: str
    quantity: int
    title: str = "Cotton tee"
    price: str = "19.90"


@dataclass
class Spec:
    """One order as its export rows show it."""

    name: str
    id: str
    lines: list[Line]
    email: str = "anna.martin@example.com"
    financial: str = "paid"
    fulfillment: str = "unfulfilled"
    currency: str = "EUR"
    created: str = "2026-03-02 10:14:07 +0100"
    notes: str = ""
    shipping: str = "4.90"
    customer: str = "Anna Martin"
    appended: dict[str, str] = field(default_factory=dict)  # user's refund columns, first row
    appended_rest: dict[str, str] = field(default_factory=dict)  # the same on continuation rows


def _first_row(spec: Spec) -> dict[str, str]:
    subtotal = sum(Decimal(line.price) * line.quantity for line in spec.lines)
    taxes = (subtotal * Decimal("0.2") / Decimal("1.2")).quantize(Decimal("0.01"))
    total = subtotal + Decimal(spec.shipping)
    address = {
        "Name": spec.customer, "Street": "12 rue des Lilas", "Address1": "12 rue des Lilas", "Address2": "",
        "Company": "", "City": "Lyon", "Zip": "'69003", "Province": "", "Country": "FR", "Phone": "",
    }  # fmt: skip
    row = {
        "Name": spec.name,
        "Email": spec.email,
        "Financial Status": spec.financial,
        "Paid at": spec.created if spec.financial == "paid" else "",
        "Fulfillment Status": spec.fulfillment,
        "Accepts Marketing": "no",
        "Currency": spec.currency,
        "Subtotal": f"{subtotal:.2f}",
        "Shipping": spec.shipping,
        "Taxes": f"{taxes:.2f}",
        "Total": f"{total:.2f}",
        "Discount Amount": "0.00",
        "Shipping Method": "Colissimo",
        "Created at": spec.created,
        "Notes": spec.notes,
        "Payment Method": "Shopify Payments",
        "Payment Reference": f"c{spec.id}.1",
        "Refunded Amount": "0.00",
        "Outstanding Balance": "0.00",
        "Id": spec.id,
        "Risk Level": "Low",
        "Source": "web",
        "Tax 1 Name": "FR TVA 20%",
        "Tax 1 Value": f"{taxes:.2f}",
        "Billing Province Name": "",
        "Payment ID": f"c{spec.id}.1",
        "Payment References": f"c{spec.id}.1",
    }
    for prefix in ("Billing", "Shipping"):
        row.update({f"{prefix} {key}": value for key, value in address.items()})
    return row


def _line_columns(line: Line, fulfillment: str) -> dict[str, str]:
    return {
        "Lineitem quantity": str(line.quantity),
        "Lineitem name": f"{line.title} - {line.sku[-1]}",
        "Lineitem price": line.price,
        "Lineitem compare at price": "",
        "Lineitem sku": line.sku,
        "Lineitem requires shipping": "true",
        "Lineitem taxable": "true",
        "Lineitem fulfillment status": "fulfilled" if fulfillment == "fulfilled" else "pending",
        "Vendor": "Atelier Demo",
        "Lineitem discount": "0.00",
    }


def export_rows(
    specs: Iterable[Spec], header: Sequence[str], appended: Sequence[str] = ()
) -> list[list[str]]:
    """The header row and one row per line item, as Shopify writes them."""
    rows = [[*header, *appended]]
    for spec in specs:
        first = _first_row(spec)
        for n, line in enumerate(spec.lines):
            values = first if n == 0 else {k: v for k, v in first.items() if k in _REPEATED}
            values = {**values, **_line_columns(line, spec.fulfillment)}
            extra = spec.appended if n == 0 else spec.appended_rest
            rows.append([values.get(c, "") for c in header] + [extra.get(c, "") for c in appended])
    return rows


def export_csv(
    rows: list[list[str]],
    delimiter: str = ",",
    newline: str = "\n",
    bom: bool = False,
    encoding: str = "utf-8",
) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode(encoding)


def spec_from_order(store: Store, order: Order) -> Spec:
    """A seeded order as its export shows it (simulator → a file merchants already have)."""
    customer = store.customers.get(order.customer_id) if order.customer_id else None
    status = acc.financial_status(order) or "pending"
    return Spec(
        name=order.name,
        id=str(order.id),
        lines=[Line(li.sku or "", li.quantity, li.title, str(li.unit_price)) for li in order.line_items],
        email=order.email or "",
        financial=status.lower(),
        fulfillment=acc.fulfillment_status(order).lower(),
        currency=order.presentment_currency,
        created=order.created_at.strftime("%Y-%m-%d %H:%M:%S +0000"),
        shipping=str(acc.shipping_total(order)),
        customer=f"{customer.first_name} {customer.last_name}" if customer else "",
    )


def _zip(name: str, members: dict[str, bytes]) -> None:
    """A zip whose bytes depend on its content only (a fixed date on every member)."""
    with zipfile.ZipFile(HERE / name, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(
                zipfile.ZipInfo(member, date_time=(2026, 3, 12, 9, 0, 0)), data, zipfile.ZIP_DEFLATED
            )


def _write(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def _workbook(
    name: str, rows: list[list[object]], title: str = "Sheet1", merge: Sequence[str] = (), before: str = ""
) -> Workbook:
    book = Workbook()
    if before:
        book.active.title = before
        book.active.append(["Export summary", "3 orders"])
        sheet = book.create_sheet(title)
    else:
        sheet = book.active
        sheet.title = title
    for row in rows:
        sheet.append(row)
    for cells in merge:
        sheet.merge_cells(cells)
    return book


BASIC = [
    Spec("#1001", "5601234567001", [Line("BC-07M", 2, "Denim jeans", "68.90"), Line("BC-02S", 1)]),
    Spec(
        "#1002", "5601234567002", [Line("BC-07M", 1, "Denim jeans", "68.90")], email="louis.klein@example.com"
    ),
    Spec(
        "#1003",
        "5601234567003",
        [
            Line("BC-02S", 1),
            Line("BC-11L", 3, "Knit beanie", "24.90"),
            Line("BC-07M", 1, "Denim jeans", "68.90"),
        ],
        email="marta.rossi@example.com",
    ),
]
REFUND = ["Refund mode", "Notify customer", "Staff note"]


def write_exports() -> None:
    for header in (HEADER_79, HEADER_78, HEADER_75, HEADER_73, HEADER_71):
        _write(f"orders_export_{len(header)}_columns.csv", export_csv(export_rows(BASIC, header)))
    notes = [
        Spec(
            "#1004",
            "5601234567004",
            [Line("BC-07M", 1), Line("BC-03M", 1)],
            notes='Please leave at the "green door" 🚪\nsecond floor, ring twice 🙏\n\n— thanks!',
        ),
        Spec("#1005", "5601234567005", [Line("BC-07M", 1)], notes="Cadeau 🎁 pour « Zoé »"),
    ]
    _write("orders_export_multiline_notes_emoji.csv", export_csv(export_rows(notes, HEADER_79)))
    _write("orders_export_crlf_bom.csv", export_csv(export_rows(notes, HEADER_79), newline="\r\n", bom=True))
    custom = [
        Spec("#AP-512187", "5601234567011", [Line("BC-07M", 1)]),
        Spec("Her2065", "5601234567012", [Line("BC-07M", 1), Line("BC-01S", 2)]),
        Spec("2518826", "5601234567013", [Line("BC-07M", 1)]),
        Spec("#10684-EXC", "5601234567014", [Line("BC-01S", 1), Line("BC-07M", 4)]),
        Spec("EU-1203", "5601234567015", [Line("BC-07M", 1)]),
    ]
    _write("orders_export_custom_names.csv", export_csv(export_rows(custom, HEADER_79)))
    # Excel's text marker and characters picked up on the way: apostrophes, zero-width, NBSP, BOM, NFD.
    damaged = [
        Spec("'#1006", "'5601234567006", [Line("BC-07M", 1)], appended={"Staff note": "Rupture de stock"}),
        Spec(
            "#1007\u200b",
            "5601234567007\u00a0",
            [Line("\ufeffBC-07M", 1)],
            appended={"Staff note": "Cafe\u0301 renverse\u0301"},
        ),
    ]
    _write(
        "orders_export_apostrophes_invisible.csv",
        export_csv(export_rows(damaged, HEADER_79, ["Staff note"])),
    )
    # Excel re-saved it: `;` separators, decimal commas, the long Ids shown as 5,60123E+12.
    resaved = export_rows(BASIC, HEADER_79)
    id_at = HEADER_79.index("Id")
    for row in resaved[1:]:
        for i, cell in enumerate(row):
            if cell.replace(".", "").isdigit() and "." in cell:
                row[i] = cell.replace(".", ",")
    resaved[4][id_at] = "5,60123E+12"
    _write("orders_export_excel_resave_semicolon.csv", export_csv(resaved, ";", "\r\n", encoding="cp1252"))
    appended = [
        Spec("#1008", "5601234567008", [Line("BC-07M", 1), Line("BC-02S", 1)],
             appended={"Refund mode": "store credit", "Notify customer": "yes", "Staff note": "Avoir"}),
        Spec("#1009", "5601234567009", [Line("BC-07M", 1), Line("BC-02S", 1)],
             appended={"Refund mode": "original", "Notify customer": "no"},
             appended_rest={"Refund mode": "original", "Notify customer": "no"}),
    ]  # fmt: skip
    _write("orders_export_appended_refund_columns.csv", export_csv(export_rows(appended, HEADER_79, REFUND)))
    disagree = [
        Spec("#1010", "5601234567010", [Line("BC-07M", 1), Line("BC-02S", 1), Line("BC-03M", 1)],
             appended={"Refund mode": "original"}, appended_rest={"Refund mode": "store credit"}),
    ]  # fmt: skip
    _write(
        "orders_export_disagreeing_refund_columns.csv", export_csv(export_rows(disagree, HEADER_79, REFUND))
    )
    part1 = export_rows(BASIC[:2], HEADER_79)
    part2 = export_rows(BASIC[1:], HEADER_79)  # #1002 is in both parts
    _zip(
        "orders_export_parts.zip",
        {"orders_export_1.csv": export_csv(part1), "orders_export_2.csv": export_csv(part2)},
    )
    _write("orders_export_part_old_header.csv", export_csv(export_rows(BASIC[2:], HEADER_75)))
    titled = [
        ["Stock-out BC-07M — orders to cancel"],
        ["Exported 2026-03-12 by Léa"],
        *export_rows(BASIC, HEADER_79),
    ]
    _write("orders_export_title_rows.csv", export_csv(titled))
    totals = export_rows(BASIC, HEADER_79)
    footer = [""] * len(HEADER_79)
    footer[0], footer[HEADER_79.index("Total")] = "Total", "290.50"
    _write("orders_export_totals_row.csv", export_csv([*totals, footer]))
    duplicate_names = [
        Spec("#1001", "5601234567001", [Line("BC-07M", 1)]),
        Spec("#1001", "5601234567099", [Line("BC-07M", 1), Line("BC-02S", 1)], email="omar.berg@example.com"),
    ]
    _write("orders_export_same_name_two_ids.csv", export_csv(export_rows(duplicate_names, HEADER_79)))
    _xlsx_files()
    _matrixify_files()
    _wrong_files()


def _xlsx_files() -> None:
    rows: list[list[object]] = [list(r) for r in export_rows(BASIC, HEADER_79)]
    name_at, id_at = HEADER_79.index("Name"), HEADER_79.index("Id")
    # Opened in Excel and saved: numbers where the text looked like one.
    numeric = [list(r) for r in rows]
    for row in numeric[1:]:
        row[name_at] = float(str(row[name_at]).lstrip("#"))
        if row[id_at]:
            row[id_at] = float(str(row[id_at]))
    _workbook("orders_export", numeric, "orders_export").save(HERE / "orders_export_numeric_cells.xlsx")
    # Someone merged each order's Name cells "to make it readable".
    _workbook("merged", rows, "orders_export", merge=("A2:A3",)).save(
        HERE / "orders_export_merged_names.xlsx"
    )
    quoted = _workbook("quoted", rows, "orders_export")
    for row in quoted.active.iter_rows(min_row=2):
        for cell in (row[name_at], row[id_at]):
            if cell.value:
                cell.quotePrefix = True  # Excel's `'` text marker, kept as a style
    quoted.save(HERE / "orders_export_quote_prefix.xlsx")


MATRIXIFY_HEADER = [
    "ID", "Name", "Command", "Email", "Note", "Tags", "Created At", "Currency", "Line: Type", "Line: ID",
    "Line: Title", "Line: SKU", "Line: Quantity", "Line: Price", "Payment: Status", "Transaction: Kind",
    "Transaction: Amount", "Cancel: Reason", "Cancel: Send Receipt", "Cancel: Refund",
]  # fmt: skip


def _matrixify_rows(cancel: bool) -> list[list[object]]:
    def row(
        oid: str, name: str, kind: str, sku: str, qty: object, reason: str, send: object, refund: object
    ) -> list[object]:
        transaction = "sale" if kind == "Transaction" else ""
        cells: list[object] = [
            oid, name, "UPDATE", "anna.martin@example.com", "Gift wrap", "vip", "2026-03-02 10:14:07 +0100",
            "EUR", kind, "", "Cotton tee", sku, qty, "19.90", "paid", transaction, "", reason, send, refund,
        ]  # fmt: skip
        return cells if cancel else cells[:-3]

    return [
        MATRIXIFY_HEADER if cancel else MATRIXIFY_HEADER[:-3],
        row("5601234567021", "#2001", "Line Item", "BC-07M", 2, "inventory", True, True),
        row("5601234567021", "#2001", "Line Item", "BC-02S", 1, "inventory", True, True),
        row("5601234567021", "#2001", "Shipping Line", "", "", "inventory", True, True),
        row("5601234567021", "#2001", "Transaction", "", "", "inventory", True, True),
        row("5601234567022", "#2002", "Line Item", "BC-07M", 1, "customer", False, False),
        row("5601234567022", "#2002", "Transaction", "", "", "customer", False, False),
    ]


def _matrixify_files() -> None:
    _workbook("matrixify", _matrixify_rows(True), "Orders", before="Export Summary").save(
        HERE / "matrixify_cancel_orders.xlsx"
    )
    text = [
        [str(c) if not isinstance(c, bool) else str(c).upper() for c in r] for r in _matrixify_rows(False)
    ]
    _zip("matrixify_orders_csv.zip", {"Orders.csv": export_csv(text)})


def _wrong_files() -> None:
    transactions = [
        ["Order", "Name", "Kind", "Gateway", "Created At", "Status", "Amount", "Currency", "Card Type"],
        ["5601234567001", "#1001", "sale", "shopify_payments", "2026-03-02 10:14:09 +0100", "success",
         "159.70", "EUR", "visa"],
    ]  # fmt: skip
    _write("transactions_export.csv", export_csv(transactions))
    products = [
        ["Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
         "Option1 Name", "Option1 Value", "Variant SKU", "Variant Grams", "Variant Price", "Status"],
        ["denim-jeans", "Denim jeans", "<p>Blue</p>", "Atelier Demo", "Apparel", "Jeans", "", "TRUE", "Size",
         "M", "BC-07M", "600", "68.90", "active"],
    ]  # fmt: skip
    _write("products_export.csv", export_csv(products))


if __name__ == "__main__":
    write_exports()
    print(f"wrote the merchant-file corpus in {HERE}")
