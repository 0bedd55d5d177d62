"""What the people who run the installation read: /health/ for the probe, /metrics for Prometheus."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import PollCursor, State, SyncRecord, WebhookRejection


def _health(client):
    return client.get("/health/", HTTP_ACCEPT="application/json")


@pytest.mark.django_db
def test_health_is_ok_when_the_database_cache_and_broker_answer(client):
    answer = _health(client)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert set(body.values()) == {"OK"}
    assert any("Database" in name for name in body) and any("TaskBroker" in name for name in body)


# The checks run in worker threads with their own connections: they must see committed rows.
@pytest.mark.django_db(transaction=True)
def test_health_turns_red_when_no_poll_has_succeeded_for_a_long_time(client, tenant):
    PollCursor.objects.create(
        tenant=tenant, flow="gp_bills", last_success_at=timezone.now() - timedelta(hours=2)
    )
    answer = _health(client)
    assert answer.status_code == 500
    message = next(v for k, v in answer.json().items() if "SchedulesRunning" in k)
    assert "no poll has succeeded for 120 minutes" in message and "qcluster" in message
    assert tenant.slug not in answer.content.decode()  # the probe is public: it names no tenant


@pytest.mark.django_db(transaction=True)
def test_one_late_tenant_does_not_turn_health_red_while_others_poll(client, tenant):
    from connectors.models import Tenant

    other = Tenant.objects.create(name="Other Co", slug="other")
    PollCursor.objects.create(
        tenant=tenant, flow="gp_bills", last_success_at=timezone.now() - timedelta(days=3)
    )
    PollCursor.objects.create(
        tenant=other, flow="gp_bills", last_success_at=timezone.now() - timedelta(minutes=1)
    )
    assert _health(client).status_code == 200


@pytest.mark.django_db
def test_metrics_are_closed_without_a_token_setting(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_metrics_refuse_a_wrong_token(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


@pytest.mark.django_db
def test_metrics_count_records_by_state_lag_and_refusals(client, settings, tenant):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    for i in range(3):
        SyncRecord.objects.create(tenant=tenant, kind="bill", source_key=f"V{i}", state=State.SYNCED)
    SyncRecord.objects.create(tenant=tenant, kind="bill", source_key="V9", state=State.FAILED)
    PollCursor.objects.create(
        tenant=tenant, flow="gp_bills", last_success_at=timezone.now() - timedelta(seconds=90)
    )
    WebhookRejection.objects.create(reason="bad_signature", count=4)

    answer = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")

    assert answer.status_code == 200
    text = answer.content.decode()
    assert 'mlc_records{state="synced",tenant="northwind"} 3.0' in text
    assert 'mlc_records{state="failed",tenant="northwind"} 1.0' in text
    lag = next(line for line in text.splitlines() if line.startswith('mlc_poll_lag_seconds{flow="gp_bills"'))
    assert 89 <= float(lag.rsplit(" ", 1)[1]) < 200
    assert 'mlc_webhook_refusals{reason="bad_signature"} 4.0' in text


@pytest.mark.django_db
def test_metrics_read_the_bill_gate_once_per_developer_key_and_show_each_orgs_share(
    client, settings, tenant, monkeypatch
):
    from connectors.bill.gate import gate_for, key_of
    from connectors.models import BillConnection, Tenant

    settings.METRICS_TOKEN = "s3cret-metrics-token"
    other = Tenant.objects.create(name="Contoso Ltd", slug="contoso")
    conns = [
        BillConnection.objects.create(
            tenant=t,
            organization_id=org,
            username="ap@example.com",
            password="pw",
            dev_key="one-shared-developer-key",
        )
        for t, org in ((tenant, "00802AAAAAAAAAAAAAAA"), (other, "00802BBBBBBBBBBBBBBB"))
    ]
    gate = gate_for()
    for _ in range(3):
        gate.spend(conns[0].organization_id, key=key_of(conns[0]))
    gate.spend(conns[1].organization_id, key=key_of(conns[1]))
    used = gate.used_this_hour(key_of(conns[0]))
    reads = []
    original = type(gate).used_this_hour
    monkeypatch.setattr(
        type(gate), "used_this_hour", lambda self, key, *a: reads.append(key) or original(self, key, *a)
    )

    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token").content.decode()

    assert len(reads) == 1
    assert f'mlc_bill_calls_this_hour{{tenant="northwind"}} {float(used[conns[0].organization_id])}' in text
    assert f'mlc_bill_calls_this_hour{{tenant="contoso"}} {float(used[conns[1].organization_id])}' in text
    key_line = next(line for line in text.splitlines() if line.startswith("mlc_bill_key_calls_this_hour{"))
    assert float(key_line.rsplit(" ", 1)[1]) == sum(used.values()) >= 4
    assert "one-shared-developer-key" not in text


@pytest.mark.django_db(transaction=True)
def test_health_turns_red_when_the_long_queue_takes_no_job(client, tenant, settings):
    """Admin jobs and first loads run on the long queue's cluster: when it is not started, they wait
    for ever while every poll still succeeds. The probe says so, naming neither tenant nor job."""
    from audit.models import Job

    settings.LONG_QUEUE_ALERT_MINUTES = 15
    job = Job.objects.create(tenant=tenant, kind=Job.KINDS[0][0])
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert _health(client).status_code == 200  # a job waiting a few minutes is a busy queue, not a dead one
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=40))
    answer = _health(client)
    assert answer.status_code == 500
    message = next(v for k, v in answer.json().items() if "LongQueueServed" in k)
    assert "waited 40 minutes for the long queue" in message and "Q_CLUSTER_NAME=long" in message
    assert tenant.slug not in answer.content.decode()
    busy = Job.objects.create(
        tenant=tenant, kind=Job.KINDS[0][0], state=Job.RUNNING, started_at=timezone.now()
    )
    assert _health(client).status_code == 200  # a busy long queue still starts jobs: not red
    busy.delete()
    Job.objects.filter(pk=job.pk).update(state=Job.RUNNING)
    assert _health(client).status_code == 200
