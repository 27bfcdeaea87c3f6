"""The table `read_input` hands to validation: cell texts under canonical column names, and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from pipeline.validate.rows import Problem

EXTRA = "_extra"  # first non-empty cell beyond the header's last column (CSV rows cut by a stray delimiter)
SOURCE = "_source"  # file name, present only when several files are read together


@dataclass(frozen=True)
class InputTable:
    """Cell texts under canonical column names, indexed by file row number, and their provenance."""

    frame: pd.DataFrame
    source: str
    sha256: str
    header_row: int
    decimal_comma: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)
    #: `exports.SHOPIFY_EXPORT` or `exports.MATRIXIFY` for a file merchants already have (SPEC §5a).
    kind: str = ""
    header: tuple[str, ...] = ()
    line_rows: int = 0  # rows read when several rows make one order (exports), else 0
    left_out: int = 0  # orders left out by --only-sku
    only_sku: bool = False  # an export narrowed to some SKUs' lines (else: every order of it, as a whole)
