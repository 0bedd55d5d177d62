"""What a record waits for, as rows (audit.waits): set and replaced writing only what differs, found by
exact key per tenant, released in batches after a bulk approval, and made from the texts saved before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from audit import waits
from audit.ledger import keep_in_doubt, settle, write_ahead
from audit.models import State, SyncRecord, Wait
from audit.send_once import SyncedBatch
from audit.waits import WaitFor
from connectors.models import Tenant
from mappings import approval
from mappings.models import GLAccountMapping, MappingState
from tests.waiting import wait_writes

VENDOR = WaitFor(waits.VENDOR, "ACME0001")
ACCOUNT = WaitFor(waits.ACCOUNT, "000-6100-00")
DEPARTMENT = WaitFor(waits.DEPARTMENT, "20")


def bill(tenant: Any, voucher: str, state: str = State.BLOCKED) -> SyncRecord:
    return SyncRecord.objects.create(tenant=tenant, kind="bill", source_key=voucher, state=state)


def test_a_wait_is_its_token_as_text_and_its_kind_and_key_as_parts():
    assert VENDOR == "vendor:ACME0001" and (VENDOR.kind, VENDOR.key) == ("vendor", "ACME0001")
    assert WaitFor(waits.CARD_NAME) == "card-name" and WaitFor(waits.CARD_NAME).key == ""
    assert waits.parse("vendor:ACME0001 account:000-6100-00 vendor:ACME0001") == [VENDOR, ACCOUNT]
    assert [w.words for w in (VENDOR, ACCOUNT, DEPARTMENT, WaitFor(waits.CHECKBOOK, "BA01"))] == [
        "GP vendor ACME0001",
        "GP account 000-6100-00",
        "GP department 20",
        "BILL funding account BA01",
    ]
    assert waits.keys([VENDOR, ACCOUNT, WaitFor(waits.ACCOUNT, "000-1")], waits.ACCOUNT) == [
        "000-6100-00",
        "000-1",
    ]


@pytest.mark.django_db
def test_replacing_waits_writes_only_what_differs_and_keeps_the_rest(tenant):
    record = bill(tenant, "00000001")

    assert waits.replace(record, [VENDOR, ACCOUNT]) is True
    kept = Wait.objects.get(record=record, kind=waits.ACCOUNT)
    assert waits.of(record) == [VENDOR, ACCOUNT]

    with CaptureQueriesContext(connection) as same:
        assert waits.replace(record, [VENDOR, ACCOUNT]) is False
    assert wait_writes(same) == [], "the same waits again write nothing"

    assert waits.replace(record, [ACCOUNT, DEPARTMENT]) is True
    assert waits.of(record) == [ACCOUNT, DEPARTMENT]
    again = Wait.objects.get(record=record, kind=waits.ACCOUNT)
    assert (again.pk, again.since) == (kept.pk, kept.since), "a wait that stays keeps its row and its since"

    waits.replace(record, [])
    assert waits.of(record) == [] and not Wait.objects.filter(record=record).exists()


@pytest.mark.django_db
def test_settling_writes_the_rows_with_the_display_text_and_an_unchanged_settle_writes_no_row(tenant):
    record = bill(tenant, "00000002", State.PENDING)

    settle(record, State.BLOCKED, reason="Waiting for a mapping", waits=[VENDOR, ACCOUNT])
    record.refresh_from_db()
    assert record.waiting_on == "vendor:ACME0001 account:000-6100-00"
    assert waits.of(record) == [VENDOR, ACCOUNT]
    assert not waits.differ(record, [VENDOR, ACCOUNT]) and waits.differ(record, [VENDOR])

    with CaptureQueriesContext(connection) as same:
        settle(record, State.BLOCKED, reason="Waiting for a mapping", waits=[VENDOR, ACCOUNT])
    assert wait_writes(same) == []

    settle(record, State.SYNCED, target_id="00n01")
    record.refresh_from_db()
    assert record.waiting_on == "" and waits.of(record) == []


@pytest.mark.django_db
def test_more_waits_than_the_column_shows_are_all_rows_and_each_releases_the_record(tenant):
    many = [VENDOR] + [WaitFor(waits.ACCOUNT, f"{n:03d}-6100-{n:02d}") for n in range(20)]
    record = bill(tenant, "00000003", State.PENDING)

    settle(record, State.BLOCKED, reason="Waiting", waits=many)
    record.refresh_from_db()

    assert len(record.waiting_on) <= waits.WAITING_ON_MAX and record.waiting_on.startswith("vendor:ACME0001")
    assert waits.of(record) == many
    assert approval.records_waiting_for(tenant, many[-1]) == [record.pk], "the last one, not shown, too"


@pytest.mark.django_db
def test_the_records_waiting_for_a_key_are_found_by_the_exact_key_tenant_and_state(tenant):
    other = Tenant.objects.create(name="Contoso", slug="contoso")
    waiting = bill(tenant, "B1")
    longer = bill(tenant, "B2")
    done = bill(tenant, "B3", State.SYNCED)
    elsewhere = bill(other, "B1")
    for record, wait in ((waiting, VENDOR), (longer, WaitFor(waits.VENDOR, "ACME00011")), (done, VENDOR)):
        waits.put(record, [wait])
    waits.put(elsewhere, [VENDOR])

    assert approval.records_waiting_for(tenant, VENDOR) == [waiting.pk]
    mine = SyncRecord.objects.filter(tenant=tenant)
    assert {r.pk for r in waits.waiting_for(mine, VENDOR.kind, VENDOR.key)} == {waiting.pk, done.pk}
    everyone = SyncRecord.objects.all()
    assert {r.pk for r in waits.waiting_for(everyone, VENDOR.kind, VENDOR.key)} == {
        waiting.pk,
        done.pk,
        elsewhere.pk,
    }
    # The ledger's QuerySet asks the same question, and chains with its other ones.
    assert set(SyncRecord.objects.filter(tenant=tenant).waiting_for(VENDOR.kind, VENDOR.key)) == {
        waiting,
        done,
    }
    assert list(
        SyncRecord.objects.needing_attention().waiting_for(VENDOR.kind, VENDOR.key).filter(tenant=tenant)
    ) == [waiting]


@pytest.mark.django_db
def test_a_bulk_approval_finds_its_records_a_batch_of_keys_per_query_and_releases_each_once(
    tenant, monkeypatch
):
    accounts = [f"000-{n:04d}-00" for n in range(600)]
    mappings = GLAccountMapping.objects.bulk_create(
        GLAccountMapping(tenant=tenant, gp_account=a, state=MappingState.APPROVED, bill_account_id=f"0ca{n}")
        for n, a in enumerate(accounts)
    )
    records = SyncRecord.objects.bulk_create(
        SyncRecord(tenant=tenant, kind="bill", source_key=f"{n:08d}", state=State.BLOCKED)
        for n in range(1200)
    )
    Wait.objects.bulk_create(
        Wait(record=r, tenant=tenant, kind=waits.ACCOUNT, key=accounts[(n + shift) % 600], position=shift)
        for n, r in enumerate(records)
        for shift in (0, 1)  # each record waits for two of the accounts
    )

    with CaptureQueriesContext(connection) as queries:
        found = approval.records_waiting_on_any(mappings)
    assert found == sorted(r.pk for r in records)
    assert len(queries) == -(-600 // waits.KEYS_PER_QUERY)

    queued: list[tuple[str, Any]] = []
    monkeypatch.setattr("mappings.approval.enqueue", lambda func, ids, **kw: queued.append((func, ids)))
    approval.release_ids(found + found)
    assert [len(ids) for _, ids in queued] == [approval.RELEASE_BATCH] * (1200 // approval.RELEASE_BATCH)
    assert sorted(pk for _, ids in queued for pk in ids) == found


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_the_texts_saved_before_into_rows_and_back(tenant):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("audit")
    executor.migrate([("audit", "0012_drop_unread_source_and_target_hash")])
    try:
        old = (
            MigrationExecutor(connection)
            .loader.project_state(("audit", "0012_drop_unread_source_and_target_hash"))
            .apps
        )
        Record = old.get_model("audit", "SyncRecord")
        texts = {
            "V1": "vendor:ACME0001 account:000-6100-00",
            "V2": "gp-hold:unknown",
            "V3": "posting:00000042 checkbook:BA01 card-name",
            "V4": "",
        }
        ids = {
            key: Record.objects.create(
                tenant_id=tenant.pk, kind="bill", source_key=key, state="blocked", waiting_on=text
            ).pk
            for key, text in texts.items()
        }

        MigrationExecutor(connection).migrate([("audit", "0014_waits_from_texts")])

        rows = {
            key: [
                tuple(w)
                for w in Wait.objects.filter(record_id=pk).order_by("position").values_list("kind", "key")
            ]
            for key, pk in ids.items()
        }
        assert rows == {
            "V1": [("vendor", "ACME0001"), ("account", "000-6100-00")],
            "V2": [("gp-hold", "unknown")],
            "V3": [("posting", "00000042"), ("checkbook", "BA01"), ("card-name", "")],
            "V4": [],
        }
        assert set(Wait.objects.values_list("tenant_id", flat=True)) == {tenant.pk}
        assert approval.records_waiting_for(tenant, WaitFor(waits.GP_HOLD, "unknown")) == [ids["V2"]]

        SyncRecord.objects.filter(pk=ids["V1"]).update(waiting_on="")  # the reverse rebuilds it from the rows
        MigrationExecutor(connection).migrate([("audit", "0012_drop_unread_source_and_target_hash")])
        assert dict(Record.objects.values_list("source_key", "waiting_on")) == texts
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_a_record_sent_after_waiting_loses_its_rows_when_settled_in_bulk_or_left_in_doubt(tenant):
    bulk, doubtful = bill(tenant, "00000010", State.PENDING), bill(tenant, "00000011", State.PENDING)
    for record in (bulk, doubtful):
        settle(record, State.BLOCKED, reason="Waiting for a mapping", waits=[VENDOR])
    assert write_ahead([bulk, doubtful]) == [bulk, doubtful]

    batch = SyncedBatch("gp_bills", "schedule")
    batch.add(bulk, outcome="created", request={}, response_status="200", target_id="00n1")
    batch.save()
    keep_in_doubt(doubtful, timedelta(minutes=5), reason="BILL did not answer")

    for record in (bulk, doubtful):
        record.refresh_from_db()
        assert record.waiting_on == "" and waits.of(record) == []
    assert approval.records_waiting_for(tenant, VENDOR) == []
