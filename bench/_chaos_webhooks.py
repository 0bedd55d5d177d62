"""Webhooks for the chaos run: the Django app's real endpoint served over HTTP, and a relay between
BILL and it that drops, repeats and reorders deliveries (BILL itself always gets its 200)."""

from __future__ import annotations

import heapq
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests


class Relay:
    """Receives BILL's deliveries, answers 200, and forwards each to `target` — or not (dropped),
    twice (repeated), or after a random delay so later events overtake it (reordered)."""

    def __init__(
        self, seed: int, target: str, drop: float = 0.15, repeat: float = 0.15, max_delay: float = 1.5
    ):
        self._random = random.Random(seed * 31 + 7)
        self.target, self.drop, self.repeat, self.max_delay = target, drop, repeat, max_delay
        self.counts: Counter[str] = Counter()
        self._lock = threading.Condition()
        self._queue: list[tuple[float, int, bytes, dict[str, str]]] = []
        self._seq = 0
        self._stopping = False
        self._session = requests.Session()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("content-type", "x-bill-sha-signature")
                }
                relay.receive(body, headers)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self._thread = threading.Thread(target=self._forward_loop, daemon=True, name="chaos-relay")
        self._thread.start()

    def calm(self) -> None:
        """From now on forward everything once, in order."""
        with self._lock:
            self.drop = self.repeat = self.max_delay = 0.0

    def receive(self, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            self.counts["received"] += 1
            if self._random.random() < self.drop:
                self.counts["dropped"] += 1
                return
            copies = 2 if self._random.random() < self.repeat else 1
            if copies == 2:
                self.counts["repeated"] += 1
            for _ in range(copies):
                delay = self._random.random() * self.max_delay
                if delay > 0.2:
                    self.counts["delayed"] += 1
                self._seq += 1
                heapq.heappush(self._queue, (time.monotonic() + delay, self._seq, body, headers))
            self._lock.notify()

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def _forward_loop(self) -> None:
        last_seq = 0
        while True:
            with self._lock:
                while not self._stopping and (not self._queue or self._queue[0][0] > time.monotonic()):
                    self._lock.wait(0.05)
                if self._stopping:
                    return
                _, seq, body, headers = heapq.heappop(self._queue)
            if seq < last_seq:
                self.counts["reordered"] += 1
            last_seq = max(last_seq, seq)
            try:
                answer = self._session.post(self.target, data=body, headers=headers, timeout=10)
                self.counts[f"endpoint_{answer.status_code}"] += 1
            except requests.RequestException:
                self.counts["endpoint_unreachable"] += 1

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify()
        self.server.shutdown()
        self.server.server_close()
