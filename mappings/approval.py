"""Approving, rejecting and changing mappings — each change kept, and waiting records released."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from audit import waits
from audit.waits import WaitFor
from connectors.queue import enqueue

from .bill_targets import check_target
from .models import (
    CheckbookMapping,
    ClassificationAction,
    ClassificationMapping,
    GLAccountMapping,
    MappingAction,
    MappingChange,
    MappingState,
    Suggestion,
    VendorMapping,
)

AnyMapping = VendorMapping | GLAccountMapping | CheckbookMapping | ClassificationMapping
APPROVAL_BATCH = 50  # mappings per follow-up task of a bulk approval (each may read GP once)
RELEASE_BATCH = 200  # waiting records per replay task
_TRACKED = ("state", "action", "bill_vendor_id", "bill_account_id", "gp_checkbook_id", "bill_id", "note")


def waiting_key(mapping: AnyMapping) -> WaitFor:
    """What records wait for while they wait for this mapping (audit.waits)."""
    if isinstance(mapping, VendorMapping):
        return WaitFor(waits.VENDOR, mapping.gp_vendor_id)
    if isinstance(mapping, GLAccountMapping):
        return WaitFor(waits.ACCOUNT, mapping.gp_account)
    if isinstance(mapping, ClassificationMapping):
        return WaitFor(mapping.kind, mapping.gp_value)
    return WaitFor(waits.CHECKBOOK, mapping.bill_funding_account_id)


def mapping_key(mapping: AnyMapping) -> str:
    return waiting_key(mapping).key


def _snapshot(mapping: AnyMapping) -> dict[str, Any]:
    data = model_to_dict(mapping)
    return {k: data[k] for k in _TRACKED if k in data}


def log_change(mapping: AnyMapping, before: dict[str, Any], user: Any) -> None:
    after = _snapshot(mapping)
    if (
        after == before
    ):  # e.g. field choices applied to an approved link: those are recorded as they are written
        return
    kind = (
        mapping.kind
        if isinstance(mapping, ClassificationMapping)
        else type(mapping).__name__.replace("Mapping", "").lower()
    )
    MappingChange.objects.create(
        tenant=mapping.tenant,
        mapping_kind=kind,
        key=mapping_key(mapping),
        before=before,
        after=after,
        user=user if getattr(user, "pk", None) else None,
    )


def records_waiting_on(mapping: AnyMapping) -> list[int]:
    return records_waiting_for(mapping.tenant, waiting_key(mapping))


def records_waiting_for(tenant: Any, *wanted: WaitFor) -> list[int]:
    """The tenant's records that still need attention and wait for any of `wanted` (a mapping, the hold
    check), each once."""
    return waits.record_ids_waiting_for(tenant, wanted)


def records_waiting_on_any(mappings: Iterable[AnyMapping]) -> list[int]:
    """`records_waiting_on` for many mappings (a bulk approval): one query per tenant and kind."""
    by_tenant: dict[int, list[WaitFor]] = {}
    for mapping in mappings:
        by_tenant.setdefault(mapping.tenant_id, []).append(waiting_key(mapping))
    return sorted({pk for tenant, wanted in by_tenant.items() for pk in records_waiting_for(tenant, *wanted)})


@transaction.atomic
def approve(
    mapping: AnyMapping,
    user: Any,
    *,
    target_id: str | None = None,
    create: bool = False,
    field_choices: dict[str, Any] | None = None,
    queue_task: bool = True,
    blank: bool = False,
) -> None:
    """Approve a mapping (optionally to another BILL record, or as 'create in BILL'); release waiters
    (`queue_task=False`: the caller queues one task for many approvals, see `approve_many`).

    A vendor link changes no vendor field on either side unless `field_choices` (checked by
    `connectors.sync.gp_to_bill.vendor_link.decide` from the review page) says which side wins; a bulk
    approval passes none, so it only links, and any choice left from before is dropped."""
    before = _snapshot(mapping)
    if isinstance(mapping, VendorMapping):
        mapping.field_choices = {} if create else (field_choices or {})
    if isinstance(mapping, VendorMapping | GLAccountMapping):
        if create:
            mapping.action = MappingAction.CREATE
            setattr(
                mapping, "bill_vendor_id" if isinstance(mapping, VendorMapping) else "bill_account_id", ""
            )
        elif target_id:
            mapping.action = MappingAction.LINK
            field = "bill_vendor_id" if isinstance(mapping, VendorMapping) else "bill_account_id"
            if getattr(mapping, field) != target_id:  # another suggestion chosen: its name goes with it
                kind = (
                    Suggestion.KIND_VENDOR if isinstance(mapping, VendorMapping) else Suggestion.KIND_ACCOUNT
                )
                mapping.bill_name = (
                    Suggestion.objects.filter(tenant=mapping.tenant, kind=kind, bill_id=target_id)
                    .values_list("bill_name", flat=True)
                    .first()
                    or ""
                )[:200]
            setattr(mapping, field, target_id)
        target = mapping.bill_vendor_id if isinstance(mapping, VendorMapping) else mapping.bill_account_id
        if mapping.action == MappingAction.LINK and not target:
            raise ValueError("Choose a BILL record to link to, or approve it as 'create in BILL'.")
        if mapping.action == MappingAction.LINK:
            check_target(mapping.tenant, type(mapping), target)  # it goes into BILL URL paths
    elif isinstance(mapping, ClassificationMapping):
        _decide_classification(mapping, target_id, create, blank)
    elif isinstance(mapping, CheckbookMapping):
        if target_id:
            mapping.gp_checkbook_id = target_id
        if not mapping.gp_checkbook_id:
            raise ValueError("Choose the GP checkbook this BILL funding account pays from.")
    mapping.state = MappingState.APPROVED
    mapping.approved_by = user if getattr(user, "pk", None) else None
    mapping.approved_at = timezone.now()
    mapping.save()
    log_change(mapping, before, user)
    if queue_task:
        enqueue(
            "connectors.tasks.mapping_approved", mapping._meta.label, mapping.pk, getattr(user, "pk", None)
        )


def approve_many(mappings: Iterable[AnyMapping], user: Any, **options: Any) -> tuple[int, list[str]]:
    """Approve many mappings (a list action at onboarding: hundreds at once), each kept on its own,
    then queue their follow-up work in batches (APPROVAL_BATCH mappings per task) instead of a task,
    a context and a release per mapping. Returns how many were approved and the problems, per mapping."""
    approved: dict[str, list[int]] = {}
    problems: list[str] = []
    for mapping in mappings:
        try:
            approve(mapping, user, queue_task=False, **options)
        except ValueError as exc:
            problems.append(f"{mapping}: {exc}")
            continue
        approved.setdefault(mapping._meta.label, []).append(mapping.pk)
    for label, pks in approved.items():
        for start in range(0, len(pks), APPROVAL_BATCH):
            enqueue(
                "connectors.tasks.mappings_approved",
                label,
                pks[start : start + APPROVAL_BATCH],
                getattr(user, "pk", None),
            )
    return sum(len(pks) for pks in approved.values()), problems


def release(mapping: AnyMapping) -> None:
    """Send every record that waited on this mapping through its flow again (a task)."""
    release_ids(records_waiting_on(mapping))


def release_ids(ids: Iterable[int]) -> None:
    """Replay waiting records, RELEASE_BATCH per task, each once however many mappings it waited on."""
    unique = sorted(set(ids))
    for start in range(0, len(unique), RELEASE_BATCH):
        enqueue("connectors.tasks.replay_records", unique[start : start + RELEASE_BATCH], trigger="mapping")


def _decide_classification(
    mapping: ClassificationMapping, target_id: str | None, create: bool, blank: bool
) -> None:
    """A segment value: link to a BILL department/location/class, create it in BILL, or leave it blank."""
    if blank:
        mapping.action, mapping.bill_id, mapping.bill_name = ClassificationAction.BLANK, "", ""
    elif create:
        mapping.action, mapping.bill_id = ClassificationAction.CREATE, ""
    elif target_id:
        if mapping.bill_id != target_id:
            mapping.bill_name = (
                Suggestion.objects.filter(tenant=mapping.tenant, kind=mapping.kind, bill_id=target_id)
                .values_list("bill_name", flat=True)
                .first()
                or ""
            )[:200]
        mapping.action, mapping.bill_id = ClassificationAction.LINK, target_id
    if mapping.action == ClassificationAction.LINK:
        if not mapping.bill_id:
            raise ValueError(
                "Choose a BILL record to link to, approve it as 'create in BILL', or leave it blank."
            )
        check_target(mapping.tenant, type(mapping), mapping.bill_id, kind=mapping.kind)


@transaction.atomic
def reject(mapping: AnyMapping, user: Any, note: str = "") -> None:
    before = _snapshot(mapping)
    mapping.state = MappingState.REJECTED
    mapping.note = note[:255]
    mapping.approved_by = None
    mapping.approved_at = None
    mapping.save()
    log_change(mapping, before, user)
