"""SPEC §3: a traceback is a bug. The simulator's own mistakes-to-be-made (a port in use, a store in a
folder that does not exist, https spoken to its plain-http server) are one clear line each; and
`serve --store` keeps the shop's state across restarts."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import httpx

CLI = [sys.executable, "-m", "pipeline"]
TOKEN = {"X-Shopify-Access-Token": "shpat_simulator"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def one_clear_line(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and needle in result.stderr, result.stderr


@contextmanager
def serving(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`simulator serve --port 0 ARGS`; yields its base URL once it printed it (the event, no clock)."""
    proc = subprocess.Popen(
        [*CLI, "simulator", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("simulator serving"), first + (proc.stderr.read() if proc.stderr else "")
    url = first.split(" at ")[1].split("/admin/")[0]
    try:
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)


def client_hello() -> bytes:
    """The first bytes a browser or curl sends to an https:// address: a TLS ClientHello."""
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def test_serve_on_a_port_in_use_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run("simulator", "serve", "--port", str(port))
    assert result.returncode == 2
    one_clear_line(result, f"cannot serve on 127.0.0.1:{port}: the port is in use")


def test_seed_into_a_missing_folder_is_one_line(tmp_path):
    target = tmp_path / "missing" / "dir" / "x.json"
    result = run("simulator", "seed", "--orders", "3", "--store", str(target))
    assert result.returncode == 2
    one_clear_line(result, f"cannot write {target}: the folder {target.parent} does not exist")


def test_https_spoken_to_the_simulator_is_one_line_and_no_traceback():
    with serving() as (url, proc):
        port = int(url.rsplit(":", 1)[1])
        hello = client_hello()
        for abrupt in (False, True, True):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(hello)
                if abrupt:  # a reset, as a TLS client sends when the answer is not TLS
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with socket.create_connection(("127.0.0.1", port)) as sock:  # a body cut short by a reset
            sock.sendall(b"POST /admin/api/2026-07/graphql.json HTTP/1.1\r\nContent-Length: 99\r\n\r\n{")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # Still serving afterwards, and the answer proves the requests before it were handled.
        assert httpx.get(f"{url}/_simulator/stats").status_code == 200
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err and "ConnectionResetError" not in err, err
    assert err.strip() == f"simulator: an https (TLS) request arrived; this simulator speaks {url}"


def test_serve_keeps_its_state_in_the_store_across_restarts(tmp_path):
    store = tmp_path / "shop.json"  # missing: seeded, then kept
    with serving("--store", str(store)) as (url, proc):
        order = httpx.get(f"{url}/_simulator/orders").json()["orders"][0]
        tag = {
            "query": 'mutation($id: ID!) { tagsAdd(id: $id, tags: ["kept-across-restarts"]) '
            "{ userErrors { message } } }",
            "variables": {"id": order["id"]},
        }
        answer = httpx.post(f"{url}/admin/api/2026-07/graphql.json", json=tag, headers=TOKEN).json()
        assert answer["data"]["tagsAdd"]["userErrors"] == []
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and f"store saved to {store}" in out, err
    with serving("--store", str(store)) as (url, proc):
        again = {o["id"]: o for o in httpx.get(f"{url}/_simulator/orders").json()["orders"]}
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert "kept-across-restarts" in again[order["id"]]["tags"]
    with serving("--store", str(store), "--no-save") as (url, proc):
        httpx.post(f"{url}/admin/api/2026-07/graphql.json", json={**tag, "variables": {"id": order["id"]}},
                   headers=TOKEN)  # fmt: skip
        before = store.read_bytes()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert store.read_bytes() == before and "store saved" not in out
