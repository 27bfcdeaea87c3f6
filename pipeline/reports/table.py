"""The format-free model every report writer reads: columns with a kind, sheets of rows, sums that tie out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pipeline.reports.cells import number

Kind = Literal["text", "int", "money", "date", "percent"]
KINDS: frozenset[str] = frozenset(("text", "int", "money", "date", "percent"))
Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """One column: `key` in each row dict, `title` for people; money is in `row[currency_key]`."""

    key: str
    title: str
    kind: Kind = "text"
    width: int | None = None
    currency_key: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key!r}: kind {self.kind!r} is not one of {sorted(KINDS)}")
        if self.currency_key is not None and self.kind != "money":
            raise ValueError(f"column {self.key!r}: only a money column takes a currency_key")

    def currency(self, row: Row) -> str | None:
        """The ISO code this row's amount is in, when the column has one."""
        code = row.get(self.currency_key) if self.currency_key else None
        return str(code) if code else None


@dataclass(frozen=True)
class Sheet:
    """A named table: its columns, rows as dicts, which rows are exceptions, notes shown with it."""

    name: str
    columns: Sequence[Column]
    rows: list[Row]
    highlight: Callable[[Row], bool] | None = None
    notes: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        keys = [column.key for column in self.columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"sheet {self.name!r}: a column key appears twice in {keys}")

    def is_exception(self, row: Row) -> bool:
        """True when `highlight` flags this row."""
        return self.highlight is not None and bool(self.highlight(row))


def counts_by(rows: Iterable[Row], key: str) -> list[Row]:
    """`[{key: value, "count": n}]` in first-seen order (e.g. orders per decision)."""
    counts = Counter(row.get(key) for row in rows)
    return [{key: value, "count": count} for value, count in counts.items()]


def totals_by(rows: Iterable[Row], keys: Sequence[str], amount: str = "amount") -> list[Row]:
    """Exact sums of `row[amount]` per distinct `keys` (e.g. currency and method), with row counts.

    Rows without a number in `amount` count but add nothing; the result is sorted by `keys` so
    plan and reconciliation list the same groups in the same order.
    """
    totals: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        group = tuple(row.get(key) for key in keys)
        total = totals.setdefault(
            group, {**dict(zip(keys, group, strict=True)), "count": 0, amount: Decimal(0)}
        )
        total["count"] += 1
        value = number(row.get(amount))
        if value is not None:
            total[amount] += value
    return [totals[group] for group in sorted(totals, key=lambda group: tuple(str(part) for part in group))]
