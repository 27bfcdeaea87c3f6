"""Pure validation: an `InputTable` → valid `OrderRow`s and every problem, as values (SPEC §5).

Each column is parsed once per distinct cell text (`pd.factorize`), so a million rows cost a few
thousand parser calls plus vectorised numpy; only the order column is mostly distinct, and its
common shape (`#1001`) is recognised for the whole column at once.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from pipeline.currencies import CODES, decimals
from pipeline.models import Action, RefundMode
from pipeline.validate import columns as C
from pipeline.validate import parse
from pipeline.validate.cells import Checker, Column
from pipeline.validate.input_table import EXTRA, InputTable
from pipeline.validate.orders import check_orders
from pipeline.validate.parse import Bad
from pipeline.validate.rows import Defaults, Validation

MAX_NOTE = 255
_MODES = "a refund mode (original, store_credit, gift_card, none or partial)"
_ACTIONS = "an action (cancel or refund_only)"
_REASONS = "a reason (customer, inventory, fraud, declined, staff or other)"


def validate_table(table: InputTable, defaults: Defaults | None = None) -> Validation:
    """Check every row of `table` against SPEC §5; never raises for bad cells, returns them as problems."""
    defaults = defaults or Defaults()
    check = Checker(table)
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

    orders = check_orders(check)
    has_mode_column = C.REFUND_MODE in table.frame
    mode = Column(check.texts(C.REFUND_MODE), lambda t: _mode(t, defaults, has_mode_column))
    action = Column(check.texts(C.ACTION), lambda t: parse.parse_word(t, C.ACTION_WORDS, _ACTIONS))
    currency = Column(check.texts(C.CURRENCY), _currency)
    amount = _amounts(check, currency, table.decimal_comma)
    lines = Column(check.texts(C.LINES), parse.parse_lines)
    shipping = Column(check.texts(C.SHIPPING), lambda t: parse.parse_shipping(t, table.decimal_comma))
    restock = Column(check.texts(C.RESTOCK), lambda t: _yes_no(t, defaults.restock))
    notify = Column(check.texts(C.NOTIFY), lambda t: _yes_no(t, defaults.notify))
    reason = Column(
        check.texts(C.REASON), lambda t: parse.parse_word(t, C.REASON_WORDS, _REASONS) or defaults.reason
    )
    note = Column(check.texts(C.NOTE), C.clean_note)
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
    stated = currency.take(lambda v: v if isinstance(v, str) else None)
    written = _written(amount)
    _check_written_currency(check, C.AMOUNT, written, stated, "the currency column")
    ship_written = _written(shipping)
    expected = np.where(pd.isna(stated), written, stated)
    _check_written_currency(check, C.SHIPPING, ship_written, expected, "the row's amount or currency")
    is_none = mode.where(lambda v: v is RefundMode.NONE)
    explicit_shipping = shipping.where(lambda v: v is True or isinstance(v, parse.Money))
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
    row_currency = np.where(pd.isna(expected), ship_written, expected)
    # A gift card's code reaches the customer only through Shopify's notification: on a gift-card row
    # a blank notify cell (or no notify column) means yes, whatever --notify says; "no" is obeyed.
    blank_notify = pd.Series(check.texts(C.NOTIFY), dtype=object).fillna("").astype(str).str.strip() == ""
    gift_blank = mode.where(lambda v: v is RefundMode.GIFT_CARD) & blank_notify.to_numpy()
    notified = np.where(gift_blank, True, notify.take())
    order_texts = check.texts(C.ORDER)
    id_texts = check.texts(C.ORDER_ID)
    shown = np.where(order_texts == "", id_texts, order_texts)
    ship = shipping.take(lambda v: v.amount if isinstance(v, parse.Money) else v)
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
        notified[ok],
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


def _amounts(check: Checker, currency: Column, decimal_comma: bool) -> Column:
    """The amount column, parsed together with the row's currency (it shapes the hint for `1,234`)."""
    texts = check.texts(C.AMOUNT)
    if C.CURRENCY not in check.frame:
        return Column(texts, lambda text: parse.parse_money(text, decimal_comma))
    codes = currency.take(lambda v: v if isinstance(v, str) else "")

    def parse_pair(key: str) -> object:
        text, _, code = key.rpartition("\x1f")  # codes never hold it; a cell might
        return parse.parse_money(text, decimal_comma, code or None)

    return Column(texts + "\x1f" + codes, parse_pair)  # not "\0": numpy strips it from a str scalar


def _written(parsed: Column) -> np.ndarray:
    """The currency written with each row's money (`£3.20` → GBP), None where none was."""
    return parsed.take(lambda v: v.currency if isinstance(v, parse.Money) else None)


def _check_written_currency(
    check: Checker, column: str, written: np.ndarray, expected: np.ndarray, source: str
) -> None:
    """Money written with a sign or code (`£3.20`) must agree with the row's other currency."""
    differs = ~pd.isna(written) & ~pd.isna(expected) & (written != expected)
    message = "is in {} but {} says {}"
    check.refuse(
        differs, column, "currency_mismatch", lambda p: message.format(written[p], source, expected[p])
    )


def _check_decimals(check: Checker, amount: Column, currency: Column, has_amount: np.ndarray) -> None:
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


def _counts(values: np.ndarray) -> dict[str, int]:
    counts = pd.Series(values, dtype=object).value_counts()
    return {str(key): int(count) for key, count in counts.items()}
