"""Which order each row names: the order cell, else the order id (SPEC §5), and duplicates naming every
row of the same order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.validate import columns as C
from pipeline.validate import parse
from pipeline.validate.cells import Checker
from pipeline.validate.parse import Bad


def check_orders(check: Checker) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
        resolve_ids(check, texts, names, keys, gids, expected)
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


def resolve_ids(
    check: Checker,
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
