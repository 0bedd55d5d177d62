"""GP through an agent: the connector never reaches GP itself; agents connect out, take requests and
answer them, with the same errors as a direct call and never a write run twice."""

from __future__ import annotations

import signal
import threading
from decimal import Decimal

import pytest
import requests

from connectors.gp.client import GPClient
from connectors.gp.http import GPError
from connectors.relay.models import GPAgent, RelayedRequest
from tests.gp.test_writes import OPEN_VOUCHER, pay
from tests.relay.conftest import wait_until

AGENT = "ml-connector-agent"


def in_thread(call):
    """Run a GP call in a thread (the connector waits on it while the test acts as the world)."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except Exception as exc:  # handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def only_leased_request():
    return RelayedRequest.objects.filter(state=RelayedRequest.LEASED).first()


def expire_leases(but_not: str = "") -> None:
    """What the passing of a lease's time does, without waiting for it (`but_not`: an agent's name)."""
    import datetime as dt

    from django.utils import timezone

    RelayedRequest.objects.filter(state=RelayedRequest.LEASED).exclude(agent__name=but_not or None).update(
        lease_until=timezone.now() - dt.timedelta(seconds=1)
    )


def test_reads_and_writes_reach_gp_only_from_the_agent_and_the_connector_holds_no_gp_password(
    through_agent, token, start_agent, gp_sandbox
):
    assert through_agent.password == "" and ".invalid" in through_agent.base_url
    start_agent(token)
    gp_sandbox.reset_stats()
    client = GPClient.for_connection(through_agent)
    vendors = [v.vendor_id for v in client.iter_vendors()]
    assert "ACETRAVE0001" in vendors and len(vendors) == len(set(vendors)) > 5
    payment = pay(client)
    assert (payment.payment_number, payment.amount) == ("PAY-0001", Decimal("1250.00000"))
    assert client.get_invoice(OPEN_VOUCHER).voucher == OPEN_VOUCHER
    with pytest.raises(GPError) as caught:
        pay(client)  # GP's own refusal comes back as it would directly
    assert (caught.value.status, caught.value.code) == (409, "duplicate")
    by_client = gp_sandbox.stats()["requests"]["by_client"]
    assert set(by_client) == {AGENT}, by_client
    agent = GPAgent.objects.get()
    assert agent.last_seen_at is not None and agent.version and agent.host


def test_a_revoked_token_is_refused_and_its_agent_gets_no_request(
    through_agent, token, start_agent, gp_sandbox, connector_url
):
    import requests

    from connectors.relay.tokens import revoke

    revoke(GPAgent.objects.get())
    refused = requests.post(
        f"{connector_url}/agent/poll", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]
    agent = start_agent(token)
    wait_until(lambda: agent.refused)
    gp_sandbox.reset_stats()
    conn = through_agent
    conn.timeout_seconds = 1  # the agent-take wait is min(10, timeout)
    conn.save()
    with pytest.raises(GPError) as caught:
        GPClient.for_connection(conn, max_tries=1).get_invoice(OPEN_VOUCHER)
    assert caught.value.code == "unreachable" and "agent" in caught.value.message
    assert gp_sandbox.stats()["requests"]["total"] == 0
    assert RelayedRequest.objects.get().state == RelayedRequest.CANCELLED


def test_no_agent_running_means_unreachable_and_the_write_is_never_run_later(
    through_agent, token, start_agent, gp_sandbox
):
    through_agent.timeout_seconds = 1
    through_agent.save()
    with pytest.raises(GPError) as caught:
        pay(GPClient.for_connection(through_agent, max_tries=1))
    assert (caught.value.code, caught.value.retryable) == ("unreachable", True)
    gp_sandbox.reset_stats()
    agent = start_agent(token)
    wait_until(lambda: GPAgent.objects.filter(last_seen_at__isnull=False).exists())
    agent.poll_once()  # one more poll after start: nothing is offered
    assert gp_sandbox.stats()["requests"]["total"] == 0
    assert gp_sandbox.stats()["applied_payments"] == [] and RelayedRequest.objects.get().state == "cancelled"


def test_a_killed_agent_s_read_is_offered_again_and_answered_by_the_next_agent(
    through_agent, token, agent_process, start_agent, gp_sandbox
):
    from connectors.relay.tokens import issue

    gp_sandbox.set_latency(60_000)  # GP is slow: the first agent is mid-request when it is killed
    first = agent_process(token)
    client = GPClient.for_connection(through_agent, max_tries=1)
    thread, outcome = in_thread(lambda: client.get_invoice(OPEN_VOUCHER))
    wait_until(only_leased_request)
    first.send_signal(signal.SIGKILL)
    first.wait()
    gp_sandbox.set_latency(0)
    start_agent(issue(through_agent.tenant, "room B")[1], journal="second")
    # Let the killed agent's leases run out (a poll it left held on the server may still take one).
    wait_until(lambda: expire_leases(but_not="room B") or not thread.is_alive())
    thread.join(60)
    assert outcome.get("value") is not None, outcome
    assert outcome["value"].voucher == OPEN_VOUCHER
    row = RelayedRequest.objects.get()
    assert row.agent.name == "room B" and row.deliveries >= 2


def test_two_agents_of_one_tenant_never_run_the_same_request_and_one_carries_on_alone(
    through_agent, token, start_agent, gp_sandbox
):
    from connectors.relay.tokens import issue

    second_token = issue(through_agent.tenant, "GP server room B")[1]
    first, second = start_agent(token, journal="a"), start_agent(second_token, journal="b")
    client = GPClient.for_connection(through_agent)
    threads = [in_thread(lambda: [client.get_invoice(OPEN_VOUCHER) for _ in range(10)]) for _ in range(4)]
    for thread, _ in threads:
        thread.join(60)
    assert all("value" in outcome for _, outcome in threads), threads
    rows = list(RelayedRequest.objects.all())
    assert len(rows) == 40 and {r.deliveries for r in rows} == {1} and {r.state for r in rows} == {"answered"}
    assert first.ran + second.ran == 40
    first.stop()  # failover: the other agent serves the tenant alone
    payment = pay(client, number="PAY-FAILOVER")
    assert payment.payment_number == "PAY-FAILOVER"
    assert RelayedRequest.objects.get(method="POST").agent.name == "GP server room B"


def test_a_write_delivered_again_after_it_ran_is_answered_from_the_journal_not_run_twice(
    through_agent, token, start_agent, gp_sandbox
):
    agent = start_agent(token, run=False)  # driven step by step: the answer is lost on the way back
    client = GPClient.for_connection(through_agent, max_tries=1)
    thread, outcome = in_thread(lambda: pay(client))
    (request,) = wait_until(lambda: agent.poll_once())
    first_answer = agent.answer_for(request)  # the write runs in GP; its answer never reaches the connector
    assert first_answer["status"] == 201
    expire_leases()
    (again,) = agent.poll_once()  # offered again to the agent that held it
    assert again["id"] == request["id"]
    assert agent.answer_for(again) == first_answer  # from the journal
    assert agent.send_answer(again["id"], agent.answer_for(again))
    thread.join(60)
    assert outcome["value"].payment_number == "PAY-0001"
    assert agent.ran == 1 and agent.journal.count() == 1
    posts = gp_sandbox.stats()["requests"]["by_path"]["POST Purchasing/PayablesPayments"]
    assert posts.get("201") == 1 and set(posts) <= {"201", "401"}, posts  # 401s: NTLM's handshake legs


def test_an_agent_that_reconnects_mid_write_answers_from_its_journal_and_another_agent_never_gets_the_write(
    through_agent, token, start_agent, gp_sandbox
):
    from connectors.relay.tokens import issue

    before = start_agent(token, run=False)
    other = start_agent(issue(through_agent.tenant, "room B")[1], journal="b", run=False)
    client = GPClient.for_connection(through_agent, max_tries=1)
    thread, outcome = in_thread(lambda: pay(client))
    (request,) = wait_until(lambda: before.poll_once())
    before.journal.begin(
        request["id"], request["method"], request["path"]
    )  # the agent died with GP mid-write
    before.stop()
    expire_leases()
    assert other.poll_once() == []  # a write is offered again only to the agent whose journal knows it
    after = start_agent(token, run=False)  # the same agent, restarted with its journal: a new connection
    (again,) = after.poll_once()
    assert after.answer_for(again) == {
        "error": "in_doubt"
    }  # it cannot know whether GP saved it: never re-run
    after.send_answer(again["id"], {"error": "in_doubt"})
    thread.join(60)
    error = outcome["error"]
    assert isinstance(error, GPError) and (error.code, error.retryable) == ("timeout", True)
    assert gp_sandbox.stats()["requests"]["total"] == 0  # (that first run was cut before reaching GP)


def test_one_agent_serves_several_companies_of_one_gp_server_and_no_other(
    through_agent, token, start_agent, gp_sandbox
):
    from connectors.models import Tenant
    from connectors.relay.local import route_through_agent
    from tests.fixtures_gp import GP_ODD_COMPANY, wire_gp_connection

    second = Tenant.objects.create(name="Northwind Mexico", slug="northwind-mx")
    route_through_agent(wire_gp_connection(second, gp_sandbox, company=GP_ODD_COMPANY, timeout_seconds=20))
    stranger = Tenant.objects.create(name="Someone else", slug="someone-else")
    route_through_agent(wire_gp_connection(stranger, gp_sandbox, timeout_seconds=1))
    GPAgent.objects.get().also_serves.add(second)
    start_agent(token)
    home = GPClient.for_connection(through_agent).get_vendor("ACETRAVE0001")
    second.refresh_from_db()
    abroad = list(GPClient.for_connection(second.gp_connection).iter_vendors())
    assert home is not None and abroad
    answered = RelayedRequest.objects.filter(state="answered")
    assert set(answered.values_list("tenant_id", flat=True)) == {through_agent.tenant_id, second.pk}
    assert set(answered.values_list("agent__name", flat=True)) == {"GP server room"}
    assert all("Compa%C3%B1%C3%ADa" in r.path for r in answered.filter(tenant=second))
    stranger.refresh_from_db()
    with pytest.raises(GPError) as caught:  # another tenant's requests are not this agent's to take
        GPClient.for_connection(stranger.gp_connection, max_tries=1).get_vendor("ACETRAVE0001")
    assert caught.value.code == "unreachable"


def test_a_web_services_connection_through_an_agent_runs_its_soap_calls_on_the_agent_with_ntlm(
    through_agent, token, start_agent, gp_ws_sandbox
):
    from connectors.gp.soap.client import GPWSClient
    from connectors.gp.transport import gp_client_for
    from connectors.relay.local import route_through_agent

    through_agent.interface, through_agent.web_services_url = "web_services", gp_ws_sandbox.url
    route_through_agent(through_agent)  # its Web Services address becomes one the connector cannot reach
    assert ".invalid" in through_agent.web_services_url and through_agent.password == ""
    start_agent(token, gp_ws_url=gp_ws_sandbox.url)
    gp_ws_sandbox.server.stats.reset()
    client = gp_client_for(through_agent, sleep=lambda seconds: None)
    assert isinstance(client, GPWSClient)
    vendor = client.get_vendor("ACETRAVE0001")
    assert vendor is not None and vendor.vendor_id == "ACETRAVE0001"
    assert client.get_invoice(OPEN_VOUCHER).voucher == OPEN_VOUCHER
    stats = gp_ws_sandbox.stats()["requests"]
    assert set(stats["by_client"]) == {AGENT}, stats["by_client"]
    assert stats["by_status"].get("401", 0) >= 1  # the agent signed in with NTLM (challenge, then signed)
    relayed = RelayedRequest.objects.filter(state=RelayedRequest.ANSWERED)
    assert relayed.filter(method="POST").exists()  # the SOAP calls themselves went through the agent


def test_an_agent_without_a_web_services_address_says_gp_is_unreachable(
    through_agent, token, start_agent, gp_ws_sandbox
):
    from connectors.gp.transport import gp_client_for
    from connectors.relay.local import route_through_agent

    through_agent.interface, through_agent.web_services_url = "web_services", gp_ws_sandbox.url
    route_through_agent(through_agent)
    start_agent(token)  # no gp_ws_url
    with pytest.raises(GPError) as caught:
        gp_client_for(through_agent, sleep=lambda seconds: None).get_vendor("ACETRAVE0001")
    assert caught.value.code == "unreachable"
    assert "agent" in str(caught.value)


def test_an_agent_posts_answers_and_takes_its_next_requests_in_one_call_and_a_bad_batch_stores_none(
    through_agent, token, start_agent
):
    from connectors.relay import queue

    agent = start_agent(token, run=False)
    first = queue.enqueue(through_agent.tenant_id, "GET", "/one", {}, None, 20)
    (taken,) = agent.poll_once(limit=1)
    second = queue.enqueue(through_agent.tenant_id, "GET", "/two", {}, None, 20)
    bad = {"id": str(second), "status": 99, "headers": {}, "body": ""}
    with pytest.raises(requests.HTTPError):  # 400: malformed; the good answer beside it is not stored either
        agent.exchange([{"id": taken["id"], "status": 200, "headers": {}, "body": ""}, bad], 0.0, 1)
    assert RelayedRequest.objects.get(pk=first).state == RelayedRequest.LEASED
    accepted, following = agent.exchange(
        [{"id": taken["id"], "status": 200, "headers": {}, "body": "b2s="}], 0.0, 4
    )
    assert accepted == {str(first): True} and [r["path"] for r in following] == ["/two"]
    assert queue.wait_for_answer(first, 1, 1).body == b"ok"


def test_a_held_poll_is_answered_with_a_request_queued_while_it_waits(through_agent, token):
    from connectors.relay import queue

    agent = GPAgent.objects.get()
    thread, outcome = in_thread(lambda: queue.wait_for_work(agent, seconds=30, limit=4))
    request_id = queue.enqueue(through_agent.tenant_id, "GET", "/held", {}, None, 20)
    thread.join(timeout=60)
    assert [r.pk for r in outcome["value"]] == [request_id]  # not an empty hand after 30 s
    assert RelayedRequest.objects.get(pk=request_id).deliveries == 1


def test_a_soap_read_through_the_agent_is_not_journalled_and_a_soap_write_delivered_again_runs_once(
    through_agent, token, start_agent, gp_ws_sandbox
):
    from connectors.gp.transport import gp_client_for
    from connectors.relay.local import route_through_agent

    through_agent.interface, through_agent.web_services_url = "web_services", gp_ws_sandbox.url
    route_through_agent(through_agent)
    agent = start_agent(token, gp_ws_url=gp_ws_sandbox.url, run=False)  # driven step by step
    gp_ws_sandbox.server.stats.reset()
    client = gp_client_for(through_agent, sleep=lambda seconds: None)
    thread, outcome = in_thread(lambda: client.patch_vendor("ACETRAVE0001", {"Name": "Ace Travel (renamed)"}))
    lost = ""
    while thread.is_alive():  # the WSDL, GetCompanyList, GetPolicyByOperation … then UpdateVendor
        for request in agent.poll_once(limit=1):
            headers = {k.lower(): v for k, v in request["headers"].items()}
            if "UpdateVendor" in headers.get("soapaction", "") and not lost:
                lost = request["id"]
                assert (
                    agent.answer_for(request)["status"] == 200
                )  # ran in GP; its answer is lost on the way back
                posts = gp_ws_sandbox.stats()["requests"]["by_status"]
                expire_leases()
                continue
            agent.send_answer(request["id"], agent.answer_for(request))
        thread.join(0.01)
    assert "error" not in outcome, outcome.get("error")
    relayed = RelayedRequest.objects.filter(state=RelayedRequest.ANSWERED)
    soap_reads = [r for r in relayed.filter(method="POST") if "/Get" in r.headers.get("SOAPAction", "")]
    assert soap_reads and lost  # SOAP reads went through the agent, as POSTs
    assert agent.journal.count() == 1  # the UpdateVendor only: no SOAP read is journalled
    assert RelayedRequest.objects.get(pk=lost).deliveries == 2  # delivered again, answered from the journal
    assert gp_ws_sandbox.stats()["requests"]["by_status"] == posts  # GP saw no second UpdateVendor
    assert gp_ws_sandbox.data().get("Vendors", "ACETRAVE0001")["Name"] == "Ace Travel (renamed)"


@pytest.mark.services
def test_on_postgresql_a_lease_that_includes_a_write_waits_for_the_disk_and_a_lease_of_reads_does_not(
    through_agent, token
):
    """After a database crash a write an agent may have run must never be offered to another agent:
    its lease is a durable commit. A lost read lease only offers the read again, so it skips the wait."""
    from django.db import connection, transaction

    from connectors.relay import queue

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite commits each statement durably")
    agent = GPAgent.objects.get()
    read = queue.enqueue(through_agent.tenant_id, "GET", "/r", {}, None, 20)
    write = queue.enqueue(through_agent.tenant_id, "POST", "/w", {}, b"{}", 20)

    def commit_waits_for_disk() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0] != "off"

    with transaction.atomic():
        assert [r.pk for r in queue.lease(agent, 1)] == [read]
        assert not commit_waits_for_disk()
        assert [r.pk for r in queue.lease(agent, 1)] == [write]
        assert commit_waits_for_disk()
        expire_leases()
        assert {r.pk for r in queue.lease(agent, 4)} == {read, write}  # reads after a write: still durable
        assert commit_waits_for_disk()
