"""Pure parsers for one cell's text; each returns the value or a `Bad` saying why (SPEC §5 rules)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from pipeline.currencies import CODES, decimals
from pipeline.validate import columns as C


class Bad(NamedTuple):
    """A refused cell: a stable `kind` code and the human reason shown after the cell text."""

    kind: str
    message: str


class OrderRef(NamedTuple):
    """A parsed order cell: cleaned name, exact-match key (SPEC §6) and gid when given."""

    name: str
    key: str
    gid: str | None


_EXCEL_ERRORS = frozenset(
    ["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA"]
)
_GID = re.compile(r"gid://shopify/order/([0-9]{1,20})", re.IGNORECASE)
_EXCEL_FLOAT = re.compile(r"(#?[0-9]{1,15})\.0+")
_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]*)?[eE][+-]?[0-9]{1,3}")
_NAME = re.compile(r"#?[0-9A-Za-z][0-9A-Za-z._/\-]{0,63}")
_DIGIT = re.compile(r"[0-9]")
#: Longest plain order number accepted; more digits means an id pasted in the wrong column.
MAX_ORDER_DIGITS = 15

#: Why an id or order number lost digits, and what to do about it (SPEC §5a).
EXCEL_HINT = (
    "Excel turned it into a number and kept only 15 significant digits: format the column as text "
    "and export the file again"
)
_ID = re.compile(r"[0-9]{1,20}")
ORDER_HINT = "is not an order number (write #1001, 1001, EU-1001 or gid://shopify/Order/123)"


def parse_order(text: str) -> OrderRef | Bad:
    """`#1001`, `1001`, `1001.0` (Excel), `EU-1001`, `'1001` or a `gid://shopify/Order/…`."""
    cell = C.clean_cell(text).removeprefix("'").strip()
    if not cell:
        return Bad("missing_value", "is empty")
    if cell.upper() in _EXCEL_ERRORS:
        return Bad("excel_error", "is an Excel error value, not an order number")
    gid = _GID.fullmatch(cell)
    if gid:
        canonical = f"gid://shopify/Order/{gid[1]}"
        return OrderRef(canonical, canonical, canonical)
    if _SCIENTIFIC.fullmatch(cell):
        return Bad(
            "scientific_notation",
            "was turned into scientific notation by Excel and lost digits: format the column as text "
            "and export the file again",
        )
    number = _EXCEL_FLOAT.fullmatch(cell)
    if number:
        cell = number[1]
    if not _NAME.fullmatch(cell) or not _DIGIT.search(cell):
        return Bad("not_an_order", ORDER_HINT)
    if cell.removeprefix("#").isdigit() and len(cell.removeprefix("#")) > MAX_ORDER_DIGITS:
        return Bad("not_an_order", "has too many digits for an order number (is it an order id?)")
    return OrderRef(cell, name_key(cell), None)


def clean_order_text(text: str) -> str:
    """The cell as an order name: cleaned, one leading apostrophe (Excel's text marker) off."""
    return C.clean_cell(text).removeprefix("'").strip()


def parse_order_id(text: str) -> str | Bad:
    """An export's order `Id` (`5432109876543`, `'5432…`, `5432….0`) → its gid; scientific notation
    refused."""
    cell = clean_order_text(text)
    if _SCIENTIFIC.fullmatch(cell):
        return Bad("scientific_notation", f"is in scientific notation: {EXCEL_HINT}")
    cell = cell.removesuffix(".0")
    gid = _GID.fullmatch(cell)
    if gid:
        cell = gid[1]
    if not _ID.fullmatch(cell):
        return Bad(
            "not_an_id",
            "is not a Shopify order id (digits such as 6100000002079, or its gid); an order number such as "
            "#1001 goes in the order column",
        )
    return f"gid://shopify/Order/{int(cell)}"


def looks_rounded(gid: str) -> bool:
    """True when an id has more than 15 digits and only zeros after the 15th: Excel rounded it."""
    digits = gid.rsplit("/", 1)[-1]
    return digits.isdigit() and len(digits) > 15 and not digits[15:].strip("0")


def name_key(name: str) -> str:
    """The exact-match key of SPEC §6: cleaned (NFC, no invisible characters), case-folded, one `#` off."""
    return C.clean_cell(name).strip().removeprefix("#").casefold()


_STRIP = str.maketrans("", "", " '\u00a0\u202f\u2007")
_NUMBER_CHARS = re.compile(r"[+-]?[0-9][0-9.,]*")
_DIGITS = re.compile(r"[0-9]+")
MAX_INTEGER_DIGITS = 12

#: Currency signs merchants type; a bare `$` is the currency column's dollar, else USD (`CA$` says which).
SIGNS = {
    "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₺": "TRY", "zł": "PLN", "kr": "SEK",
    "$": "USD", "us$": "USD", "ca$": "CAD", "c$": "CAD", "a$": "AUD", "au$": "AUD", "nz$": "NZD",
    "hk$": "HKD", "s$": "SGD", "r$": "BRL", "mx$": "MXN", "chf": "CHF", "fr.": "CHF",
}  # fmt: skip


#: Currencies written with a bare `$`.
DOLLARS = frozenset(
    {"USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN", "TWD", "ARS", "CLP", "COP", "BSD", "JMD"}
)


class Money(NamedTuple):
    """An amount cell: the amount and the currency written with it (a sign or an ISO code), if any."""

    amount: Decimal
    currency: str | None
    text: str


def parse_money(text: str, decimal_comma: bool, currency: str | None = None) -> Money | Bad | None:
    """`12,50`, `£3.20`, `3,20 €`, `USD 5`, `5 EUR` → amount and written currency; None when blank.
    `currency` (the row's currency column) only shapes the hint for an ambiguous number."""
    cell = C.clean_cell(text)
    if not cell:
        return None
    digits = [i for i, ch in enumerate(cell) if ch.isascii() and ch.isdigit()]
    if not digits:
        return Bad("not_a_number", "is not a number")
    start, end = digits[0], digits[-1] + 1
    if start and cell[start - 1] in "+-":
        start -= 1
    before, after = cell[:start].strip(), cell[end:].strip()
    if before and after:
        return Bad("not_a_number", "is not a number")
    word = before or after
    if word == "$" and currency in DOLLARS:
        word = currency
    written = _currency_of(word) if word else None
    if isinstance(written, Bad):
        return written
    amount = _number(cell[start:end], decimal_comma, written or currency)
    if isinstance(amount, Bad):
        return amount
    return Money(amount, written, cell)


def _currency_of(word: str) -> str | Bad:
    """The ISO code a sign or code names (`€`, `eur`, `CA$`)."""
    code = SIGNS.get(word.casefold(), word.upper())
    if code in CODES:
        return code
    if len(word) == 3 and word.isalpha():
        return Bad("unknown_currency", f"has {word}, which is not a currency code (write EUR, USD… or €, £)")
    return Bad("not_a_number", "is not a number")


def parse_amount(text: str, decimal_comma: bool) -> Decimal | Bad | None:
    """Money text → Decimal (> 0), any written currency dropped; None when blank."""
    money = parse_money(text, decimal_comma)
    return money.amount if isinstance(money, Money) else money


def _number(cell: str, decimal_comma: bool, currency: str | None = None) -> Decimal | Bad:
    """`12,50` is decimal; `1,234` only when `decimal_comma`; more than 0."""
    compact = cell.translate(_STRIP)
    if not _NUMBER_CHARS.fullmatch(compact):
        return Bad("not_a_number", "is not a number")
    sign = compact[0] if compact[0] in "+-" else ""
    body = compact[len(sign) :]
    plain = _plain_number(body, decimal_comma, currency)
    if isinstance(plain, Bad):
        return plain
    integer = plain.partition(".")[0]
    if len(integer.lstrip("0")) > MAX_INTEGER_DIGITS:
        return Bad("not_a_number", "is too large to be an amount")
    try:
        amount = Decimal(sign + plain)
    except InvalidOperation:
        return Bad("not_a_number", "is not a number")
    if amount <= 0:
        return Bad("not_positive", "must be more than 0")
    return amount


def _plain_number(body: str, decimal_comma: bool, currency: str | None) -> str | Bad:
    """`1.234,50` / `1,234.50` / `12,5` → `1234.50` / `1234.50` / `12.5`; Bad when malformed or ambiguous."""
    dots, commas = body.count("."), body.count(",")
    if not dots and not commas:
        return body
    if dots and commas:
        decimal_sep = "." if body.rfind(".") > body.rfind(",") else ","
        thousands = "," if decimal_sep == "." else "."
        whole, _, fraction = body.rpartition(decimal_sep)
        if decimal_sep in whole or not _grouped(whole, thousands) or not _DIGITS.fullmatch(fraction):
            return Bad("not_a_number", "is not a number")
        return whole.replace(thousands, "") + "." + fraction
    sep = "." if dots else ","
    parts = body.split(sep)
    if len(parts) > 2:
        if (sep == "," and decimal_comma) or not _grouped(body, sep):
            return Bad("not_a_number", "is not a number")
        return body.replace(sep, "")
    whole, fraction = parts
    if not whole or not fraction:
        return Bad("not_a_number", "is not a number")
    comma_is_decimal = sep == "," and decimal_comma
    dot_is_decimal = sep == "." and not decimal_comma
    if len(fraction) == 3 and not comma_is_decimal and not dot_is_decimal and len(whole) <= 3:
        # `1,234` in a comma file or `1.234` in a semicolon file: thousands or decimals, nobody knows.
        return Bad("ambiguous_number", _ambiguous(whole, fraction, currency))
    return f"{whole}.{fraction}"


def _ambiguous(whole: str, fraction: str, currency: str | None) -> str:
    """The hint for `1,234`: only readings that are valid amounts in the currency."""
    thousands = f"{whole}{fraction}"
    if decimals(currency) >= len(fraction):
        return f"is ambiguous: write {thousands} or {whole}.{fraction}"
    places = decimals(currency)
    unit = f"decimal{'s' * (places != 1)}"
    return f"is ambiguous: write {thousands} ({currency} amounts have at most {places} {unit})"


def _grouped(whole: str, sep: str) -> bool:
    groups = whole.split(sep)
    return (
        1 <= len(groups[0]) <= 3
        and all(_DIGITS.fullmatch(g) for g in groups)
        and all(len(g) == 3 for g in groups[1:])
    )


def decimal_places(amount: Decimal) -> int:
    """Significant decimals: `12.50` has 1, `12.505` has 3, `100` has 0."""
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


_LINE_SEPARATORS = re.compile(r"[;,|\n]")
MAX_QUANTITY = 100_000


def parse_lines(text: str) -> tuple[tuple[str, int], ...] | Bad:
    """`SKU:qty;SKU:qty` (`,`, `|` and new lines separate items too) → ((sku, qty), ...); () when blank."""
    cell = C.clean_cell(text)
    items: list[tuple[str, int]] = []
    for item in filter(None, (part.strip() for part in _LINE_SEPARATORS.split(cell))):
        sku, colon, quantity = item.rpartition(":")
        sku, quantity = sku.strip(), quantity.strip()
        if not colon or not sku:
            return Bad("malformed_lines", f'has "{item}" without SKU:quantity (write SKU-1:2;SKU-2:1)')
        if not quantity.isascii() or not quantity.isdigit() or not 0 < int(quantity) <= MAX_QUANTITY:
            return Bad("malformed_lines", f'has quantity "{quantity}" for {sku}: a whole number above 0')
        if any(sku == seen for seen, _ in items):
            return Bad("malformed_lines", f"lists {sku} twice")
        items.append((sku, int(quantity)))
    return tuple(items)


def parse_word(text: str, words: dict[str, object], expected: str) -> object | Bad | None:
    """A value word (mode, action, reason, yes/no) in EN or FR; None when blank."""
    cell = C.clean_cell(text)
    if not cell:
        return None
    value = words.get(C.fold(cell))
    if value is None:
        return Bad("unknown_value", f"is not {expected}")
    return value


def parse_shipping(text: str, decimal_comma: bool) -> bool | Money | Bad | None:
    """yes/no, or an amount of shipping to refund (with its written currency); None when blank."""
    word = parse_word(text, C.YES_NO_WORDS, "yes or no")
    if not isinstance(word, Bad):
        return word  # type: ignore[return-value]
    amount = parse_money(text, decimal_comma)
    if isinstance(amount, Bad):
        if amount.kind == "not_positive" and not C.clean_cell(text).startswith("-"):
            return False  # a shipping amount of 0 means: do not refund shipping
        return Bad("unknown_value", "is not yes, no or a shipping amount")
    return amount
