"""BILL payments on a GP reached only by GP Web Services, which has no method to create a payables manual
payment: never pretended. Each payment becomes a "record in GP" task (a blocked ledger row in Needs
attention naming vendor, vouchers, amounts, checkbook and BILL reference) and a line group in the
manual-payments file; the row settles by itself once GP lists the payment as posted
(GetPostedPayablesVendorPaymentsList), under our payment number or with the BILL reference as its
document number.

The file: CSV, one row per voucher applied, header fields repeated (columns `FILE_COLUMNS`), the
layout of an Integration Manager "Payables Manual Payments" text source (header fields mapped to the
manual payment, the apply columns to its apply lines; eConnect's taPMManualCheck / taPMApply take the
same fields). Import it into the batch it names, then post the batch.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from audit import waits
from audit.ledger import attempt, settle
from audit.models import State, SyncRecord
from audit.waits import WaitFor
from connectors.bill.records import BillPayment
from connectors.gp.transport import find_posted_payment

from ..context import SyncContext
from ..keys import gp_batch, payment_reference

FILE_COLUMNS = (
    "Batch ID",
    "Payment Number",
    "Vendor ID",
    "Document Date",
    "Checkbook ID",
    "Payment Method",
    "Document Number",
    "Payment Amount",
    "Apply To Voucher",
    "Apply Amount",
    "BILL Payment ID",
)
FLOW = "bill_payments"


def record_in_gp(
    ctx: SyncContext,
    record: SyncRecord,
    payment: BillPayment,
    *,
    number: str,
    vendor_id: str,
    checkbook: str,
    applies: list[tuple[str, Decimal, str]],
    label: str,
    method: str,
) -> None:
    """Settle the row if GP already has the payment; otherwise (re)state the task for a GP user.

    The payment method (payment_rules.gp_method), document number and batch are the ones SBA
    write-back would give the payment.
    """
    reference = payment_reference(payment)
    batch = gp_batch(payment.process_date)
    total = sum((a for _, a, _ in applies), Decimal(0))
    found = find_posted_payment(ctx.gp, number, vendor_id, reference)
    if found is not None:
        if found.vendor_id.upper() != vendor_id.upper() or found.amount != total:
            settle(
                record,
                State.FLAGGED,
                label=label,
                reason=f"GP has payment {found.payment_number} for this BILL payment, but it is "
                f"{found.amount:.2f} to {found.vendor_id}, not {total:.2f} to {vendor_id}.",
                fix="Correct or void the payment in GP, then choose Replay.",
            )
            return
        with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
            log_.outcome = "recorded_in_gp"
            log_.request = {"found_in_gp": found.payment_number, "document_number": found.document_number}
        settle(
            record,
            State.SYNCED,
            target_id=found.payment_number,
            label=label,
            snapshot={
                "applied": [{"voucher": v, "amount": str(a)} for v, a, _ in applies],
                "recorded_by_hand": True,
            },
        )
        ctx.tally["payment_recorded_in_gp"] += 1
        return
    lines = ", ".join(f"voucher {v} {a:.2f}" for v, a, _ in applies)
    task = {
        "batch": batch,
        "payment_number": number,
        "vendor_id": vendor_id,
        "date": str(payment.process_date or ""),
        "checkbook_id": checkbook,
        "method": method,
        "document_number": reference,
        "amount": str(total),
        "applies": [{"voucher": v, "amount": str(a)} for v, a, _ in applies],
        "bill_payment_id": payment.id,
    }
    settle(
        record,
        State.BLOCKED,
        label=label,
        waits=[WaitFor(waits.MANUAL_PAYMENT, number)],
        snapshot={"manual_payment": task},
        reason=(
            f"Record in GP: GP Web Services cannot write payments. Enter manual payment {number} for vendor "
            f"{vendor_id}, {total:.2f} from checkbook {checkbook}, document number {reference} "
            f"(BILL payment {payment.id}), applied to {lines}."
        ),
        fix=(
            "Download the GP manual-payments file (action on Needs attention), import it with Integration "
            f"Manager into batch {batch} and post it, or enter the payment by hand; this record then "
            "settles by itself."
        ),
    )
    ctx.tally["payment_to_record_in_gp"] += 1


def file_rows(records: Iterable[SyncRecord]) -> list[dict[str, str]]:
    """The file's rows for the records that are 'record in GP' tasks (others are skipped)."""
    rows = []
    for record in records:
        task = (record.snapshot or {}).get("manual_payment")
        if record.state != State.BLOCKED or not task:
            continue
        for line in task["applies"]:
            rows.append(
                dict(
                    zip(
                        FILE_COLUMNS,
                        (
                            _cell(task["batch"]),
                            _cell(task["payment_number"]),
                            _cell(task["vendor_id"]),
                            task["date"],
                            _cell(task["checkbook_id"]),
                            task["method"],
                            _cell(task["document_number"]),
                            task["amount"],
                            _cell(line["voucher"]),
                            line["amount"],
                            _cell(task["bill_payment_id"]),
                        ),
                        strict=True,
                    )
                )
            )
    return rows


def _cell(value: str) -> str:
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is quoted, as clerks open such files in
    Excel."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def file_text(records: Iterable[SyncRecord]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FILE_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(file_rows(records))
    return out.getvalue()
