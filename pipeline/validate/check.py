"""Pure validation: an `InputTable` → valid `OrderRow`s and every problem, as values (SPEC §5).

Each column is parsed once per distinct cell text (`pd.factorize`), so a million rows cost a few
thousand parser calls plus vectorised numpy; only the order column is mostly distinct, and its
common shape (`#1001`) is recognised for the whole column at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from pipeline.currencies import CODES, decimals
from pipeline.models import Action, RefundMode
from pipeline.validate import columns as C
from pipeline.validate import parse
from pipeline.validate.input_table import EXTRA, SOURCE, InputTable
from pipeline.validate.parse import Bad
from pipeline.validate.rows import Defaults, Problem, Validation

MAX_NOTE = 255
_ORDER_OF_COLUMNS = {name: i for i, name in enumerate(("", *C.COLUMNS))}
_MODES = "a refund mode (original, store_credit, gift_card, none or partial)"
_ACTIONS = "an action (cancel or refund_only)"
_REASONS = "a reason (customer, inventory, fraud, declined, staff or other)"


class _Column:
    """One column parsed per distinct text: `results[codes[i]]` is row i's value or `Bad`."""

    def __init__(self, texts: np.ndarray, parse: Callable[[str], Any]) -> None:
        self.codes, uniques = pd.factorize(texts)
        self.results = [parse(text) for text in uniques]

    def take(self, convert: Callable[[Any], Any] = lambda value: value, dtype: Any = object) -> np.ndarray:
        """`convert(value)` for every row, as a numpy array."""
        values = np.empty(len(self.results), dtype=dtype)
        for i, result in enumerate(self.results):
            values[i] = convert(result)
        return values[self.codes] if len(self.codes) else values[:0]

    def where(self, predicate: Callable[[Any], bool]) -> np.ndarray:
        """Rows whose value satisfies `predicate`, as a boolean mask."""
        return self.take(lambda value: bool(predicate(value)), dtype=bool)


class _Checker:
    """Collects problems per row position while the columns are checked."""

    def __init__(self, table: InputTable) -> None:
        self.table = table
        self.frame = table.frame
        self.size = len(table.frame)
        self.row_numbers = table.frame.index.to_numpy()
        self.sources = table.frame[SOURCE].to_numpy() if SOURCE in table.frame else None
        self.bad = np.zeros(self.size, dtype=bool)
        self.found: list[tuple[int, int, Problem]] = []
        self.cells: set[tuple[int, str]] = set()
        self.distinct_orders = 0

    def texts(self, column: str) -> np.ndarray:
        if column in self.frame:
            texts: np.ndarray = self.frame[column].to_numpy(dtype=object)
            return texts
        return np.full(self.size, "", dtype=object)

    def order_text(self, position: int) -> str:
        """The row's order as written, else its order id: what the error file shows beside the problem."""
        for column in (C.ORDER, C.ORDER_ID):
            if column in self.frame and (text := str(self.frame[column].iat[position])):
                return text
        return ""

    def refuse_file(self, column: str, message: str, kind: str) -> None:
        header = self.table.headers.get(column, "")
        self.found.append((-1, 0, Problem(self.table.header_row, column, "", message, kind, header=header)))
        self.bad[:] = True

    def refuse(self, mask: np.ndarray, column: str, kind: str, message: str | Callable[[int], str]) -> None:
        """One problem per row in `mask`; `message` may depend on the row position."""
        texts = self.texts(column if column else EXTRA)
        for position in np.flatnonzero(mask):
            text = message if isinstance(message, str) else message(int(position))
            self.add(int(position), column, str(texts[position]), text, kind)

    def refuse_bad(self, column: str, parsed: _Column) -> np.ndarray:
        """A problem for every row whose parse gave `Bad`; returns the mask of those rows."""
        mask = parsed.where(lambda value: isinstance(value, Bad))
        texts = self.texts(column)
        for position in np.flatnonzero(mask):
            bad = parsed.results[parsed.codes[position]]
            self.add(int(position), column, str(texts[position]), bad.message, bad.kind)
        return mask

    def add(self, position: int, column: str, value: str, message: str, kind: str) -> None:
        if (position, column) in self.cells:
            return  # one problem per cell: the first says what is wrong with it
        self.cells.add((position, column))
        source = str(self.sources[position]) if self.sources is not None else ""
        order = self.order_text(position)
        header = self.table.headers.get(column, "")
        problem = Problem(
            int(self.row_numbers[position]), column, value, message, kind, source, order, header
        )
        self.found.append((position, _ORDER_OF_COLUMNS.get(column, 0), problem))
        self.bad[position] = True

    def where(self, position: int) -> str:
        row = f"row {self.row_numbers[position]}"
        return f"{self.sources[position]} {row}" if self.sources is not None else row

    def problems(self) -> list[Problem]:
        self.found.sort(key=_position_and_column)
        return [problem for _, _, problem in self.found]


def validate_table(table: InputTable, defaults: Defaults | None = None) -> Validation:
    """Check every row of `table` against SPEC §5; never raises for bad cells, returns them as problems."""
    defaults = defaults or Defaults()
    check = _Checker(table)
    check.found.extend(
        (-1, 0, replace(problem, header=problem.header or table.headers.get(problem.column, "")))
        for problem in table.problems
    )
    if table.problems:
        check.bad[:] = True
    warnings = list(table.warnings)
    if C.ORDER not in table.frame and C.ORDER_ID not in table.frame:
        names = ", ".join(C.aliases(C.ORDER)[:4])
        check.refuse_file(C.ORDER, f"the required column is missing (name it {names}...)", "missing_column")
    whole_export = bool(table.kind) and not table.only_sku
    if C.REFUND_MODE not in table.frame:
        if defaults.default_mode is None and whole_export:
            check.refuse_file(
                C.REFUND_MODE,
                "the export has no refund_mode column: give --only-sku SKU to act on some lines, or "
                "--default-mode to cancel every order in it and refund it that way",
                "missing_column",
            )
        elif defaults.default_mode is None:
            check.refuse_file(
                C.REFUND_MODE, "the column is missing and no --default-mode was given", "missing_column"
            )
        elif whole_export and C.ACTION not in table.frame:
            default = defaults.default_mode
            refund = "without a refund" if default is RefundMode.NONE else f"with a full refund to {default}"
            warnings.append(
                f"no --only-sku: every order in the export is cancelled {refund} (--default-mode)"
            )
        else:
            warnings.append(f"no refund_mode column: every row uses --default-mode {defaults.default_mode}")
    if not check.size:
        check.refuse_file("", "the file has no data rows", "no_rows")

    orders = _check_orders(check)
    has_mode_column = C.REFUND_MODE in table.frame
    mode = _Column(check.texts(C.REFUND_MODE), lambda t: _mode(t, defaults, has_mode_column))
    action = _Column(check.texts(C.ACTION), lambda t: parse.parse_word(t, C.ACTION_WORDS, _ACTIONS))
    currency = _Column(check.texts(C.CURRENCY), _currency)
    amount = _amounts(check, currency, table.decimal_comma)
    lines = _Column(check.texts(C.LINES), parse.parse_lines)
    shipping = _Column(check.texts(C.SHIPPING), lambda t: parse.parse_shipping(t, table.decimal_comma))
    restock = _Column(check.texts(C.RESTOCK), lambda t: _yes_no(t, defaults.restock))
    notify = _Column(check.texts(C.NOTIFY), lambda t: _yes_no(t, defaults.notify))
    reason = _Column(
        check.texts(C.REASON), lambda t: parse.parse_word(t, C.REASON_WORDS, _REASONS) or defaults.reason
    )
    note = _Column(check.texts(C.NOTE), C.clean_note)
    for column, parsed in (
        (C.REFUND_MODE, mode),
        (C.ACTION, action),
        (C.AMOUNT, amount),
        (C.CURRENCY, currency),
        (C.LINES, lines),
        (C.SHIPPING, shipping),
        (C.RESTOCK, restock),
        (C.NOTIFY, notify),
        (C.REASON, reason),
    ):
        check.refuse_bad(column, parsed)

    has_amount = amount.where(lambda v: v is not None and not isinstance(v, Bad))
    has_lines = lines.where(lambda v: bool(v) and not isinstance(v, Bad))
    # A refused amount or lines cell was still given: its row gets one problem, not "needs an amount" too.
    gave_amount = amount.where(lambda v: v is not None)
    gave_lines = lines.where(lambda v: bool(v))
    _check_written_currency(check, amount, currency)
    is_none = mode.where(lambda v: v is RefundMode.NONE)
    explicit_shipping = shipping.where(lambda v: v is True or isinstance(v, Decimal))
    check.refuse(is_none & has_amount, C.AMOUNT, "not_allowed", "is not allowed with refund mode none")
    check.refuse(is_none & has_lines, C.LINES, "not_allowed", "is not allowed with refund mode none")
    check.refuse(
        is_none & explicit_shipping, C.SHIPPING, "not_allowed", "is not allowed with refund mode none"
    )
    check.refuse(
        is_none & action.where(lambda v: v is Action.REFUND_ONLY),
        C.ACTION,
        "nothing_to_do",
        "with refund mode none neither cancels nor refunds anything",
    )
    check.refuse(
        mode.where(lambda v: v == C.PARTIAL) & ~gave_amount & ~gave_lines,
        C.REFUND_MODE,
        "partial_without_amount",
        "needs an amount or lines to refund",
    )
    _check_decimals(check, amount, currency, has_amount)
    lengths = pd.Series(check.texts(C.NOTE), dtype=object).str.len().to_numpy()
    check.refuse(
        lengths > MAX_NOTE,
        C.NOTE,
        "too_long",
        lambda p: f"is {lengths[p]} characters long; at most {MAX_NOTE}",
    )
    check.refuse(
        note.where(lambda v: v == C.TEMPLATE_EXAMPLE_NOTE),
        C.NOTE,
        "template_example",
        "marks the template's example row: delete the row",
    )
    if EXTRA in table.frame:
        check.refuse(
            check.texts(EXTRA) != "",
            "",
            "extra_cells",
            "the row has more cells than the header (a delimiter inside an unquoted cell?)",
        )

    ok = ~check.bad
    modes = mode.take(lambda v: RefundMode.ORIGINAL if v == C.PARTIAL else v)[ok]
    # SPEC §6: an amount or lines without an action refunds and leaves the order open.
    blank_action = action.where(lambda v: v is None)
    default_action = np.full(check.size, Action.CANCEL, dtype=object)
    default_action[has_amount | has_lines] = Action.REFUND_ONLY
    actions = np.where(blank_action, default_action, action.take())[ok]
    written = amount.take(lambda v: v.currency if isinstance(v, parse.Money) else None)
    stated = currency.take()
    row_currency = np.where(pd.isna(stated), written, stated)
    order_texts = check.texts(C.ORDER)
    id_texts = check.texts(C.ORDER_ID)
    shown = np.where(order_texts == "", id_texts, order_texts)
    ship = shipping.take()
    full_refund = ~is_none & ~has_amount & ~has_lines
    columns = (
        check.row_numbers[ok],
        shown[ok],
        orders[0][ok],
        orders[1][ok],
        orders[2][ok],
        modes,
        actions,
        amount.take(lambda v: v.amount if isinstance(v, parse.Money) else None)[ok],
        row_currency[ok],
        lines.take()[ok],
        np.where(pd.isna(ship), full_refund, ship)[ok],
        restock.take()[ok],
        notify.take()[ok],
        reason.take()[ok],
        note.take()[ok],
        check.sources[ok] if check.sources is not None else np.full(int(ok.sum()), "", dtype=object),
        orders[3][ok],
        amount.take(lambda v: v.text if isinstance(v, parse.Money) and v.currency else "")[ok],
    )
    valid = int(ok.sum())
    return Validation(
        problems=check.problems(),
        warnings=warnings,
        rows_read=table.line_rows or check.size,
        orders=check.distinct_orders,
        invalid=check.distinct_orders - valid,
        by_mode=_counts(modes),
        by_action=_counts(actions),
        columns=columns,
    )


def _check_orders(check: _Checker) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Order names, match keys, gids and expected names per row (None where refused); duplicates name
    every row. An export's `Id` resolves the order; its Name is then the name Shopify must give back."""
    texts = check.texts(C.ORDER)
    # Fast path for the usual `#1001` / `1001`: plain str methods over the column, no regex.
    stripped = [text[1:] if text[:1] == "#" else text for text in texts]
    simple = (
        np.fromiter(map(str.isdigit, stripped), dtype=bool, count=check.size)
        & np.fromiter(map(str.isascii, stripped), dtype=bool, count=check.size)
        & (np.fromiter(map(len, stripped), dtype=np.int64, count=check.size) <= parse.MAX_ORDER_DIGITS)
    )
    names = texts.copy()
    keys = np.array(stripped, dtype=object) if check.size else np.empty(0, dtype=object)
    gids = np.full(check.size, None, dtype=object)
    for position in np.flatnonzero(~simple):
        parsed = parse.parse_order(texts[position])
        if isinstance(parsed, Bad):
            names[position] = keys[position] = None
            if C.ORDER in check.frame:
                check.add(int(position), C.ORDER, texts[position], parsed.message, parsed.kind)
        else:
            names[position], keys[position], gids[position] = parsed
    expected = np.full(check.size, "", dtype=object)
    if C.ORDER_ID in check.frame:
        _resolve_ids(check, texts, names, keys, gids, expected)
    known = np.flatnonzero(~pd.isna(keys))
    codes, uniques = pd.factorize(keys[known])
    check.distinct_orders = len(uniques) + check.size - len(known)
    repeated = (
        np.bincount(codes, minlength=len(uniques))[codes] > 1 if len(codes) else np.zeros(0, dtype=bool)
    )
    duplicated = known[repeated]
    for _, group in pd.Series(duplicated).groupby(codes[repeated], sort=False):
        positions = group.tolist()
        for position in positions:
            others = [check.where(other) for other in positions if other != position]
            listed = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            check.add(position, C.ORDER, texts[position], f"is the same order as {listed}", "duplicate_order")
    return names, keys, gids, expected


def _resolve_ids(
    check: _Checker,
    texts: np.ndarray,
    names: np.ndarray,
    keys: np.ndarray,
    gids: np.ndarray,
    expected: np.ndarray,
) -> None:
    """Rows whose file gives an order Id are looked up by it (a few thousand orders: a plain loop)."""
    has_order_column = C.ORDER in check.frame
    for position, text in enumerate(check.texts(C.ORDER_ID)):
        if not text:
            if not has_order_column:
                check.add(
                    position, C.ORDER_ID, "", "is empty (give the order's id or number)", "missing_value"
                )
            continue
        parsed = parse.parse_order_id(str(text))
        if isinstance(parsed, Bad):
            check.add(position, C.ORDER_ID, str(text), parsed.message, parsed.kind)
            continue
        if names[position] is None:
            # A name our order rule refuses (spaces…) is still Shopify's: the Id says which order it is.
            check.found = [f for f in check.found if not (f[0] == position and f[2].column == C.ORDER)]
            check.cells.discard((position, C.ORDER))
            check.bad[position] = any(found[0] in (position, -1) for found in check.found)
            names[position] = parse.clean_order_text(str(texts[position]))
        gids[position] = keys[position] = parsed
        expected[position] = names[position]


def _amounts(check: _Checker, currency: _Column, decimal_comma: bool) -> _Column:
    """The amount column, parsed together with the row's currency (it shapes the hint for `1,234`)."""
    texts = check.texts(C.AMOUNT)
    if C.CURRENCY not in check.frame:
        return _Column(texts, lambda text: parse.parse_money(text, decimal_comma))
    codes = currency.take(lambda v: v if isinstance(v, str) else "")

    def parse_pair(key: str) -> object:
        text, _, code = key.rpartition("\x1f")  # codes never hold it; a cell might
        return parse.parse_money(text, decimal_comma, code or None)

    return _Column(texts + "\x1f" + codes, parse_pair)  # not "\0": numpy strips it from a str scalar


def _check_written_currency(check: _Checker, amount: _Column, currency: _Column) -> None:
    """An amount written with a sign or code (`£3.20`) must agree with the row's currency column."""
    written = amount.take(lambda v: v.currency if isinstance(v, parse.Money) else None)
    stated = currency.take(lambda v: v if isinstance(v, str) else None)
    differs = ~pd.isna(written) & ~pd.isna(stated) & (written != stated)
    message = "is in {} but the currency column says {}"
    check.refuse(differs, C.AMOUNT, "currency_mismatch", lambda p: message.format(written[p], stated[p]))


def _check_decimals(check: _Checker, amount: _Column, currency: _Column, has_amount: np.ndarray) -> None:
    places = amount.take(lambda v: parse.decimal_places(v.amount) if isinstance(v, parse.Money) else 0, int)
    codes = currency.take(lambda v: v if isinstance(v, str) else None)
    written = amount.take(lambda v: v.currency if isinstance(v, parse.Money) else None)
    codes = np.where(pd.isna(codes), written, codes)
    keys, uniques = pd.factorize(codes)  # a missing code is -1: the last entry, decimals(None)
    allowed = np.array([*(decimals(code) for code in uniques), decimals(None)], dtype=int)[keys]

    def message(position: int) -> str:
        limit, code = int(allowed[position]), codes[position]
        unit = f"for {code}" if code else "(no currency given)"
        return (
            f"has more than {limit} decimal{'s' if limit != 1 else ''} {unit}"
            if limit
            else f"must be whole {unit}"
        )

    check.refuse(has_amount & (places > allowed), C.AMOUNT, "too_many_decimals", message)


def _mode(text: str, defaults: Defaults, column_present: bool) -> object:
    value = parse.parse_word(text, C.MODE_WORDS, _MODES)
    if value is not None:
        return value
    if defaults.default_mode is not None or not column_present:
        return defaults.default_mode  # a missing column is refused once for the file, not once per row
    return Bad("missing_value", "is empty and no --default-mode was given")


def _currency(text: str) -> str | Bad | None:
    code = C.clean_cell(text).upper()
    if not code:
        return None
    return (
        code if code in CODES else Bad("unknown_currency", "is not an ISO 4217 currency code (EUR, USD...)")
    )


def _yes_no(text: str, default: bool) -> object:
    value = parse.parse_word(text, C.YES_NO_WORDS, "yes or no")
    return default if value is None else value


def _position_and_column(item: tuple[int, int, Problem]) -> tuple[int, int]:
    return item[0], item[1]


def _counts(values: np.ndarray) -> dict[str, int]:
    counts = pd.Series(values, dtype=object).value_counts()
    return {str(key): int(count) for key, count in counts.items()}
