"""What the dashboard shows of a tenant's GP agents: when each last called in, its version and host,
requests per minute and relay latency (from the relayed requests), and whether it has gone silent
for longer than the tenant's `agent_silence_alert_minutes`."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from django.db.models import Q
from django.utils import timezone

from .models import GPAgent, RelayedRequest

RATE_WINDOW = dt.timedelta(minutes=5)
LATENCY_SAMPLE = 200  # newest answered requests per agent


def agent_rows(tenant: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """{"agents": [...], "alert": sentence or ""}; empty when the tenant uses no agent."""
    now = now or timezone.now()
    agents = list(
        GPAgent.objects.filter(Q(tenant=tenant) | Q(also_serves=tenant), revoked_at__isnull=True).distinct()
    )
    via_agent = getattr(getattr(tenant, "gp_connection", None), "route", "") == "agent"
    if not agents and not via_agent:
        return {"agents": [], "alert": ""}
    silent_after = dt.timedelta(minutes=tenant.agent_silence_alert_minutes)
    rows: list[dict[str, Any]] = []
    for agent in agents:
        answered = (
            RelayedRequest.objects.filter(agent=agent, tenant=tenant, state=RelayedRequest.ANSWERED)
            .order_by("-answered_at")
            .values("created_at", "answered_at", "agent_ms")[:LATENCY_SAMPLE]
        )
        # (created, answered, agent ms); an answered row always has its answered_at
        recent = [
            (r["created_at"], r["answered_at"], r["agent_ms"])
            for r in answered
            if r["answered_at"] is not None
        ]
        in_window = sum(1 for _, answered_at, _ in recent if answered_at >= now - RATE_WINDOW)
        total_ms = [
            (answered_at - created_at).total_seconds() * 1000 for created_at, answered_at, _ in recent
        ]
        relay_ms = [t - ms for t, (_, _, ms) in zip(total_ms, recent, strict=True) if ms is not None]
        silent = agent.last_seen_at is None or now - agent.last_seen_at > silent_after
        rows.append(
            {
                "agent": agent,
                "silent": silent,
                "silent_minutes": None
                if agent.last_seen_at is None
                else int((now - agent.last_seen_at).total_seconds() // 60),
                "per_minute": round(in_window / (RATE_WINDOW.total_seconds() / 60), 1),
                "median_ms": round(statistics.median(total_ms)) if total_ms else None,
                "relay_median_ms": round(statistics.median(relay_ms)) if relay_ms else None,
            }
        )
    alert = ""
    silent_names = [r["agent"].name for r in rows if r["silent"]]
    if via_agent and (not rows or len(silent_names) == len(rows)):
        alert = (
            "GP is reached through an agent, but no agent has called in for "
            f"{tenant.agent_silence_alert_minutes} minutes: GP is not being read or written. Check that the "
            "agent service is running on the GP machine and can reach this connector."
        )
    elif silent_names:
        alert = (
            f"Agent {', '.join(silent_names)} has not called in for {tenant.agent_silence_alert_minutes} "
            "minutes or more; the other agents carry on."
        )
    return {"agents": rows, "alert": alert}
