"""The agent's journal of the writes it ran, by request ID, in a local SQLite file.

A write is journaled `started` (and committed) before it goes to GP and `done` with its answer after.
When the connector delivers the same request again (its answer was lost on the way back, or the
agent restarted), the journal answers instead of GP: the journaled answer when done, `in_doubt` when
the agent died while GP was running it. A write is never sent to GP twice.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from typing import Any


class Journal:
    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS writes (request_id TEXT PRIMARY KEY, method TEXT, "
                "path TEXT, state TEXT, answer TEXT, started_at REAL, done_at REAL)"
            )

    def begin(self, request_id: str, method: str, path: str) -> dict[str, Any] | None:
        """Journal a write before running it. Returns None when it is new (run it now); else the answer
        to give instead: the journaled one, or {"error": "in_doubt"} if it never finished."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO writes VALUES (?, ?, ?, 'started', NULL, ?, NULL)",
                    (request_id, method, path, time.time()),
                )
                return None
            except sqlite3.IntegrityError:
                state, answer = self._db.execute(
                    "SELECT state, answer FROM writes WHERE request_id = ?", (request_id,)
                ).fetchone()
        return json.loads(answer) if state == "done" else {"error": "in_doubt"}

    def finish(self, request_id: str, answer: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE writes SET state = 'done', answer = ?, done_at = ? WHERE request_id = ?",
                (json.dumps(answer), time.time(), request_id),
            )

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM writes").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
