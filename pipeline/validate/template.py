"""`bulkcancel template OUT.xlsx|OUT.csv`: a file to fill in, with dropdowns and a sheet explaining each
column (xlsx), or the header and the example row (csv)."""

from __future__ import annotations

import csv
from pathlib import Path

from xlsxwriter import Workbook

from pipeline.errors import InputError
from pipeline.reports.worksheet import BOLD, HEADER_FILL, Looks, SheetWriter, close, open_workbook
from pipeline.validate import columns as C

#: Rows that get the dropdowns; enough for a big stock-out, small enough to keep the file light.
TEMPLATE_ROWS = 5000

#: The Orders sheet's columns: `order_id` is for files that have Shopify's ids (the help sheet says so).
TEMPLATE_COLUMNS = tuple(column for column in C.COLUMNS if column != C.ORDER_ID)

_CHOICES = {
    C.REFUND_MODE: "original,store_credit,gift_card,none,partial",
    C.ACTION: "cancel,refund_only",
    C.REASON: "customer,inventory,fraud,declined,staff,other",
    C.RESTOCK: "yes,no",
    C.NOTIFY: "yes,no",
    C.SHIPPING: "yes,no",
}
_EXAMPLE = {
    C.ORDER: "#1001",
    C.REFUND_MODE: "original",
    C.ACTION: "cancel",
    C.AMOUNT: None,
    C.CURRENCY: "EUR",
    C.LINES: "",
    C.SHIPPING: "yes",
    C.RESTOCK: "no",
    C.NOTIFY: "yes",
    C.REASON: "inventory",
    C.NOTE: C.TEMPLATE_EXAMPLE_NOTE,
}
_HELP = {
    C.ORDER: ("yes, unless order_id", "#1001, 1001, EU-1001 or gid://shopify/Order/123", ""),
    C.ORDER_ID: (
        "no",
        "Shopify's order id (6100000002079) or its gid; with order too, both must name the same order",
        "",
    ),
    C.REFUND_MODE: (
        "yes, unless --default-mode",
        "original, store_credit, gift_card, none; partial = original with an amount or lines",
        "",
    ),
    C.ACTION: (
        "no",
        "cancel, or refund_only to refund and leave the order open",
        "refund_only with an amount or lines, else cancel",
    ),
    C.AMOUNT: (
        "no",
        "money in the order's currency, more than 0 (12.50, 12,50, £3.20, 5 EUR)",
        "full refundable amount",
    ),
    C.CURRENCY: ("no", "ISO code such as EUR; must be the order's currency", ""),
    C.LINES: ("no", "SKU:qty;SKU:qty, refund (and restock) only these units", ""),
    C.SHIPPING: ("no", "yes/no, or a shipping amount to refund", "yes for a full refund, no otherwise"),
    C.RESTOCK: ("no", "yes/no", "--restock, else no"),
    C.NOTIFY: ("no", "yes/no: email the customer", "--notify, else no; gift cards: yes"),
    C.REASON: ("no", "customer, inventory, fraud, declined, staff, other", "--reason, else inventory"),
    C.NOTE: ("no", "staff note, at most 255 characters", ""),
}


def write_template(path: Path) -> Path:
    """Write the template (`.xlsx` or `.csv`) to `path` and return it; `InputError` for another ending or
    when it cannot be written."""
    suffix = path.suffix.casefold()
    if suffix not in (".xlsx", ".csv"):
        raise InputError(
            f"{path.name}: a template is written as .xlsx or .csv (for example cancellations.xlsx)"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            _write_csv(path)
        else:
            _write_workbook(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the template ({exc.strerror})") from None
    return path


def _write_csv(path: Path) -> None:
    # utf-8-sig: Excel opens it with the accents intact; the reader takes the BOM off.
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(TEMPLATE_COLUMNS)
        writer.writerow(["" if _EXAMPLE[column] is None else _EXAMPLE[column] for column in TEMPLATE_COLUMNS])


def _write_workbook(path: Path) -> None:
    workbook = open_workbook(path, "bulkcancel template")
    looks = Looks(workbook)
    orders = SheetWriter(workbook.add_worksheet("Orders"), looks)
    # Text format, so Excel keeps `1001` and `0012` as typed instead of turning them into numbers.
    typed = workbook.add_format({"num_format": "@"})
    example = workbook.add_format({"italic": True, "font_color": "#808080"})
    example_typed = workbook.add_format({"italic": True, "font_color": "#808080", "num_format": "@"})
    for position, column in enumerate(TEMPLATE_COLUMNS):
        as_text = column in (C.ORDER, C.LINES, C.CURRENCY)
        width = 42 if column == C.NOTE else max(14, len(column) + 4)
        orders.sheet.set_column(position, position, width, typed if as_text else None)
        orders.text(position, column, BOLD, HEADER_FILL)
        if column in _CHOICES:
            orders.sheet.data_validation(
                1,
                position,
                TEMPLATE_ROWS,
                position,
                {
                    "validate": "list",
                    "source": _CHOICES[column].split(","),
                    "ignore_blank": True,
                    # Shipping also takes an amount, so its list only suggests.
                    "show_error": column != C.SHIPPING,
                    "error_message": f"Choose one of: {_CHOICES[column]}",
                },
            )
    orders.next()
    for position, column in enumerate(TEMPLATE_COLUMNS):
        value = _EXAMPLE[column]
        if value is not None:  # our own words: written as strings all the same
            look = example_typed if column in (C.ORDER, C.LINES, C.CURRENCY) else example
            orders.sheet.write_string(orders.row, position, value, look)
    orders.sheet.freeze_panes(1, 0)
    _write_help(workbook, SheetWriter(workbook.add_worksheet("Columns"), looks))
    close(workbook)


def _write_help(workbook: Workbook, help_: SheetWriter) -> None:
    for position, width in enumerate((14, 24, 60, 32, 70)):
        help_.sheet.set_column(position, position, width)
    for position, title in enumerate(
        ["column", "required", "values", "default", "other headers accepted (EN / FR)"]
    ):
        help_.text(position, title, BOLD)
    help_.next()
    wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
    for column in C.COLUMNS:
        required, values, default = _HELP[column]
        for position, text in enumerate((column, required, values, default, ", ".join(C.aliases(column)))):
            if text:
                help_.sheet.write_string(help_.row, position, text, wrapped)
        help_.next()
    help_.next()
    for line in (
        "Yes/no cells accept yes/no, y/n, true/false, 1/0, x, oui/non, vrai/faux; blank takes the default.",
        "Delete the grey example row on the Orders sheet before use: a file that still holds it is refused.",
    ):
        help_.sheet.write_string(help_.row, 0, line, wrapped)
        help_.next()
