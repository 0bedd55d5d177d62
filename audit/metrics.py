"""`/metrics`: Prometheus figures for whoever runs the installation (records by state, lag, BILL calls,
webhook refusals).

prometheus-client's own collector model, read from the database at scrape time in a handful of
grouped queries (a thousand tenants cost the same few queries as one). No request middleware: the
figures that matter here are the connector's, and the webhook endpoint's speed is not taxed for them.

The page names tenants, so it is closed unless `METRICS_TOKEN` is set, and then answers only a
request carrying `Authorization: Bearer <METRICS_TOKEN>`; without the setting it is a 404.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from connectors.bill.gate import gate_for, key_of
from connectors.models import Tenant

from .models import PollCursor, SyncRecord, WebhookEvent, WebhookRejection


class ConnectorCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        records = GaugeMetricFamily(
            "mlc_records", "Ledger records by tenant and state.", labels=["tenant", "state"]
        )
        for slug, state, n in SyncRecord.objects.values_list("tenant__slug", "state").annotate(n=Count("pk")):
            records.add_metric([slug, state], n)
        yield records

        lag = GaugeMetricFamily(
            "mlc_poll_lag_seconds",
            "Seconds since each polling flow last succeeded.",
            labels=["tenant", "flow"],
        )
        now = timezone.now()
        for slug, flow, last in PollCursor.objects.filter(tenant__is_active=True).values_list(
            "tenant__slug", "flow", "last_success_at"
        ):
            lag.add_metric([slug, flow], (now - last).total_seconds() if last else float("inf"))
        yield lag

        waiting = GaugeMetricFamily(
            "mlc_webhook_events_unprocessed", "Verified webhook events not processed yet.", labels=["tenant"]
        )
        for slug, n in (
            WebhookEvent.objects.filter(state=WebhookEvent.RECEIVED)
            .values_list("tenant__slug")
            .annotate(n=Count("pk"))
        ):
            waiting.add_metric([slug], n)
        yield waiting

        refused = GaugeMetricFamily(
            "mlc_webhook_refusals",
            "Refused webhook deliveries by reason (kept for the retention window).",
            labels=["reason"],
        )
        for reason, n in WebhookRejection.objects.values_list("reason").annotate(n=Sum("count")):
            refused.add_metric([reason], n or 0)
        yield refused

        yield from _bill_calls()


def _bill_calls() -> Iterator[Metric]:
    """Calls the BILL gate counted this hour: per tenant (its org's share) and per developer key
    (BILL's hourly limit is per key). The gate is read once per key, not once per tenant, so a
    scrape of a host with a thousand tenants on one key costs one read (skipped when unreadable)."""
    calls = GaugeMetricFamily(
        "mlc_bill_calls_this_hour",
        "BILL calls counted this clock hour for the tenant's organization.",
        labels=["tenant"],
    )
    per_key = GaugeMetricFamily(
        "mlc_bill_key_calls_this_hour",
        "BILL calls counted this clock hour against a developer key's budget (by the key's fingerprint).",
        labels=["key"],
    )
    by_key: dict[str, dict[str, int] | None] = {}
    tenants = Tenant.objects.filter(is_active=True, bill_connection__isnull=False).select_related(
        "bill_connection"
    )
    for tenant in tenants:
        conn = tenant.bill_connection
        fingerprint = conn.dev_key_id or f"org:{conn.organization_id}"
        if fingerprint not in by_key:
            try:
                by_key[fingerprint] = gate_for().used_this_hour(key_of(conn))
            except Exception:  # noqa: BLE001 - Redis unreachable: the scrape goes on without this figure
                by_key[fingerprint] = None
        used = by_key[fingerprint]
        if used is not None:
            calls.add_metric([tenant.slug], used.get(conn.organization_id, 0))
    for fingerprint, used in sorted(by_key.items()):
        if used is not None:
            per_key.add_metric([fingerprint[:12]], sum(used.values()))
    yield calls
    yield per_key


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ConnectorCollector())
    return registry


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = getattr(settings, "METRICS_TOKEN", "")
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return HttpResponse("A bearer token is required.", status=401, content_type="text/plain")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
