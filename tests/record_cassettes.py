"""`make record`: (re-)record the cassettes under tests/cassettes/ that pin Shopify's wire format.

With SHOPIFY_SHOP and SHOPIFY_ACCESS_TOKEN set, the calls a real shop can answer harmlessly (a
read, a refund on an order that does not exist, a wrong token) are recorded from that shop; the
answers no shop gives on demand (THROTTLED, a 503 HTML page, a cancel job) come from the simulator,
whose shapes are checked against recorded real answers. Without them, everything comes from the
simulator. The access token is replaced by `<hidden>` in every recorded header and body.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import vcr

from pipeline.errors import ShopifyError
from pipeline.settings import ConnectionSettings, Secret
from pipeline.shopify.client import ShopifyClient
from pipeline.simulator.faults import Fault
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store
from pipeline.simulator.server import SimulatorServer

CASSETTES = Path(__file__).with_name("cassettes")
HIDDEN = "<hidden>"
# Host and port differ between recording and replay, and a document's comments may change: a call
# is the same call when its operation and variables are.
MATCH_ON = ("method", "path", "operation")
UNKNOWN_ORDER = "gid://shopify/Order/1"
SIM_TOKEN = "shpat_00000000000000000000000000c0ffee"


def _operation(request) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    body = json.loads(request.body or b"{}")
    match = re.search(r"\b(query|mutation)\s+(\w+)", body.get("query", ""))
    return (match.group(2) if match else "", json.dumps(body.get("variables"), sort_keys=True))


def same_operation(r1, r2) -> None:  # type: ignore[no-untyped-def]
    assert _operation(r1) == _operation(r2)


def recorder(token: str, mode: str = "all") -> vcr.VCR:
    def scrub_response(response: dict) -> dict:
        body = response["body"].get("string", b"")
        if isinstance(body, bytes) and token.encode() in body:
            response["body"]["string"] = body.replace(token.encode(), HIDDEN.encode())
        return response

    def scrub_request(request):  # type: ignore[no-untyped-def]
        if request.body and token.encode() in request.body:
            request.body = request.body.replace(token.encode(), HIDDEN.encode())
        return request

    machine = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode=mode,
        match_on=MATCH_ON,
        filter_headers=[("X-Shopify-Access-Token", HIDDEN)],
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
    )
    machine.register_matcher("operation", same_operation)
    return machine


@contextmanager
def simulator(fault: Fault | None = None) -> Iterator[ShopifyClient]:
    api = ShopApi(seed_store(orders=20, seed=11), cancel_delay=0.0)
    sim = Simulator(api, SimulatorConfig(token=SIM_TOKEN))
    if fault is not None:
        sim.faults.before = lambda _is_mutation: fault  # type: ignore[method-assign]
    server = SimulatorServer(sim, port=0)
    server.start_background()
    try:
        settings = ConnectionSettings(shop_url=server.url, token=Secret(SIM_TOKEN))
        with ShopifyClient(settings) as client:
            yield client
    finally:
        server.shutdown()
        server.server_close()


def _call(client: ShopifyClient, name: str, variables: dict, mutation: bool = False) -> None:
    try:
        client.execute(name, variables, mutation=mutation)
    except ShopifyError as exc:
        print(f"  {name}: recorded {type(exc).__name__}")


REFUND_UNKNOWN_ORDER = {
    "input": {"orderId": UNKNOWN_ORDER, "note": "bulkcancel cassette"},
    "idempotencyKey": "00000000-0000-4000-8000-00000000cafe",
}
# The simulator's answers that follow a reference page rather than a recording (its README marks
# them "inferred"), asked in ways that change nothing on a shop: a claim on an order that does not
# exist, a zero refund of an order that does not exist, more ids than `nodes(ids:)` takes.
CLAIM_UNKNOWN_ORDER = {
    "metafields": [
        {
            "ownerId": UNKNOWN_ORDER,
            "namespace": "bulkcancel",
            "key": "claim",
            "type": "json",
            "value": '{"run_id": "cassette"}',
            "compareDigest": None,
        }
    ]
}
REFUND_ZERO = {
    "input": {
        "orderId": UNKNOWN_ORDER,
        "note": "bulkcancel cassette",
        "transactions": [{"orderId": UNKNOWN_ORDER, "gateway": "manual", "kind": "REFUND", "amount": "0.00"}],
    },
    "idempotencyKey": "00000000-0000-4000-8000-00000000beef",
}
TOO_MANY_IDS = {"ids": [f"gid://shopify/Order/{n}" for n in range(1, 252)]}
INFERRED = (
    ("ClaimSet", CLAIM_UNKNOWN_ORDER, True),
    ("RefundCreate", REFUND_ZERO, True),
    ("OrdersByIds", TOO_MANY_IDS, False),
)


def record(real: ConnectionSettings | None) -> None:
    CASSETTES.mkdir(exist_ok=True)
    for old in CASSETTES.glob("*.yaml"):
        old.unlink()
    source = "the shop" if real else "the simulator"
    print(f"recording read, userErrors and 401 from {source}; THROTTLED, 503 and cancel from the simulator")

    def harmless(client: ShopifyClient, token: str) -> None:
        with recorder(token).use_cassette("orders_by_name.yaml"):
            _call(client, "OrdersByName", {"query": 'name:"#1001" OR name:"1001"', "first": 5})
        with recorder(token).use_cassette("refund_create_user_errors.yaml"):
            _call(client, "RefundCreate", REFUND_UNKNOWN_ORDER, mutation=True)
        with recorder(token).use_cassette("inferred_answers.yaml"):
            for name, variables, mutation in INFERRED:
                _call(client, name, variables, mutation=mutation)

    if real:
        with ShopifyClient(real) as client:
            harmless(client, real.token.reveal())
        wrong = ConnectionSettings(
            shop_url=real.shop_url, token=Secret("shpat_wrong"), api_version=real.api_version
        )
        with ShopifyClient(wrong) as client, recorder("shpat_wrong").use_cassette("unauthorized.yaml"):
            _call(client, "OrdersByName", {"query": 'name:"#1001"', "first": 5})
    else:
        with simulator() as client:
            harmless(client, SIM_TOKEN)
            bad = ConnectionSettings(shop_url=client.settings.shop_url, token=Secret("shpat_wrong"))
            with ShopifyClient(bad) as wrong, recorder("shpat_wrong").use_cassette("unauthorized.yaml"):
                _call(wrong, "OrdersByName", {"query": 'name:"#1001"', "first": 5})
    with simulator() as client, recorder(SIM_TOKEN).use_cassette("order_cancel_job.yaml"):
        order_id = client.execute("OrdersByName", {"query": 'name:"#1001"', "first": 5}, mutation=False)
        gid = order_id.data["orders"]["nodes"][0]["id"]
        _call(
            client,
            "OrderCancel",
            {
                "orderId": gid,
                "reason": "INVENTORY",
                "restock": False,
                "refundMethod": {"originalPaymentMethodsRefund": True},
            },
            mutation=True,
        )
    with simulator(Fault.THROTTLE) as client, recorder(SIM_TOKEN).use_cassette("throttled.yaml"):
        _call(client, "OrdersByName", {"query": 'name:"#1001"', "first": 5})
    with simulator(Fault.HTTP_503) as client, recorder(SIM_TOKEN).use_cassette("html_503.yaml"):
        _call(client, "OrdersByName", {"query": 'name:"#1001"', "first": 5})
    print(f"cassettes written to {CASSETTES}")


if __name__ == "__main__":
    real_settings = None
    if os.environ.get("SHOPIFY_SHOP") and os.environ.get("SHOPIFY_ACCESS_TOKEN"):
        real_settings = ConnectionSettings.from_options()
    record(real_settings)
    sys.exit(0)
