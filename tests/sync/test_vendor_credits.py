"""Vendor credits both ways, end to end over the two sandboxes.

GP credit memos become BILL vendor credits; BILL payments that use a credit become a GP payment for the cash
part and the credit memo applied to the same voucher for the credit part; a credit a GP clerk applied first
is taken out of BILL's reach; a create whose answer was lost is found, not sent twice. Every check reads
GP and BILL back through their own APIs.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit.models import Kind, State, SyncRecord
from connectors.bill.client import BillClient
from connectors.gp.client import GPClient
from connectors.sync.context import SyncContext
from connectors.sync.gp_to_bill.bill_payload import voucher_from_description
from connectors.sync.runner import retry_due, run_bill_to_gp
from tests.sync.conftest import approve_all, record, run

VENDOR = "ACETRAVE0001"


def _doc(gp_sandbox, voucher: str, number: str, amount: str, doc_type: str = "Invoice") -> str:
    gp_sandbox.insert_invoice(
        {
            "Key": voucher,
            "VendorKey": VENDOR,
            "VendorDocumentNumber": number,
            "DocumentType": doc_type,
            "PurchasesAmount": amount,
            "Date": "2025-06-01",
            "Description": f"{doc_type} {number}",
        }
    )
    return voucher


@pytest.fixture
def books(wired, gp_sandbox):
    """Two fresh invoices (100.00 and 80.00) and one credit memo (50.00) of one vendor, synced to BILL."""
    _doc(gp_sandbox, "00000000000009001", "CR-INV-1", "100.00")
    _doc(gp_sandbox, "00000000000009002", "CR-INV-2", "80.00")
    _doc(gp_sandbox, "00000000000009101", "CM-9101", "50.00", "CreditMemo")
    run(wired)
    approve_all(wired)
    wired.default_checkbook_id = "UPTOWN TRUST"
    wired.save()
    run(wired)
    return wired


def bill_client(tenant) -> BillClient:
    return BillClient.for_connection(tenant.bill_connection)


def gp_client(tenant) -> GPClient:
    return GPClient.for_connection(tenant.gp_connection)


def credit_of(tenant, voucher: str = "00000000000009101"):
    return bill_client(tenant).get_vendor_credit(record(tenant, "vendor_credit", voucher).target_id)


def bill_id(tenant, voucher: str) -> str:
    return record(tenant, "bill", voucher).target_id


def credits_by_voucher(tenant) -> dict[str, list]:
    out: dict[str, list] = {}
    for credit in bill_client(tenant).iter_vendor_credits():
        if not credit.archived:
            out.setdefault(voucher_from_description(credit.description) or "", []).append(credit)
    return out


def test_an_approved_gp_credit_memo_becomes_one_bill_vendor_credit_with_its_lines(books):
    row = record(books, "vendor_credit", "00000000000009101")
    assert row.state == State.SYNCED
    credit = credit_of(books)
    assert credit.amount == Decimal("50.00") and credit.usable == Decimal("50.00")
    assert credit.reference_number == "CM-9101" and credit.vendor_id
    [line] = credit.line_items
    assert (
        line.amount == Decimal("50.00") and line.chart_of_account_id
    )  # built by the bill line code, positive
    assert not SyncRecord.objects.filter(
        tenant=books, kind=Kind.BILL, source_key="00000000000009101"
    ).exists()
    run(books, full=True)
    assert len(credits_by_voucher(books)["00000000000009101"]) == 1  # a second poll sends nothing


def test_a_credit_used_in_part_is_applied_in_gp_and_the_voucher_ends_where_bill_says(books, bill_sandbox):
    bill = bill_id(books, "00000000000009001")
    credit = credit_of(books)
    payment = bill_sandbox.pay_bills(
        [{"billId": bill, "vendorCredits": [{"id": credit.id, "amount": "30.00"}]}]
    )
    assert Decimal(str(payment["amount"])) == Decimal("70.00")  # the cash part
    run_bill_to_gp(books)
    gp = gp_client(books)
    assert gp.get_invoice("00000000000009001").remaining == bill_client(books).get_bill(bill).due_amount == 0
    assert gp.get_invoice("00000000000009101").remaining == Decimal("20.00") == credit_of(books).usable
    [use] = SyncRecord.objects.filter(tenant=books, kind=Kind.CREDIT_APPLY)
    assert use.state == State.SYNCED and use.amount == Decimal("30.00")
    assert gp.get_apply(use.target_id).apply_to == (("00000000000009001", Decimal("30.00")),)
    assert record(books, "gp_payment", payment["id"]).state == State.SYNCED
    run_bill_to_gp(books, full=True)
    run(books, full=True)  # GP's applied credit is ours: BILL's credit is left as it is
    assert gp.get_invoice("00000000000009101").remaining == Decimal("20.00") == credit_of(books).usable
    assert credit_of(books).amount == Decimal("50.00")
    assert SyncRecord.objects.filter(tenant=books, kind=Kind.CREDIT_APPLY).count() == 1


def test_a_credit_used_across_two_bills_is_applied_to_both_vouchers(books, bill_sandbox):
    credit = credit_of(books)
    a, b = bill_id(books, "00000000000009001"), bill_id(books, "00000000000009002")
    bill_sandbox.pay_bills(
        [
            {"billId": a, "vendorCredits": [{"id": credit.id, "amount": "30.00"}]},
            {"billId": b, "amount": "10.00", "vendorCredits": [{"id": credit.id, "amount": "20.00"}]},
        ]
    )
    run_bill_to_gp(books)
    gp, bc = gp_client(books), bill_client(books)
    assert gp.get_invoice("00000000000009001").remaining == bc.get_bill(a).due_amount == Decimal("0.00")
    assert gp.get_invoice("00000000000009002").remaining == bc.get_bill(b).due_amount == Decimal("50.00")
    memo = gp.get_invoice("00000000000009101")
    assert memo.remaining == 0 and memo.state == "History"
    assert credit_of(books).status == "FULLY_APPLIED"
    uses = SyncRecord.objects.filter(tenant=books, kind=Kind.CREDIT_APPLY, state=State.SYNCED)
    assert sorted(u.amount for u in uses) == [Decimal("20.00"), Decimal("30.00")]
    run(books, full=True)
    retry_due(SyncContext.for_tenant(books))
    assert not credit_of(books).archived  # used by BILL, not taken away
    # Our own applies are not "paid in GP outside BILL": nothing is recorded on the bills.
    assert bc.get_bill(b).due_amount == Decimal("50.00") == gp.get_invoice("00000000000009002").remaining
    assert not [p for p in bc.iter_payments() if not p.online_payment and b in dict(p.bill_payments)]
    assert record(books, "vendor_credit", "00000000000009101").state == State.SYNCED


def test_a_credit_paid_wholly_with_a_credit_needs_no_gp_payment(books, bill_sandbox):
    credit = credit_of(books)
    b = bill_id(books, "00000000000009002")
    payment = bill_sandbox.pay_bills(
        [{"billId": b, "amount": "0.00", "vendorCredits": [{"id": credit.id, "amount": "50.00"}]}]
    )
    run_bill_to_gp(books)
    row = record(books, "gp_payment", payment["id"])
    assert row.state == State.SYNCED and not row.target_id
    assert gp_client(books).get_invoice("00000000000009002").remaining == Decimal("30.00")
    assert bill_client(books).get_bill(b).due_amount == Decimal("30.00")


def test_a_credit_applied_in_gp_first_is_brought_down_then_archived_in_bill(books, gp_sandbox, bill_sandbox):
    gp_sandbox.apply_to_invoice("00000000000009002", "20.00", document="00000000000009101", kind="credit")
    run(books)
    credit = credit_of(books)
    assert credit.amount == Decimal("30.00") == credit.usable  # BILL offers only what GP has left
    assert gp_client(books).get_invoice("00000000000009101").remaining == Decimal("30.00")
    b = bill_id(books, "00000000000009002")
    assert bill_client(books).get_bill(b).due_amount == Decimal("60.00")  # the voucher side: recorded in BILL

    gp_sandbox.apply_to_invoice("00000000000009001", "30.00", document="00000000000009101", kind="credit")
    run(books)
    credit = credit_of(books)
    assert credit.archived and credit.usable == 0
    with pytest.raises(Exception, match="archived"):  # BILL can no longer use it
        bill_sandbox.pay_bills([{"billId": b, "vendorCredits": [{"id": credit.id, "amount": "5.00"}]}])
    run(books, full=True)
    assert record(books, "vendor_credit", "00000000000009101").trail.filter(outcome="archived").count() == 1


def test_bill_using_a_credit_gp_applied_meanwhile_is_flagged_not_written_twice(
    books, gp_sandbox, bill_sandbox
):
    credit = credit_of(books)
    a = bill_id(books, "00000000000009001")
    bill_sandbox.pay_bills([{"billId": a, "vendorCredits": [{"id": credit.id, "amount": "50.00"}]}])
    gp_sandbox.apply_to_invoice("00000000000009002", "50.00", document="00000000000009101", kind="credit")
    run_bill_to_gp(books)
    [use] = SyncRecord.objects.filter(tenant=books, kind=Kind.CREDIT_APPLY)
    assert (
        use.state == State.FLAGGED
        and "GP did not apply credit memo" in use.reason
        and "BILL used it twice" in use.fix
    )
    run(books)
    row = record(books, "vendor_credit", "00000000000009101")
    assert row.state == State.FLAGGED and "Double-use risk" in row.reason


def test_a_lost_credit_create_is_found_not_duplicated(books, gp_sandbox, bill_sandbox):
    _doc(gp_sandbox, "00000000000009102", "CM-9102", "12.50", "CreditMemo")
    bill_sandbox.add_fault(
        "timeout_after_commit", methods=["POST"], path_contains="/v3/vendor-credits", hold_seconds=0.5
    )
    run(books)
    bill_sandbox.clear_faults()
    run(books)
    run(books, full=True)
    assert len(credits_by_voucher(books)["00000000000009102"]) == 1
    row = record(books, "vendor_credit", "00000000000009102")
    assert row.state == State.SYNCED and row.target_id == credits_by_voucher(books)["00000000000009102"][0].id
    assert row.trail.filter(outcome__in=["in_doubt", "adopted"]).exists()


def test_drift_and_preview_show_credits_with_their_amounts(books, gp_sandbox, bill_sandbox):
    from connectors.sync.drift import drift_report
    from connectors.sync.preview import preview

    def section(report, key_or_title):
        return next(s for s in report["sections"] if key_or_title in (s.get("key"), s["title"]))

    gp_sandbox.apply_to_invoice("00000000000009002", "20.00", document="00000000000009101", kind="credit")
    _doc(gp_sandbox, "00000000000009103", "CM-9103", "7.25", "CreditMemo")
    report = drift_report(books)
    [row] = section(report, "credit_over_open")["rows"]
    assert row[0] == "00000000000009101" and row[3:] == ["30.00", "50.00", "20.00"]
    assert section(report, "credit_over_open")["money_total"] == "$20.00"
    assert [r[0] for r in section(report, "credit_missing")["rows"]] == ["00000000000009103"]

    credit = credit_of(books)
    bill_sandbox.pay_bills(
        [
            {
                "billId": bill_id(books, "00000000000009001"),
                "vendorCredits": [{"id": credit.id, "amount": "10.00"}],
            }
        ]
    )
    shown = preview(books)
    [new] = section(shown, "Vendor credits to create in BILL")["rows"]
    assert new[0] == "00000000000009103" and new[2] == "$7.25"
    [use] = section(shown, "Credit memos to apply in GP (vendor credits BILL used)")["rows"]
    assert use[1] == "$10.00" and credit.id in use[2]

    run(books)
    run_bill_to_gp(books)
    report = drift_report(books)
    assert not section(report, "credit_over_open")["rows"] and not section(report, "credit_missing")["rows"]


def test_a_voided_payment_whose_credit_was_applied_in_gp_is_flagged_for_a_person(books, bill_sandbox):
    credit = credit_of(books)
    payment = bill_sandbox.pay_bills(
        [
            {
                "billId": bill_id(books, "00000000000009001"),
                "vendorCredits": [{"id": credit.id, "amount": "25.00"}],
            }
        ]
    )
    run_bill_to_gp(books)
    bill_sandbox.void_payment(payment["id"])
    assert credit_of(books).usable == Decimal("50.00")  # BILL gave the credit back
    run_bill_to_gp(books)
    [use] = SyncRecord.objects.filter(tenant=books, kind=Kind.CREDIT_APPLY)
    assert use.state == State.FLAGGED and "GP still has it applied" in use.reason and "Unapply" in use.fix


def test_replay_of_a_flagged_use_applies_it_once_gp_has_room_again(books, gp_sandbox, bill_sandbox):
    """A person settles a double use in GP (here: the credit memo's open amount is put back, as unapplying the
    clerk's apply would), then Replay writes BILL's use to GP, once."""
    from connectors.sync.replay import replay_record

    credit = credit_of(books)
    a = bill_id(books, "00000000000009001")
    bill_sandbox.pay_bills([{"billId": a, "vendorCredits": [{"id": credit.id, "amount": "40.00"}]}])
    gp_sandbox.apply_to_invoice("00000000000009002", "20.00", document="00000000000009101", kind="credit")
    run_bill_to_gp(books)
    [use] = SyncRecord.objects.filter(tenant=books, kind=Kind.CREDIT_APPLY)
    assert use.state == State.FLAGGED  # only 30.00 left in GP for a use of 40.00
    run_bill_to_gp(books, full=True)
    assert record(books, "credit_apply", use.source_key).state == State.FLAGGED  # not retried by itself
    gp_sandbox.update_invoice("00000000000009101", CurrentTransactionAmount="50.00")  # the person's fix in GP
    ended = replay_record(record(books, "credit_apply", use.source_key))
    assert ended.state == State.SYNCED
    replay_record(ended)
    assert gp_client(books).get_invoice("00000000000009101").remaining == Decimal("10.00")
    assert [a for a in gp_sandbox.stats()["applied_payments"] if a.get("payment") == ended.target_id]
