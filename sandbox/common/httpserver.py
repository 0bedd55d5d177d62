"""A threaded HTTP/1.1 keep-alive server for the sandboxes: real sockets, optional TLS, quick to stop.

Each TCP connection gets one handler instance for its whole life, which is what connection-bound
auth (NTLM) needs. `stop()` closes idle keep-alive connections too, so tests do not wait on them.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .faults import FaultPlan, RequestStats


class SandboxServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that wraps TLS per connection, counts requests and drops connections on stop."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler_class: type[SandboxHandler],
        ssl_context: ssl.SSLContext | None = None,
        verbose: bool = False,
    ) -> None:
        self.ssl_context = ssl_context
        self.verbose = verbose
        self.stopping = threading.Event()
        self.stats = RequestStats()
        self.faults = FaultPlan()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler_class)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = str(host)
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.ssl_context else 'http'}://{host}:{port}"

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        if self.ssl_context is not None:
            # The handshake runs in the connection's own thread (SandboxHandler.setup), not the accept loop.
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._open_lock:
            self._open.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up or refuses our certificate is normal here, not worth a traceback.
        if self.stopping.is_set() or isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        with self._open_lock:
            open_now = list(self._open)
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class RunningServer:
    """A server serving in a daemon thread; `.url`, `.stop()`, usable as a context manager."""

    def __init__(self, server: SandboxServer, name: str = "sandbox") -> None:
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        self.server.drop_connections()
        self.server.server_close()
        self._thread.join(timeout=2)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(server: SandboxServer, name: str = "sandbox") -> RunningServer:
    return RunningServer(server, name)


class SandboxHandler(BaseHTTPRequestHandler):
    """Base handler: subclasses implement `route()` using `self.url`, `self.query`, `self.body`."""

    protocol_version = "HTTP/1.1"
    url = urlsplit("/")  # until a request is parsed (send_error on a bad request line counts under "/")
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    stats_generation: int | None = None  # set per request; None for a request line too bad to dispatch
    server: SandboxServer
    status_sent: int | None  # the status answered; None until then

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def send_response(self, code: int, message: str | None = None) -> None:
        # Counted before the answer leaves, so a client reading stats right after sees its own request.
        self.status_sent = code
        self.server.stats.record(
            self.command, self.stats_path(), code, self.stats_generation, self.client_name()
        )
        super().send_response(code, message)

    def client_name(self) -> str:
        """The caller's User-Agent (stats count requests by it: direct connector or GP agent)."""
        headers = getattr(self, "headers", None)
        return headers.get("User-Agent", "") if headers is not None else ""

    def _dispatch(self) -> None:
        self.stats_generation = self.server.stats.generation
        self.status_sent = None
        self.outcome: str | None = None  # set when a fault drops the connection instead of answering
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length > 0 else b""
        self.url = urlsplit(self.path)
        self.query = dict(parse_qsl(self.url.query, keep_blank_values=True))
        try:
            self.route()
        except Exception as exc:  # a sandbox bug must still answer, or the client hangs until timeout
            if self.status_sent is None:
                self.send_json(500, {"error": f"sandbox error: {type(exc).__name__}: {exc}"})
            if self.server.verbose:
                raise
        finally:
            if self.status_sent is None:
                self.server.stats.record(
                    self.command,
                    self.stats_path(),
                    self.outcome or "none",
                    self.stats_generation,
                    self.client_name(),
                )

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch

    def route(self) -> None:
        raise NotImplementedError

    def stats_path(self) -> str:
        """The path under which this request is counted; subclasses may shorten it."""
        return self.url.path

    # --- answering -------------------------------------------------------------------------------
    def send_json(self, status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
        body = json.dumps(payload, default=str).encode()
        self.send_bytes(status, body, "application/json; charset=utf-8", headers)

    def send_bytes(
        self, status: int, body: bytes, content_type: str, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def json_body(self, parse_float: Any = None) -> Any:
        """The request body as JSON; ValueError with a plain message when it is not."""
        try:
            return json.loads(self.body or b"null", parse_float=parse_float)
        except ValueError as exc:
            raise ValueError(f"the request body is not valid JSON ({exc})") from None

    # --- faults ----------------------------------------------------------------------------------
    def apply_latency_and_pick_fault(self) -> str | None:
        """Sleep the configured latency, then return the fault kind to inject for this request, if any.

        'timeout' and 'reset' are carried out here (the connection is dropped; the caller must just
        return); '5xx' and 'lock' are returned for the caller to answer in its own error shape.
        """
        plan: FaultPlan = self.server.faults
        if plan.latency_ms:
            self.server.stopping.wait(plan.latency_ms / 1000)
        kind = plan.pick(self.command, self.url.path)
        if kind == "timeout":
            self.server.stopping.wait(plan.timeout_seconds)
            self.drop_connection("timeout", reset=False)
        elif kind == "reset":
            self.drop_connection("reset", reset=True)
        return kind

    def drop_connection(self, outcome: str, reset: bool) -> None:
        """Close without answering; with `reset` the peer gets a TCP RST (SO_LINGER 0)."""
        self.outcome = outcome
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()  # the makefile reference would otherwise keep the socket open
            socket.socket.close(self.connection)
        except OSError:
            pass


def wait_until_listening(url: str, seconds: float = 2.0) -> None:
    """Block until something accepts TCP connections at `url`'s host and port (for out-of-process starts)."""
    parts = urlsplit(url)
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
