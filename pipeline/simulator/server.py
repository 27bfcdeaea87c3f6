"""`simulator serve`: the same handler behind a real HTTP server on the loopback interface."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pipeline.simulator.handler import Simulator

LOOPBACK = "127.0.0.1"
TLS_HANDSHAKE = b"\x16\x03"  # the first bytes of a TLS ClientHello


class _RequestHandler(BaseHTTPRequestHandler):
    server: SimulatorServer
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle's algorithm the body would wait for the
    # client's delayed ACK (~40 ms a request on loopback), far above the latency being simulated.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.simulator.handle(self.command, self.path, dict(self.headers), body)
        if reply.lost:
            # The mutation was applied; drop the connection without a byte of answer.
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: request lines would carry nothing useful and could carry ids."""

    def log_error(self, format: str, *args: object) -> None:
        """Quiet too, but for the one mistake a person can fix: https sent to this plain-http server."""
        if getattr(self, "raw_requestline", b"").startswith(TLS_HANDSHAKE):
            self.server.note_tls(self.client_address)


class SimulatorServer(ThreadingHTTPServer):
    """A threaded HTTP server bound to 127.0.0.1 (port 0 picks a free one)."""

    daemon_threads = True
    # socketserver's default backlog of 5 resets connections when dozens of requests arrive at once.
    request_queue_size = 256

    def __init__(self, simulator: Simulator, port: int = 0) -> None:
        super().__init__((LOOPBACK, port), _RequestHandler)
        self.simulator = simulator
        bulk = getattr(simulator.api, "bulk", None)
        if bulk is not None:  # bulk files are fetched from this server's own address
            bulk.files.base_url = self.url
        self._tls_noted = False

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away (reset, broken pipe) is no error of ours; anything else is one line."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        print(f"simulator: a request failed: {type(error).__name__}: {error}", file=sys.stderr)

    def note_tls(self, client_address: object) -> None:
        """Says once that someone spoke https (TLS) to this plain-http server, and what to use."""
        if not self._tls_noted:
            self._tls_noted = True
            print(
                f"simulator: an https (TLS) request arrived; this simulator speaks {self.url}",
                file=sys.stderr,
            )

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}"

    def start_background(self) -> threading.Thread:
        """Serve from a daemon thread; `shutdown()` stops it."""
        thread = threading.Thread(target=self.serve_forever, name="simulator", daemon=True)
        thread.start()
        return thread
