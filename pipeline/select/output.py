"""The input file `select` writes (SPEC §14): `order, order_id, lines, refund_mode, all_lines_affected`."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from pipeline.select.affected import Affected

COLUMNS = ("order", "order_id", "lines", "refund_mode", "all_lines_affected")


def write_rows(path: Path, rows: Iterable[Affected], mode: str | None) -> int:
    """Writes the file atomically, a row at a time; returns the rows written."""
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(COLUMNS)
        for row in rows:
            lines = ";".join(f"{sku}:{units}" for sku, units in row.lines.items())
            out.writerow(
                [row.order, row.order_id, lines, mode or "", "yes" if row.all_lines_affected else "no"]
            )
            count += 1
    tmp.replace(path)
    return count
