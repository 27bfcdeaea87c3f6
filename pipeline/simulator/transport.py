"""The simulator as an httpx transport: tests and the demo talk to it without a socket."""

from __future__ import annotations

import httpx

from pipeline.simulator.handler import Simulator


class SimulatorTransport(httpx.BaseTransport):
    """Routes every request to `Simulator.handle`; a lost answer becomes a read timeout."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        reply = self.simulator.handle(
            request.method, request.url.raw_path.decode("ascii"), dict(request.headers), request.read()
        )
        if reply.lost:
            # Applied by the shop, but the answer never arrives: what a client sees is a timeout.
            raise httpx.ReadTimeout("simulated lost answer", request=request)
        return httpx.Response(reply.status, headers=reply.headers, content=reply.body, request=request)
