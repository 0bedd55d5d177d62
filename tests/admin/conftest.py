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


def post_and_run(client: Any, url: str, data: Any = None) -> Any:
    """POST, run the tasks it queued (on commit, as a worker would), then open the page it redirects to."""
    from django.db import connection
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(using=connection.alias, execute=True):
        response = client.post(url, data or {})
    assert response.status_code == 302, response.content[:2000]
    return client.get(response["Location"])


def record(tenant: Any, source_key: str, state: str = "failed", kind: str = "bill", **fields: Any) -> Any:
    from audit.models import SyncRecord

    return SyncRecord.objects.create(tenant=tenant, kind=kind, source_key=source_key, state=state, **fields)
