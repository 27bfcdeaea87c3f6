"""`--only-sku` on a file written by `select` (SPEC §14, §15): its `lines` hold the affected SKUs and
`all_lines_affected` says whether they are the whole order, so the same rule as for exports applies
(SPEC §5a): the whole order affected → cancel; some lines → refund_only those lines, no restock."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from pipeline.errors import InputError
from pipeline.validate import columns as C
from pipeline.validate.input_table import InputTable

_YES = {"yes", "y", "true", "1", "x", "oui", "vrai"}


def only_sku_selected(table: InputTable, skus: set[str], wanted: Iterable[str]) -> InputTable:
    """The rows that hold one of `skus` (casefolded), turned into actions; the others left out."""
    frame = table.frame.copy()
    actions, lines, restock, keep = [], [], [], []
    current_restock = frame[C.RESTOCK].tolist() if C.RESTOCK in frame else [""] * len(frame)
    for text, whole, restock_text in zip(
        frame[C.LINES], frame[C.ALL_LINES_AFFECTED], current_restock, strict=True
    ):
        items = [item.strip() for item in str(text).replace(",", ";").split(";") if item.strip()]
        affected = [item for item in items if item.rpartition(":")[0].strip().casefold() in skus]
        keep.append(bool(affected))
        if affected and len(affected) == len(items) and C.clean_cell(str(whole)).casefold() in _YES:
            actions.append("cancel")
            lines.append("")
            restock.append(restock_text)
        else:
            actions.append("refund_only")
            lines.append(";".join(affected))
            restock.append("no")
    frame[C.ACTION], frame[C.LINES], frame[C.RESTOCK] = actions, lines, restock
    mask = np.array(keep, dtype=bool)
    left_out = int((~mask).sum())
    if left_out and left_out == len(mask):
        raise InputError(f"{table.source}: no row lists SKU {', '.join(sorted(wanted))} in its lines")
    warnings = list(table.warnings)
    if left_out:
        warnings.append(
            f"{left_out} orders have no line with SKU {', '.join(sorted(wanted))}: left out (--only-sku)"
        )
    return dataclasses.replace(table, frame=frame[mask], warnings=warnings, left_out=left_out, only_sku=True)
