"""Departments and locations from GP account segments, over real HTTP to both sandboxes: a bill line whose
segment value is unmapped waits visibly, and goes to BILL by itself once finance approves the mapping;
changing the tenant's segment setting later never rewrites a bill already in BILL."""

from __future__ import annotations

import copy
from typing import Any

from django.urls import reverse

from audit.models import State, SyncRecord
from mappings.approval import approve
from mappings.models import ClassificationMapping, DepartmentMapping, MappingState
from tests import cast
from tests.sync.conftest import approve_all, bills_by_voucher, record, run


def _approve_segments(tenant: Any, user: Any = None, *, except_value: str = "") -> None:
    """Finance approves every suggested segment value as suggested (link, create, or leave blank)."""
    for mapping in ClassificationMapping.objects.filter(tenant=tenant, state=MappingState.SUGGESTED):
        if mapping.gp_value == except_value:
            continue
        approve(mapping, user, create=mapping.action == "create", blank=mapping.action == "blank")


def _invoice_on_account(gp_sandbox: Any, tenant: Any, voucher: str, number: str, account: str) -> str:
    """A fresh approved GP invoice like an already-synced one, its purchase posted to `account`."""
    template = (
        SyncRecord.objects.filter(tenant=tenant, kind="bill", state=State.SYNCED)
        .order_by("source_key")
        .first()
    )
    raw = copy.deepcopy(gp_sandbox.data().get("PayablesInvoices", template.source_key))
    raw.update({"Key": {"Id": voucher}, "VendorDocumentNumber": number})
    for name in ("ModifiedDate", "CreatedDate"):
        raw.pop(name, None)
    gp_sandbox.insert_invoice(raw)
    distributions = copy.deepcopy(raw["Distributions"])
    for d in distributions:
        if d["DistributionType"] == "Purchase":
            d["GLAccountKey"] = {"Id": account}
    gp_sandbox.update_invoice(voucher, Distributions=distributions)
    return voucher


def _bill_department(bill_sandbox: Any, name: str) -> str:
    return next(
        d["id"] for d in bill_sandbox.store.classifications["departments"].values() if d["name"] == name
    )


def _with_segments(tenant: Any, **settings: Any) -> Any:
    for field, value in settings.items():
        setattr(tenant, field, value)
    tenant.full_clean()
    tenant.save()
    tenant.refresh_from_db()
    return tenant


def test_a_line_on_an_unmapped_department_waits_visibly_and_goes_once_finance_approves(
    wired, gp_sandbox, bill_sandbox, frank, client
):
    run(wired)
    approve_all(wired)
    tenant = _with_segments(wired, department_segment=3)
    run(tenant, full=True)
    _approve_segments(tenant, frank)  # 00: no department (left blank in BILL)
    voucher = _invoice_on_account(gp_sandbox, tenant, "SEGMENT000000001", "SEG-1", "000-6100-20")
    run(tenant)
    approve_all(tenant)  # the new GP account itself; its department is still unmapped

    waiting = record(tenant, "bill", voucher)
    assert waiting.state == State.BLOCKED
    assert "department:20" in waiting.waiting_on.split()
    assert "GP department 20 not mapped to BILL yet" in waiting.reason
    assert voucher not in bills_by_voucher(tenant)
    # The clerk sees it: the needs-attention page links to the department's review page.
    client.login(username="frank", password=cast.CAST_PASSWORD)
    page = client.get(reverse("admin:audit_syncrecord_change", args=[waiting.pk]))
    assert page.status_code == 200 and "Map GP department 20" in page.content.decode()
    mapping = DepartmentMapping.objects.get(tenant=tenant, gp_value="20")
    assert mapping.state == MappingState.SUGGESTED
    review = client.get(reverse("admin:mappings_departmentmapping_change", args=[mapping.pk]))
    assert review.status_code == 200 and "SEG-1" in review.content.decode()

    sales = _bill_department(bill_sandbox, "Sales")
    decided = client.post(
        reverse("admin:mappings_departmentmapping_decide", args=[mapping.pk]),
        {"decision": "approve", "target_id": sales},
    )
    assert decided.status_code == 302

    waiting.refresh_from_db()  # no run in between: the approval released it
    assert waiting.state == State.SYNCED, waiting.reason
    (bill,) = bills_by_voucher(tenant)[voucher]
    assert waiting.target_id == bill.id
    assert {li.department_id for li in bill.line_items} == {sales}


def test_approved_as_create_in_bill_makes_the_department_once_and_releases_the_bill(
    wired, gp_sandbox, bill_sandbox, frank
):
    run(wired)
    approve_all(wired)
    tenant = _with_segments(wired, department_segment=3)
    run(tenant, full=True)
    _approve_segments(tenant, frank)
    voucher = _invoice_on_account(gp_sandbox, tenant, "SEGMENT000000002", "SEG-2", "000-6100-77")
    run(tenant)
    approve_all(tenant)
    mapping = DepartmentMapping.objects.get(tenant=tenant, gp_value="77")
    assert mapping.action == "create"  # nothing in BILL has the code 77

    approve(mapping, frank, create=True)
    run(tenant)  # the run does not create it twice

    made = [
        d for d in bill_sandbox.store.classifications["departments"].values() if d.get("shortName") == "77"
    ]
    assert len(made) == 1
    mapping.refresh_from_db()
    assert mapping.bill_id == made[0]["id"]
    assert record(tenant, "classification", "department:77").state == State.SYNCED
    released = record(tenant, "bill", voucher)
    assert released.state == State.SYNCED, (released.reason, released.waiting_on)
    (bill,) = bills_by_voucher(tenant)[voucher]
    assert made[0]["id"] in {li.department_id for li in bill.line_items}


def test_bill_refuses_a_line_naming_a_department_it_does_not_have(wired, bill_sandbox):
    from connectors.bill.client import BillClient
    from connectors.bill.http import BillError

    client = BillClient.for_connection(wired.bill_connection)
    vendor = next(client.iter_vendors())
    account = next(client.iter_chart_of_accounts())
    body = {
        "vendorId": vendor.id,
        "dueDate": "2025-07-01",
        "invoice": {"invoiceNumber": "SEG-X", "invoiceDate": "2025-06-01"},
        "billLineItems": [
            {
                "amount": "10.00",
                "classifications": {"chartOfAccountId": account.id, "departmentId": "0de02NOSUCHDEPT00001"},
            }
        ],
    }
    try:
        client.create_bill(body)
    except BillError as exc:
        assert exc.status == 400 and "departmentId" in exc.message
    else:
        raise AssertionError("BILL took a bill line naming an unknown department")
    classes = list(client.iter_accounting_classes())
    made = client.create_accounting_class("Wholesale", "W")
    assert made.id.startswith("cls") and made.id not in {c.id for c in classes}
    assert client.get_classification("class", made.id).short_name == "W"


def test_changing_the_segment_setting_later_does_not_rewrite_bills_already_in_bill(
    wired, gp_sandbox, bill_sandbox, frank
):
    run(wired)
    approve_all(wired)
    run(wired)
    synced = list(
        SyncRecord.objects.filter(tenant=wired, kind="bill", state=State.SYNCED).order_by("source_key")
    )
    assert len(synced) >= 2
    paid, unpaid = synced[0], synced[1]
    bill_sandbox.pay_bills([{"billId": paid.target_id}])
    before = {r.target_id: copy.deepcopy(bill_sandbox.store.bills[r.target_id]) for r in synced}

    tenant = _with_segments(wired, department_segment=3)
    run(tenant, full=True)
    sales = _bill_department(bill_sandbox, "Sales")
    for mapping in ClassificationMapping.objects.filter(tenant=tenant):
        approve(mapping, frank, target_id=sales)  # 00 now means Sales: every line would carry it
    run(tenant, full=True)

    for r in synced:
        now = bill_sandbox.store.bills[r.target_id]
        assert now["billLineItems"] == before[r.target_id]["billLineItems"], r.source_key
        assert now["updatedTime"] == before[r.target_id]["updatedTime"] or r.pk == paid.pk  # payment only
        r.refresh_from_db()
        assert r.state == State.SYNCED, r.reason  # not flagged as 'changed after BILL started paying'
    assert bill_sandbox.store.bills[paid.target_id]["paymentStatus"] == "PAID"
    assert (
        bill_sandbox.store.bills[unpaid.target_id]["billLineItems"]
        == before[unpaid.target_id]["billLineItems"]
    )

    # A bill sent from now on carries the department.
    voucher = _invoice_on_account(gp_sandbox, tenant, "SEGMENT000000003", "SEG-3", "000-6100-00")
    run(tenant)
    (bill,) = bills_by_voucher(tenant)[voucher]
    assert {li.department_id for li in bill.line_items} == {sales}


def test_an_account_without_the_chosen_segment_is_parked_with_words_a_clerk_can_act_on(
    wired, gp_sandbox, bill_sandbox
):
    run(wired)
    approve_all(wired)
    tenant = _with_segments(wired, class_segment=4)  # GP accounts here have three segments
    voucher = _invoice_on_account(gp_sandbox, tenant, "SEGMENT000000004", "SEG-4", "000-6100-00")
    run(tenant)
    parked = record(tenant, "bill", voucher)
    assert parked.state == State.FLAGGED
    assert "has no segment 4" in parked.reason and "accounting class" in parked.reason


def test_a_department_create_that_timed_out_after_bill_made_it_ends_with_exactly_one(
    wired, gp_sandbox, bill_sandbox, frank
):
    run(wired)
    approve_all(wired)
    tenant = _with_segments(wired, department_segment=3)
    run(tenant, full=True)
    _approve_segments(tenant, frank)
    voucher = _invoice_on_account(gp_sandbox, tenant, "SEGMENT000000005", "SEG-5", "000-6100-55")
    run(tenant)
    approve_all(tenant)
    bill_sandbox.add_fault(
        "timeout_after_commit",
        methods=["POST"],
        path_contains="/classifications/departments",
        hold_seconds=0.5,
    )
    approve(DepartmentMapping.objects.get(tenant=tenant, gp_value="55"), frank, create=True)
    row = record(tenant, "classification", "department:55")
    assert row.state in (State.IN_DOUBT, State.SYNCED)
    run(tenant)
    run(tenant)

    made = [
        d for d in bill_sandbox.store.classifications["departments"].values() if d.get("shortName") == "55"
    ]
    assert len(made) == 1
    row.refresh_from_db()
    assert row.state == State.SYNCED and row.target_id == made[0]["id"]
    assert row.trail.filter(outcome="in_doubt").exists() or row.trail.filter(outcome=State.IN_DOUBT).exists()
    released = record(tenant, "bill", voucher)
    assert released.state == State.SYNCED, released.reason
