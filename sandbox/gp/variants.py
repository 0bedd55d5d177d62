"""Ways a real GP server may differ from the modelled Part B contract, each a switch of the sandbox.

Part B (envelope, query syntax, vocabularies) is a model, not a capture, so the connector's GP client
is tested against each of these too. A variant changes only what the server *says* (and, for stamps
and `$skip`, how it stores and pages); the data and the business rules stay the same.

- `stamps`: "time" (Part B) or "day": `ModifiedDate` carries the date only, as GP's `MODIFDT` column
  does. Records changed today are stamped today 00:00:00, so `ModifiedDate ge <today 10:00>` misses them.
- `lists`: "envelope" (`{"Payload": …, "Paging": …}`), "bare" (a list is a JSON array and a record is
  the bare object) or "value" (no `Payload` key: `{"value": [...], "Count": n}`, records bare).
- `vendor_status`: "Status" (Active|Inactive|Temporary) or "IsActive" (a boolean; no `Status`).
- `distribution_types`: "names" (Purchase, Payable, …) or "integers" (GP's DISTTYPE numbers).
- `skip`: "honoured" or "ignored" (every page starts at the first match).
- `vendor_addresses`: "embedded" (a vendor carries `Addresses`) or "separate": vendors come without
  `Addresses`, and `Purchasing/VendorAddresses` lists them, one row per address with `VendorKey`
  (`$filter=VendorId eq '…'`), as GP keeps them in a table of their own (PM00300).
- `payment_numbers`: "ours" (the `Key` sent is the payment number) or "gp_assigns" (GP ignores the
  `Key` sent and numbers the payment itself from its next-number setting).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, fields
from typing import Any

from .store import GPFault, Record

CHOICES: dict[str, tuple[str, ...]] = {
    "stamps": ("time", "day"),
    "lists": ("envelope", "bare", "value"),
    "vendor_status": ("Status", "IsActive"),
    "distribution_types": ("names", "integers"),
    "skip": ("honoured", "ignored"),
    "payment_numbers": ("ours", "gp_assigns"),
    "vendor_addresses": ("embedded", "separate"),
}
# GP's PM distribution types (DISTTYPE) for the names the sandbox stores.
DISTRIBUTION_NUMBERS = {"Payable": 2, "Purchase": 6, "Discount": 7, "Misc": 8, "Freight": 9, "Tax": 10}
STAMP_FIELDS = ("ModifiedDate", "CreatedDate")


@dataclass
class Variant:
    stamps: str = "time"
    lists: str = "envelope"
    vendor_status: str = "Status"
    distribution_types: str = "names"
    skip: str = "honoured"
    payment_numbers: str = "ours"
    vendor_addresses: str = "embedded"

    def set(self, **changes: str) -> None:
        for name, value in changes.items():
            if name not in CHOICES:
                raise GPFault(400, "InvalidValue", f"Unknown variant '{name}'; known: {', '.join(CHOICES)}.")
            if value not in CHOICES[name]:
                raise GPFault(400, "InvalidValue", f"Variant {name} is one of {', '.join(CHOICES[name])}.")
            setattr(self, name, value)

    def clear(self) -> None:
        for f in fields(self):
            setattr(self, f.name, f.default)

    def describe(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def day_stamps(self) -> bool:
        return self.stamps == "day"

    @property
    def separate_addresses(self) -> bool:
        return self.vendor_addresses == "separate"

    # --- what the server says ------------------------------------------------------------------
    def record(self, table: str, record: Record) -> Record:
        """A stored record as this server spells it."""
        if self.describe() == Variant().describe():
            return record
        out = copy.deepcopy(record)
        if self.day_stamps:
            for name in STAMP_FIELDS:
                if isinstance(out.get(name), str):
                    out[name] = day_stamp(out[name])
        if table == "Vendors" and self.separate_addresses:
            out.pop("Addresses", None)
        if table == "Vendors" and self.vendor_status == "IsActive" and "Status" in out:
            out["IsActive"] = out.pop("Status") != "Inactive"
        if table == "PayablesInvoices" and self.distribution_types == "integers":
            for line in out.get("Distributions") or []:
                line["DistributionType"] = DISTRIBUTION_NUMBERS.get(line["DistributionType"], 12)  # 12: Other
        return out

    def list_answer(self, table: str, rows: list[Record], paging: dict[str, int]) -> Any:
        rows = [self.record(table, r) for r in rows]
        if self.lists == "bare":
            return rows
        if self.lists == "value":
            return {"value": rows, "Count": paging.get("Total", len(rows))}
        return {"Payload": rows, "Paging": paging}

    def one_answer(self, table: str, record: Any) -> Any:
        record = self.record(table, record) if table else record
        return record if self.lists in ("bare", "value") else {"Payload": record}

    # --- what the server takes -------------------------------------------------------------------
    def vendor_body(self, body: dict[str, Any]) -> dict[str, Any]:
        """A vendor change as this server takes it: with IsActive, `Status` is not a field."""
        if self.vendor_status != "IsActive":
            return body
        if "Status" in body:
            raise GPFault(400, "UnknownField", "Vendor field 'Status' cannot be set.")
        body = dict(body)
        if "IsActive" in body:
            body["Status"] = "Active" if body.pop("IsActive") else "Inactive"
        return body


def day_stamp(value: str) -> str:
    """'2026-11-30T14:05:09Z' → '2026-11-30T00:00:00Z' (GP's empty date stays as it is)."""
    return value[:10] + "T00:00:00Z" if len(value) >= 10 else value
