"""The seeded simulator the planner tests plan against."""

from __future__ import annotations

import pytest

from pipeline.settings import ConnectionSettings, Secret
from pipeline.shopify.client import ShopifyClient
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store
from pipeline.simulator.transport import SimulatorTransport

TOKEN = "shpat_simulator"


@pytest.fixture
def shop():
    api = ShopApi(seed_store(orders=300, seed=7), cancel_delay=0.0)
    simulator = Simulator(api, SimulatorConfig(bucket=2000, restore_rate=100))
    settings = ConnectionSettings(shop_url="http://127.0.0.1:1", token=Secret(TOKEN))
    with ShopifyClient(settings, SimulatorTransport(simulator)) as client:
        yield api, simulator, client
