"""Each reconcile keeps its files: `reconcile-<UTC time>/` inside the run directory, the latest also at
the run directory's top level (SPEC §8), so "pending → settled" can be followed reconcile by reconcile."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.reports.files import write_bytes

PREFIX = "reconcile-"


def new_folder(run_dir: Path, at: dt.datetime) -> Path:
    """A new, empty `reconcile-YYYYMMDDTHHMMSSZ` folder (`-2`, `-3`… when one already has that second)."""
    stamp = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder, number = run_dir / f"{PREFIX}{stamp}", 1
    while folder.exists():
        number += 1
        folder = run_dir / f"{PREFIX}{stamp}-{number}"
    folder.mkdir(parents=True)
    return folder


def publish(files: list[Path], run_dir: Path) -> list[Path]:
    """Copies of `files` at the run directory's top level, each replaced whole; their paths."""
    return [write_bytes(run_dir / path.name, path.read_bytes()) for path in files]
