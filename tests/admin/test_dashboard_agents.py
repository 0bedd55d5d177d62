"""The dashboard shows each GP agent (last seen, version, host, requests per minute, latency) and
warns when agents have been silent longer than the tenant's setting."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from connectors.relay.models import GPAgent, RelayedRequest
from connectors.relay.tokens import issue
from tests.fixtures_gp import wire_gp_connection

URL = "/admin/ops/dashboard/"


def _answered(agent, n, total_ms, gp_ms):
    now = timezone.now()
    for _ in range(n):
        r = RelayedRequest.objects.create(
            tenant=agent.tenant,
            method="GET",
            path="/x",
            timeout_seconds=5,
            state="answered",
            agent=agent,
            status=200,
            agent_ms=gp_ms,
        )
        RelayedRequest.objects.filter(pk=r.pk).update(
            created_at=now - timedelta(milliseconds=total_ms), answered_at=now
        )


def test_it_shows_each_agent_with_its_rate_and_latency(as_frank, tenant):
    agent, token = issue(tenant, "GP server room")
    GPAgent.objects.filter(pk=agent.pk).update(last_seen_at=timezone.now(), version="1.0.0", host="GPSRV01")
    _answered(agent, 10, total_ms=120, gp_ms=100)
    page = as_frank.get(URL).content.decode()
    assert "GP agents" in page and "GP server room" in page and "GPSRV01" in page and "1.0.0" in page
    assert "<td>2.0</td>" in page  # 10 requests in the last 5 minutes
    assert "120 ms" in page and "20 ms" in page
    assert token not in page and agent.token_hash not in page
    assert f'id="agent-alert-{tenant.slug}"' not in page


def test_it_warns_when_the_only_agent_has_been_silent_longer_than_the_tenant_allows(
    as_frank, tenant, gp_sandbox
):
    wire_gp_connection(tenant, gp_sandbox, route="agent")
    tenant.agent_silence_alert_minutes = 15
    tenant.save()
    agent, _ = issue(tenant, "GP server room")
    GPAgent.objects.filter(pk=agent.pk).update(last_seen_at=timezone.now() - timedelta(minutes=14))
    assert f'id="agent-alert-{tenant.slug}"' not in as_frank.get(URL).content.decode()
    GPAgent.objects.filter(pk=agent.pk).update(last_seen_at=timezone.now() - timedelta(minutes=16))
    page = as_frank.get(URL).content.decode()
    assert f'id="agent-alert-{tenant.slug}"' in page and "no agent has called in for 15 minutes" in page
    assert "(16 min ago)" in page


def test_a_tenant_reaching_gp_directly_shows_no_agent_section(as_frank, tenant, gp_sandbox):
    wire_gp_connection(tenant, gp_sandbox)
    assert "GP agents" not in as_frank.get(URL).content.decode()
