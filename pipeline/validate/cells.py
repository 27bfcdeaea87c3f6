"""Checking one table column by column: each column parsed once per distinct text, and the problems
found, at most one per cell, kept by row position."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from pipeline.validate import columns as C
from pipeline.validate.input_table import EXTRA, SOURCE, InputTable
from pipeline.validate.parse import Bad
from pipeline.validate.rows import Problem

#: Problems of one row are listed in the order of the columns (file-level ones first).
ORDER_OF_COLUMNS = {name: i for i, name in enumerate(("", *C.COLUMNS))}


class Column:
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


class Checker:
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

    def refuse_bad(self, column: str, parsed: Column) -> np.ndarray:
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
        self.found.append((position, ORDER_OF_COLUMNS.get(column, 0), problem))
        self.bad[position] = True

    def where(self, position: int) -> str:
        row = f"row {self.row_numbers[position]}"
        return f"{self.sources[position]} {row}" if self.sources is not None else row

    def problems(self) -> list[Problem]:
        self.found.sort(key=position_and_column)
        return [problem for _, _, problem in self.found]


def position_and_column(item: tuple[int, int, Problem]) -> tuple[int, int]:
    return item[0], item[1]
