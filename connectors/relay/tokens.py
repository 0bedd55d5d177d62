"""Agent tokens: made once, shown once, kept only as a SHA-256 (a token is 32 random bytes, so a plain
hash is enough; there is nothing to brute-force), refused once revoked."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from django.utils import timezone

from .models import GPAgent

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from connectors.models import Tenant

PREFIX = "mlca_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(tenant: Tenant, name: str, user: User | None = None) -> tuple[GPAgent, str]:
    """A new agent and its token. The token is returned here only: show it once, never store it."""
    token = PREFIX + secrets.token_urlsafe(32)
    agent = GPAgent.objects.create(tenant=tenant, name=name, token_hash=digest(token), token_hint=token[:9],
                                   created_by=user)
    return agent, token


def revoke(agent: GPAgent) -> None:
    """Refuse the agent from now on. Reads it holds are offered to the tenant's other agents at once;
    writes it holds stay its own (if it ran one, only its journal knows: the connector's wait ends in
    a timeout and the flows reconcile)."""
    from .models import RelayedRequest

    if agent.revoked_at is None:
        agent.revoked_at = timezone.now()
        agent.save(update_fields=["revoked_at"])
    if RelayedRequest.objects.filter(agent=agent, state=RelayedRequest.LEASED, method="GET").update(
            lease_until=agent.revoked_at):
        from .queue import tenant_key
        from .wakeups import signal

        for tenant_id in agent.tenant_ids():
            signal(tenant_key(tenant_id))


def agent_for(authorization: str) -> GPAgent | None:
    """The live agent an `Authorization: Bearer …` header names, or None (unknown or revoked)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(PREFIX):
        return None
    return GPAgent.objects.select_related("tenant").filter(
        token_hash=digest(token.strip()), revoked_at__isnull=True).first()
