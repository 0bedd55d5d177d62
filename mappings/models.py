"""Mappings between GP and BILL identifiers. Nothing syncs onto a record that is not mapped."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from connectors.models import Tenant


class MappingState(models.TextChoices):
    SUGGESTED = "suggested", "Suggested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class MappingAction(models.TextChoices):
    LINK = "link", "Link to an existing BILL record"
    CREATE = "create", "Create it in BILL"


class MappingBase(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    state = models.CharField(max_length=20, choices=MappingState.choices, default=MappingState.SUGGESTED)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def is_approved(self) -> bool:
        return self.state == MappingState.APPROVED


class VendorMapping(MappingBase):
    """GP vendor ID ↔ BILL vendor ID (or 'create this vendor in BILL')."""

    gp_vendor_id = models.CharField("GP vendor ID", max_length=15)
    gp_name = models.CharField("GP name", max_length=100, blank=True)
    action = models.CharField(max_length=10, choices=MappingAction.choices, default=MappingAction.LINK)
    bill_vendor_id = models.CharField("BILL vendor ID", max_length=40, blank=True)
    bill_name = models.CharField("BILL name", max_length=200, blank=True)
    # What a person chose on the review page, per differing field, for the BILL vendor it names:
    # {"bill_vendor_id": …, "fields": {field: {"winner": "gp"|"bill", "gp": value seen, "bill": value seen}}}.
    # Applied once by the next sync of the vendor (connectors.sync.gp_to_bill.vendor_link), then cleared.
    field_choices = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "gp_vendor_id"], name="one_vendor_mapping")]
        indexes = [models.Index(fields=["tenant", "state"], name="vendor_map_state")]

    def __str__(self) -> str:
        return f"{self.gp_vendor_id} → {self.bill_vendor_id or '(new BILL vendor)'}"


class GLAccountMapping(MappingBase):
    """GP account string ↔ BILL chart-of-accounts ID (or 'create this account in BILL')."""

    gp_account = models.CharField("GP account", max_length=60)
    gp_description = models.CharField("GP description", max_length=100, blank=True)
    action = models.CharField(max_length=10, choices=MappingAction.choices, default=MappingAction.LINK)
    bill_account_id = models.CharField("BILL chart-of-accounts ID", max_length=40, blank=True)
    bill_name = models.CharField("BILL name", max_length=200, blank=True)

    class Meta:
        verbose_name = "GL account mapping"
        constraints = [models.UniqueConstraint(fields=["tenant", "gp_account"], name="one_account_mapping")]
        indexes = [models.Index(fields=["tenant", "state"], name="account_map_state")]

    def __str__(self) -> str:
        return f"{self.gp_account} → {self.bill_account_id or '(new BILL account)'}"


class ClassificationKind(models.TextChoices):
    """The BILL classifications a GP account segment can carry (Tenant.*_segment says which segment)."""

    DEPARTMENT = "department", "Department"
    LOCATION = "location", "Location"
    CLASS = "class", "Accounting class"


class ClassificationAction(models.TextChoices):
    LINK = "link", "Link to an existing BILL record"
    CREATE = "create", "Create it in BILL"
    BLANK = "blank", "Leave it blank in BILL"


class ClassificationMapping(MappingBase):
    """A GP account segment value (department 20, location 100) ↔ a BILL department, location or
    accounting class; or 'create it in BILL'; or 'leave blank' (a value such as 00 that means none).

    The waiting token is `<kind>:<value>` (department:20), like vendor:… and account:…."""

    kind = models.CharField(max_length=12, choices=ClassificationKind.choices)
    gp_value = models.CharField("GP segment value", max_length=30)
    gp_description = models.CharField(
        "GP description",
        max_length=100,
        blank=True,
        help_text="What the value means in GP (e.g. Sales); the name a BILL record created from it gets.",
    )
    action = models.CharField(
        max_length=10, choices=ClassificationAction.choices, default=ClassificationAction.LINK
    )
    bill_id = models.CharField("BILL ID", max_length=40, blank=True)
    bill_name = models.CharField("BILL name", max_length=200, blank=True)

    class Meta:
        verbose_name = "classification mapping"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind", "gp_value"], name="one_classification_mapping")
        ]
        indexes = [models.Index(fields=["tenant", "kind", "state"], name="classification_map_state")]

    def __str__(self) -> str:
        if self.action == ClassificationAction.BLANK:
            return f"{self.get_kind_display()} {self.gp_value} → (blank in BILL)"
        return f"{self.get_kind_display()} {self.gp_value} → {self.bill_id or '(new BILL ' + self.kind + ')'}"


class _KindManager(models.Manager):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(kind=self.kind)


class DepartmentMapping(ClassificationMapping):
    """Department segment values (one review list per kind, so a clerk sees one thing at a time)."""

    KIND = ClassificationKind.DEPARTMENT
    objects: ClassVar[_KindManager] = _KindManager(KIND)  # type: ignore[assignment]

    class Meta:
        proxy = True
        verbose_name = "department mapping"

    def save(self, *args: object, **kwargs: object) -> None:
        self.kind = self.KIND
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class LocationMapping(ClassificationMapping):
    KIND = ClassificationKind.LOCATION
    objects: ClassVar[_KindManager] = _KindManager(KIND)  # type: ignore[assignment]

    class Meta:
        proxy = True
        verbose_name = "location mapping"

    def save(self, *args: object, **kwargs: object) -> None:
        self.kind = self.KIND
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class AccountingClassMapping(ClassificationMapping):
    KIND = ClassificationKind.CLASS
    objects: ClassVar[_KindManager] = _KindManager(KIND)  # type: ignore[assignment]

    class Meta:
        proxy = True
        verbose_name = "accounting class mapping"

    def save(self, *args: object, **kwargs: object) -> None:
        self.kind = self.KIND
        super().save(*args, **kwargs)  # type: ignore[arg-type]


PROXY_BY_KIND: dict[str, type[ClassificationMapping]] = {
    ClassificationKind.DEPARTMENT: DepartmentMapping,
    ClassificationKind.LOCATION: LocationMapping,
    ClassificationKind.CLASS: AccountingClassMapping,
}


class CheckbookMapping(MappingBase):
    """BILL funding bank account ↔ GP checkbook, used when writing payments back to GP."""

    bill_funding_account_id = models.CharField("BILL funding account ID", max_length=40)
    bill_funding_name = models.CharField("BILL funding account", max_length=200, blank=True)
    gp_checkbook_id = models.CharField("GP checkbook ID", max_length=15, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "bill_funding_account_id"], name="one_checkbook_mapping"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bill_funding_account_id} → {self.gp_checkbook_id}"


class Suggestion(models.Model):
    """A ranked candidate for an unmapped GP vendor or account, with why it was suggested."""

    KIND_VENDOR = "vendor"
    KIND_ACCOUNT = "account"
    # Classification suggestions use the ClassificationKind values (department, location, class).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    kind = models.CharField(
        max_length=12,
        choices=[(KIND_VENDOR, "Vendor"), (KIND_ACCOUNT, "GL account"), *ClassificationKind.choices],
    )
    gp_key = models.CharField(max_length=60)
    bill_id = models.CharField(max_length=40)
    bill_name = models.CharField(max_length=200)
    score = models.DecimalField(max_digits=5, decimal_places=3)
    reasons = models.CharField(max_length=255)

    class Meta:
        ordering = ["-score"]
        indexes = [models.Index(fields=["tenant", "kind", "gp_key"], name="suggestion_lookup")]

    def __str__(self) -> str:
        return f"{self.gp_key} ~ {self.bill_name} ({self.score})"


class ChangeSubject(models.TextChoices):
    MAPPING = "mapping", "The mapping"
    GP_VENDOR = "gp_vendor", "GP vendor record"
    BILL_VENDOR = "bill_vendor", "BILL vendor record"


class MappingChange(models.Model):
    """Every change to a mapping, and every vendor field an approval wrote: who, when, before, after."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    subject = models.CharField(max_length=20, choices=ChangeSubject.choices, default=ChangeSubject.MAPPING)
    mapping_kind = models.CharField(max_length=20)
    key = models.CharField(max_length=60)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.mapping_kind} {self.key} at {self.at:%Y-%m-%d %H:%M}"
