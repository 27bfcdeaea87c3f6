"""`bulkcancel demo` (SPEC §11): every sample planned, executed and reconciled, nothing failed."""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.demo import SAMPLES, run_demo

INPUTS = Path(__file__).resolve().parents[1] / "inputs"


def test_the_demo_runs_every_sample_to_a_clean_reconciliation(tmp_path: Path) -> None:
    lines: list[str] = []
    assert run_demo(inputs=INPUTS, out=tmp_path, echo=lines.append) == 0, "\n".join(lines)
    runs = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert len(runs) == len(SAMPLES) + 1  # and the stock-out `select` found in the shop
    for run in runs:
        with (run / "reconciliation.csv").open(encoding="utf-8-sig", newline="") as f:
            statuses = {row["status"] for row in csv.DictReader(f)}
        assert statuses <= {"matched", "pending", "blocked", "skipped"}, (run.name, statuses)
