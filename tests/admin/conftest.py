"""Ledger rows and mappings made directly, as the flows would leave them (no sandbox needed)."""

from __future__ import annotations

from typing import Any

import pytest

from tests import cast


@pytest.fixture
def as_frank(client: Any, frank: Any) -> Any:
    client.login(username="frank", password=cast.CAST_PASSWORD)
    return client


@pytest.fixture
def as_alice(client: Any, alice: Any) -> Any:
    client.login(username="alice", password=cast.CAST_PASSWORD)
    return client


@pytest.fixture
def inline_tasks(monkeypatch: Any) -> None:
    """Tasks run in the request that enqueues them (the queue's test hook)."""
    from connectors import queue

    monkeypatch.setattr(queue, "RUN_INLINE", True)


def record(tenant: Any, source_key: str, state: str = "failed", kind: str = "bill", **fields: Any) -> Any:
    from audit.models import SyncRecord

    return SyncRecord.objects.create(tenant=tenant, kind=kind, source_key=source_key, state=state, **fields)
