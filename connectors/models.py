"""Tenants and their two connections. Every secret is a fernet-encrypted column keyed by FERNET_KEYS."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from fernet_fields import EncryptedTextField

from .gp_words import Shape

# BILL's two gateways (BILL's v3 Postman collection, "Sandbox vs Production"): the AP API under
# `/connect`, the webhook API under `/connect-events`. Production is the default; "stage" is BILL's
# sandbox for developers; "other" is any address the admin types (the local sandbox, tests).
BILL_GATEWAYS = {
    "production": ("https://gateway.prod.bill.com/connect", "https://gateway.prod.bill.com/connect-events"),
    "stage": ("https://gateway.stage.bill.com/connect", "https://gateway.stage.bill.com/connect-events"),
}
BILL_PRODUCTION_GATEWAY, BILL_PRODUCTION_EVENTS_GATEWAY = BILL_GATEWAYS["production"]
BILL_SANDBOX_GATEWAY, BILL_SANDBOX_EVENTS_GATEWAY = BILL_GATEWAYS["stage"]

# Names of the encrypted fields per model: the rotate command, the admin's write-only widgets and
# the secret-leak tests all read this one list.
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "GPConnection": ("password",),
    "BillConnection": ("password", "dev_key", "webhook_security_key", "payment_security_key", "session_id"),
}


class Tenant(models.Model):
    """One GP company paired with one BILL organization; every record and flow belongs to one."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True, help_text="Used in the webhook URL.")
    is_active = models.BooleanField("active", default=True)
    poll_interval_minutes = models.PositiveIntegerField(
        default=15, validators=[MinValueValidator(1)], help_text="How often GP (and BILL) are polled."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # --- Sync policy: what counts as an approved GP invoice, and what may happen without a person.
    BILL_POLICY_POSTED = "posted_open"
    BILL_POLICY_APPROVED_UNPOSTED = "approved_unposted"
    BILL_POLICY_CHOICES = [
        (BILL_POLICY_POSTED, "Posted (Open) invoices with money remaining, not on hold, not voided"),
        (BILL_POLICY_APPROVED_UNPOSTED, "Unposted invoices whose workflow is Approved or needs no approval"),
    ]
    bill_policy = models.CharField(
        "which GP invoices become bills",
        max_length=30,
        choices=BILL_POLICY_CHOICES,
        default=BILL_POLICY_POSTED,
    )
    send_without_hold_check = models.BooleanField(
        "send invoices read over GP Web Services, which cannot show invoice holds",
        default=False,
        help_text="GP Web Services documents no hold flag on a payables invoice, so over it the connector "
        "cannot tell a held invoice from a free one. Off (the safe default): every invoice read over GP Web "
        "Services waits in Needs attention and is not sent to BILL. On: they are sent, and an invoice "
        "on hold in GP would be sent too; turn it on only if AP never uses invoice holds. SBA shows "
        "holds and is not affected.",
    )
    auto_create_vendors = models.BooleanField(
        "create unmatched vendors in BILL automatically",
        default=False,
        help_text="Off: a GP vendor with no BILL match waits until finance approves 'create in BILL'.",
    )
    push_gl_accounts = models.BooleanField(
        "offer GP accounts as new BILL chart-of-accounts entries", default=True
    )
    default_checkbook_id = models.CharField(
        "default GP checkbook",
        max_length=15,
        blank=True,
        help_text="Used for BILL payments whose funding account has no checkbook mapping.",
    )
    gp_card_name = models.CharField(
        "GP card name for card-funded BILL payments",
        max_length=15,
        blank=True,
        help_text="GP records a credit card payment only with a card name (Credit Card Setup). BILL payments "
        "funded by a card are written to GP as CreditCard payments with this name; left blank, they "
        "wait for a person.",
    )
    post_payment_batches = models.BooleanField("post GP payment batches after write-back", default=True)
    paid_statuses = models.CharField(
        "BILL payment statuses written back to GP",
        max_length=200,
        default="PAID",
        help_text="Comma-separated BILL payment statuses, e.g. PAID or PAID,SCHEDULED.",
    )
    vendor_fields_to_gp = models.CharField(
        "vendor fields BILL may update in GP",
        max_length=200,
        default="name,email,phone,address,tax_id",
    )
    # --- GP account segments that are BILL classifications (GP has no separate dimensions: a company
    # spells department, location or class as a segment of the account string, e.g. 100-6100-20).
    SEGMENT_HELP = (
        "Which segment of the GP account string (1 = the first, as in 100-6100-20 → 100) holds "
        "the {what}. Left empty: bill lines carry no BILL {what}. Changing it later applies to "
        "bills sent from then on; bills already in BILL are not rewritten for it."
    )
    department_segment = models.PositiveSmallIntegerField(
        "GP account segment that is the department",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=SEGMENT_HELP.format(what="department"),
    )
    location_segment = models.PositiveSmallIntegerField(
        "GP account segment that is the location",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=SEGMENT_HELP.format(what="location"),
    )
    class_segment = models.PositiveSmallIntegerField(
        "GP account segment that is the accounting class",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=SEGMENT_HELP.format(what="accounting class"),
    )
    alert_emails = models.CharField(
        "alert contacts",
        max_length=500,
        blank=True,
        help_text="Comma-separated e-mails for the needs-attention digest.",
    )
    agent_silence_alert_minutes = models.PositiveIntegerField(
        "alert when a GP agent is silent for (minutes)",
        default=10,
        validators=[MinValueValidator(1)],
        help_text="The dashboard warns when an agent of this tenant has not called in for this long.",
    )

    class Meta:
        ordering = ["name"]

    def clean(self) -> None:
        """One segment cannot be two classifications: BILL would get the same code as both."""
        from django.core.exceptions import ValidationError

        seen: dict[int, str] = {}
        for field in ("department_segment", "location_segment", "class_segment"):
            value = getattr(self, field)
            if value is None:
                continue
            if value in seen:
                raise ValidationError(
                    {
                        field: f"Segment {value} is already the {seen[value]}; choose another "
                        "segment or leave one empty."
                    }
                )
            seen[value] = field.replace("_segment", "").replace("class", "accounting class")
        super().clean()

    @property
    def segment_settings(self) -> dict[str, int]:
        """Classification kind → 1-based GP account segment, for the kinds this tenant maps."""
        pairs = (
            ("department", self.department_segment),
            ("location", self.location_segment),
            ("class", self.class_segment),
        )
        return {kind: n for kind, n in pairs if n}

    @property
    def paid_status_set(self) -> frozenset[str]:
        return frozenset(s.strip().upper() for s in self.paid_statuses.split(",") if s.strip())

    @property
    def vendor_field_set_to_gp(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.vendor_fields_to_gp.split(",") if s.strip())

    def __str__(self) -> str:
        return self.name


class TenantMembership(models.Model):
    """A person who may see and work one tenant's data (finance staff and connector admins alike).

    A hosted connector serves several companies: without a membership a user sees none of a
    tenant's records, mappings, jobs or connections. Superusers see every tenant and are the only
    ones who grant or withdraw memberships (a connector admin who adds a tenant becomes its member).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_memberships"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "tenant membership"
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} → {self.tenant}"


class GPConnection(models.Model):
    """The customer's exposed GP SBA endpoint and the Windows domain account used for NTLM."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="gp_connection")
    base_url = models.URLField("SBA base URL", help_text="e.g. https://gp.example.local:443")
    gp_tenant = models.CharField("GP tenant", max_length=100, default="DefaultTenant")
    company = models.CharField(
        "company display name", max_length=100, help_text="As GP shows it, e.g. Fabrikam, Inc."
    )
    domain = models.CharField("Windows domain", max_length=100)
    username = models.CharField("user name", max_length=100)
    password = EncryptedTextField(blank=True)
    verify_tls = models.BooleanField("verify TLS certificate", default=True)
    ca_bundle_pem = models.TextField(
        "CA bundle (PEM)", blank=True, help_text="For a self-signed or internal-CA GP certificate."
    )
    timeout_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    interface = models.CharField(
        "GP interface",
        max_length=20,
        default="sba",
        choices=[
            ("sba", "Service Based Architecture (REST, GP 2015 and later)"),
            ("web_services", "GP Web Services (SOAP, GP 2010 and later)"),
            ("auto", "Detect: SBA if present, else GP Web Services"),
        ],
        help_text="GP Web Services cannot write payments back: they become 'record in GP' tasks.",
    )
    web_services_url = models.URLField(
        "GP Web Services URL",
        blank=True,
        help_text="e.g. http://gp.example.local:48620/DynamicsGPWebServices/DynamicsGPService.asmx "
        "(blank: that address on the SBA host).",
    )
    ROUTE_DIRECT, ROUTE_AGENT = "direct", "agent"
    route = models.CharField(
        "how the connector reaches GP",
        max_length=10,
        default=ROUTE_DIRECT,
        choices=[
            (ROUTE_DIRECT, "Direct (GP's port is reachable from the connector)"),
            (ROUTE_AGENT, "Through an agent (the customer runs the GP agent next to GP)"),
        ],
        help_text="Through an agent, the password may stay blank here and live only on the agent's machine.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "GP connection"

    def __str__(self) -> str:
        return f"{self.company} @ {self.base_url}"

    @property
    def account(self) -> str:
        """The Windows account as NTLM wants it: DOMAIN\\user."""
        return f"{self.domain}\\{self.username}"

    def confirmed_override(self) -> GPResourceOverride | None:
        """The resource map version in force: the newest one a Connector admin confirmed."""
        if self.pk is None:
            return None
        return self.resource_overrides.filter(confirmed_at__isnull=False).order_by("-version").first()

    def resource_shape(self) -> Shape:
        """How this GP server spells things: Part B with the confirmed overrides applied."""
        override = self.confirmed_override()
        return Shape.from_overrides(override.values if override else None)


class GPResourceOverride(models.Model):
    """One version of a GP connection's resource map overrides (envelope, stamp precision, value
    vocabularies, vendor address field). Proposed (by the fit check or an admin), then confirmed by a
    Connector admin; only confirmed versions are used, and no version is ever edited after it is
    confirmed, so the rows are the audit history of how this server was read."""

    connection = models.ForeignKey(GPConnection, on_delete=models.CASCADE, related_name="resource_overrides")
    version = models.PositiveIntegerField(editable=False)
    values = models.JSONField(
        default=dict,
        blank=True,
        help_text='Only what differs from Part B, e.g. {"vendor_status_field": "IsActive"}.',
    )
    reason = models.TextField(blank=True, help_text="Why: what the fit check (or a person) saw GP send.")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "GP resource map override"
        ordering = ["connection", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "version"], name="gp_override_version_unique")
        ]

    def __str__(self) -> str:
        state = "confirmed" if self.confirmed_at else "proposed"
        return f"{self.connection.company} resource map v{self.version} ({state})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        try:
            Shape.from_overrides(self.values)
        except ValueError as exc:
            raise ValidationError({"values": str(exc)}) from None

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.version is None:
            last = GPResourceOverride.objects.filter(connection=self.connection).aggregate(
                v=models.Max("version")
            )["v"]
            self.version = (last or 0) + 1
        super().save(*args, **kwargs)


class BillConnection(models.Model):
    """A BILL organization: dev key and org login, the cached session, the webhook subscription."""

    PRODUCTION, STAGE, OTHER = "production", "stage", "other"
    ENVIRONMENTS = [
        (PRODUCTION, "Production (gateway.prod.bill.com)"),
        (STAGE, "Stage, BILL's developer sandbox (gateway.stage.bill.com)"),
        (OTHER, "Other address (the two URLs below, e.g. the local sandbox)"),
    ]

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="bill_connection")
    environment = models.CharField(
        "BILL environment",
        max_length=20,
        choices=ENVIRONMENTS,
        default=PRODUCTION,
        help_text="Production for real companies; Stage only with a BILL developer (sandbox) account.",
    )
    api_base_url = models.URLField(
        "API base URL",
        blank=True,
        default=BILL_PRODUCTION_GATEWAY,
        help_text="Set from the environment; typed only for 'Other address'.",
    )
    webhook_api_base_url = models.URLField(
        "webhook API base URL",
        blank=True,
        default=BILL_PRODUCTION_EVENTS_GATEWAY,
        help_text="Set from the environment; typed only for 'Other address'.",
    )
    organization_id = models.CharField("organization ID", max_length=40)
    username = models.CharField("user name (e-mail)", max_length=254)
    password = EncryptedTextField(blank=True)
    dev_key = EncryptedTextField("developer key", blank=True)
    timeout_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    # The one cached session for the org, shared by every worker process.
    session_id = EncryptedTextField(blank=True, null=True, editable=False)
    session_last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The last sign-in *attempt* (kept even when it failed): the session layer never signs in twice within
    # a cool-down unless the session it replaces had worked, so no answer from BILL can cause a login storm.
    session_issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Which developer key this is, without the key: BILL's hourly limits are per developer key, shared by
    # every organization using it (an HMAC of the key under SECRET_KEY; see `dev_key_fingerprint`).
    dev_key_id = models.CharField(max_length=32, blank=True, editable=False, db_index=True)
    # Vendor and bill events: one subscription; payment events: another, since BILL offers payment
    # webhooks to select partners only and refuses the subscription otherwise.
    webhook_subscription_id = models.CharField("vendor/bill webhook subscription", max_length=64, blank=True)
    webhook_security_key = EncryptedTextField(blank=True)
    payment_subscription_id = models.CharField(
        "payment webhook subscription", max_length=64, blank=True, editable=False
    )
    payment_security_key = EncryptedTextField(blank=True, editable=False)
    payment_webhooks_refused = models.CharField(
        max_length=300,
        blank=True,
        editable=False,
        help_text=(
            "BILL's answer when it refused payment events for this organization (payments are then polled)."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "BILL connection"

    def __str__(self) -> str:
        return f"BILL org {self.organization_id}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.environment == self.OTHER and not (self.api_base_url and self.webhook_api_base_url):
            raise ValidationError("For 'Other address', enter both the API and the webhook API base URLs.")

    def save(self, *args: Any, **kwargs: Any) -> None:
        """The URLs are the address in use; the environment names it (the admin form sets the URLs from
        the environment the admin chose; code that gives its own URLs gets 'other')."""
        if not self.api_base_url and not self.webhook_api_base_url and self.environment in BILL_GATEWAYS:
            self.api_base_url, self.webhook_api_base_url = BILL_GATEWAYS[self.environment]
        self.environment = environment_of(self.api_base_url, self.webhook_api_base_url)
        self.dev_key_id = dev_key_fingerprint(self.dev_key or "")
        update_fields = kwargs.get("update_fields")
        if update_fields is None:  # the connection was edited: a sign-in may be tried at once again
            self.session_issued_at = None
        if update_fields is not None:  # what is derived is saved with what it is derived from
            derived = {"dev_key_id"} if "dev_key" in update_fields else set()
            if {"api_base_url", "webhook_api_base_url"} & set(update_fields):
                derived |= {"environment", "api_base_url", "webhook_api_base_url"}
            kwargs["update_fields"] = {*update_fields, *derived}
        super().save(*args, **kwargs)


def environment_of(api_url: str, events_url: str) -> str:
    """'production' or 'stage' when both URLs are that BILL gateway's, else 'other'."""
    wanted = (api_url.rstrip("/"), events_url.rstrip("/"))
    return next((name for name, urls in BILL_GATEWAYS.items() if urls == wanted), BillConnection.OTHER)


def dev_key_fingerprint(dev_key: str) -> str:
    """A stable, non-secret name for a developer key (what the gate keys BILL's per-key limits on)."""
    if not dev_key:
        return ""
    from django.conf import settings

    digest = hmac.new(settings.SECRET_KEY.encode(), b"bill-dev-key:" + dev_key.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


class BillHourlyUsage(models.Model):
    """Requests and sign-ins sent to BILL per developer key, org and clock hour (BILL's limits are per key).

    The row with organization_id "*" is the key's total; updating it first serialises the key's
    counting, so orgs sharing a key are checked against each other's counts consistently.
    """

    dev_key_id = models.CharField(max_length=40, default="")
    organization_id = models.CharField(max_length=40)
    hour = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)
    logins = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "BILL hourly usage"
        constraints = [
            models.UniqueConstraint(
                fields=["dev_key_id", "organization_id", "hour"], name="bill_hourly_usage_per_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.hour:%Y-%m-%d %H}:00 {self.requests}"


from .relay.models import GPAgent, RelayedRequest  # noqa: E402,F401  (models of the GP agent relay)
