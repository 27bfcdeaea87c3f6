"""The simulator over real HTTP on loopback: the server object, and `bulkcancel simulator serve`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pipeline.simulator.faults import FaultSpec
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store
from pipeline.simulator.server import SimulatorServer
from tests.harness import free_port

TOKEN = {"X-Shopify-Access-Token": "shpat_simulator"}
FIRST_FIVE = {"query": "{ orders(first: 5) { nodes { id name displayFinancialStatus } } }"}


@pytest.fixture
def server():
    api = ShopApi(seed_store(orders=40, seed=3), cancel_delay=0.0)
    srv = SimulatorServer(Simulator(api, SimulatorConfig(faults=FaultSpec.parse("lost=1,seed=2"))), port=0)
    srv.start_background()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_real_http_answers_orders_with_cost(server):
    with httpx.Client() as http:
        body = http.post(
            f"{server.url}/admin/api/2026-07/graphql.json", json=FIRST_FIVE, headers=TOKEN
        ).json()
    assert len(body["data"]["orders"]["nodes"]) == 5
    assert body["extensions"]["cost"]["requestedQueryCost"] > 0


def test_real_http_lost_answer_drops_the_connection_after_applying(server):
    order_id = server.simulator.api.orders_json()["orders"][0]["id"]
    mutation = {
        "query": 'mutation T($id: ID!) { tagsAdd(id: $id, tags: ["lost"]) { userErrors { message } } }',
        "variables": {"id": order_id},
    }
    with httpx.Client() as http, pytest.raises(httpx.TransportError):
        http.post(f"{server.url}/admin/api/2026-07/graphql.json", json=mutation, headers=TOKEN)
    with httpx.Client() as http:
        ledger = http.get(f"{server.url}/_simulator/ledger").json()["entries"]
        orders = http.get(f"{server.url}/_simulator/orders").json()["orders"]
    assert [e["kind"] for e in ledger] == ["tag"]
    assert "lost" in next(o for o in orders if o["id"] == order_id)["tags"]


def test_the_serve_command_answers_curl_like_requests_and_401_without_token(tmp_path: Path):
    store = tmp_path / "store.json"
    cli = [sys.executable, "-m", "pipeline"]
    subprocess.run(
        [*cli, "simulator", "seed", "--orders", "60", "--seed", "7", "--store", str(store)],
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = subprocess.Popen(
        [*cli, "simulator", "serve", "--port", str(port), "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        # The event, not a clock: `serve` prints its URL once it is listening.
        assert proc.stdout is not None
        out = proc.stdout.readline()
        assert out, proc.stderr.read() if proc.stderr else "serve ended without a word"
        url = f"http://127.0.0.1:{port}/admin/api/2026-07/graphql.json"
        answer = httpx.post(url, json=FIRST_FIVE, headers=TOKEN)
        body = answer.json()
        assert [o["name"] for o in body["data"]["orders"]["nodes"]]
        assert len(body["data"]["orders"]["nodes"]) == 5
        assert "cost" in body["extensions"]
        assert httpx.post(url, json=FIRST_FIVE).status_code == 401
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=30)
    out += rest
    assert re.search(r"http://127\.0\.0\.1:\d+/admin/api/2026-07/graphql\.json", out)


def test_each_version_path_is_served_its_own_schema():
    api = ShopApi(seed_store(orders=5, seed=3), cancel_delay=0.0)
    sim = Simulator(api, SimulatorConfig())
    gift = {
        "query": "mutation G($input: GiftCardCreateInput!) "
        "{ giftCardCreate(input: $input) { userErrors { code } } }",
        "variables": {"input": {"initialAmount": {"amount": "5", "currencyCode": "EUR"}}},
    }
    body = json.dumps(gift).encode()
    new = sim.handle("POST", "/admin/api/2026-07/graphql.json", TOKEN, body)
    assert new.status == 200 and "errors" not in json.loads(new.body)
    assert new.headers["X-Shopify-API-Version"] == "2026-07"
    old = sim.handle("POST", "/admin/api/2026-04/graphql.json", TOKEN, body)
    # 2026-04 has no initialAmount: the recorded answer of 2026-04-gift-card-create-validation.json
    assert json.loads(old.body)["errors"][0]["message"] == (
        "Variable $input of type GiftCardCreateInput! was provided invalid value for initialAmount "
        "(Field is not defined on GiftCardCreateInput), initialValue (Expected value to not be null)"
    )
    assert old.headers["X-Shopify-API-Version"] == "2026-04"
    # A retired version falls forward to the oldest supported; an unknown one is not found.
    retired = sim.handle("POST", "/admin/api/2024-01/graphql.json", TOKEN, json.dumps(FIRST_FIVE).encode())
    assert retired.status == 200 and retired.headers["X-Shopify-API-Version"] == "2026-04"
    for path in ("/admin/api/2026-13/graphql.json", "/admin/api/2031-01/graphql.json"):
        assert sim.handle("POST", path, TOKEN, json.dumps(FIRST_FIVE).encode()).status == 404


def test_serve_takes_the_tokens_scopes_and_staff_permissions():
    api = ShopApi(seed_store(orders=5, seed=3), cancel_delay=0.0)
    config = SimulatorConfig(scopes=("read_orders",), refund_permission=False)
    sim = Simulator(api, config)
    query = {"query": "{ currentAppInstallation { accessScopes { handle } } }"}
    answer = json.loads(
        sim.handle("POST", "/admin/api/2026-07/graphql.json", TOKEN, json.dumps(query).encode()).body
    )
    assert answer["data"]["currentAppInstallation"]["accessScopes"] == [{"handle": "read_orders"}]
    assert api.store.access.refund_orders is False
