"""What validation hands to the planner: valid order rows, problems as values, and the defaults used."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from pipeline.models import Action, Reason, RefundMode


@dataclass(frozen=True, slots=True)
class Defaults:
    """What a blank cell (or a missing column) means; set by the CLI flags."""

    default_mode: RefundMode | None = None
    restock: bool = False
    notify: bool = False
    reason: Reason = Reason.INVENTORY


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One valid input row, every value parsed; `order` is the cell text as the user wrote it.

    `order_name` is the cleaned name (`1001.0` → `1001`), `order_key` the exact-match key of SPEC §6
    (case-folded, no leading `#`), `order_gid` set when the cell is a `gid://shopify/Order/…`.
    `shipping` is True/False or an amount; blank means True for a full refund, False otherwise.
    `currency` is the currency column's code, else the one written with the amount (`£3.20` → GBP).
    """

    row: int
    order: str
    order_name: str
    order_key: str
    order_gid: str | None
    mode: RefundMode
    action: Action
    amount: Decimal | None
    currency: str | None
    lines: tuple[tuple[str, int], ...]
    shipping: bool | Decimal
    restock: bool
    notify: bool
    reason: Reason
    note: str
    source: str = ""
    expected_name: str = ""  # the file's Name for a row looked up by Id: Shopify's name must match
    amount_text: str = ""  # the amount as written when it carries a currency (`£3.20`): shown in the plan

    @property
    def is_partial(self) -> bool:
        """True when the row refunds an amount or some lines rather than everything refundable."""
        return self.amount is not None or bool(self.lines)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one cell (or the file, row 1 and column "") is refused. `kind` is a stable code for tools."""

    row: int
    column: str
    value: str
    problem: str
    kind: str
    source: str = ""
    order: str = ""  # the row's order as written (its id when it names none)
    header: str = ""  # the user's own header of `column` ("Montant" for amount)

    def __str__(self) -> str:
        where = f"{self.source} row {self.row}" if self.source else f"row {self.row}"
        if self.column:
            where += f", {self.column}"
        if not self.value:
            return f"{where}: {self.problem}"
        value = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        value = value.replace("\n", "\\n").replace("\r", "\\r")
        return f'{where}: "{value}" {self.problem}'

    def as_dict(self) -> dict[str, object]:
        """The `validate --json` / validation_errors.csv record."""
        record: dict[str, object] = {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "problem": self.problem,
            "kind": self.kind,
            "header": self.header,
            "order": self.order,
        }
        if self.source:
            record["file"] = self.source
        return record


@dataclass(frozen=True)
class Validation:
    """The outcome of validating one input: problems, warnings, summary counts and the valid rows.

    `rows` is built on first access: `validate` only needs the counts, the planner needs the rows.
    """

    problems: list[Problem]
    warnings: list[str]
    rows_read: int
    orders: int
    invalid: int
    by_mode: dict[str, int] = field(default_factory=dict)
    by_action: dict[str, int] = field(default_factory=dict)
    columns: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @cached_property
    def rows(self) -> list[OrderRow]:
        """The valid rows, in file order."""
        if not self.columns:
            return []
        # A million small objects would trigger dozens of full collections with nothing to collect.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return list(map(OrderRow, *(column.tolist() for column in self.columns)))
        finally:
            if enabled:
                gc.enable()

    @property
    def ok(self) -> bool:
        """True when nothing was refused: the file may be planned."""
        return not self.problems

    @property
    def valid(self) -> int:
        """Orders without any problem."""
        return self.orders - self.invalid

    def summary(self) -> dict[str, object]:
        """The `validate --json` document (SPEC §14)."""
        return {
            "rows": self.rows_read,
            "orders": self.orders,
            "valid": self.valid,
            "invalid": self.invalid,
            "errors": [problem.as_dict() for problem in self.problems],
            "warnings": list(self.warnings),
            "by_mode": dict(self.by_mode),
            "by_action": dict(self.by_action),
        }
