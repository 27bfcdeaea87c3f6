"""Benchmarks of reading and validating big input files (SPEC §12), for `make bench`.

Each measurement runs in a fresh subprocess, so its peak resident memory (ru_maxrss) is its own,
pandas' C buffers included (tracemalloc would miss them).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HEADER = [
    "order",
    "refund_mode",
    "action",
    "amount",
    "currency",
    "lines",
    "shipping",
    "restock",
    "notify",
    "reason",
    "note",
]
_MODES = ("original", "original", "original", "store_credit", "gift_card", "none")
_NOTES = ("", "", "Supplier stock-out", "Customer asked", "Rupture fournisseur — désolé")

_MEASURE = """
import json, resource, sys, time
from pathlib import Path
started = time.perf_counter()
if sys.argv[1] == "pandas":
    import pandas as pd
    frame = pd.read_csv(sys.argv[2], dtype=object, na_filter=False)
    rows = len(frame)
else:
    from pipeline.validate.read import read_input
    from pipeline.validate.check import validate_table
    result = validate_table(read_input([Path(sys.argv[2])]))
    summary = result.summary()
    rows = summary["valid"]
    if sys.argv[1] == "objects":
        rows = len(result.rows)
elapsed = time.perf_counter() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "rows": rows}))
"""


def sample_rows(count: int, seed: int = 7) -> Iterator[list[str]]:
    """A realistic stock-out file: mostly full refunds, some amounts and lines, every mode, no errors."""
    rng = random.Random(seed)
    for i in range(count):
        mode = rng.choice(_MODES)
        amount = lines = shipping = currency = ""
        draw = rng.random()
        if mode != "none" and draw < 0.2:
            amount, currency, shipping = f"{rng.randint(1, 300)}.{rng.randint(0, 99):02d}", "EUR", "no"
        elif mode != "none" and draw < 0.3:
            lines = f"BC-{rng.randint(0, 39):02d}{rng.choice('SMLX')}:{rng.randint(1, 3)}"
        action = "refund_only" if amount and draw < 0.05 else "cancel"
        yield [
            f"#{1001 + i}", mode, action, amount, currency, lines, shipping,
            rng.choice(("yes", "no", "")), rng.choice(("yes", "no")), "inventory", rng.choice(_NOTES),
        ]  # fmt: skip


def write_csv(path: Path, rows: int) -> Path:
    """A comma CSV of `rows` sample rows."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(HEADER) + "\n")
        handle.writelines(",".join(row) + "\n" for row in sample_rows(rows))
    return path


def write_xlsx(path: Path, rows: int) -> Path:
    """An XLSX of `rows` sample rows; order numbers typed as numbers, as Excel users do."""
    from xlsxwriter import Workbook

    book = Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("Cancellations")
    sheet.write_row(0, 0, HEADER)
    for index, row in enumerate(sample_rows(rows), start=1):
        sheet.write_row(index, 0, [int(row[0][1:]), *row[1:3], float(row[3]) if row[3] else None, *row[4:]])
    book.close()
    return path


def _measure(kind: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, kind, str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"benchmark subprocess failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


def _figure(name: str, value: float, unit: str, target: float) -> dict[str, Any]:
    return {"name": name, "value": round(value, 3), "unit": unit, "target": target, "ceiling": target,
            "ok": value <= target}  # fmt: skip


def bench_validate_csv(rows: int = 1_000_000) -> list[dict[str, Any]]:
    """Seconds and peak memory to read and validate a `rows`-row CSV; the ratio to a plain pandas read."""
    label = f"validate {rows:,}-row CSV"
    with tempfile.TemporaryDirectory() as directory:
        path = write_csv(Path(directory) / "bench.csv", rows)
        baseline = _measure("pandas", path)
        measured = _measure("validate", path)
    return [
        _figure(f"{label}: time", measured["seconds"], "s", 4.0),
        _figure(f"{label}: peak memory", measured["peak_mb"], "MB", 1024.0),
        _figure(f"{label}: time ÷ pandas read", measured["seconds"] / baseline["seconds"], "x", 8.0),
    ]


def bench_validate_xlsx(rows: int = 100_000) -> list[dict[str, Any]]:
    """Seconds and peak memory to read and validate a `rows`-row XLSX."""
    label = f"validate {rows:,}-row XLSX"
    with tempfile.TemporaryDirectory() as directory:
        measured = _measure("validate", write_xlsx(Path(directory) / "bench.xlsx", rows))
    return [
        _figure(f"{label}: time", measured["seconds"], "s", 3.0),
        _figure(f"{label}: peak memory", measured["peak_mb"], "MB", 1024.0),
    ]


def bench_row_objects(rows: int = 1_000_000) -> dict[str, Any]:
    """Seconds and memory to validate and also build every `OrderRow` (what the planner pays)."""
    with tempfile.TemporaryDirectory() as directory:
        return _measure("objects", write_csv(Path(directory) / "bench.csv", rows))


if __name__ == "__main__":
    for figure in [*bench_validate_csv(), *bench_validate_xlsx()]:
        print(figure)
    print("with OrderRow objects:", bench_row_objects())
