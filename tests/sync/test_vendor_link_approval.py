"""Approving a vendor link never rewrites vendor master data on either side without a person's choice.

The `small` seed has GP vendor CONTOSO0001 "Contoso, Ltd." (Toronto remit address, ap@contoso.example,
no tax ID) and BILL vendor "Contoso Ltd." (Redmond, billing@contoso.example, tax ID 91-1144442): the
same company with different master data on each side, suggested as a link.
"""

from __future__ import annotations

from typing import Any

from audit.models import State, SyncRecord
from connectors.bill.client import BillClient
from connectors.gp.client import GPClient
from connectors.sync.runner import run_bill_to_gp
from mappings.approval import approve
from mappings.models import VendorMapping
from tests.sync.conftest import run

GP_ID = "CONTOSO0001"


def contoso(tenant: Any) -> VendorMapping:
    return VendorMapping.objects.get(tenant=tenant, gp_vendor_id=GP_ID)


def both_sides(tenant: Any, bill_id: str) -> tuple[Any, Any]:
    gp = GPClient.for_connection(tenant.gp_connection).get_vendor(GP_ID)
    bill = BillClient.for_connection(tenant.bill_connection).get_vendor(bill_id)
    return gp, bill


def test_approving_the_contoso_link_changes_nothing_on_either_side_and_leaves_the_differences_for_a_person(
    wired, frank
):
    run(wired)
    mapping = contoso(wired)
    assert mapping.bill_name == "Contoso Ltd." and mapping.state == "suggested"
    gp_before, bill_before = both_sides(wired, mapping.bill_vendor_id)

    approve(mapping, frank)  # the task runs on commit: the link, then the waiting bills
    run_bill_to_gp(wired)  # BILL → GP must not fill GP's blanks from BILL either

    gp_after, bill_after = both_sides(wired, mapping.bill_vendor_id)
    assert (bill_after.name, bill_after.email, bill_after.address.line1, bill_after.address.city) == (
        "Contoso Ltd.",
        "billing@contoso.example",
        "1 Microsoft Way",
        "Redmond",
    )
    assert bill_after.raw == bill_before.raw
    assert (gp_after.tax_id, gp_after.phone, gp_after.email) == ("", gp_before.phone, "ap@contoso.example")
    record = SyncRecord.objects.get(tenant=wired, kind="vendor", source_key=GP_ID)
    assert record.target_id == mapping.bill_vendor_id
    assert record.state == State.CONFLICT
    assert {"name", "email", "address", "tax_id"} <= set(record.snapshot["conflicts"])
    assert "nothing was overwritten" in record.reason.lower()


def choose(tenant: Any, mapping: VendorMapping, picks: dict[str, str], confirmed: set[str]) -> dict[str, Any]:
    """What the review page does with a person's choices: read both sides, check, return what to keep."""
    from connectors.sync.gp_to_bill import vendor_link

    comparison = vendor_link.read_both(tenant, GP_ID, mapping.bill_vendor_id)
    return vendor_link.decide(comparison, picks, confirmed, comparison.fingerprint)


def test_a_person_s_choices_are_written_field_by_field_and_recorded_with_before_after_and_who(wired, frank):
    from mappings.models import MappingChange

    run(wired)
    mapping = contoso(wired)
    choices = choose(
        wired,
        mapping,
        {"email": "gp", "tax_id": "bill", "phone": "bill", "address": ""},
        confirmed={"email", "tax_id"},
    )
    approve(mapping, frank, field_choices=choices)
    run_bill_to_gp(wired)

    gp, bill = both_sides(wired, mapping.bill_vendor_id)
    assert bill.email == "ap@contoso.example"  # GP's e-mail won, in BILL
    assert (gp.tax_id, gp.phone) == ("91-1144442", "4255550100")  # BILL's tax ID and phone won, in GP
    assert (bill.name, bill.address.city, gp.name, gp.city) == (
        "Contoso Ltd.",
        "Redmond",
        "Contoso, Ltd.",
        "Toronto",
    )
    changes = {c.subject: c for c in MappingChange.objects.filter(key=GP_ID).exclude(subject="mapping")}
    assert changes["bill_vendor"].before == {"e-mail": "billing@contoso.example"}
    assert changes["bill_vendor"].after == {"e-mail": "ap@contoso.example"}
    assert changes["gp_vendor"].before == {"phone": "", "tax ID": ""}
    assert changes["gp_vendor"].after == {"phone": "4255550100", "tax ID": "91-1144442"}
    assert {c.user for c in changes.values()} == {frank}
    record = SyncRecord.objects.get(tenant=wired, kind="vendor", source_key=GP_ID)
    assert record.state == State.CONFLICT and record.snapshot["conflicts"] == ["address", "name"]
    mapping.refresh_from_db()
    assert mapping.field_choices == {}  # applied once


def test_remit_address_e_mail_and_tax_id_change_only_with_their_confirmation(wired):
    import pytest

    run(wired)
    mapping = contoso(wired)
    for field in ("address", "email", "tax_id"):
        winner = "bill" if field == "tax_id" else "gp"
        with pytest.raises(ValueError, match="tick “I confirm”"):
            choose(wired, mapping, {field: winner}, confirmed=set())
    assert choose(wired, mapping, {"name": "gp"}, confirmed=set())["fields"]["name"]["winner"] == "gp"
    with pytest.raises(ValueError, match="GP has no tax ID"):  # a blank never erases the other side
        choose(wired, mapping, {"tax_id": "gp"}, confirmed={"tax_id"})


def test_a_choice_is_not_written_when_the_value_changed_after_it_was_reviewed(wired, frank):
    run(wired)
    mapping = contoso(wired)
    choices = choose(wired, mapping, {"email": "gp"}, confirmed={"email"})
    BillClient.for_connection(wired.bill_connection).patch_vendor(
        mapping.bill_vendor_id, {"email": "new@contoso.example"}
    )
    approve(mapping, frank, field_choices=choices)
    _, bill = both_sides(wired, mapping.bill_vendor_id)
    assert bill.email == "new@contoso.example"
    record = SyncRecord.objects.get(tenant=wired, kind="vendor", source_key=GP_ID)
    assert "changed after it was reviewed: e-mail" in record.reason


def test_the_differences_stay_a_conflict_and_a_replay_sees_a_field_a_person_aligned_by_hand(wired, frank):
    from connectors.sync.replay import replay_record

    run(wired)
    mapping = contoso(wired)
    approve(mapping, frank)
    run(wired, full=True)  # a later full poll rewrites nothing and keeps the plain reason
    record = SyncRecord.objects.get(tenant=wired, kind="vendor", source_key=GP_ID)
    assert record.state == State.CONFLICT and "left as they are" in record.reason
    assert "email" in record.snapshot["conflicts"]
    BillClient.for_connection(wired.bill_connection).patch_vendor(
        mapping.bill_vendor_id, {"email": "ap@contoso.example"}
    )
    ended = replay_record(record)
    assert ended.state == State.CONFLICT and "email" not in ended.snapshot["conflicts"]
    assert "name" in ended.snapshot["conflicts"]
    _, bill = both_sides(wired, mapping.bill_vendor_id)
    assert bill.name == "Contoso Ltd."


def test_a_field_left_different_never_flows_from_bill_to_gp_even_after_dont_sync_and_sync_again(wired, frank):
    from audit.actions import dont_sync, resume

    run(wired)
    mapping = contoso(wired)
    approve(mapping, frank)
    run_bill_to_gp(wired)  # cursors start here
    record = SyncRecord.objects.get(tenant=wired, kind="vendor", source_key=GP_ID)
    dont_sync([record], "checking with the vendor", frank)
    record.refresh_from_db()
    resume(record, frank)  # a replay job, run as the worker would
    record.refresh_from_db()
    assert record.state == State.CONFLICT
    BillClient.for_connection(wired.bill_connection).patch_vendor(
        mapping.bill_vendor_id, {"email": "pay@contoso.example"}
    )
    SyncRecord.objects.filter(pk=record.pk).update(state=State.SYNCED)  # even if something settled it
    run_bill_to_gp(wired)
    gp, _ = both_sides(wired, mapping.bill_vendor_id)
    assert (gp.email, gp.tax_id) == ("ap@contoso.example", "")
