"""`plan --engine` over real HTTP: a bulk plan equals the paced one, and the plan says which engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.simulator.server import SimulatorServer
from tests.cli.test_cli import INPUTS, bulkcancel
from tests.harness import TOKEN, simulator


@pytest.fixture(scope="module")
def shop():
    sim = simulator(orders=500, seed=7, cancel_delay=0.01, bucket=2000, restore_rate=100)
    server = SimulatorServer(sim, port=0)
    server.start_background()
    yield server
    server.shutdown()
    server.server_close()


def plan(shop: SimulatorServer, out: Path, *options: str) -> tuple[dict, dict, str]:
    """(plan.json, plan --json, stderr) of the stock-out sample planned with `options`."""
    source = str(INPUTS / "annulations_rupture.csv")
    result = bulkcancel("plan", source, "--shop", shop.url, "--out", str(out), "--json", *options)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and TOKEN not in result.stdout + result.stderr
    summary = json.loads(result.stdout)
    document = json.loads((Path(summary["run_dir"]) / "plan.json").read_text(encoding="utf-8"))
    return document, summary, result.stderr


def comparable(document: dict) -> object:
    """plan.json's rows without what the run's own id makes differ (action keys, idempotency keys)."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "idempotency_key"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value.replace(document["run_id"], "RUN") if isinstance(value, str) else value

    return strip(document["rows"])


def test_a_bulk_plan_equals_the_paced_plan_and_both_say_their_engine(shop, tmp_path):
    paced, paced_summary, _ = plan(shop, tmp_path / "paced", "--engine", "paced")
    bulk, bulk_summary, stderr = plan(shop, tmp_path / "bulk", "--engine", "bulk")
    assert comparable(bulk) == comparable(paced) and bulk_summary["decisions"] == paced_summary["decisions"]
    assert "bulk query: " in stderr and " orders, " in stderr  # progress of the bulk query, per poll
    assert bulk["engines"] == bulk_summary["engines"]
    assert set(bulk["engines"]) == {"plan", "execute", "reconcile"}
    assert {choice["engine"] for choice in bulk["engines"].values()} == {"bulk"}
    assert (
        paced["engines"]["plan"]["engine"] == "paced"
        and "--engine paced" in paced["engines"]["plan"]["reason"]
    )
    actions = sum(1 for row in bulk["rows"] if row["action"])
    assert bulk["engines"]["execute"]["orders"] == actions
    # The estimate: points past the 2,000-point burst at 100 a second (SPEC §12's 35 points an order).
    assert bulk["engines"]["execute"]["paced_seconds"] == round(max(actions * 35 - 2000, 0) / 100, 1)


def test_auto_plans_a_small_file_paced_and_says_why(shop, tmp_path):
    source = str(INPUTS / "annulations_rupture.csv")
    result = bulkcancel("plan", source, "--shop", shop.url, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "  plan: paced engine — " in result.stdout and " min paced" in result.stdout
    assert "  execute: paced engine — " in result.stdout and "bulk query" not in result.stderr


def test_run_carries_the_engine_through_execute_and_reconcile(tmp_path):
    sim = simulator(orders=500, seed=7, cancel_delay=0.01, bucket=2000, restore_rate=100)
    server = SimulatorServer(sim, port=0)
    server.start_background()
    try:
        source = str(INPUTS / "annulations_rupture.csv")
        result = bulkcancel(
            "run",
            source,
            "--shop",
            server.url,
            "--out",
            str(tmp_path),
            "--engine",
            "bulk",
            "--execute",
            "--yes",
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "read through the bulk API (--engine bulk" in result.stdout  # reconcile took the engine too
    kinds = {op.type for op in sim.api.bulk.operations.values()}
    assert kinds == {"QUERY", "MUTATION"}
