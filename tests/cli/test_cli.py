"""The command line end to end over real HTTP: exit codes, one-line errors, the run directory last."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.simulator.server import SimulatorServer
from tests.harness import TOKEN, simulator

INPUTS = Path(__file__).resolve().parents[2] / "inputs"


@pytest.fixture(scope="module")
def shop():
    sim = simulator(orders=500, seed=7, cancel_delay=0.01)
    server = SimulatorServer(sim, port=0)
    server.start_background()
    yield server
    server.shutdown()
    server.server_close()


def bulkcancel(*args: str, stdin: str = "", token: str | None = TOKEN) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPIFY_")}
    if token:
        env["SHOPIFY_ACCESS_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_plan_execute_reconcile_with_exit_codes(shop, tmp_path):
    planned = bulkcancel(
        "plan", str(INPUTS / "annulations_rupture.csv"), "--shop", shop.url, "--out", str(tmp_path)
    )
    assert planned.returncode == 0, planned.stderr
    run_dir = Path(planned.stdout.strip().splitlines()[-1])
    assert (run_dir / "plan.xlsx").is_file() and (run_dir / "plan.sha256").is_file()
    refused = bulkcancel("execute", str(run_dir), stdin="1\n")
    assert refused.returncode == 3 and "not confirmed" in refused.stderr
    count = planned.stdout.split(" to execute")[0].split()[-1]
    done = bulkcancel("execute", str(run_dir), stdin=f"{count}\n")
    assert done.returncode == 0, done.stderr
    assert f"actions: {count} done\n" in done.stdout and "left" not in done.stdout
    reconciled = bulkcancel("reconcile", str(run_dir), "--json")
    assert reconciled.returncode in (0, 1) and '"statuses"' in reconciled.stdout
    for result in (planned, refused, done, reconciled):
        assert "Traceback" not in result.stderr and TOKEN not in result.stdout + result.stderr


def test_a_tampered_plan_is_one_line_and_exit_3(shop, tmp_path):
    planned = bulkcancel(
        "plan", str(INPUTS / "cancellations.xlsx"), "--shop", shop.url, "--out", str(tmp_path)
    )
    run_dir = Path(planned.stdout.strip().splitlines()[-1])
    plan_json = run_dir / "plan.json"
    plan_json.write_text(
        plan_json.read_text(encoding="utf-8").replace("cancel", "Cancel", 1), encoding="utf-8"
    )
    result = bulkcancel("execute", str(run_dir), "--yes")
    assert result.returncode == 3
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error: ")


def test_max_total_is_refused_with_exit_3(shop, tmp_path):
    planned = bulkcancel(
        "plan", str(INPUTS / "cancellations.xlsx"), "--shop", shop.url, "--out", str(tmp_path)
    )
    run_dir = Path(planned.stdout.strip().splitlines()[-1])
    result = bulkcancel("execute", str(run_dir), "--yes", "--max-total", "100")
    assert result.returncode == 3 and "max-total" in result.stderr


@pytest.mark.parametrize(
    ("args", "token", "needle"),
    [
        (("plan", str(INPUTS / "cancellations.xlsx"), "--shop", "http://example.com"), TOKEN, "http"),
        (("plan", str(INPUTS / "cancellations.xlsx"), "--shop", "evil.example.com"), TOKEN, "myshopify"),
        (("plan", str(INPUTS / "cancellations.xlsx"), "--shop", "mystore"), None, "SHOPIFY_ACCESS_TOKEN"),
    ],
)
def test_connection_mistakes_are_one_line(args, token, needle):
    result = bulkcancel(*args, token=token)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_invalid_input_exits_2_before_any_lookup(shop, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("order,refund_mode\n#1001,sometimes\n", encoding="utf-8")
    result = bulkcancel("plan", str(bad), "--shop", shop.url, "--out", str(tmp_path))
    assert result.returncode == 2
    assert 'row 2, refund_mode: "sometimes"' in result.stdout + result.stderr
    assert not any(p.is_dir() for p in tmp_path.iterdir())


def test_a_wrong_token_stops_with_one_line(shop, tmp_path):
    result = bulkcancel(
        "plan",
        str(INPUTS / "cancellations.xlsx"),
        "--shop",
        shop.url,
        "--out",
        str(tmp_path),
        token="shpat_wrong_wrong",
    )
    assert result.returncode == 2  # the readiness check, the first step of plan, fails fast
    assert "refused the access token" in result.stderr and "shpat_wrong_wrong" not in result.stderr
    assert result.stderr.count("\n") == 1 and not list(tmp_path.iterdir())
    assert "Traceback" not in result.stderr


@pytest.fixture
def fresh_shop():
    sim = simulator(orders=500, seed=7, cancel_delay=0.01)
    server = SimulatorServer(sim, port=0)
    server.start_background()
    yield server
    server.shutdown()
    server.server_close()


def test_run_plans_executes_and_reconciles_in_one_command(fresh_shop, tmp_path):
    shop = fresh_shop
    result = bulkcancel(
        "run",
        str(INPUTS / "annulations_rupture.csv"),
        "--shop",
        shop.url,
        "--out",
        str(tmp_path),
        "--execute",
        "--yes",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"actions: \d+ done\n", result.stdout) and re.search(r"rows: \d+ matched", result.stdout)
    assert "Traceback" not in result.stderr
    # The same file run again: the shop's claims say every order is done, nothing is executed.
    again = bulkcancel(
        "plan", str(INPUTS / "annulations_rupture.csv"), "--shop", shop.url, "--out", str(tmp_path)
    )
    assert again.returncode == 0 and " 0 to execute" in again.stdout, again.stdout
    assert "already_done" in again.stdout


def test_plan_skip_invalid_plans_the_valid_rows_and_lists_the_others_in_the_run_directory(shop, tmp_path):
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("Commande,Mode\n#1001,original\n#1002,sometimes\n", encoding="utf-8")
    refused = bulkcancel("plan", str(mixed), "--shop", shop.url, "--out", str(tmp_path / "a"))
    assert refused.returncode == 2
    assert [p.name[:18] for p in (tmp_path / "a").iterdir()] == ["validation_errors-"] * 2
    result = bulkcancel(
        "plan", str(mixed), "--skip-invalid", "--shop", shop.url, "--out", str(tmp_path / "b")
    )
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert "--skip-invalid: 1 invalid order left out" in result.stdout
    errors = (run_dir / "validation_errors.csv").read_text(encoding="utf-8").splitlines()
    assert errors[1].startswith("3,refund_mode,sometimes,") and errors[1].endswith(",Mode,#1002")
    plan = json.loads((run_dir / "plan.json").read_text(encoding="utf-8"))
    assert [row["order"] for row in plan["rows"]] == ["#1001"]
