"""GP's own list of checkbooks, for the checkbook mapping: a clerk picks one, never types an ID.

Read from the tenant's GP client (SBA or Web Services) and kept for a few minutes, so the edit page
does not ask GP on every open. When GP cannot be reached the page says so and nothing can be saved
that GP has not listed.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

from connectors.gp.transport import gp_client_for
from connectors.models import Tenant

log = logging.getLogger(__name__)
CACHE_SECONDS = 300


class GPUnreachable(Exception):
    """GP did not list its checkbooks; the message says why in plain words."""


def _key(tenant: Tenant) -> str:
    return f"ml:gp-checkbooks:{tenant.pk}"


def checkbooks(tenant: Tenant, *, fresh: bool = False) -> list[tuple[str, str]]:
    """(checkbook ID, how a clerk recognises it) for GP's active checkbooks, sorted by ID."""
    if not fresh:
        cached = cache.get(_key(tenant))
        if cached is not None:
            return cached
    try:
        conn = tenant.gp_connection
    except Exception:
        raise GPUnreachable(
            "This tenant has no GP connection yet, so GP's checkbooks cannot be listed."
        ) from None

    try:
        client = gp_client_for(conn)
        try:
            found = [c for c in client.iter_checkbooks() if not c.is_inactive]
        finally:
            client.close()
    except Exception as exc:
        log.warning("could not list GP checkbooks for %s: %s", tenant.slug, type(exc).__name__)
        raise GPUnreachable(
            "GP could not be reached to list its checkbooks; try again in a moment."
        ) from None
    listed = sorted((c.checkbook_id, describe(c.checkbook_id, c.description, c.bank_last4)) for c in found)
    cache.set(_key(tenant), listed, CACHE_SECONDS)
    return listed


def describe(checkbook_id: str, description: str, last4: str) -> str:
    """ "UPTOWN TRUST — Uptown Trust operating (account ending 4321)"."""
    text = checkbook_id
    if description and description != checkbook_id:
        text += f" — {description}"
    if last4:
        text += f" (account ending {last4})"
    return text
