"""The BILL department, location and accounting class of one bill line, read from its GP account string.

GP has no separate dimensions: a company spells them as segments of the account (`100-6100-20`), and
the tenant says which segment is which (Tenant.department_segment, …). Every kind of BILL document
line built from GP distributions (bills, vendor credits) asks `classify_line`, so a segment value is
mapped, waited for and named the same way everywhere.

A value maps through a ClassificationMapping: approved link → the BILL ID goes on the line under
BILL's own field name (`classifications.departmentId`, `.locationId`, `.accountingClassId`, as in
BILL's v3 bill line); approved "leave blank" → nothing is sent; anything else → the line waits for the
value (audit.waits: kind `department`, key `20`), released when the mapping is approved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from audit.waits import WaitFor
from mappings.models import ClassificationAction, ClassificationMapping, MappingState
from mappings.segments import segment_value

if TYPE_CHECKING:
    from connectors.models import Tenant

# Classification kind → BILL's field inside a line's `classifications`.
BILL_FIELD = {"department": "departmentId", "location": "locationId", "class": "accountingClassId"}
# The fields a segment setting adds: left out of a bill's change hash, so changing the setting (or a
# segment mapping) never rewrites a bill already in BILL (see BillDraft.hash).
DIMENSION_FIELDS = tuple(BILL_FIELD.values())


@dataclass
class LineClassifications:
    """What a line's GP account says about its BILL classifications."""

    ids: dict[str, str] = field(default_factory=dict)  # BILL field (departmentId …) → BILL ID
    waiting_on: list[WaitFor] = field(default_factory=list)  # segment values not mapped yet
    problems: list[str] = field(default_factory=list)  # the account lacks a segment the tenant names


class MappingLookups(Protocol):
    """What turning a GP document into a BILL body asks of the run: its tenant and the cached mapping
    lookups. SyncContext is one; the pure-function unit tests pass a small fake."""

    @property
    def tenant(self) -> Tenant: ...
    def bill_vendor_id(self, gp_vendor_id: str) -> str | None: ...
    def vendor_archived(self, gp_vendor_id: str) -> bool: ...
    def bill_account_id(self, gp_account: str) -> str | None: ...
    def classification_mapping(self, kind: str, value: str) -> ClassificationMapping | None: ...


def classify_line(account: str, ctx: MappingLookups) -> LineClassifications:
    """The BILL classification IDs for a line posted to GP account `account`, or what it waits on."""
    out = LineClassifications()
    tenant = getattr(ctx, "tenant", None)
    settings = getattr(tenant, "segment_settings", None) or {}
    for kind, position in settings.items():
        value = segment_value(account, position)
        if value is None:
            out.problems.append(
                f"GP account {account} has no segment {position}, which this tenant's settings "
                f"say is the {kind.replace('class', 'accounting class')}"
            )
            continue
        mapping = ctx.classification_mapping(kind, value)
        if mapping is None or mapping.state != MappingState.APPROVED:
            out.waiting_on.append(WaitFor(kind, value))
        elif mapping.action == ClassificationAction.BLANK:
            continue
        elif mapping.bill_id:
            out.ids[BILL_FIELD[kind]] = mapping.bill_id
        else:  # approved to be created in BILL, not created yet
            out.waiting_on.append(WaitFor(kind, value))
    return out
