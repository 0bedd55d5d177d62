"""Deploying the one lease table with the BILL gate's old rows present: a slot still held keeps counting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from connectors.bill.gate import DatabaseGate

BEFORE = [("connectors", "0014_relay_wakeup_channels_async_read_lease")]
AFTER = [("connectors", "0015_one_lease_table")]
ORG = "00802MIGRATEDORG0001"


@pytest.fixture
def at_old_schema(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_held_gate_slots_survive_the_migration_and_free_ones_do_not_block(at_old_schema):
    old = at_old_schema.get_model("connectors", "BillGateLease")
    soon, past = timezone.now() + timedelta(minutes=2), timezone.now() - timedelta(minutes=1)
    old.objects.bulk_create(
        [
            old(organization_id=ORG, slot="0", holder="a" * 32, expires_at=soon),  # a call in flight
            old(organization_id=ORG, slot="1", holder="", expires_at=None),  # free
            old(organization_id=ORG, slot="2", holder="b" * 32, expires_at=past),  # expired: free
            old(organization_id=ORG, slot="mutex:login", holder="c" * 32, expires_at=soon),
        ]
    )
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    gate = DatabaseGate(limit=3, wait_seconds=0.2)
    assert gate.in_use(ORG) == 1  # the old process's call still counts against the org's three
    with gate.acquire(ORG), gate.acquire(ORG):
        assert gate.in_use(ORG) == 3
    assert gate.leases.acquire([f"bill:{ORG}:mutex:login"], timedelta(minutes=1)) is None
