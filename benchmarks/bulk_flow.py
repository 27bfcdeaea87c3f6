"""The 100,000-order stock-out through the bulk engine (issue 17, SPEC §12, §15): `bulkcancel select`
→ `plan --only-sku … --engine bulk` → `execute --engine bulk --yes` → `reconcile --engine bulk`, each
its own process, against a Standard-plan simulator seeded with a compact store of `orders` orders.

Figures: the four stages' time against the bulk floor, points per order spent outside bulk
operations, each process's peak memory (its own VmHWM), and the time to write the plan files of the
run's plan. Each stage has two floors (bulk_execute.py, rates raised so the bench takes minutes):
the measured one, the time the simulator's bulk processing itself took (the union of its operations'
[createdAt, completedAt]), and the nominal one, objects ÷ rate as they ran side by side. The total's
floor is the sum of the stages' floors (a stage without bulk operations has none: its time, as paced
and local work in any stage, is overhead); the 1.2 × target is judged on the measured floor.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.bulk_execute import (
    BULK_RATE,
    QUERY_RATE,
    TARGET_POINTS,
    TARGET_RATIO,
    Figure,
    Floor,
    figure,
    floor_seconds,
    info,
    serving,
)
from benchmarks.stages import DEFAULT_TOKEN, stats

ORDERS = 100_000
QUICK_ORDERS = 2_000
SKUS = tuple(f"BC-0{n}{size}" for n in range(10) for size in ("S", "M", "L", "XL"))  # the seeded 40
OUT_OF_STOCK = 40  # of them: every unfulfilled order is affected, the largest run the store allows
MEMORY_GB = 1.5
PLAN_FILES_S = 30.0


@dataclass
class Flow:
    """What the stages measured."""

    seconds: dict[str, float] = field(default_factory=dict)
    memory_mb: dict[str, float] = field(default_factory=dict)
    points: dict[str, float] = field(default_factory=dict)  # cost points each stage spent on the shop
    windows: dict[str, tuple[dt.datetime, dt.datetime]] = field(default_factory=dict)  # when it ran
    stage_floors: dict[str, Floor] = field(default_factory=dict)  # its own operations' floor
    exits: dict[str, int] = field(default_factory=dict)
    left: int = -1  # actions execute left undone (its --json), -1 when it said nothing


def cli(*args: Any) -> list[str]:
    return [sys.executable, "-m", "pipeline", *(str(a) for a in args)]


def measured(flow: Flow, stage: str, command: list[str], env: dict[str, str], url: str = "") -> str:
    """Runs one stage as its own process; its wall time, peak memory (its own VmHWM, sampled while it
    runs: wait4's maxrss is no measure, Linux carries the forking parent's high-water mark across
    exec) and the points it spent on the shop at `url` go to `flow`."""
    print(f"  {stage} ...", file=sys.stderr, flush=True)
    before = float(stats(url)["points_spent"]) if url else 0.0
    began, started = dt.datetime.now(dt.UTC), time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, text=True)
        peak, ended = [0.0], threading.Event()
        watch = threading.Thread(target=_watch, args=(process.pid, peak, ended), daemon=True)
        watch.start()
        _pid, status, _usage = os.wait4(process.pid, 0)
        ended.set()
        watch.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        flow.seconds[stage] = time.perf_counter() - started
        flow.windows[stage] = (began, dt.datetime.now(dt.UTC))
        flow.memory_mb[stage] = peak[0]
        if url:
            flow.points[stage] = float(stats(url)["points_spent"]) - before
        out.seek(0)
        err.seek(0)
        flow.exits[stage] = process.returncode
        if process.returncode:  # shown, and counted in the figures (reconcile exits 1 on exceptions)
            print(f"  {stage} exited {process.returncode}: {err.read()[-3000:]}", file=sys.stderr)
        return out.read()


def peak_mb(pid: int) -> float:
    """A live process's peak resident memory (VmHWM), in MB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _watch(pid: int, peak: list[float], ended: threading.Event) -> None:
    """Samples the process's own high-water mark every 20 ms until it is reaped (the mark only grows;
    a process that has exited shows none)."""
    while not ended.is_set():
        peak[0] = max(peak[0], peak_mb(pid))
        ended.wait(0.02)


def plan_files_seconds(run_dir: Path) -> float:
    """The time to write the five plan files of the run's plan (SPEC §12: ≤ 30 s at 100,000 rows)."""
    from pipeline.plan.files import load_plan, write_plan_files

    plan = load_plan(run_dir)
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        write_plan_files(plan, Path(directory))
        return time.perf_counter() - started


def bench_bulk_flow(orders: int = ORDERS, out_of_stock: int = OUT_OF_STOCK, seed: int = 11) -> list[Figure]:
    label = f"bulk flow {orders:,}"
    skus = SKUS[:out_of_stock]
    flow = Flow()
    with tempfile.TemporaryDirectory() as directory:
        work = Path(os.environ.get("BENCH_KEEP") or directory)  # BENCH_KEEP: a folder to keep it all in
        work.mkdir(parents=True, exist_ok=True)
        store, source, runs = work / "store.json", work / "stock-out.csv", work / "runs"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPIFY_")}
        measured(
            flow, "seed", cli("simulator", "seed", "--orders", orders, "--seed", seed, "--store", store), env
        )
        with serving(store, BULK_RATE, QUERY_RATE) as (url, server):
            env |= {"SHOPIFY_SHOP": url, "SHOPIFY_ACCESS_TOKEN": DEFAULT_TOKEN}
            since = dt.datetime.now(dt.UTC)
            sku_args = [x for sku in skus for x in ("--sku", sku)]
            select = cli(
                "select", *sku_args, "--status", "unfulfilled", "--mode", "original", "--out", source
            )
            measured(flow, "select", [*select, "--engine", "bulk"], env, url)
            only = [x for sku in skus for x in ("--only-sku", sku)]
            plan = [*cli("plan", source, *only, "--engine", "bulk", "--out", runs), "--json"]
            run_dir = Path(json.loads(measured(flow, "plan", plan, env, url))["run_dir"])
            planned = len(json.loads((run_dir / "plan.json").read_text())["rows"])
            execute = cli("execute", run_dir, "--engine", "bulk", "--yes", "--json")
            shown = measured(flow, "execute", execute, env, url)
            flow.left = int(json.loads(shown)["left"]) if flow.exits["execute"] == 0 else -1
            measured(flow, "reconcile", cli("reconcile", run_dir, "--json", "--engine", "bulk"), env, url)
            floor = floor_seconds(url, since, BULK_RATE, QUERY_RATE)
            for stage, window in flow.windows.items():
                own = floor_seconds(url, None, BULK_RATE, QUERY_RATE, window)
                if own.operations:  # a stage on the bulk engine: its time against its own floor
                    flow.stage_floors[stage] = own
            flow.memory_mb["simulator"] = peak_mb(server.pid)
        flow.seconds["plan files"] = plan_files_seconds(run_dir)
    return flow_figures(label, flow, floor, planned)


def flow_figures(label: str, flow: Flow, floor: Any, planned: int) -> list[Figure]:
    stages = [s for s in ("select", "plan", "execute", "reconcile") if s in flow.seconds]
    total = sum(flow.seconds[s] for s in stages)
    own = {s: flow.stage_floors[s] for s in stages if s in flow.stage_floors}
    measured, nominal = totals(own)
    name = f"{label}: {'+'.join(stages)} time ÷ measured bulk floor ({measured:.0f} s)"
    ratio = figure(name, total / measured if measured else float("inf"), "×", TARGET_RATIO)
    points = sum(flow.points.values())
    spent = figure(f"{label}: points per order outside bulk", points / planned, "pt", TARGET_POINTS)
    undone = figure(
        f"{label}: execute: actions left undone (exit {flow.exits.get('execute')})", flow.left, "", 0
    )
    figures = [
        info(f"{label}: orders in the run", planned, "orders"),
        {**undone, "ok": flow.left == 0},  # -1: execute said nothing
        ratio,
        spent,
        *(
            info(f"{label}: {stage}'s points per order", p / planned, "pt")
            for stage, p in flow.points.items()
        ),
        info(f"{label}: time ÷ nominal bulk floor ({nominal:.0f} s)", total / (nominal or total), "×"),
        info(
            f"{label}: time ÷ bulk floor, one at a time ({floor.seconds:.0f} s)", total / floor.seconds, "×"
        ),
        info(
            f"{label}: operations, their time ran ÷ floor",
            floor.ran / floor.seconds,
            f"× ({floor.operations})",
        ),
    ]
    for stage, its in own.items():
        figures += [
            info(
                f"{label}: {stage} time ÷ its measured floor ({its.measured:.0f} s, {its.operations} ops)",
                flow.seconds[stage] / its.measured if its.measured else 0.0,
                "×",
            ),
            info(f"{label}: {stage}'s nominal floor", its.nominal, "s"),
            info(f"{label}: {stage} time with no operation running", flow.seconds[stage] - its.busy, "s"),
        ]
    figures += [
        info(f"{label}: {stage} time", t, "s") for stage, t in flow.seconds.items() if stage != "plan files"
    ]
    figures += [  # the target is the client's (SPEC §12); the simulator's is shown beside it
        figure(f"{label}: {stage} peak memory", mb / 1024, "GB", MEMORY_GB)
        if stage != "simulator"
        else info(f"{label}: {stage} peak memory", mb / 1024, "GB")
        for stage, mb in flow.memory_mb.items()
        if stage != "seed"
    ]
    figures.append(figure(f"{label}: writing the plan files", flow.seconds["plan files"], "s", PLAN_FILES_S))
    return figures


def totals(floors: dict[str, Floor]) -> tuple[float, float]:
    """The total's measured and nominal floors: the sums of the stages' own."""
    return sum(f.measured for f in floors.values()), sum(f.nominal for f in floors.values())


def bulk_flow_figures(quick: bool = False) -> list[Figure]:
    """100,000 orders (2,000 with --quick)."""
    return bench_bulk_flow(QUICK_ORDERS if quick else ORDERS)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    size = int(arguments[arguments.index("--orders") + 1]) if "--orders" in arguments else ORDERS
    skus = int(arguments[arguments.index("--skus") + 1]) if "--skus" in arguments else OUT_OF_STOCK
    for f in bench_bulk_flow(QUICK_ORDERS if "--quick" in arguments else size, skus):
        value = "-" if f["value"] is None else f"{f['value']:.3g}"
        print(f"{f['name']:<70} {value} {f['unit']} (target {f['target']}) {f['ok']}")
