"""Propose and confirm a GP connection's resource map overrides (versioned; confirmed by a person)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .gp_words import Shape
from .models import GPConnection, GPResourceOverride


def propose(conn: GPConnection, values: dict[str, Any], reason: str, user: Any = None) -> GPResourceOverride:
    """A new version holding everything the connection's map now differs in, plus `values`.
    Raises ValueError for a setting the resource map does not know."""
    current = conn.confirmed_override()
    merged = {**(current.values if current else {}), **values}
    Shape.from_overrides(merged)  # refuse what the client could not use
    return GPResourceOverride.objects.create(connection=conn, values=merged, reason=reason, proposed_by=user)


def confirm(override: GPResourceOverride, user: Any) -> GPResourceOverride:
    """Put a proposed version in force (a confirmed one stays as it was)."""
    if override.confirmed_at is None:
        Shape.from_overrides(override.values)
        override.confirmed_by, override.confirmed_at = user, timezone.now()
        override.save(update_fields=["confirmed_by", "confirmed_at"])
    return override
