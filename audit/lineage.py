"""What the record page and the needs-attention list say about a record, in a clerk's words.

Kept apart from the admin classes so the list, the record page and the digest e-mail describe a
record the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

from connectors.sync.vendor_fields import FIELD_LABELS, as_text

from .models import Kind, State, SyncRecord

# Where each kind of record comes from and goes to: (GP side, BILL side, which one is the source).
SIDES: dict[str, tuple[str, str, str]] = {
    Kind.BILL: ("GP payables invoice (voucher)", "BILL bill", "gp"),
    Kind.VENDOR: ("GP vendor", "BILL vendor", "gp"),
    Kind.GL_ACCOUNT: ("GP account", "BILL chart-of-accounts entry", "gp"),
    Kind.GP_PAYMENT: ("GP payment", "BILL payment", "bill"),
}
MAPPING_ADMIN = {"vendor": ("vendormapping", "GP vendor"), "account": ("glaccountmapping", "GP account"),
                 "checkbook": ("checkbookmapping", "BILL funding account")}
RETRYABLE = (State.FAILED, State.IN_DOUBT, State.SENDING, State.FLAGGED, State.CONFLICT, State.BLOCKED)


@dataclass(frozen=True)
class Link:
    text: str
    url: str


def mapping_url(tenant_id: int, kind: str, key: str) -> str:
    """The review page of the mapping a record waits for (resolved by key, created if missing)."""
    model, _ = MAPPING_ADMIN[kind]
    return reverse(f"admin:mappings_{model}_by_key") + "?" + urlencode({"tenant": tenant_id, "key": key})


def waiting_links(record: SyncRecord) -> list[Link]:
    """One link per mapping the record waits for; other tokens (GP posting) are only described."""
    links = []
    for token in record.waiting_on.split():
        kind, _, key = token.partition(":")
        if kind in MAPPING_ADMIN:
            links.append(Link(f"Map {MAPPING_ADMIN[kind][1]} {key}", mapping_url(record.tenant_id, kind, key)))
    return links


def sides(record: SyncRecord) -> dict[str, Any]:
    """The two objects a record ties together, with the source marked."""
    gp_name, bill_name, source = SIDES.get(record.kind, ("GP", "BILL", "gp"))
    gp_id, bill_id = (record.source_key, record.target_id) if source == "gp" else (record.target_id, record.source_key)
    return {
        "gp": {"name": gp_name, "id": gp_id or "— not created yet", "is_source": source == "gp"},
        "bill": {"name": bill_name, "id": bill_id or "— not created yet", "is_source": source == "bill"},
    }


def conflict_rows(record: SyncRecord) -> list[dict[str, Any]]:
    """For a record changed on both sides: each field as GP has it, as BILL has it, as last agreed."""
    snap = record.snapshot or {}
    gp, bill = snap.get("gp"), snap.get("bill")
    if not isinstance(gp, dict) or not isinstance(bill, dict):
        return []
    agreed = snap.get("agreed") or {}
    clashing = set(snap.get("conflicts") or [])
    rows = []
    for name in sorted(set(gp) | set(bill)):
        rows.append({"field": FIELD_LABELS.get(name, name), "gp": _text(gp.get(name)), "bill": _text(bill.get(name)),
                     "agreed": _text(agreed.get(name)), "clash": name in clashing})
    rows.sort(key=lambda r: not r["clash"])
    return rows


def snapshot_rows(record: SyncRecord) -> list[tuple[str, str]]:
    """The source as last read, flattened one level for a two-column table (conflict parts aside)."""
    rows = []
    for key, value in sorted((record.snapshot or {}).items()):
        if key in ("gp", "bill", "conflicts"):
            continue
        if isinstance(value, dict):
            rows.extend((f"{key}.{k}", _text(v)) for k, v in sorted(value.items()))
        else:
            rows.append((key, _text(value)))
    return rows


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return as_text(value)  # an address reads as one line, never a Python dict


def vendor_field_changes(record: SyncRecord) -> list[Any]:
    """Vendor fields written on either side for this GP vendor (by an approval's field choices),
    each with before and after, who and when; newest first."""
    from mappings.models import ChangeSubject, MappingChange

    if record.kind != Kind.VENDOR:
        return []
    return list(MappingChange.objects.filter(
        tenant_id=record.tenant_id, mapping_kind="vendor", key=record.source_key,
        subject__in=[ChangeSubject.GP_VENDOR, ChangeSubject.BILL_VENDOR]).select_related("user")[:100])


def can_replay(record: SyncRecord) -> bool:
    return record.state in RETRYABLE
