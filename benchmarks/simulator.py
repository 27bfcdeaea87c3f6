"""The simulator's own speed (issue 16): small requests answered per second on one core.

An execute run's traffic per order (drift read, claim, cancel, job poll, tag, claim read) is sent for
distinct orders of a seeded store with an unlimited bucket and no latency: once straight into
`Simulator.handle` (one thread: the handler's CPU alone), once over HTTP to `simulator serve` in its
own process (one interpreter lock: one core), from client threads in this process.
`python -m benchmarks.simulator [--profile]` prints both (and, with --profile, where the time goes).
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from pipeline.shopify.client import load_document
from pipeline.simulator.gids import gid
from pipeline.simulator.handler import DEFAULT_TOKEN, Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store

Figure = dict[str, Any]
TARGET = 800  # requests per second on one core (issue 16)
PATH = "/admin/api/2026-07/graphql.json"
HEADERS = {"X-Shopify-Access-Token": DEFAULT_TOKEN, "Content-Type": "application/json"}
CLAIM = '{"run_id":"bench","action_key":"k","plan_sha256":"","steps":[],"at":"2026-01-01T00:00:00.000Z"}'


def _body(name: str, variables: dict[str, Any]) -> bytes:
    return json.dumps({"query": load_document(name).text, "variables": variables}).encode("utf-8")


def order_traffic(order_id: str) -> list[bytes]:
    """The requests an execute run sends for one full-refund cancel, as bodies."""
    claim = {
        "ownerId": order_id,
        "namespace": "bulkcancel",
        "key": "claim",
        "type": "json",
        "value": CLAIM,
        "compareDigest": None,
    }
    cancel = {
        "orderId": order_id,
        "reason": "INVENTORY",
        "restock": True,
        "notifyCustomer": False,
        "staffNote": "bench",
        "refundMethod": {"originalPaymentMethodsRefund": True},
    }
    return [
        _body("OrderDriftRead", {"id": order_id}),
        _body("ClaimSet", {"metafields": [claim]}),
        _body("OrderCancel", cancel),
        _body("CancelJob", {"jobId": "gid://shopify/Job/0", "orderId": order_id}),
        _body("TagsAdd", {"id": order_id, "tags": ["bulkcancel-bench"]}),
        _body("OrderClaim", {"id": order_id}),
    ]


def _store(orders: int) -> tuple[Simulator, list[bytes]]:
    store = seed_store(orders=orders, seed=11)
    bodies = [body for number in sorted(store.orders) for body in order_traffic(gid("Order", number))]
    config = SimulatorConfig(restore_rate=1e9, bucket=1e9)
    return Simulator(ShopApi(store, cancel_delay=0.0), config), bodies


def in_process(orders: int = 2000, requests: int = 3000, profile: bool = False) -> float:
    """Requests per second through `Simulator.handle`, one thread."""
    simulator, bodies = _store(orders)
    for body in bodies[:60]:  # the first of each document text parses and validates it
        simulator.handle("POST", PATH, HEADERS, body)
    sample = bodies[60 : 60 + requests]
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for body in sample:
        reply = simulator.handle("POST", PATH, HEADERS, body)
        assert reply.status == 200, reply.body[:200]
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return len(sample) / (time.perf_counter() - started)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def over_http(orders: int = 2000, requests: int = 3000, threads: int = 8) -> tuple[float, float]:
    """Requests per second to `simulator serve` (its own process) from `threads` client threads, and
    per second of the server's CPU time (what one core of its own would answer)."""
    from benchmarks.stages import serving

    store = seed_store(orders=orders, seed=11)
    bodies = [body for number in sorted(store.orders) for body in order_traffic(gid("Order", number))]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "store.json"
        store.save(path)
        served = serving(path, rate=1e9, bucket=1e9, latency_ms=0.0)
        with served as (url, process), httpx.Client(headers=HEADERS) as http:
            for body in bodies[:60]:
                http.post(url + PATH, content=body)
            chunks = _split(bodies[60 : 60 + requests], threads)

            def send(chunk: list[bytes]) -> None:
                for body in chunk:
                    http.post(url + PATH, content=body).raise_for_status()

            workers = [threading.Thread(target=send, args=(chunk,)) for chunk in chunks]
            cpu, started = cpu_seconds(process.pid), time.perf_counter()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            cpu, elapsed = cpu_seconds(process.pid) - cpu, time.perf_counter() - started
            sent = sum(map(len, chunks))
            return sent / elapsed, sent / cpu if cpu > 0 else float("inf")


def _split(bodies: list[bytes], parts: int) -> list[list[bytes]]:
    # Whole orders per thread, so each order's requests keep their order.
    per_order = len(order_traffic("gid://shopify/Order/1"))
    orders = [bodies[i : i + per_order] for i in range(0, len(bodies), per_order)]
    return [[b for order in orders[k::parts] for b in order] for k in range(parts)]


def simulator_figures(quick: bool = False) -> list[Figure]:
    """Requests/s in process and over HTTP, each against the target of 800 on one core."""
    from benchmarks.stages import figure

    requests = 600 if quick else 3000
    inside = in_process(requests=requests)
    wall, per_core = over_http(requests=requests)
    return [
        figure("simulator in process: small requests/s", inside, "req/s", TARGET, "", inside >= TARGET),
        figure("simulator over HTTP: req/s of its CPU", per_core, "req/s", TARGET, "", per_core >= TARGET),
        figure("simulator over HTTP: requests/s, client beside", wall, "req/s", "info", "", True),
    ]


if __name__ == "__main__":
    profile = "--profile" in sys.argv[1:]
    print(f"in process: {in_process(profile=profile):,.0f} requests/s")
    if not profile:
        wall, per_core = over_http()
        print(f"over HTTP: {wall:,.0f} requests/s ({per_core:,.0f} per second of the server's CPU)")
