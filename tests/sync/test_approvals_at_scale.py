"""Approvals at onboarding scale (issue 21 §4): a release costs nothing for records no longer waiting,
and a bulk approval queues its follow-up work in batches, not a task per mapping."""

from __future__ import annotations

import pytest

from audit.models import Kind, State, SyncRecord, Trigger
from connectors.sync.replay import replay_many
from mappings import approval
from mappings.models import MappingAction, MappingState, VendorMapping
from tests.sync.conftest import approve_all, run


def _requests(sandbox) -> int:
    return sum(sum(codes.values()) for codes in sandbox.stats()["requests"]["by_path"].values())


def test_a_release_of_records_already_synced_reads_neither_gp_nor_bill(wired, gp_sandbox, bill_sandbox):
    run(wired)
    approve_all(wired)
    run(wired)
    synced = list(
        SyncRecord.objects.filter(tenant=wired, kind=Kind.BILL, state=State.SYNCED).values_list(
            "pk", flat=True
        )
    )
    assert synced, "the seed should sync some bills"
    trail_before = {pk: SyncRecord.objects.get(pk=pk).trail.count() for pk in synced}
    gp_sandbox.reset_stats()
    bill_sandbox.reset_stats()

    # The same bills released again, as when several mappings they waited on are approved at once.
    results = replay_many(synced + synced, trigger=Trigger.MAPPING)

    assert results == {"no_longer_waiting": len(synced)}
    assert _requests(gp_sandbox) == 0 and _requests(bill_sandbox) == 0
    assert {pk: SyncRecord.objects.get(pk=pk).trail.count() for pk in synced} == trail_before


@pytest.mark.django_db
def test_a_bulk_approval_queues_its_follow_up_in_batches(tenant, monkeypatch):
    queued: list[tuple[str, tuple]] = []
    monkeypatch.setattr("mappings.approval.enqueue", lambda func, *args, **kw: queued.append((func, args)))
    mappings = [
        VendorMapping.objects.create(
            tenant=tenant,
            gp_vendor_id=f"V{i:04d}",
            gp_name=f"Vendor {i}",
            state=MappingState.SUGGESTED,
            action=MappingAction.CREATE,
        )
        for i in range(approval.APPROVAL_BATCH * 2 + 1)
    ]

    approved, problems = approval.approve_many(VendorMapping.objects.filter(tenant=tenant), None, create=True)

    assert (approved, problems) == (len(mappings), [])
    assert [func for func, _ in queued] == ["connectors.tasks.mappings_approved"] * 3
    assert sorted(pk for _, args in queued for pk in args[1]) == sorted(m.pk for m in mappings)
    assert VendorMapping.objects.filter(tenant=tenant, state=MappingState.APPROVED).count() == len(mappings)


@pytest.mark.django_db
def test_a_bulk_approval_reports_each_mapping_it_could_not_approve_and_approves_the_rest(tenant, monkeypatch):
    monkeypatch.setattr("mappings.approval.enqueue", lambda func, *args, **kw: None)
    good = VendorMapping.objects.create(
        tenant=tenant,
        gp_vendor_id="V0001",
        gp_name="Good",
        state=MappingState.SUGGESTED,
        action=MappingAction.CREATE,
    )
    no_target = VendorMapping.objects.create(
        tenant=tenant,
        gp_vendor_id="V0002",
        gp_name="No target",
        state=MappingState.SUGGESTED,
        action=MappingAction.LINK,
    )

    approved, problems = approval.approve_many([good, no_target], None)

    assert approved == 1 and len(problems) == 1 and "Choose a BILL record" in problems[0]
    assert VendorMapping.objects.get(pk=good.pk).state == MappingState.APPROVED
    assert VendorMapping.objects.get(pk=no_target.pk).state == MappingState.SUGGESTED
