"""The reviewer's sign-off: `bulkcancel approve RUN_DIR --by NAME` and `execute --require-approval`.

An approval vouches for one plan.json (its sha256): it runs that plan, refuses another run's plan,
and refuses the same plan once it was changed, even with plan.sha256 recomputed to match.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from pipeline.simulator.server import SimulatorServer
from tests.cli.test_cli import bulkcancel
from tests.execute.claims_runs import plain_orders
from tests.harness import simulator


@pytest.fixture(scope="module")
def shop():
    sim = simulator(orders=150, seed=23, cancel_delay=0.0)
    server = SimulatorServer(sim, port=0)
    server.start_background()
    yield sim, server
    server.shutdown()
    server.server_close()


def merchant_file(path: Path, orders) -> Path:
    """An operations lead's sheet saved as CSV: their own headers, a full cancel and a partial refund."""
    first, second = orders
    path.write_text(
        "Order Number,Refund Method,Action,Refund Amount,Comments\r\n"
        f"{first.name},Original,cancel,,Out of stock\r\n"
        f"{second.name},Store credit,refund only,5.00,Goodwill\r\n",
        encoding="utf-8",
    )
    return path


def plan_run(server, source: Path, root: Path) -> Path:
    planned = bulkcancel("plan", str(source), "--shop", server.url, "--out", str(root))
    assert planned.returncode == 0, planned.stderr
    return Path(planned.stdout.strip().splitlines()[-1])


def one_line(result) -> str:
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    return result.stderr.strip()


def test_execute_requires_an_approval_of_this_exact_plan(shop, tmp_path):
    sim, server = shop
    first, second, third, fourth = plain_orders(sim, 4)
    run_dir = plan_run(server, merchant_file(tmp_path / "stockout week 48.csv", (first, second)), tmp_path)
    other = plan_run(server, merchant_file(tmp_path / "another team.csv", (third, fourth)), tmp_path / "o")

    refused = bulkcancel("execute", str(run_dir), "--yes", "--require-approval")
    assert refused.returncode == 3
    assert one_line(refused) == (
        f"error: no approval for this plan: a reviewer runs `bulkcancel approve {run_dir} --by NAME` "
        "after reading plan.xlsx"
    )

    # Another plan's approval copied in is not this plan's approval.
    approved_other = bulkcancel("approve", str(other), "--by", "Kim Lee")
    assert approved_other.returncode == 0, approved_other.stderr
    shutil.copy(other / "approval.json", run_dir / "approval.json")
    refused = bulkcancel("execute", str(run_dir), "--yes", "--require-approval")
    assert refused.returncode == 3 and "approves another plan" in one_line(refused)
    assert "by Kim Lee" in refused.stderr

    approved = bulkcancel("approve", str(run_dir), "--by", "  Jeanne Dupont-Lefèvre ")
    assert approved.returncode == 0, approved.stderr
    digest = hashlib.sha256((run_dir / "plan.json").read_bytes()).hexdigest()
    record = json.loads((run_dir / "approval.json").read_text(encoding="utf-8"))
    assert record["plan_sha256"] == digest and record["seal"] == digest[:12]
    assert record["by"] == "Jeanne Dupont-Lefèvre" and record["at"].endswith("Z")
    assert f"approved by Jeanne Dupont-Lefèvre at {record['at']} (seal {digest[:12]})" in approved.stdout
    assert "replaces: approved by Kim Lee" in approved.stdout  # the copied approval is named, not kept

    done = bulkcancel("execute", str(run_dir), "--yes", "--require-approval")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"approved by Jeanne Dupont-Lefèvre at {record['at']} (seal {digest[:12]})")
    assert "actions: 2 done" in done.stdout


def test_a_plan_changed_after_approval_is_refused_even_with_its_hash_recomputed(shop, tmp_path):
    sim, server = shop
    orders = plain_orders(sim, 12)[10:12]
    run_dir = plan_run(server, merchant_file(tmp_path / "ops.csv", orders), tmp_path)
    assert bulkcancel("approve", str(run_dir), "--by", "Sam").returncode == 0
    plan_json = run_dir / "plan.json"
    changed = plan_json.read_bytes().replace(b'"5.00"', b'"9.00"', 1)
    assert changed != plan_json.read_bytes()
    plan_json.write_bytes(changed)
    (run_dir / "plan.sha256").write_text(f"{hashlib.sha256(changed).hexdigest()}  plan.json\n")
    refused = bulkcancel("execute", str(run_dir), "--yes", "--require-approval")
    assert refused.returncode == 3 and "approves another plan" in one_line(refused)
    assert "review this plan and approve it" in refused.stderr


def test_approve_refuses_a_tampered_plan_and_a_blank_name(shop, tmp_path):
    sim, server = shop
    orders = plain_orders(sim, 16)[14:16]
    run_dir = plan_run(server, merchant_file(tmp_path / "ops.csv", orders), tmp_path)
    blank = bulkcancel("approve", str(run_dir), "--by", " \t")
    assert blank.returncode == 2 and one_line(blank) == "error: --by needs the reviewer's name"
    plan_json = run_dir / "plan.json"
    plan_json.write_bytes(plan_json.read_bytes().replace(b'"5.00"', b'"9.00"', 1))
    tampered = bulkcancel("approve", str(run_dir), "--by", "Sam")
    assert tampered.returncode == 3 and "changed since it was planned" in one_line(tampered)
    assert not (run_dir / "approval.json").exists()


def test_a_garbled_approval_is_refused_in_one_line(shop, tmp_path):
    sim, server = shop
    orders = plain_orders(sim, 20)[18:20]
    run_dir = plan_run(server, merchant_file(tmp_path / "ops.csv", orders), tmp_path)
    (run_dir / "approval.json").write_text('{"by": "Sam"}', encoding="utf-8")
    refused = bulkcancel("execute", str(run_dir), "--yes", "--require-approval")
    assert refused.returncode == 3 and "is not an approval" in one_line(refused)


def test_the_plan_carried_out_is_the_approved_one_as_it_is_read(tmp_path):
    """Between the approval check and the plan's load, plan.json and plan.sha256 replaced together: the
    executor checks the bytes it reads against the approved sha256, and nothing is sent."""
    from pipeline.errors import RefusedError
    from pipeline.execute.executor import execute_run
    from pipeline.simulator.transport import SimulatorTransport
    from tests.harness import make_run, settings

    sim = simulator(orders=60, seed=5)
    run_dir = make_run(tmp_path, sim, rows=5, seed=5)
    approved = hashlib.sha256((run_dir / "plan.json").read_bytes()).hexdigest()
    plan = json.loads((run_dir / "plan.json").read_text(encoding="utf-8"))
    plan["rows"] = plan["rows"][:1]
    data = json.dumps(plan).encode("utf-8")
    (run_dir / "plan.json").write_bytes(data)
    (run_dir / "plan.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  plan.json\n", encoding="utf-8")
    with pytest.raises(RefusedError, match="changed since it was approved"):
        execute_run(run_dir, settings(), transport=SimulatorTransport(sim), approved=approved)
    assert sim.api.ledger_json()["entries"] == []
