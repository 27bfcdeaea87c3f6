"""Files merchants already have (SPEC §5a): Shopify's orders export and Matrixify Orders sheets.

Both are recognised by their headers and hold one row per line item. `line_frame` keeps, per file
row, the order's Name and Id, the line's SKU and quantity and the refund columns the user appended;
`group_orders` turns those rows into one row per order; `only_sku` turns a stock-out into actions.
Wrong files (Shopify's transaction history, a products export) are refused by name.

Column lists: Shopify's orders export header as shipped today (79 columns) and in its older 71/73/75/78
column forms, always matched by name; Matrixify's Orders template (matrixify.app/documentation/orders).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from pipeline.validate import columns as C
from pipeline.validate.input_table import SOURCE, InputTable
from pipeline.validate.rows import Problem
from pipeline.validate.spreadsheet import column_letter

SHOPIFY_EXPORT = "shopify_orders_export"
MATRIXIFY = "matrixify_orders"

ORDER_ID = C.ORDER_ID  # the file's order Id (`Id`, Matrixify `ID`), as written
SKU = "_sku"
QUANTITY = "_quantity"
LINE_TYPE = "_line_type"  # Matrixify `Line: Type`: only "Line Item" rows are line items
ITEMS = "_items"  # per order: ((sku, quantity text), ...)

#: Shopify's orders export, newest form (79 columns). Older exports lack some of these; none has others.
# fmt: off
SHOPIFY_COLUMNS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code",
    "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name",
    "Lineitem price", "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping",
    "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Billing Street", "Billing Address1",
    "Billing Address2", "Billing Company", "Billing City", "Billing Zip", "Billing Province",
    "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street", "Shipping Address1",
    "Shipping Address2", "Shipping Company", "Shipping City", "Shipping Zip", "Shipping Province",
    "Shipping Country", "Shipping Phone", "Notes", "Note Attributes", "Cancelled at", "Payment Method",
    "Payment Reference", "Refunded Amount", "Vendor", "Outstanding Balance", "Employee", "Location",
    "Device ID", "Id", "Tags", "Risk Level", "Source", "Lineitem discount", "Tax 1 Name", "Tax 1 Value",
    "Tax 2 Name", "Tax 2 Value", "Tax 3 Name", "Tax 3 Value", "Tax 4 Name", "Tax 4 Value", "Tax 5 Name",
    "Tax 5 Value", "Phone", "Receipt Number", "Duties", "Billing Province Name", "Shipping Province Name",
    "Payment ID", "Payment Terms Name", "Next Payment Due At", "Payment References",
]
# fmt: on
_SHOPIFY_KEYS = frozenset(C.fold(name) for name in SHOPIFY_COLUMNS)
#: Matrixify's own columns without a `Prefix:` (those with one are all Matrixify's, `Cancel:` read).
_MATRIXIFY_BASIC = frozenset(
    C.fold(name)
    for name in (
        "ID", "Name", "Command", "Send Receipt", "Inventory Behaviour", "Number", "Phone", "Email", "Note",
        "Tags", "Tags Command", "Created At", "Updated At", "Cancelled At", "Processed At", "Closed At",
        "Currency", "Source", "Source Identifier", "Physical Location", "User ID", "Checkout ID",
        "Cart Token", "Token", "Order Status URL", "Weight Total", "Row #", "Top Row", "Additional Details",
        "Payment Terms Name", "Payment Terms Type", "Payment Due At",
    )
)  # fmt: skip

_ANCHORS = {
    SHOPIFY_EXPORT: {"name", "financialstatus", "lineitemquantity", "id"},
    MATRIXIFY: {"name", "linetype", "paymentstatus"},
}


def detect(header: Sequence[str]) -> str | None:
    """`SHOPIFY_EXPORT`, `MATRIXIFY` or None; raises `InputError` for a Shopify file of the wrong kind."""
    keys = {C.fold(text) for text in header if text}
    for kind, anchors in _ANCHORS.items():
        if anchors <= keys:
            return kind
    if {"kind", "gateway"} <= keys and keys & {"order", "name"} and "amount" in keys:
        raise InputError(
            "this is Shopify's transaction-history export (one row per payment), not a list of orders: "
            "in the Shopify admin, select the orders and choose Export → Orders (not transaction "
            "histories), or list the order numbers in a file of your own"
        )
    if "handle" in keys and keys & {"variantsku", "variantprice", "title"}:
        raise InputError(
            "this is a Shopify products export (one row per product variant), not a list of orders: "
            "filter the Orders page by that product, export the orders, and give that export with "
            "--only-sku <the SKU>"
        )
    return None


def map_columns(kind: str, header: Sequence[str], warnings: list[str]) -> dict[int, str]:
    """Header position → column of the line frame; the export's own columns are not bulkcancel's."""
    mapping: dict[int, str] = {}
    ignored: list[str] = []
    own = {
        SHOPIFY_EXPORT: {"name": C.ORDER, "id": ORDER_ID, "lineitemsku": SKU, "lineitemquantity": QUANTITY},
        MATRIXIFY: {
            "name": C.ORDER,
            "id": ORDER_ID,
            "linesku": SKU,
            "linequantity": QUANTITY,
            "linetype": LINE_TYPE,
            "cancelreason": C.REASON,
            "cancelrefund": C.REFUND_MODE,
            "cancelsendreceipt": C.NOTIFY,
        },
    }[kind]
    taken: set[str] = set()
    for position, text in enumerate(header):
        if not text:
            continue
        key = C.fold(text)
        column = own.get(key)
        if column is None:
            if (kind == SHOPIFY_EXPORT and key in _SHOPIFY_KEYS) or (
                kind == MATRIXIFY and (":" in text or key in _MATRIXIFY_BASIC)
            ):
                if kind == MATRIXIFY:
                    ignored.append(text)
                continue
            column = C.match_header(text)  # a refund column the user appended (SPEC §5)
            if column is None:
                warnings.append(
                    f'column {column_letter(position)} "{text}" is not a bulkcancel column: it is ignored'
                )
                continue
        if column in taken:
            warnings.append(f'column {column_letter(position)} "{text}" repeats a column: it is ignored')
            continue
        taken.add(column)
        mapping[position] = column
    if ignored:
        shown = ", ".join(ignored[:6]) + (f" and {len(ignored) - 6} more" if len(ignored) > 6 else "")
        warnings.append(f"Matrixify columns not used by bulkcancel are ignored: {shown}")
    return mapping


def _clean(texts: np.ndarray) -> np.ndarray:
    return np.array([C.clean_cell(str(t)).removeprefix("'").strip() for t in texts], dtype=object)


def group_orders(table: InputTable) -> InputTable:
    """One row per order: grouped by Name (Shopify; a new `Id` starts a new order) or by ID else Name
    (Matrixify); the first row's Id and number; refund columns agreed over the order's rows; duplicates
    by Id (within or across parts) read once and reported."""
    frame = table.frame
    size = len(frame)
    empty = np.full(size, "", dtype=object)
    names = _clean(frame[C.ORDER].to_numpy()) if C.ORDER in frame else empty
    ids = _clean(frame[ORDER_ID].to_numpy()) if ORDER_ID in frame else empty
    sources = frame[SOURCE].to_numpy() if SOURCE in frame else empty
    if table.kind == MATRIXIFY:
        keys = pd.Series(
            [f"{s}\0{i}" if i else f"{s}\0\0{n}" for s, i, n in zip(sources, ids, names, strict=True)]
        )
        codes, _ = pd.factorize(keys)
    else:
        start = np.ones(size, dtype=bool)
        if size > 1:
            start[1:] = (ids[1:] != "") | (names[1:] != names[:-1]) | (sources[1:] != sources[:-1])
        codes = np.cumsum(start) - 1
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    groups = np.split(order, bounds) if size else []
    numbers = frame.index.to_numpy()
    refund_columns = [c for c in C.COLUMNS if c in frame and c not in (C.ORDER, C.ORDER_ID)]
    texts = {c: frame[c].to_numpy() for c in refund_columns}
    if C.REFUND_MODE in texts and table.kind == MATRIXIFY:
        texts[C.REFUND_MODE] = np.array([_cancel_refund(t) for t in texts[C.REFUND_MODE]], dtype=object)
    skus = frame[SKU].to_numpy() if SKU in frame else None
    quantities = frame[QUANTITY].to_numpy() if QUANTITY in frame else empty
    line_types = frame[LINE_TYPE].to_numpy() if LINE_TYPE in frame else None
    warnings = list(table.warnings)
    problems = list(table.problems)
    seen: dict[str, int] = {}
    kept: list[np.ndarray] = []
    for positions in groups:
        first = int(positions[0])
        order_id = next((ids[p] for p in positions if ids[p]), "")
        if order_id and order_id in seen:
            where = _where(sources, numbers, seen[order_id])
            warnings.append(
                f"order {names[first]} (Id {order_id}) is listed again at {_where(sources, numbers, first)} "
                f"after {where}: it is read once"
            )
            continue
        if order_id:
            seen[order_id] = first
        kept.append(positions)
    out: dict[str, list[object]] = {C.ORDER: [], ORDER_ID: [], ITEMS: []}
    for column in refund_columns:
        out[column] = []
    if SOURCE in frame:
        out[SOURCE] = []
    index: list[int] = []
    for positions in kept:
        first = int(positions[0])
        index.append(int(numbers[first]))
        out[C.ORDER].append(frame[C.ORDER].iat[first] if C.ORDER in frame else "")
        out[ORDER_ID].append(next((ids[p] for p in positions if ids[p]), ""))
        if SOURCE in frame:
            out[SOURCE].append(sources[first])
        items: list[tuple[str, str]] = []
        if skus is not None:
            for p in positions:
                if line_types is None or C.fold(str(line_types[p])) == "lineitem":
                    items.append((C.clean_cell(str(skus[p])), C.clean_cell(str(quantities[p]))))
        out[ITEMS].append(tuple(items))
        for column in refund_columns:
            out[column].append(_agreed(column, texts[column], positions, numbers, sources, names, problems))
    grouped = pd.DataFrame(out, index=pd.Index(index, name="row"), dtype=object)
    return dataclasses.replace(table, frame=grouped, warnings=warnings, problems=problems, line_rows=size)


def _cancel_refund(text: object) -> str:
    """Matrixify `Cancel: Refund`: TRUE → original, FALSE → none; anything else is left to validation."""
    word = C.YES_NO_WORDS.get(C.fold(str(text)))
    return "original" if word is True else "none" if word is False else str(text)


def _agreed(
    column: str,
    texts: np.ndarray,
    positions: np.ndarray,
    numbers: np.ndarray,
    sources: np.ndarray,
    names: np.ndarray,
    problems: list[Problem],
) -> str:
    """The one value the order's rows give for a refund column ("" when none); a problem if they differ."""
    values = [(int(p), str(texts[p])) for p in positions if C.clean_cell(str(texts[p]))]
    distinct = {C.clean_cell(text) for _, text in values}
    if len(distinct) <= 1:
        return values[0][1] if values else ""
    first_position, first_text = values[0]
    for position, text in values[1:]:
        if C.clean_cell(text) != C.clean_cell(first_text):
            problems.append(
                Problem(
                    int(numbers[position]),
                    column,
                    text,
                    f'differs from "{first_text}" on row {numbers[first_position]} of the same order '
                    f"{names[first_position]}: give one value per order (or fill only its first row)",
                    "disagreeing_rows",
                    str(sources[position]) if sources[position] else "",
                )
            )
    return first_text


def _where(sources: np.ndarray, numbers: np.ndarray, position: int) -> str:
    row = f"row {numbers[position]}"
    return f"{sources[position]} {row}" if sources[position] else row


def only_sku(table: InputTable, wanted: Iterable[str]) -> InputTable:
    """SPEC §5a stock-out: every line affected → cancel; some → refund_only those lines, no restock;
    none → left out and counted."""
    skus = {C.clean_cell(sku).casefold() for sku in wanted if C.clean_cell(sku)}
    if not table.kind and C.LINES in table.frame and C.ALL_LINES_AFFECTED in table.frame:
        from pipeline.validate.selected import only_sku_selected  # a `select` file (SPEC §15)

        return only_sku_selected(table, skus, wanted)
    if not table.kind or ITEMS not in table.frame:
        raise InputError(
            f"{table.source}: --only-sku needs the orders' line items: give a Shopify orders export or a "
            "Matrixify Orders sheet"
        )
    frame = table.frame.copy()
    actions, lines, restock, keep = [], [], [], []
    current_restock = frame[C.RESTOCK].tolist() if C.RESTOCK in frame else [""] * len(frame)
    for items, restock_text in zip(frame[ITEMS], current_restock, strict=True):
        affected: dict[str, int | str] = {}
        others = 0
        for sku, quantity in items:
            if sku.casefold() not in skus:
                others += 1
                continue
            previous = affected.get(sku, 0)
            both_numbers = quantity.isdigit() and isinstance(previous, int)
            affected[sku] = previous + int(quantity) if both_numbers else quantity  # type: ignore[operator]
        keep.append(bool(affected))
        if affected and not others:
            actions.append("cancel")
            lines.append("")
            restock.append(restock_text)
        else:
            actions.append("refund_only")
            lines.append(";".join(f"{sku}:{quantity}" for sku, quantity in affected.items()))
            restock.append("no")
    frame[C.ACTION] = actions
    frame[C.LINES] = lines
    frame[C.RESTOCK] = restock
    mask = np.array(keep, dtype=bool)
    left_out = int((~mask).sum())
    if left_out and left_out == len(mask):
        plural = "s" if len(skus) > 1 else ""
        raise InputError(
            f"{table.source}: no line has SKU{plural} {', '.join(sorted(wanted))} (in {len(mask)} orders): "
            "check the SKU as the export's Lineitem sku column writes it"
        )
    warnings = list(table.warnings)
    if left_out:
        plural = "s have" if left_out != 1 else " has"
        warnings.append(
            f"{left_out} order{plural} no line with SKU {', '.join(sorted(wanted))}: left out (--only-sku)"
        )
    return dataclasses.replace(table, frame=frame[mask], warnings=warnings, left_out=left_out, only_sku=True)
