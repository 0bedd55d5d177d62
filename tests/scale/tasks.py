"""Tasks a test schedules on a real cluster: each run leaves a mark in Redis the test can count."""

from __future__ import annotations

import os


def note(key: str) -> int:
    import redis

    return int(redis.Redis.from_url(os.environ["REDIS_URL"]).incr(key))
