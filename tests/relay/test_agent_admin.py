"""Agent tokens: made by a Connector admin, shown once, stored hashed, revocable; finance never sees them."""

from __future__ import annotations

import re

from connectors.relay import tokens
from connectors.relay.models import GPAgent


def test_a_connector_admin_makes_an_agent_and_sees_its_token_once(client, alice, tenant):
    client.force_login(alice)
    response = client.post("/admin/connectors/gpagent/add/", {"tenant": tenant.pk, "name": "GP server room"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = re.search(rb'id="agent-token"[^>]*>(mlca_[^<]+)<', response.content).group(1).decode()
    agent = GPAgent.objects.get()
    assert agent.created_by == alice and tokens.agent_for(f"Bearer {token}") == agent
    assert token not in str(GPAgent.objects.values().get())  # only its SHA-256 is stored
    change = client.get(f"/admin/connectors/gpagent/{agent.pk}/change/").content.decode()
    listing = client.get("/admin/connectors/gpagent/").content.decode()
    assert token not in change and token not in listing and agent.token_hint in listing


def test_revoking_an_agent_refuses_its_token_at_once(client, alice, tenant):
    agent, token = tokens.issue(tenant, "room A")
    client.force_login(alice)
    client.post("/admin/connectors/gpagent/", {"action": "revoke", "_selected_action": [agent.pk]})
    agent.refresh_from_db()
    assert agent.revoked_at is not None and tokens.agent_for(f"Bearer {token}") is None
    assert (
        client.post(
            "/agent/poll", data="{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        ).status_code
        == 401
    )


def test_finance_staff_cannot_see_or_make_agents(client, frank, tenant):
    tokens.issue(tenant, "room A")
    client.force_login(frank)
    assert client.get("/admin/connectors/gpagent/").status_code == 403
    assert (
        client.post("/admin/connectors/gpagent/add/", {"tenant": tenant.pk, "name": "x"}).status_code == 403
    )
    assert GPAgent.objects.count() == 1


def test_settled_relayed_requests_are_pruned_after_an_hour_and_open_ones_never(tenant):
    import datetime as dt

    from django.utils import timezone

    from connectors.relay import queue
    from connectors.relay.models import RelayedRequest

    old = timezone.now() - dt.timedelta(hours=2)
    for state in ("answered", "cancelled", "queued", "leased"):
        r = RelayedRequest.objects.create(
            tenant=tenant, method="POST", path="/x", timeout_seconds=5, state=state
        )
        RelayedRequest.objects.filter(pk=r.pk).update(created_at=old)
    RelayedRequest.objects.create(tenant=tenant, method="GET", path="/y", timeout_seconds=5, state="answered")
    assert queue.prune_settled(now=queue._last_prune + queue.PRUNE_EVERY_SECONDS) == 2
    assert sorted(RelayedRequest.objects.values_list("state", flat=True)) == ["answered", "leased", "queued"]


def test_a_request_nobody_waits_for_any_more_is_never_offered_again(transactional_db, tenant):
    import datetime as dt
    import uuid

    import pytest
    from django.utils import timezone

    from connectors.relay import queue
    from connectors.relay.models import RelayedRequest

    agent, _ = tokens.issue(tenant, "room A")
    request_id = queue.enqueue(tenant.pk, "POST", "/x", {}, b"{}", 5)
    assert [r.pk for r in queue.lease(agent)] == [request_id]
    with pytest.raises(queue.NoAnswerInTime):
        queue.wait_for_answer(request_id, 0, 0)
    RelayedRequest.objects.filter(pk=request_id).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    assert queue.lease(agent) == [] and RelayedRequest.objects.get().state == "abandoned"
    late = queue.Answer(201, {}, b"{}", "")
    assert not queue.record_answer(agent, request_id, late, None)  # the flows reconcile it instead
    assert not queue.record_answer(agent, uuid.uuid4(), late, None)


def test_revoking_an_agent_frees_the_reads_it_holds_for_the_other_agents(transactional_db, tenant):
    from connectors.relay import queue

    first, _ = tokens.issue(tenant, "room A")
    second, _ = tokens.issue(tenant, "room B")
    read = queue.enqueue(tenant.pk, "GET", "/r", {}, None, 5)
    write = queue.enqueue(tenant.pk, "POST", "/w", {}, b"{}", 5)
    assert {r.pk for r in queue.lease(first)} == {read, write}
    tokens.revoke(first)
    assert [r.pk for r in queue.lease(second)] == [read]


def test_a_connector_admin_switches_a_gp_connection_to_through_an_agent_and_a_post_without_it_keeps_it(
    client, alice, tenant
):
    from connectors.models import GPConnection

    gp = GPConnection.objects.create(
        tenant=tenant,
        base_url="https://gp.example.local",
        company="Fabrikam, Inc.",
        domain="CORP",
        username="svc-gp",
    )
    client.force_login(alice)
    form = {
        "tenant": tenant.pk,
        "base_url": "https://gp.example.local",
        "gp_tenant": "DefaultTenant",
        "company": "Fabrikam, Inc.",
        "domain": "CORP",
        "username": "svc-gp",
        "password": "",
        "verify_tls": "on",
        "ca_bundle_pem": "",
        "timeout_seconds": "60",
    }
    assert (
        client.post(f"/admin/connectors/gpconnection/{gp.pk}/change/", {**form, "route": "agent"}).status_code
        == 302
    )
    gp.refresh_from_db()
    assert gp.route == "agent" and gp.password == ""
    assert client.post(f"/admin/connectors/gpconnection/{gp.pk}/change/", form).status_code == 302
    gp.refresh_from_db()
    assert gp.route == "agent"


def test_switching_a_gp_connection_to_an_agent_deletes_its_stored_password_and_says_so_in_the_history(
    client, alice, tenant
):
    from django.contrib.admin.models import LogEntry

    from connectors.models import GPConnection

    gp = GPConnection.objects.create(
        tenant=tenant,
        base_url="https://gp.example.local",
        company="Fabrikam, Inc.",
        domain="CORP",
        username="svc-gp",
        password="Stored-GP-pass1",
    )
    client.force_login(alice)
    form = {
        "tenant": tenant.pk,
        "base_url": "https://gp.example.local",
        "gp_tenant": "DefaultTenant",
        "company": "Fabrikam, Inc.",
        "domain": "CORP",
        "username": "svc-gp",
        "password": "",
        "verify_tls": "on",
        "ca_bundle_pem": "",
        "timeout_seconds": "60",
    }
    url = f"/admin/connectors/gpconnection/{gp.pk}/change/"
    typed = client.post(url, {**form, "route": "agent", "password": "Typed-GP-pass2"})
    assert typed.status_code == 200 and "kept on the agent&#x27;s machine only" in typed.content.decode()
    gp.refresh_from_db()
    assert (gp.route, gp.password) == ("direct", "Stored-GP-pass1")  # refused: nothing changed
    assert client.post(url, {**form, "route": "agent"}).status_code == 302
    gp.refresh_from_db()
    assert (gp.route, gp.password) == ("agent", "")
    shown = LogEntry.objects.filter(object_id=str(gp.pk)).latest("action_time").get_change_message()
    assert "stored GP password (deleted: kept on the agent's machine only)" in shown
    assert "Stored-GP-pass1" not in shown
    history = client.get(f"/admin/connectors/gpconnection/{gp.pk}/history/").content.decode()
    assert "stored GP password (deleted" in history and "Stored-GP-pass1" not in history
