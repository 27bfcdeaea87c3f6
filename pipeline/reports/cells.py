"""One cell as each report format writes it: numbers stay numbers, text never runs as a formula."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from pipeline.money import exact

# The starts that make Excel, LibreOffice or Sheets read text as a formula (SPEC §8, and OWASP's
# CSV injection guidance: https://owasp.org/www-community/attacks/CSV_Injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Excel's error values: text that reads as one is given a quote prefix, as formula-like text is.
ERROR_CODES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))
#: Longest text one xlsx cell holds; longer text makes Excel call the file corrupt.
XLSX_MAX_TEXT = 32_767
# The control characters XML 1.0 cannot hold (tab, line feed and carriage return it can).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet would evaluate `text` typed into a cell."""
    return text.startswith(FORMULA_STARTS)


def csv_text(text: str) -> str:
    """`text` with OWASP's quote prefix when it would run as a formula; `from_csv_text` undoes it."""
    # Text already starting with a quote gets one more, so reading back never eats a real quote.
    if is_formula_like(text) or text.startswith("'"):
        return "'" + text
    return text


def from_csv_text(text: str) -> str:
    """The original text of a cell written by `csv_text` (for tools that read our CSV files back)."""
    if text.startswith("'") and (is_formula_like(text[1:]) or text[1:].startswith("'")):
        return text[1:]
    return text


def xlsx_text(text: str) -> str:
    """`text` without the control characters an xlsx cannot hold, cut to the cell limit."""
    return _ILLEGAL.sub("", text[:XLSX_MAX_TEXT])


def number(value: object) -> int | Decimal | None:
    """`value` as an exact number (amounts arrive as strings from JSON), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return value if not isinstance(value, Decimal) or value.is_finite() else None
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            return None
        return parsed if parsed.is_finite() else None
    return None


def as_date(value: object) -> dt.date | None:
    """A date or datetime from itself or from ISO text (`2026-05-01`, `2026-05-01T10:00:00Z`), else None."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    try:
        text = value.strip()
        return dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def plain(value: int | Decimal) -> str:
    """A number as plain digits (`100`, never `1E+2`), exactly as held."""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def money_text(amount: int | Decimal, currency: str | None = None) -> str:
    """`1,234.50 EUR`, `77,990 JPY` for people: the currency's decimals (`money.exact`), grouped."""
    text = f"{exact(Decimal(amount), currency):,f}"
    return f"{text} {currency}" if currency else text


def money_plain(amount: int | Decimal, currency: str | None) -> str:
    """`1234.50`, `77990` for files other tools read: the currency's decimals, no grouping."""
    return plain(exact(Decimal(amount), currency))


def display(value: object, kind: str = "text", currency: str | None = None) -> str:
    """`value` as one line of text for a page: grouped numbers, ISO dates, percent with one decimal."""
    if value is None:
        return ""
    amount = number(value) if kind in ("int", "money", "percent") else None
    if amount is not None:
        if kind == "money":
            return money_text(amount, currency)
        if kind == "percent":
            return f"{Decimal(amount) * 100:,.1f}%"
        return f"{amount:,}"
    when = as_date(value) if kind == "date" or isinstance(value, dt.date) else None
    if isinstance(when, dt.datetime):
        return when.isoformat(sep=" ", timespec="seconds")
    if when is not None:
        return when.isoformat()
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
