"""Agent tokens: made once, shown once, kept only as a SHA-256 (a token is 32 random bytes, so a plain
hash is enough; there is nothing to brute-force), refused once revoked."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from django.db import connection, models
from django.utils import timezone

from .models import GPAgent, RelayedRequest
from .queue import tenant_key
from .wakeups import signal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from connectors.models import Tenant

PREFIX = "mlca_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(tenant: Tenant, name: str, user: User | None = None) -> tuple[GPAgent, str]:
    """A new agent and its token. The token is returned here only: show it once, never store it."""
    token = PREFIX + secrets.token_urlsafe(32)
    agent = GPAgent.objects.create(
        tenant=tenant, name=name, token_hash=digest(token), token_hint=token[:9], created_by=user
    )
    return agent, token


def revoke(agent: GPAgent) -> None:
    """Refuse the agent from now on. Reads it holds are offered to the tenant's other agents at once;
    writes it holds stay its own (if it ran one, only its journal knows: the connector's wait ends in
    a timeout and the flows reconcile)."""
    if agent.revoked_at is None:
        agent.revoked_at = timezone.now()
        agent.save(update_fields=["revoked_at"])
    if RelayedRequest.objects.filter(agent=agent, state=RelayedRequest.LEASED, method="GET").update(
        lease_until=agent.revoked_at
    ):
        for tenant_id in agent.tenant_ids():
            signal(tenant_key(tenant_id))


def agent_for(authorization: str) -> GPAgent | None:
    """The live agent an `Authorization: Bearer …` header names, or None (unknown or revoked)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(PREFIX):
        return None
    # Plain SQL: this runs on every agent call, and the ORM's query (ordered by tenant, so joined to it)
    # cost more than the rest of a relayed request's database work on the connector.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(AGENT_FIELDS)} FROM {GPAgent._meta.db_table} "
            "WHERE token_hash = %s AND revoked_at IS NULL",
            [digest(token.strip())],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    converted = _converted_fields()
    agent = GPAgent(
        **{
            field: _from_db(field, value) if field in converted else value
            for field, value in zip(AGENT_FIELDS, row, strict=True)
        }
    )
    agent._state.adding, agent._state.db = False, connection.alias
    return agent


AGENT_FIELDS = (
    "id",
    "tenant_id",
    "name",
    "token_hash",
    "token_hint",
    "created_at",
    "last_seen_at",
    "version",
    "host",
)
_CONVERTED: dict[str, frozenset[str]] = {}  # database vendor → the fields its driver's values need converted


def _converted_fields() -> frozenset[str]:
    """The columns the database's values need converting for (none on PostgreSQL; datetimes on SQLite),
    worked out once per vendor: asking for every column on every agent call was a sixth of the lookup's
    CPU."""
    fields = _CONVERTED.get(connection.vendor)
    if fields is None:
        fields = _CONVERTED[connection.vendor] = frozenset(
            field for field in AGENT_FIELDS if connection.ops.get_db_converters(_column(field))
        )
    return fields


def _column(field: str) -> Any:
    model_field = GPAgent._meta.get_field(field)
    assert isinstance(model_field, models.Field)  # a concrete column, never a relation's reverse side
    return model_field.get_col(GPAgent._meta.db_table)


def _from_db(field: str, value: object) -> object:
    """A column as the model holds it (SQLite returns datetimes as text)."""
    column = _column(field)
    for convert in connection.ops.get_db_converters(column):
        value = convert(value, column.target, connection)
    return value
