"""CSV/XLSX import and export of the three mappings (django-import-export).

Each bad row is refused with a sentence naming the problem — unknown tenant (or one the importing
person is not a member of: the same words, so a file cannot probe which tenants exist), unknown GP or BILL
identifier, a duplicate in the file or against an existing mapping — and the preview shows it
before anything is saved. An imported row is a mapping change like any other: it is kept in the
history with who imported it, and an approved row releases the records that waited for it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from import_export import fields, resources, widgets

from connectors.models import Tenant
from connectors.tenancy import tenants_for

from . import approval, bill_targets, directory
from .models import (
    AccountingClassMapping,
    CheckbookMapping,
    ClassificationAction,
    DepartmentMapping,
    GLAccountMapping,
    LocationMapping,
    MappingAction,
    MappingState,
    VendorMapping,
)

STATES = {s.value for s in MappingState}
ACTIONS = {a.value for a in MappingAction}
CLASSIFICATION_ACTIONS = {a.value for a in ClassificationAction}
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection). The library's own
# setting only strips a leading "=", so cells are quoted with an apostrophe, and unquoted on import.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def after_approval(mapping: Any, user: Any) -> None:
    """What an approval from the review page does next, for an import or a hand edit too: create the
    vendor/account in BILL if so approved, then release the records that waited (a task)."""
    approval.enqueue(
        "connectors.tasks.mapping_approved", mapping._meta.label, mapping.pk, getattr(user, "pk", None)
    )


def escape_formula(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unescape_formula(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


class TenantWidget(widgets.ForeignKeyWidget):
    """Tenants by slug, among those given (the importing person's); blank means the only one."""

    def __init__(self, tenants: QuerySet[Tenant] | None = None) -> None:
        super().__init__(Tenant, "slug")
        self.tenants = Tenant.objects.all() if tenants is None else tenants

    def get_queryset(self, value: Any, row: Any, *args: Any, **kwargs: Any) -> QuerySet[Tenant]:
        return self.tenants

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Tenant:
        slug = (value or "").strip()
        if not slug:
            only = list(self.tenants[:2])
            if len(only) == 1:
                return only[0]
            raise ValueError("Say which tenant (its slug) this row is for.")
        tenant = self.tenants.filter(slug=slug).first()
        if tenant is None:
            raise ValueError(f"Unknown tenant '{slug}'.")
        return tenant


class MappingResource(resources.ModelResource):
    """Shared checks; subclasses name their GP key, BILL/GP target and which directory sets apply."""

    tenant = fields.Field(attribute="tenant", column_name="tenant", widget=TenantWidget())
    gp_key = ""
    target = ""
    key_label = ""
    target_label = ""
    key_set = ""
    target_set = ""
    has_action = True

    def __init__(self, user: Any = None, **kwargs: Any) -> None:
        """`user`: the person importing or exporting (the admin passes it); rows may name only
        their tenants. Without one (a script run by the operator) every tenant is allowed."""
        super().__init__(**kwargs)
        self.tenant_widget = TenantWidget(None if user is None else tenants_for(user))
        self.fields["tenant"].widget = self.tenant_widget
        self._directories: dict[int, directory.Directory] = {}
        self._seen_keys: dict[tuple[int, str], int] = {}
        self._seen_targets: dict[tuple[int, str], str] = {}

    def _directory(self, tenant: Tenant) -> directory.Directory:
        if tenant.pk not in self._directories:
            self._directories[tenant.pk] = directory.for_tenant(tenant)
        return self._directories[tenant.pk]

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        return escape_formula(super().export_field(field, instance, **kwargs))

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        """Refuse a row with a plain reason before import-export touches the database."""
        for column in list(row.keys()):
            row[column] = unescape_formula(row[column])
        errors: dict[str, list[str]] = {}
        try:
            tenant = self.tenant_widget.clean(row.get("tenant"))
        except ValueError as exc:
            raise ValidationError({"tenant": [str(exc)]}) from None
        key = str(row.get(self.gp_key) or "").strip()
        target = str(row.get(self.target) or "").strip()
        action = str(row.get("action") or "").strip().lower() or (
            MappingAction.LINK if target else MappingAction.CREATE
        )
        state = str(row.get("state") or "").strip().lower() or MappingState.APPROVED
        known = self._directory(tenant)
        if not key:
            errors.setdefault(self.gp_key, []).append(f"The {self.key_label} is empty.")
        elif key not in getattr(known, self.key_set):
            errors.setdefault(self.gp_key, []).append(f"Unknown {self.key_label} '{key}'.")
        if self.has_action and action not in self.actions:
            errors.setdefault("action", []).append(
                f"Action must be {' or '.join(repr(a) for a in sorted(self.actions))}, not '{action}'."
            )
        if state not in STATES:
            errors.setdefault("state", []).append(
                f"State must be approved, suggested or rejected, not '{state}'."
            )
        bill_field = bill_targets.BILL_FIELDS[self._meta.model][0]
        bill_value = key if bill_field == self.gp_key else target
        if bill_value:
            try:
                bill_targets.check_format(self._meta.model, bill_value)
            except ValueError as exc:
                errors.setdefault(bill_field, []).append(str(exc))
        if target and target not in getattr(known, self.target_set) and bill_field not in errors:
            errors.setdefault(self.target, []).append(f"Unknown {self.target_label} '{target}'.")
        if action == ClassificationAction.BLANK and target:
            errors.setdefault(self.target, []).append(
                "'blank' means no BILL record: leave the BILL ID empty."
            )
        if (
            state == MappingState.APPROVED
            and not target
            and (not self.has_action or action == MappingAction.LINK)
        ):
            errors.setdefault(self.target, []).append(f"An approved link needs a {self.target_label}.")
        if key:
            number: int = kwargs.get("row_number", 0)  # django-import-export numbers every row it imports
            first = self._seen_keys.setdefault((tenant.pk, key), number)
            if first != number:
                errors.setdefault(NON_FIELD_ERRORS, []).append(
                    f"Duplicate: {self.key_label} '{key}' is already on line {first + 1} of this file."
                )
        if target and self.unique_target:
            other = self._seen_targets.setdefault((tenant.pk, target), key)
            taken = (
                self._meta.model.objects.filter(
                    tenant=tenant, state=MappingState.APPROVED, **{self.target: target}
                )
                .exclude(**{self.gp_key: key})
                .values_list(self.gp_key, flat=True)
                .first()
            )
            if other != key or taken:
                errors.setdefault(NON_FIELD_ERRORS, []).append(
                    f"Duplicate: {self.target_label} '{target}' is already mapped to {self.key_label} "
                    f"'{taken or other}'."
                )
        if errors:
            raise ValidationError(errors)
        # Normalise what the row means, so the saved mapping and its history agree with the preview.
        row["state"] = state
        if self.has_action:
            row["action"] = action

    unique_target = True
    actions = ACTIONS

    def import_row(self, row: Any, instance_loader: Any, **kwargs: Any) -> Any:
        """Each row's result keeps its data-row number, so the preview can name the file's own line."""
        result = super().import_row(row, instance_loader, **kwargs)
        result.number = kwargs.get("row_number")
        return result

    class Meta:
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        old = type(instance).objects.filter(pk=instance.pk).first() if instance.pk else None
        instance._before = approval._snapshot(old) if old else {}
        user = kwargs.get("user")
        if isinstance(instance, VendorMapping):
            instance.field_choices = {}  # an import links only: differing vendor fields wait for a person
        if instance.state == MappingState.APPROVED:
            if self.has_action and instance.action in (MappingAction.CREATE, ClassificationAction.BLANK):
                setattr(instance, self.target, "")
            if not (
                old
                and old.state == MappingState.APPROVED
                and getattr(old, self.target) == getattr(instance, self.target)
            ):
                from django.utils import timezone

                instance.approved_by = user if getattr(user, "pk", None) else None
                instance.approved_at = timezone.now()
        else:
            instance.approved_by, instance.approved_at = None, None

    def after_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        if kwargs.get("dry_run"):
            return
        approval.log_change(instance, getattr(instance, "_before", {}), kwargs.get("user"))
        if instance.state == MappingState.APPROVED:
            after_approval(instance, kwargs.get("user"))


class VendorMappingResource(MappingResource):
    gp_key, target, key_set, target_set = "gp_vendor_id", "bill_vendor_id", "gp_vendors", "bill_vendors"
    key_label, target_label = "GP vendor", "BILL vendor ID"

    class Meta(MappingResource.Meta):
        model = VendorMapping
        fields = (
            "tenant",
            "gp_vendor_id",
            "gp_name",
            "action",
            "bill_vendor_id",
            "bill_name",
            "state",
            "note",
        )
        export_order = fields
        import_id_fields = ("tenant", "gp_vendor_id")


class AccountMappingResource(MappingResource):
    gp_key, target, key_set, target_set = "gp_account", "bill_account_id", "gp_accounts", "bill_accounts"
    key_label, target_label = "GP account", "BILL chart-of-accounts ID"
    unique_target = False  # several GP accounts may post to one BILL account

    class Meta(MappingResource.Meta):
        model = GLAccountMapping
        fields = (
            "tenant",
            "gp_account",
            "gp_description",
            "action",
            "bill_account_id",
            "bill_name",
            "state",
            "note",
        )
        export_order = fields
        import_id_fields = ("tenant", "gp_account")


class CheckbookMappingResource(MappingResource):
    gp_key, target, key_set, target_set = (
        "bill_funding_account_id",
        "gp_checkbook_id",
        "bill_funding_accounts",
        "gp_checkbooks",
    )
    key_label, target_label = "BILL funding account", "GP checkbook"
    has_action = False
    unique_target = False  # two BILL bank accounts may pay from one GP checkbook

    class Meta(MappingResource.Meta):
        model = CheckbookMapping
        fields = (
            "tenant",
            "bill_funding_account_id",
            "bill_funding_name",
            "gp_checkbook_id",
            "state",
            "note",
        )
        export_order = fields
        import_id_fields = ("tenant", "bill_funding_account_id")


class ClassificationMappingResource(MappingResource):
    """A segment value of one kind; action link, create or blank (leave it blank in BILL)."""

    gp_key, target = "gp_value", "bill_id"
    actions = CLASSIFICATION_ACTIONS
    unique_target = False  # GP values 10 and 010 may both mean one BILL department

    class Meta(MappingResource.Meta):
        fields = ("tenant", "gp_value", "gp_description", "action", "bill_id", "bill_name", "state", "note")
        export_order = fields
        import_id_fields = ("tenant", "gp_value")


class DepartmentMappingResource(ClassificationMappingResource):
    key_set, target_set, key_label, target_label = (
        "gp_departments",
        "bill_departments",
        "GP department",
        "BILL department ID",
    )

    class Meta(ClassificationMappingResource.Meta):
        model = DepartmentMapping


class LocationMappingResource(ClassificationMappingResource):
    key_set, target_set, key_label, target_label = (
        "gp_locations",
        "bill_locations",
        "GP location",
        "BILL location ID",
    )

    class Meta(ClassificationMappingResource.Meta):
        model = LocationMapping


class ClassMappingResource(ClassificationMappingResource):
    key_set, target_set = "gp_classes", "bill_classes"
    key_label, target_label = "GP accounting class", "BILL accounting class ID"

    class Meta(ClassificationMappingResource.Meta):
        model = AccountingClassMapping
