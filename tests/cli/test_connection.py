"""Connection problems are said at once, in the merchant's words, with exit 2, by every command that
talks to the shop: nothing listening, another token, no answer within --timeout; and the addresses a
person types for the simulator (no scheme, the URL `simulator serve` prints) are understood."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.simulator.server import SimulatorServer
from tests.cli.test_cli import INPUTS, bulkcancel
from tests.harness import free_port, simulator

SAMPLE = str(INPUTS / "cancellations.xlsx")
OUR_WORDS = ("Readiness", "OrdersByName", "ConnectError", "Errno", "HTTP 401", "Traceback")


def served(**config: object) -> SimulatorServer:
    server = SimulatorServer(simulator(orders=500, seed=7, cancel_delay=0.01, **config), port=0)
    server.start_background()
    return server


@pytest.fixture
def stopped_run(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A run planned against a shop that is then stopped: execute, reconcile and release find nobody."""
    server = served()
    try:
        planned = bulkcancel("plan", SAMPLE, "--shop", server.url, "--out", str(tmp_path))
        assert planned.returncode == 0, planned.stderr
    finally:
        server.shutdown()
        server.server_close()
    yield Path(planned.stdout.strip().splitlines()[-1]), int(server.server_address[1])


def assert_one_clear_line(result, needle: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert needle in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert not any(word in result.stderr for word in OUR_WORDS), result.stderr


@pytest.mark.parametrize("command", ["plan", "run", "doctor"])
def test_nothing_listening_is_one_line_and_exit_2(command, tmp_path):
    port = free_port()
    args = [SAMPLE, "--out", str(tmp_path)] if command != "doctor" else []
    result = bulkcancel(command, *args, "--shop", f"127.0.0.1:{port}")
    expected = (
        f"error: cannot reach http://127.0.0.1:{port}: nothing is listening there — is the simulator running?"
    )
    if command == "doctor":  # doctor prints its own line, without "error: "
        expected = expected.removeprefix("error: ")
    assert_one_clear_line(result, expected)
    assert not list(tmp_path.iterdir())  # no run directory


@pytest.mark.parametrize("command", ["execute", "reconcile", "release"])
def test_a_stopped_shop_is_found_before_any_work(command, stopped_run):
    run_dir, port = stopped_run
    if command == "release":
        result = bulkcancel("release", run_dir.name, "--out", str(run_dir.parent), "--yes")
    else:
        result = (
            bulkcancel(command, str(run_dir), "--yes")
            if command == "execute"
            else bulkcancel(command, str(run_dir))
        )
    assert_one_clear_line(result, f"cannot reach http://127.0.0.1:{port}: nothing is listening there")
    assert not (run_dir / "journal.sqlite").exists()  # execute stopped before it began


def test_another_token_is_the_shop_refusing_the_access_token(tmp_path):
    server = served(token="shpat_another_one")
    try:
        plan = bulkcancel("plan", SAMPLE, "--shop", server.url, "--out", str(tmp_path))
        doctor = bulkcancel("doctor", "--shop", server.url)
    finally:
        server.shutdown()
        server.server_close()
    assert_one_clear_line(plan, "the shop refused the access token")
    assert_one_clear_line(doctor, "the shop refused the access token")


def test_addresses_typed_for_the_simulator_are_understood(tmp_path):
    server = served()
    port = server.server_address[1]
    try:
        for shop in (
            f"127.0.0.1:{port}",
            f"localhost:{port}",
            f"{server.url}/admin/api/2026-07/graphql.json",
        ):
            result = bulkcancel("doctor", "--shop", shop)
            assert result.returncode == 0, (shop, result.stdout + result.stderr)
    finally:
        server.shutdown()
        server.server_close()


def test_a_shop_that_never_answers_gives_up_after_timeout(tmp_path):
    """A listener that accepts connections and never answers: `--timeout 1` is the wait, said in words."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        result = bulkcancel(
            "plan", SAMPLE, "--shop", f"127.0.0.1:{port}", "--timeout", "1", "--out", str(tmp_path)
        )
    assert_one_clear_line(
        result, f"cannot use http://127.0.0.1:{port}: 127.0.0.1:{port} gave no answer within 1 s"
    )


def test_a_server_error_on_the_first_look_is_tried_again(tmp_path):
    """A 5xx on the probe is Shopify having a bad second, not a wrong address: the probe retries it."""
    server = served(faults="5xx=0.5,seed=3")
    try:
        results = [bulkcancel("doctor", "--shop", server.url) for _ in range(4)]
    finally:
        server.shutdown()
        server.server_close()
    for result in results:
        assert "cannot use" not in result.stderr, result.stderr
        assert result.returncode == 0, result.stdout + result.stderr
