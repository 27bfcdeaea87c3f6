"""`make bench`: the performance figures of SPEC §12, printed as a table and written to reports/bench.json.

Each figure is {"name", "value", "unit", "target", "ceiling", "ok"}. Figures whose stage is not built
yet are listed as such, so the table never hides a missing measurement.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Figure = dict[str, Any]
NOT_YET: tuple[str, ...] = ()


def _input_figures(quick: bool = False) -> list[Figure]:
    from benchmarks.input import bench_validate_csv, bench_validate_xlsx

    return [*bench_validate_csv(), *bench_validate_xlsx()]


def _plan_figures(quick: bool = False) -> list[Figure]:
    from benchmarks.stages import plan_figures

    return plan_figures(quick)


def _execute_figures(quick: bool = False) -> list[Figure]:
    from benchmarks.stages import execute_figures

    return execute_figures(quick)


def _simulator_figures(quick: bool = False) -> list[Figure]:
    from benchmarks.simulator import simulator_figures

    return simulator_figures(quick)


def _plan_files_figures(quick: bool = False) -> list[Figure]:
    from benchmarks.plan_files import plan_files_figures

    return plan_files_figures(quick)


def _bulk_execute_figures(quick: bool = False) -> list[Figure]:
    from benchmarks.bulk_execute import bulk_execute_figures

    return bulk_execute_figures(quick)


def _bulk_flow_figures(quick: bool = False) -> list[Figure]:
    from benchmarks.bulk_flow import bulk_flow_figures

    return bulk_flow_figures(quick)


# Each suite takes `quick` (`--quick`: stage sizes ÷ 10 for a fast look).
SUITES: list[tuple[str, Callable[[bool], list[Figure]]]] = [
    ("validate", _input_figures),
    ("plan", _plan_figures),
    ("simulator", _simulator_figures),
    ("execute", _execute_figures),
    ("plan files", _plan_files_figures),
    ("bulk execute", _bulk_execute_figures),
    ("bulk flow", _bulk_flow_figures),
]


def machine() -> str:
    cores = os.cpu_count()
    return f"{platform.machine()}, {cores} cores, Python {platform.python_version()}, {platform.system()}"


def run(out: Path = Path("reports/bench.json"), quick: bool = False) -> int:
    figures: list[Figure] = []
    for name, suite in SUITES:
        print(f"measuring {name} ...", flush=True)
        figures.extend(suite(quick))
    for stage in NOT_YET:
        figures.append(
            {
                "name": f"{stage}: not built yet",
                "value": None,
                "unit": "",
                "target": "",
                "ceiling": "",
                "ok": None,
            }
        )
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "figures": figures,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\n{'figure':<52} {'value':>12} {'unit':<8} {'target':<12} ok")
    for f in figures:
        value = (
            "-"
            if f["value"] is None
            else f"{f['value']:,.3g}"
            if isinstance(f["value"], float)
            else f["value"]
        )
        ok = {True: "yes", False: "NO", None: "not yet"}[f["ok"]]
        print(f"{f['name']:<52} {value!s:>12} {f['unit']:<8} {f['target']!s:<12} {ok}")
    print(f"\nwritten to {out} ({report['date']}, {report['machine']})")
    return 0 if all(f["ok"] is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(run(quick="--quick" in sys.argv[1:]))
