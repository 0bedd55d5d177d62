"""Changing a BILL vendor without wiping what we did not mean to change: whole nested objects, read back."""

from __future__ import annotations

from typing import Any

from connectors.bill.client import BillClient
from connectors.bill.http import BillError

from .. import vendor_fields as vf


def patch_bill_vendor(
    bill: BillClient,
    vendor_id: str,
    aligned: dict[str, Any],
    fields: set[str],
    current: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """PATCH the aligned `fields` onto BILL's vendor, each nested object merged with BILL's own copy
    (`current`, the raw vendor; read now when not given), then read the vendor back and check that BILL
    holds everything sent. Returns the vendor as read back; BillError naming what BILL did not keep."""
    if current is None:
        current = bill.get_vendor(vendor_id).raw
    body = vf.bill_patch(current, aligned, fields)
    bill.patch_vendor(vendor_id, body)
    now: dict[str, Any] = bill.get_vendor(vendor_id).raw
    lost = vf.kept_after_patch(body, now)
    if lost:
        raise BillError(
            f"BILL did not keep {', '.join(lost)} when vendor {vendor_id} was updated; "
            "check the vendor in BILL before replaying."
        )
    return now
