"""`bulkcancel release RUN_ID`: shows what the run did, asks, gives back the orders it did not finish."""

from __future__ import annotations

import threading

import httpx

from pipeline.execute.executor import execute_run
from pipeline.simulator.server import SimulatorServer
from pipeline.simulator.transport import SimulatorTransport
from tests.cli.test_cli import bulkcancel
from tests.execute.claims_runs import plain_orders, plan_file, write_modes
from tests.harness import settings, simulator


def test_release_asks_refuses_without_a_yes_and_frees_the_unfinished_orders(tmp_path):
    sim = simulator(orders=120, seed=21, cancel_delay=0.0)
    server = SimulatorServer(sim, port=0)
    server.start_background()
    try:
        orders = plain_orders(sim, 2)
        source = write_modes(tmp_path / "two.csv", orders, (("cancel", "none", ""),) * 2)
        root = tmp_path / "runs"
        plan, run_dir = plan_file(source, root, url=server.url)
        victim = plan.actions()[1]
        stop, inner = threading.Event(), SimulatorTransport(sim)

        class StopAtTheVictimsCancel(httpx.BaseTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                body = request.read()
                if b"mutation OrderCancel" in body and victim.order_id.encode() in body:
                    stop.set()
                    raise httpx.ReadTimeout("answer lost")  # and never applied
                return inner.handle_request(request)

        execute_run(
            run_dir,
            settings(server.url),
            transport=StopAtTheVictimsCancel(),
            stop=stop,
            concurrency=1,
            runner_options={"cancel_wait": 0.3, "poll": 0.01},
        )

        refused = bulkcancel("release", plan.run_id, "--out", str(root), "--shop", server.url, stdin="n\n")
        assert refused.returncode == 3, refused.stderr
        assert f"{victim.order_name}: nothing of this run on the order" in refused.stdout
        assert "finished, its claim is kept" in refused.stdout  # the first order: done, stays done

        closed = bulkcancel("release", plan.run_id, "--out", str(root), "--shop", server.url, stdin="")
        assert closed.returncode == 3 and "standard input is closed" in closed.stderr  # not 130 "aborted"
        assert "aborted" not in closed.stderr and "Traceback" not in closed.stderr

        done = bulkcancel("release", plan.run_id, "--out", str(root), "--shop", server.url, "--yes")
        assert done.returncode == 0, done.stderr
        assert f"released 1 orders of run {plan.run_id}" in done.stdout
        resumed = bulkcancel("execute", str(run_dir), "--yes")
        assert resumed.returncode == 3 and "was released" in resumed.stderr
        again, _ = plan_file(source, root, url=server.url)
        assert [str(r.decision) for r in again.rows] == ["skip", "execute"]
    finally:
        server.shutdown()
        server.server_close()
