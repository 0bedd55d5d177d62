"""Ledger rows and mappings made directly, as the flows would leave them (no sandbox needed)."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import SyncRecord
from tests import cast
from tests.waiting import with_waits


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


@pytest.fixture
def released(monkeypatch: Any) -> Any:
    """The records a mapping decision sends back through their flow: queued for replay directly, or
    through the post-approval task (which releases what waits on the mapping)."""
    calls: list[tuple[str, tuple]] = []
    monkeypatch.setattr("mappings.approval.enqueue", lambda func, *args, **kw: calls.append((func, args)))

    def records() -> list[list[int]]:
        from django.apps import apps

        from mappings import approval

        out = []
        for func, args in calls:
            if func.endswith("replay_records"):
                out.append(sorted(args[0]))
            elif func.endswith("mapping_approved"):
                mapping = apps.get_model(args[0]).objects.get(pk=args[1])
                out.append(sorted(approval.records_waiting_on(mapping)))
            elif func.endswith("mappings_approved"):  # a bulk approval: one task for a batch of mappings
                model = apps.get_model(args[0])
                out.append(
                    sorted(
                        {
                            pk
                            for m in model.objects.filter(pk__in=args[1])
                            for pk in approval.records_waiting_on(m)
                        }
                    )
                )
        return out

    return records


def post_and_run(client: Any, url: str, data: Any = None) -> Any:
    """POST, run the tasks it queued (on commit, as a worker would), then open the page it redirects to."""
    from django.db import connection
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(using=connection.alias, execute=True):
        response = client.post(url, data or {})
    assert response.status_code == 302, response.content[:2000]
    return client.get(response["Location"])


def record(tenant: Any, source_key: str, state: str = "failed", kind: str = "bill", **fields: Any) -> Any:
    return with_waits(
        SyncRecord.objects.create(tenant=tenant, kind=kind, source_key=source_key, state=state, **fields)
    )
