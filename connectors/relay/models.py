"""Agents and the requests relayed through them. Imported by `connectors.models` (app `connectors`)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import connections, models, router


class GPAgent(models.Model):
    """One installed agent. Its token is shown once when made and only its SHA-256 is kept; a revoked
    agent is refused at once. One agent may serve several companies of one GP server (its tenant and
    `also_serves`); several agents of one tenant share its queue (failover), and a request is leased
    to one of them at a time."""

    tenant = models.ForeignKey("connectors.Tenant", on_delete=models.CASCADE, related_name="gp_agents")
    also_serves = models.ManyToManyField(
        "connectors.Tenant",
        blank=True,
        related_name="+",
        verbose_name="also serves",
        help_text=(
            "Other companies on the same GP server (each a tenant here) this agent may run requests for."
        ),
    )
    name = models.CharField(max_length=80, help_text="Where it runs, e.g. GP server room A.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField("token starts with", max_length=16, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.CharField(max_length=40, blank=True, editable=False)
    host = models.CharField(max_length=120, blank=True, editable=False)

    class Meta:
        verbose_name = "GP agent"
        ordering = ["tenant", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant})"

    def tenant_ids(self) -> list[int]:
        """The tenants (GP companies) whose requests this agent may take. Plain SQL: every held agent
        poll asks, and `self.also_serves` builds a new related-manager class on each access (half of a
        held poll's CPU on the connector, `python -m bench agent`)."""
        serves = GPAgent._meta.get_field("also_serves")
        assert isinstance(serves, models.ManyToManyField)
        table, agent_column, tenant_column = (
            serves.m2m_db_table(),
            serves.m2m_column_name(),
            serves.m2m_reverse_name(),
        )
        with connections[router.db_for_read(GPAgent, instance=self)].cursor() as cursor:
            cursor.execute(
                f"SELECT {tenant_column} FROM {table} WHERE {agent_column} = %s ORDER BY {tenant_column}",
                [self.pk],
            )
            return [self.tenant_id, *(row[0] for row in cursor.fetchall())]


class RelayedRequest(models.Model):
    """One GP HTTP request waiting for, held by, or answered by an agent.

    queued → leased (to one agent until `lease_until`) → answered; or cancelled when the connector
    gave up before any agent took it (so none ever runs it late); or abandoned when an agent took it
    but the connector stopped waiting for the answer (a write then is in doubt and reconciled). A read whose
    lease expires is
    offered again to any agent of the tenant; a write is offered again only to the agent that leased
    it, whose journal answers without running it twice.
    """

    QUEUED, LEASED, ANSWERED, CANCELLED, ABANDONED = "queued", "leased", "answered", "cancelled", "abandoned"
    STATES = [(s, s) for s in (QUEUED, LEASED, ANSWERED, CANCELLED, ABANDONED)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("connectors.Tenant", on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=10)
    path = models.TextField(help_text="Under the GP base URL, with the query string.")
    headers = models.JSONField(default=dict)
    body = models.BinaryField(null=True)
    timeout_seconds = models.FloatField()
    state = models.CharField(max_length=10, choices=STATES, default=QUEUED, db_index=True)
    agent = models.ForeignKey(GPAgent, null=True, on_delete=models.SET_NULL, related_name="+")
    lease_until = models.DateTimeField(null=True)
    deliveries = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    answered_at = models.DateTimeField(null=True)
    agent_ms = models.FloatField(null=True, help_text="Time GP took, measured by the agent.")
    status = models.PositiveIntegerField(null=True)
    answer_headers = models.JSONField(default=dict)
    answer_body = models.BinaryField(null=True)
    error = models.CharField(
        max_length=20, blank=True, help_text="timeout, reset, unreachable, tls, in_doubt"
    )

    class Meta:
        verbose_name = "relayed GP request"
        indexes = [models.Index(fields=["tenant", "state", "created_at"], name="relay_queue_idx")]

    @property
    def is_write(self) -> bool:
        return self.method.upper() not in ("GET", "HEAD", "OPTIONS")
