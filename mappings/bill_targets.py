"""A BILL ID a person (or a file) names as a mapping's target: a BILL ID of the right kind, and one
this tenant's BILL organization has.

The check runs at every way in — the review page and the list's bulk approval (`approval.approve`),
the admin's edit form (`TargetCheckedForm`) and the CSV/XLSX import (`resources`) — because the ID is
later placed in BILL URL paths (`PATCH /v3/vendors/<id>`, `…/archive`): a target like `../bills/<id>`
once made the connector archive an unrelated bill. "Has" means BILL listed it for this tenant before
(a suggestion, or a record synced to it), or BILL answers for it now.
"""

from __future__ import annotations

from typing import Any

from django import forms

from audit.models import Kind, SyncRecord
from connectors.bill.client import BillClient
from connectors.bill.http import BillError
from connectors.bill.ids import InvalidBillId, check_bill_id

from .models import (
    PROXY_BY_KIND,
    CheckbookMapping,
    ClassificationMapping,
    GLAccountMapping,
    Suggestion,
    VendorMapping,
)

# model → (field holding the BILL ID, kind of BILL ID, suggestion kind, ledger kind)
BILL_FIELDS: dict[type, tuple[str, str, str | None, str | None]] = {
    VendorMapping: ("bill_vendor_id", "vendor", Suggestion.KIND_VENDOR, Kind.VENDOR),
    GLAccountMapping: ("bill_account_id", "chart_of_accounts", Suggestion.KIND_ACCOUNT, Kind.GL_ACCOUNT),
    CheckbookMapping: ("bill_funding_account_id", "funding_account", None, None),
}
# Segment values: one entry per classification kind (its proxy model), keyed by ClassificationKind.
ID_KINDS = {"department": "department", "location": "location", "class": "accounting_class"}
WORDS = {"department": "department", "location": "location", "class": "accounting class"}
for _kind, _proxy in PROXY_BY_KIND.items():
    BILL_FIELDS[_proxy] = ("bill_id", ID_KINDS[_kind], _kind, Kind.CLASSIFICATION)


def _model_for(model: type, kind: str | None) -> type:
    """A classification mapping's proxy for its kind (the base model names no kind of BILL ID)."""
    if model is ClassificationMapping and kind:
        return PROXY_BY_KIND[kind]
    return model


def check_format(model: type, value: str, kind: str | None = None) -> None:
    """InvalidBillId (a ValueError with a plain sentence) unless `value` is a BILL ID of the model's kind."""
    field, kind, _, _ = BILL_FIELDS[_model_for(model, kind)]
    check_bill_id(value, kind)


def _seen(tenant: Any, model: type, value: str) -> bool:
    _, _, suggestion_kind, ledger_kind = BILL_FIELDS[model]
    if (
        suggestion_kind
        and Suggestion.objects.filter(tenant=tenant, kind=suggestion_kind, bill_id=value).exists()
    ):
        return True
    return (
        bool(ledger_kind)
        and SyncRecord.objects.filter(tenant=tenant, kind=ledger_kind, target_id=value).exists()
    )


def _ask_bill(tenant: Any, model: type, value: str) -> None:
    classification = next((k for k, p in PROXY_BY_KIND.items() if p is model), None)
    what = (
        "vendor"
        if model is VendorMapping
        else WORDS[classification]
        if classification
        else "chart-of-accounts entry"
    )
    try:
        conn = tenant.bill_connection
    except Exception:
        raise ValueError(
            f"BILL {what} '{value}' is not one BILL has shown for this tenant, and there is no "
            "BILL connection to ask."
        ) from None
    client = BillClient.for_connection(conn)
    try:
        if model is VendorMapping:
            client.get_vendor(value)
        elif classification:
            client.get_classification(classification, value)
        else:
            client.get_chart_of_account(value)
    except BillError as exc:
        if exc.status == 404:
            raise ValueError(f"BILL has no {what} '{value}' in this tenant's organization.") from None
        raise ValueError(
            f"Could not check BILL {what} '{value}' with BILL ({exc.message}); try again."
        ) from None


def check_target(tenant: Any, model: type, value: str, kind: str | None = None) -> None:
    """ValueError with a plain sentence unless `value` is a BILL ID this tenant's BILL org has."""
    model = _model_for(model, kind)
    check_format(model, value)
    if model is CheckbookMapping or _seen(tenant, model, value):
        return
    _ask_bill(tenant, model, value)


class TargetCheckedForm(forms.ModelForm):
    """The mapping admin's edit form: a BILL ID typed by hand is checked like one approved on the review
    page."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned is None:  # Django reads a clean() answering None as "cleaned_data as it is"
            cleaned = self.cleaned_data
        field = BILL_FIELDS[self._meta.model][0]
        value = (cleaned.get(field) or "").strip()
        tenant = cleaned.get("tenant") or getattr(self.instance, "tenant", None)
        if value and field in self.changed_data and tenant is not None:
            try:
                if field == "bill_funding_account_id":
                    check_format(self._meta.model, value)
                else:
                    check_target(tenant, self._meta.model, value)
            except (InvalidBillId, ValueError) as exc:
                self.add_error(field, str(exc))
        return cleaned
