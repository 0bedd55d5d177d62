"""Tenants and their two connections. Every secret is a fernet-encrypted column keyed by FERNET_KEYS."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from fernet_fields import EncryptedTextField

BILL_SANDBOX_GATEWAY = "https://gateway.stage.bill.com/connect"
BILL_SANDBOX_EVENTS_GATEWAY = "https://gateway.stage.bill.com/connect-events"

# Names of the encrypted fields per model: the rotate command, the admin's write-only widgets and
# the secret-leak tests all read this one list.
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "GPConnection": ("password",),
    "BillConnection": ("password", "dev_key", "webhook_security_key", "session_id"),
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
        "which GP invoices become bills", max_length=30, choices=BILL_POLICY_CHOICES, default=BILL_POLICY_POSTED
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
        "default GP checkbook", max_length=15, blank=True,
        help_text="Used for BILL payments whose funding account has no checkbook mapping.",
    )
    post_payment_batches = models.BooleanField("post GP payment batches after write-back", default=True)
    paid_statuses = models.CharField(
        "BILL payment statuses written back to GP", max_length=200, default="PAID",
        help_text="Comma-separated BILL payment statuses, e.g. PAID or PAID,SCHEDULED.",
    )
    vendor_fields_to_gp = models.CharField(
        "vendor fields BILL may update in GP", max_length=200, default="name,email,phone,address,tax_id",
    )
    alert_emails = models.CharField(
        "alert contacts", max_length=500, blank=True, help_text="Comma-separated e-mails for the needs-attention digest."
    )
    agent_silence_alert_minutes = models.PositiveIntegerField(
        "alert when a GP agent is silent for (minutes)", default=10, validators=[MinValueValidator(1)],
        help_text="The dashboard warns when an agent of this tenant has not called in for this long.",
    )

    class Meta:
        ordering = ["name"]

    @property
    def paid_status_set(self) -> frozenset[str]:
        return frozenset(s.strip().upper() for s in self.paid_statuses.split(",") if s.strip())

    @property
    def vendor_field_set_to_gp(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.vendor_fields_to_gp.split(",") if s.strip())

    def __str__(self) -> str:
        return self.name


class GPConnection(models.Model):
    """The customer's exposed GP SBA endpoint and the Windows domain account used for NTLM."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="gp_connection")
    base_url = models.URLField("SBA base URL", help_text="e.g. https://gp.example.local:443")
    gp_tenant = models.CharField("GP tenant", max_length=100, default="DefaultTenant")
    company = models.CharField("company display name", max_length=100, help_text="As GP shows it, e.g. Fabrikam, Inc.")
    domain = models.CharField("Windows domain", max_length=100)
    username = models.CharField("user name", max_length=100)
    password = EncryptedTextField(blank=True)
    verify_tls = models.BooleanField("verify TLS certificate", default=True)
    ca_bundle_pem = models.TextField(
        "CA bundle (PEM)", blank=True, help_text="For a self-signed or internal-CA GP certificate."
    )
    timeout_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    ROUTE_DIRECT, ROUTE_AGENT = "direct", "agent"
    route = models.CharField(
        "how the connector reaches GP", max_length=10, default=ROUTE_DIRECT,
        choices=[(ROUTE_DIRECT, "Direct (GP's port is reachable from the connector)"),
                 (ROUTE_AGENT, "Through an agent (the customer runs the GP agent next to GP)")],
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

    def resource_shape(self) -> Any:
        """How this GP server spells things: Part B with the confirmed overrides applied."""
        from connectors.gp.resource_map import Shape

        override = self.confirmed_override()
        return Shape.from_overrides(override.values if override else None)


class GPResourceOverride(models.Model):
    """One version of a GP connection's resource map overrides (envelope, stamp precision, value
    vocabularies, vendor address field). Proposed (by the fit check or an admin), then confirmed by a
    Connector admin; only confirmed versions are used, and no version is ever edited after it is
    confirmed, so the rows are the audit history of how this server was read."""

    connection = models.ForeignKey(GPConnection, on_delete=models.CASCADE, related_name="resource_overrides")
    version = models.PositiveIntegerField(editable=False)
    values = models.JSONField(default=dict, blank=True,
                              help_text='Only what differs from Part B, e.g. {"vendor_status_field": "IsActive"}.')
    reason = models.TextField(blank=True, help_text="Why: what the fit check (or a person) saw GP send.")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "GP resource map override"
        ordering = ["connection", "-version"]
        constraints = [models.UniqueConstraint(fields=["connection", "version"], name="gp_override_version_unique")]

    def __str__(self) -> str:
        state = "confirmed" if self.confirmed_at else "proposed"
        return f"{self.connection.company} resource map v{self.version} ({state})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from connectors.gp.resource_map import Shape

        try:
            Shape.from_overrides(self.values)
        except ValueError as exc:
            raise ValidationError({"values": str(exc)}) from None

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.version is None:
            last = GPResourceOverride.objects.filter(connection=self.connection).aggregate(v=models.Max("version"))["v"]
            self.version = (last or 0) + 1
        super().save(*args, **kwargs)


class BillConnection(models.Model):
    """A BILL organization: dev key and org login, the cached session, the webhook subscription."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="bill_connection")
    api_base_url = models.URLField("API base URL", default=BILL_SANDBOX_GATEWAY)
    webhook_api_base_url = models.URLField("webhook API base URL", default=BILL_SANDBOX_EVENTS_GATEWAY)
    organization_id = models.CharField("organization ID", max_length=40)
    username = models.CharField("user name (e-mail)", max_length=254)
    password = EncryptedTextField(blank=True)
    dev_key = EncryptedTextField("developer key", blank=True)
    timeout_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    # The one cached session for the org, shared by every worker process.
    session_id = EncryptedTextField(blank=True, null=True, editable=False)
    session_last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    webhook_subscription_id = models.CharField(max_length=64, blank=True)
    webhook_security_key = EncryptedTextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "BILL connection"

    def __str__(self) -> str:
        return f"BILL org {self.organization_id}"


class BillGateLease(models.Model):
    """One of an org's BILL in-flight slots (or a named mutex), held by a token until it expires.

    A conditional UPDATE takes a free or expired row, so holders in any process or host share the
    limit, and a holder that dies frees its slot when the lease runs out.
    """

    organization_id = models.CharField(max_length=40)
    slot = models.CharField(max_length=40, help_text="0, 1, 2 … for call slots; a name for a mutex.")
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "BILL gate lease"
        constraints = [models.UniqueConstraint(fields=["organization_id", "slot"], name="bill_gate_lease_unique")]

    def __str__(self) -> str:
        return f"{self.organization_id} slot {self.slot}"


class BillHourlyUsage(models.Model):
    """Requests sent to BILL per org per clock hour, checked against BILL_HOURLY_BUDGET."""

    organization_id = models.CharField(max_length=40)
    hour = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "BILL hourly usage"
        constraints = [models.UniqueConstraint(fields=["organization_id", "hour"], name="bill_hourly_usage_unique")]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.hour:%Y-%m-%d %H}:00 {self.requests}"


from .relay.models import GPAgent, RelayedRequest  # noqa: E402,F401  (models of the GP agent relay)
