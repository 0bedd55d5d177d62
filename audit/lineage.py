"""What the record page and the needs-attention list say about a record, in a clerk's words.

Kept apart from the admin classes so the list, the record page and the digest e-mail describe a
record the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from connectors.sync.gp_to_bill.vendor_link import NEEDS_CONFIRMATION
from connectors.sync.vendor_conflict import differing_fields
from connectors.sync.vendor_fields import FIELD_LABELS
from mappings.models import ChangeSubject, MappingChange, VendorMapping

from . import waits
from .models import Kind, State, SyncRecord
from .words import money_text, readable

# Where each kind of record comes from and goes to: (GP side, BILL side, which one is the source).
SIDES: dict[str, tuple[str, str, str]] = {
    Kind.BILL: ("GP payables invoice (voucher)", "BILL bill", "gp"),
    Kind.VENDOR: ("GP vendor", "BILL vendor", "gp"),
    Kind.GL_ACCOUNT: ("GP account", "BILL chart-of-accounts entry", "gp"),
    Kind.CLASSIFICATION: ("GP account segment value", "BILL department, location or class", "gp"),
    Kind.GP_PAYMENT: ("GP payment", "BILL payment", "bill"),
    Kind.VENDOR_CREDIT: ("GP credit memo or return (voucher)", "BILL vendor credit", "gp"),
    Kind.CREDIT_APPLY: ("GP credit memo apply", "BILL payment : vendor credit : bill", "bill"),
}
# The admin page of each kind of mapping a record can wait for (audit.waits).
MAPPING_ADMIN = {
    waits.VENDOR: "vendormapping",
    waits.ACCOUNT: "glaccountmapping",
    waits.CHECKBOOK: "checkbookmapping",
    waits.DEPARTMENT: "departmentmapping",
    waits.LOCATION: "locationmapping",
    waits.CLASS: "accountingclassmapping",
}
RETRYABLE = (State.FAILED, State.IN_DOUBT, State.SENDING, State.FLAGGED, State.CONFLICT, State.BLOCKED)


@dataclass(frozen=True)
class Link:
    text: str
    url: str


def mapping_url(tenant_id: int, kind: str, key: str) -> str:
    """The review page of the mapping a record waits for (resolved by key, created if missing)."""
    return (
        reverse(f"admin:mappings_{MAPPING_ADMIN[kind]}_by_key")
        + "?"
        + urlencode({"tenant": str(tenant_id), "key": key})
    )


def review_url(record: SyncRecord) -> str:
    """For a vendor that differs in GP and BILL: its match review, which reads both sides live and
    offers the same per-field choices (**Apply these choices**); "" for any other record."""
    if record.kind != Kind.VENDOR or record.state != State.CONFLICT:
        return ""
    return mapping_url(record.tenant_id, "vendor", record.source_key)


def waiting_links(record: SyncRecord) -> list[Link]:
    """One link per mapping the record shows it waits for (its display text: no query per row of a
    list); other waits (GP posting) are only described."""
    return [
        Link(f"Map {w.words}", mapping_url(record.tenant_id, w.kind, w.key))
        for w in waits.shown(record)
        if w.kind in MAPPING_ADMIN
    ]


def sides(record: SyncRecord) -> dict[str, Any]:
    """The two objects a record ties together, with the source marked."""
    gp_name, bill_name, source = SIDES.get(record.kind, ("GP", "BILL", "gp"))
    gp_id, bill_id = (
        (record.source_key, record.target_id) if source == "gp" else (record.target_id, record.source_key)
    )
    return {
        "gp": {"name": gp_name, "id": gp_id or "— not created yet", "is_source": source == "gp"},
        "bill": {"name": bill_name, "id": bill_id or "— not created yet", "is_source": source == "bill"},
    }


def vendor_name(record: SyncRecord) -> str:
    """The vendor's name as GP's mapping knows it (the admin annotates it; looked up otherwise), or ""."""
    if record.kind == Kind.VENDOR:
        if own := getattr(record, "own_name", None):  # annotated by the admin's queryset
            return str(own)
        snap = record.snapshot if isinstance(record.snapshot, dict) else {}
        for side in ("agreed", "gp"):
            name = (snap.get(side) or {}).get("name") if isinstance(snap.get(side), dict) else None
            if name:
                return str(name)
        key = record.source_key
    else:
        if annotated := getattr(record, "vendor_name", None):
            return str(annotated)
        key = record.gp_vendor
    if not key:
        return ""
    found = VendorMapping.objects.filter(tenant_id=record.tenant_id, gp_vendor_id=key).values_list(
        "gp_name", flat=True
    )
    return next((name for name in found if name), "")


def title(record: SyncRecord) -> str:
    """The page's one title, read like the document: "Invoice CT-88121 · Contoso Ltd · $999.99",
    "Vendor Contoso Ltd", "Payment · Contoso Ltd · $5,000.00"; the stored label when the row has no
    document facts yet (saved before they were kept, until its next sync)."""
    name = vendor_name(record)
    amount = money_text(record.amount, record.currency) if record.amount is not None else ""
    if record.kind == Kind.BILL and record.document_number:
        return " · ".join(
            x for x in (f"Invoice {record.document_number}", name or record.gp_vendor, amount) if x
        )
    if record.kind == Kind.VENDOR and name:
        return f"Vendor {name}"
    if record.kind == Kind.GP_PAYMENT and amount:
        return " · ".join(x for x in ("Payment", name or record.gp_vendor, amount) if x)
    if record.kind == Kind.VENDOR_CREDIT and record.document_number:
        return " · ".join(
            x for x in (f"Credit memo {record.document_number}", name or record.gp_vendor, amount) if x
        )
    if record.kind == Kind.CREDIT_APPLY and amount:
        return " · ".join(
            x for x in ("Vendor credit used in BILL, applied in GP", name or record.gp_vendor, amount) if x
        )
    nouns: dict[str, str] = {
        Kind.BILL: "Invoice",
        Kind.VENDOR: "Vendor",
        Kind.GL_ACCOUNT: "GL account",
        Kind.GP_PAYMENT: "Payment",
        Kind.CLASSIFICATION: "Segment value",
        Kind.VENDOR_CREDIT: "Credit memo",
        Kind.CREDIT_APPLY: "Credit used",
    }
    noun = nouns.get(record.kind, "Record")
    if record.label and record.source_key not in record.label:
        return f"{noun} {record.label} ({record.source_key})"
    return f"{noun} {record.label or record.source_key}"


def next_retry(record: SyncRecord) -> str:
    """When a failed record is tried again by itself, in words."""
    if record.state not in (State.FAILED, State.IN_DOUBT):
        return ""
    if record.next_retry_at is None:
        return "It is tried again on the next scheduled run."
    when = timezone.localtime(record.next_retry_at)
    if record.next_retry_at <= timezone.now():
        return f"It is due to be tried again now (since {when:%Y-%m-%d %H:%M %Z})."
    return f"It is tried again by itself at {when:%Y-%m-%d %H:%M %Z}."


def conflict_rows(record: SyncRecord) -> list[dict[str, Any]]:
    """For a vendor that differs: each field as GP has it, as BILL has it, as last agreed, and
    whether the Keep GP's / Keep BILL's buttons apply (a blank side is never offered: it would erase)."""
    snap = record.snapshot or {}
    gp, bill = snap.get("gp"), snap.get("bill")
    if not isinstance(gp, dict) or not isinstance(bill, dict):
        return []
    agreed = snap.get("agreed") or {}
    clashing = set(snap.get("conflicts") or [])
    choosable = set(differing_fields(record))
    rows = []
    for name in sorted(set(gp) | set(bill)):
        gp_text, bill_text = readable(gp.get(name)), readable(bill.get(name))
        rows.append(
            {
                "key": name,
                "field": FIELD_LABELS.get(name, name),
                "gp": gp_text,
                "bill": bill_text,
                "agreed": readable(agreed.get(name)),
                "clash": name in clashing or name in choosable,
                "can_keep_gp": name in choosable and bool(gp_text),
                "can_keep_bill": name in choosable and bool(bill_text),
                "needs_confirmation": name in NEEDS_CONFIRMATION,
            }
        )
    rows.sort(key=lambda r: not r["clash"])
    return rows


def snapshot_rows(record: SyncRecord) -> list[tuple[str, str]]:
    """The source as last read, one readable line per part (the conflict table shows GP/BILL itself)."""
    rows: list[tuple[str, str]] = []
    shown_in_table = "gp" in (record.snapshot or {})  # the conflict table has a "Last agreed" column
    for key, value in sorted((record.snapshot or {}).items()):
        if key in ("gp", "bill", "conflicts", "left_at_link") or (key == "agreed" and shown_in_table):
            continue
        if isinstance(value, dict) and key == "agreed":
            rows.extend(
                (f"Last agreed {FIELD_LABELS.get(k, k)}", readable(v) or "(never agreed)")
                for k, v in value.items()
            )
        else:
            rows.append((SNAPSHOT_LABELS.get(key, key.replace("_", " ").capitalize()), readable(value)))
    return rows


SNAPSHOT_LABELS = {
    "archived": "Archived in BILL",
    "agreed": "Last agreed",
    # vendor credits (connectors/sync/gp_to_bill/credits.py, credit_applies.py)
    "credit": "GP credit memo (voucher)",
    "voucher": "Applied to GP invoice (voucher)",
    "bill_credit": "BILL vendor credit",
    "bill": "BILL bill",
    "payment": "BILL payment",
    "gp_applied_outside": "Applied in GP outside BILL",
    "bill_amount": "BILL credit amount now",
    "double_use_risk": "Double-use risk",
}


def vendor_field_changes(record: SyncRecord) -> list[Any]:
    """Vendor fields written on either side for this GP vendor (by an approval's field choices),
    each with before and after, who and when; newest first."""
    if record.kind != Kind.VENDOR:
        return []
    return list(
        MappingChange.objects.filter(
            tenant_id=record.tenant_id,
            mapping_kind="vendor",
            key=record.source_key,
            subject__in=[ChangeSubject.GP_VENDOR, ChangeSubject.BILL_VENDOR],
        ).select_related("user")[:100]
    )


def can_replay(record: SyncRecord) -> bool:
    return record.state in RETRYABLE
