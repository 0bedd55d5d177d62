"""Keep GP's value / Keep BILL's value on the record page: exactly the field pressed changes.

CONTOSO0001 is linked to BILL's "Contoso Ltd." with every differing field left as it is on both sides
(see test_vendor_link_approval). A press on one field must write that field to the one side that
differs and leave every other field, on both sides, exactly as it was.
"""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import State, SyncRecord
from connectors.gp.client import GPClient
from connectors.sync import vendor_conflict
from connectors.sync import vendor_fields as vf
from mappings.approval import approve
from mappings.models import MappingChange
from tests.sync.conftest import run
from tests.sync.test_vendor_link_approval import GP_ID, both_sides, contoso


@pytest.fixture
def left_different(wired: Any, frank: Any) -> SyncRecord:
    run(wired)
    approve(contoso(wired), frank)
    record = SyncRecord.objects.get(tenant=wired, kind="vendor", source_key=GP_ID)
    assert record.state == State.CONFLICT
    return record


def aligned(tenant: Any, record: SyncRecord) -> tuple[dict[str, Any], dict[str, Any]]:
    gp, bill = both_sides(tenant, record.target_id)
    return vf.from_gp(gp), vf.from_bill(bill.raw)


def test_keep_bill_s_name_writes_only_the_name_to_gp_and_records_it(wired, frank, left_different):
    record = left_different
    gp_before, bill_before = aligned(wired, record)
    assert gp_before["name"] != bill_before["name"]

    vendor_conflict.keep_value(record, "name", "bill", frank)

    gp_after, bill_after = aligned(wired, record)
    assert gp_after == {**gp_before, "name": bill_before["name"]}  # GP: the name only
    assert bill_after == bill_before  # BILL: untouched
    record.refresh_from_db()
    assert record.state == State.CONFLICT and "name" not in record.snapshot["conflicts"]
    assert {"email", "address", "tax_id"} <= set(record.snapshot["conflicts"])
    change = MappingChange.objects.get(key=GP_ID, subject="gp_vendor")
    assert (change.before, change.after, change.user) == (
        {"name": gp_before["name"]},
        {"name": "Contoso Ltd."},
        frank,
    )
    last = record.trail.first()
    assert (last.flow, last.outcome, last.user) == ("vendor_conflict", "resolved", frank)


def test_e_mail_needs_the_confirmation_and_a_blank_side_never_erases_the_other(wired, frank, left_different):
    record = left_different
    gp_before, bill_before = aligned(wired, record)
    with pytest.raises(vendor_conflict.ChoiceRefused, match="I confirm"):
        vendor_conflict.keep_value(record, "email", "gp", frank)
    with pytest.raises(vendor_conflict.ChoiceRefused, match="GP has no tax ID"):
        vendor_conflict.keep_value(record, "tax_id", "gp", frank, confirmed=True)
    assert aligned(wired, record) == (gp_before, bill_before)

    vendor_conflict.keep_value(record, "email", "gp", frank, confirmed=True)
    gp_after, bill_after = aligned(wired, record)
    assert bill_after == {**bill_before, "email": "ap@contoso.example"}
    assert gp_after == gp_before


def test_a_field_changed_since_the_page_was_read_is_not_written(wired, frank, left_different, gp_sandbox):
    record = left_different
    gp_sandbox.update_vendor(GP_ID, Name="Contoso Renamed In GP")
    _, bill_before = aligned(wired, record)
    with pytest.raises(vendor_conflict.ChoiceRefused, match="changed in GP or BILL"):
        vendor_conflict.keep_value(record, "name", "gp", frank)
    assert aligned(wired, record)[1] == bill_before


def test_a_vendor_gone_from_gp_is_refused_in_words_and_nothing_is_written(
    wired, frank, left_different, monkeypatch
):
    record = left_different
    _, bill_before = aligned(wired, record)
    monkeypatch.setattr(GPClient, "get_vendor", lambda self, vendor_id: None)
    with pytest.raises(vendor_conflict.ChoiceRefused, match=f"GP has no vendor {GP_ID} any more"):
        vendor_conflict.keep_value(record, "name", "bill", frank)
    monkeypatch.undo()
    assert aligned(wired, record)[1] == bill_before
    record.refresh_from_db()
    assert record.state == State.CONFLICT


def test_the_vendor_is_synced_once_every_differing_field_is_chosen(wired, frank, left_different):
    record = left_different
    for field in vendor_conflict.differing_fields(record):
        gp_has = bool(vf.as_text(record.snapshot["gp"][field]))
        vendor_conflict.keep_value(record, field, "gp" if gp_has else "bill", frank, confirmed=True)
    record.refresh_from_db()
    gp_after, bill_after = aligned(wired, record)
    assert record.state == State.SYNCED and gp_after == bill_after
    run(wired)  # the next sync finds nothing to change and no conflict
    record.refresh_from_db()
    assert record.state == State.SYNCED
