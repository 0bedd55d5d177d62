"""`/health/`: is this installation able to move money right now? For load balancers and on-call staff.

Built on django-health-check (kept, async, answers HTML, JSON, text and OpenMetrics by `Accept`): the
database, the cache (sign-in throttling and, with Redis, the gate share it), the task queue's broker,
whether the schedules are running at all, and whether the long queue's cluster takes its jobs. It is
public, like any load balancer probe, so it names no tenant and no figure a stranger could use: a late
tenant is the dashboard's and `/metrics`' business, not this page's.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Max
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from .models import Job, PollCursor


@dataclasses.dataclass
class TaskBroker(HealthCheck):
    """The django-q2 broker answers (Redis when REDIS_URL is set, else the database's queue table)."""

    def run(self) -> None:
        from django_q.brokers import get_broker

        broker = get_broker()
        try:
            if broker.ping() is False:
                raise ServiceUnavailable("the task queue's broker does not answer")
            broker.queue_size()
        except ServiceUnavailable:
            raise
        except Exception as exc:  # the broker's own error type varies by broker
            raise ServiceUnavailable(
                f"the task queue's broker does not answer ({type(exc).__name__})"
            ) from exc


@dataclasses.dataclass
class SchedulesRunning(HealthCheck):
    """Some poll has succeeded recently: when none has, the task cluster (qcluster) is down or stuck.

    One tenant with a wrong password must not turn the whole installation red, so this fails only
    when no active tenant's poll succeeded within three of its intervals (and 15 minutes at least).
    """

    def run(self) -> None:
        cursors = PollCursor.objects.filter(tenant__is_active=True, last_success_at__isnull=False)
        if not cursors.exists():
            return  # nothing has been set up or run yet: nothing to be late
        now = timezone.now()
        newest = cursors.aggregate(newest=Max("last_success_at"))["newest"]
        shortest = (
            cursors.annotate(interval=F("tenant__poll_interval_minutes"))
            .order_by("interval")
            .values_list("interval", flat=True)
            .first()
        )
        allowed = max(timedelta(minutes=3 * (shortest or 5)), timedelta(minutes=15))
        if newest is not None and now - newest > allowed:
            minutes = int((now - newest).total_seconds() // 60)
            raise ServiceUnavailable(f"no poll has succeeded for {minutes} minutes: is qcluster running?")


@dataclasses.dataclass
class LongQueueServed(HealthCheck):
    """The long queue's qcluster (`Q_CLUSTER_NAME=long`) is running: admin jobs and first loads go there,
    and without it they wait for ever while everything else looks fine. A job still queued after
    LONG_QUEUE_ALERT_MINUTES, while no job has started in that time, says nobody is taking them."""

    def run(self) -> None:
        minutes = int(settings.LONG_QUEUE_ALERT_MINUTES)
        since = timezone.now() - timedelta(minutes=minutes)
        oldest = (
            Job.objects.filter(state=Job.QUEUED, created_at__lt=since)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        # A queue busy with long jobs still starts one now and then; a queue nobody serves starts none.
        if oldest is not None and not Job.objects.filter(started_at__gte=since).exists():
            waited = int((timezone.now() - oldest).total_seconds() // 60)
            raise ServiceUnavailable(
                f"a job has waited {waited} minutes for the long queue: is its qcluster "
                "(Q_CLUSTER_NAME=long) running?"
            )


class ConnectorHealthView(HealthCheckView):
    checks = (
        "health_check.checks.Database",
        "health_check.checks.Cache",
        "audit.health.TaskBroker",
        "audit.health.SchedulesRunning",
        "audit.health.LongQueueServed",
    )
