"""The ledger (one row per business object) and the append-only trail of every attempt on it.

The ledger is what keeps money safe: a row moves to `sending` and commits before any external
write, so a crash or timeout leaves evidence that the write may have happened (see docs/design.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

EVENT_ID_MAX = 100
# Every ledger row belongs to a tenant; named, not imported, so the ledger core imports nothing above it.
TENANT = "connectors.Tenant"


class Kind(models.TextChoices):
    # One vendor record serves both directions: its synced_hash is what both sides last agreed on.
    VENDOR = "vendor", "Vendor (GP ⇄ BILL)"
    BILL = "bill", "GP invoice → BILL bill"
    GL_ACCOUNT = "gl_account", "GP account → BILL chart of accounts"
    # A GP account segment value created in BILL as a department/location/accounting class; keyed kind:value.
    CLASSIFICATION = "classification", "GP segment value → BILL department, location or class"
    GP_PAYMENT = "gp_payment", "BILL payment → GP payment"
    # What GP applied to a voucher outside BILL (a clerk's check, a credit memo), recorded in BILL so its
    # bill never shows more due than GP has open. Keyed by the GP voucher.
    BILL_DUE = "bill_due", "GP payment outside BILL → BILL recorded payment"
    # A GP credit memo or return (keyed by its GP voucher) → a BILL vendor credit.
    VENDOR_CREDIT = "vendor_credit", "GP credit memo → BILL vendor credit"
    # A BILL payment's use of a vendor credit on one bill → the GP credit memo applied to that voucher. Keyed
    # "<BILL payment ID>:<vendor credit ID>:<bill ID>"; its GP apply key is derived from that
    # (credit_applies.py).
    CREDIT_APPLY = "credit_apply", "BILL credit used → GP credit memo applied"


class State(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SYNCED = "synced", "Synced"
    BLOCKED = "blocked", "Waiting for a mapping or GP"
    FAILED = "failed", "Failed (will retry)"
    IN_DOUBT = "in_doubt", "Outcome unknown (will check)"
    SKIPPED = "skipped", "Don't sync"
    FLAGGED = "flagged", "Needs a person"
    CONFLICT = "conflict", "Changed on both sides"


# States a finance user must look at; `sending` is included when a row is stuck in it.
ATTENTION_STATES = (State.BLOCKED, State.FAILED, State.IN_DOUBT, State.FLAGGED, State.CONFLICT)
# States from which an external write may already have happened: reconcile before any retry.
UNCERTAIN_STATES = (State.SENDING, State.IN_DOUBT)
# A row `sending` this long is shown as needing attention (its worker may have died).
STUCK_AFTER = timedelta(minutes=15)


def attention_q(now: datetime | None = None) -> Q:
    """Records a person must look at, including writes stuck in `sending` (their worker died)."""
    now = now or timezone.now()
    return Q(state__in=ATTENTION_STATES) | Q(state=State.SENDING, updated_at__lt=now - STUCK_AFTER)


class SyncRecordQuerySet(models.QuerySet["SyncRecord"]):
    """The ledger's questions, asked one way everywhere."""

    def needing_attention(self, now: datetime | None = None) -> SyncRecordQuerySet:
        """What the Needs attention list and the status page show: blocked, failed, in doubt, flagged or
        in conflict, and writes stuck `sending` for STUCK_AFTER. (The alert digest, a replay by command
        and a mapping's release look at the states alone: they act on what can be retried or released,
        and a stuck write is the retry sweep's, not a person's, until it shows here.)"""
        return self.filter(attention_q(now))

    def due_for_retry(self, now: datetime | None = None) -> SyncRecordQuerySet:
        """Failed rows whose retry time has come, and in-doubt rows due for a look-up (an unconfirmed
        create has no retry time: it is due at once, and only looked up)."""
        now = now or timezone.now()
        due_now = Q(next_retry_at__lte=now) | Q(state=State.IN_DOUBT, next_retry_at__isnull=True)
        return self.filter(due_now, state__in=[State.FAILED, State.IN_DOUBT])

    def waiting_for(self, kind: str, key: str = "") -> SyncRecordQuerySet:
        """Records that wait for (kind, key): a GP vendor's mapping, an account's, a checkbook's… (the
        `Wait` rows audit.waits keeps; `audit.waits.waiting_for` is this question on any queryset)."""
        return self.filter(waits__kind=kind, waits__key=key)

    def stuck_sending(self, older_than: timedelta | None = None) -> SyncRecordQuerySet:
        """Rows left `sending` by a writer that died, or held far too long (audit.ledger.stuck_sending)."""
        # In the function: audit.ledger imports this module (the ledger's rules sit above its rows).
        from .ledger import stuck_sending

        return self & stuck_sending(older_than)


class SyncRecord(models.Model):
    """One business object moving between GP and BILL, keyed by its source."""

    objects = SyncRecordQuerySet.as_manager()
    tenant = models.ForeignKey(TENANT, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source_key = models.CharField(
        max_length=120, help_text="GP vendor ID, GP voucher, or BILL payment/vendor ID."
    )
    target_id = models.CharField(
        max_length=120, blank=True, help_text="The object created on the other side."
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    reason = models.TextField(blank=True, help_text="Why the record is not synced, in plain words.")
    fix = models.TextField(blank=True, help_text="What a person can do about it.")
    # The display text of the record's waits (audit.waits writes it with the `Wait` rows, which hold
    # them all): read by the screens, never searched to find what a mapping releases.
    waiting_on = models.CharField(
        max_length=200,
        blank=True,
        help_text="What this record waits for, e.g. 'vendor:ACME0001 account:000-6100-00'.",
    )
    label = models.CharField(
        max_length=255, blank=True, help_text="What a person recognises: vendor, invoice, amount."
    )
    synced_hash = models.CharField(
        max_length=64, blank=True, help_text="Content hash last written to the target."
    )
    snapshot = models.JSONField(default=dict, blank=True, help_text="The source as last read (no secrets).")
    attempts = models.PositiveIntegerField(default=0)
    sending_by = models.CharField(
        max_length=120,
        blank=True,
        editable=False,
        help_text=(
            "host:pid of the process that last moved the row to sending (finds rows a dead worker left)."
        ),
    )
    sent_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the last write was sent (write-ahead): an unconfirmed create is re-sent only once "
        "the settle window since then has passed with the object still absent.",
    )
    next_retry_at = models.DateTimeField(null=True, blank=True)
    # The document as a clerk names it (GP vendor, invoice number, dates, amount), for the lists and totals.
    gp_vendor = models.CharField("GP vendor ID", max_length=30, blank=True, editable=False)
    document_number = models.CharField("invoice number", max_length=60, blank=True, editable=False)
    document_date = models.DateField("invoice date", null=True, blank=True, editable=False)
    due_date = models.DateField("due date", null=True, blank=True, editable=False)
    amount = models.DecimalField(max_digits=19, decimal_places=5, null=True, blank=True, editable=False)
    currency = models.CharField(max_length=3, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind", "source_key"], name="one_record_per_object"),
        ]
        indexes = [
            models.Index(fields=["tenant", "state"], name="record_tenant_state"),
            models.Index(fields=["state", "updated_at"], name="record_state_updated"),
        ]
        verbose_name = "sync record"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source_key}"

    @property
    def needs_attention(self) -> bool:
        return self.state in ATTENTION_STATES


class Wait(models.Model):
    """One thing a record waits for before it can go on: a mapping (GP vendor, GL account, segment value,
    BILL funding account), GP's hold check, a GP posting. A row each, so an approval finds the records
    it releases by an indexed lookup on (kind, key, tenant), not a text search; audit.waits owns them."""

    record = models.ForeignKey(SyncRecord, on_delete=models.CASCADE, related_name="waits")
    # The record's tenant, copied: a release looks up one tenant's waits for a key without the ledger.
    tenant = models.ForeignKey("connectors.Tenant", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, help_text="vendor, account, department, checkbook, posting…")
    key = models.CharField(max_length=150, blank=True, help_text="The GP vendor ID, GP account, voucher…")
    position = models.PositiveSmallIntegerField(default=0, help_text="The record names its waits in order.")
    since = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "kind", "key"], name="one_wait_per_record_and_key"),
        ]
        indexes = [models.Index(fields=["kind", "key", "tenant"], name="wait_kind_key_tenant")]

    def __str__(self) -> str:
        return f"{self.record_id} waits for {self.kind}:{self.key}"


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    WEBHOOK = "webhook", "Webhook"
    PERSON = "person", "Person"
    REPLAY = "replay", "Replay"
    MAPPING = "mapping", "Mapping approved"
    POLL = "poll", "Poll"


class Attempt(models.Model):
    """One try at one record. Append-only: the trail is evidence, never edited."""

    record = models.ForeignKey(SyncRecord, on_delete=models.CASCADE, related_name="trail")
    flow = models.CharField(max_length=40)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=30)
    request = models.JSONField(default=dict, blank=True, help_text="What was sent, secrets redacted.")
    response_status = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["record", "-started_at"], name="attempt_record_time")]

    def __str__(self) -> str:
        return f"{self.flow} {self.outcome} at {self.started_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("The audit trail is append-only; an attempt cannot be changed.")
        super().save(*args, **kwargs)


class PollCursor(models.Model):
    """Where each polling flow resumes: the start time of its last successful run."""

    tenant = models.ForeignKey(TENANT, on_delete=models.CASCADE, related_name="cursors")
    flow = models.CharField(max_length=40)
    cursor = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_summary = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "flow"], name="one_cursor_per_flow")]

    def __str__(self) -> str:
        return f"{self.tenant} {self.flow}"


class FlowLease(models.Model):
    """A lease that keeps two runs of one (tenant, flow) from overlapping, across processes."""

    name = models.CharField(max_length=120, unique=True)
    holder = models.CharField(max_length=120)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class WebhookEvent(models.Model):
    """A verified BILL event, stored once (unique event ID) and processed by a task."""

    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"
    STATES = [(RECEIVED, "Received"), (PROCESSED, "Processed"), (IGNORED, "Ignored"), (FAILED, "Failed")]

    tenant = models.ForeignKey(TENANT, on_delete=models.CASCADE, related_name="webhook_events")
    # BILL's event IDs are UUIDs; one longer than this is refused at the door, never cut short.
    event_id = models.CharField(max_length=EVENT_ID_MAX)
    event_type = models.CharField(max_length=60)
    entity_id = models.CharField(max_length=60, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=20, choices=STATES, default=RECEIVED)
    error = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["tenant", "state"], name="webhook_tenant_state")]
        # Per tenant: two BILL organizations may well send the same event ID; neither is a repeat of the
        # other.
        constraints = [
            models.UniqueConstraint(fields=["tenant", "event_id"], name="webhook_event_once_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


def this_hour() -> datetime:
    return timezone.now().replace(minute=0, second=0, microsecond=0)


class WebhookRejection(models.Model):
    """Refused deliveries counted per tenant, reason and clock hour; the unverified body is never stored.

    A delivery for a slug that is no tenant is counted in one bucket per hour (tenant empty), never a row
    per slug: anyone can post to any slug, and that must not grow the database.
    """

    tenant = models.ForeignKey(
        TENANT,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_rejections",
        help_text="Empty: the slug named no tenant.",
    )
    reason = models.CharField(max_length=40)
    hour = models.DateTimeField(default=this_hour)
    count = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-hour", "reason"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "reason", "hour"],
                condition=models.Q(tenant__isnull=False),
                name="one_rejection_counter_per_tenant_hour",
            ),
            models.UniqueConstraint(
                fields=["reason", "hour"],
                condition=models.Q(tenant__isnull=True),
                name="one_rejection_counter_per_hour_unknown",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant or 'unknown tenant'}: {self.reason} × {self.count} ({self.hour:%Y-%m-%d %H}:00)"


class AttentionRecord(SyncRecord):
    """The 'Needs attention' list: the same ledger rows, filtered to those a person must look at."""

    class Meta:
        proxy = True
        verbose_name = "record needing attention"
        verbose_name_plural = "needs attention"


class Job(models.Model):
    """A long action started from the admin (bulk replay, initial load, preview, drift) and its progress.

    The page a person lands on after starting one reads this row, so progress is visible while a
    worker runs it and the result stays for later.
    """

    REPLAY = "replay"
    INITIAL_LOAD = "initial_load"
    SYNC_NOW = "sync_now"
    PREVIEW = "preview"
    DRIFT = "drift"
    KINDS = [
        (REPLAY, "Replay records"),
        (INITIAL_LOAD, "Initial load (everything in GP)"),
        (SYNC_NOW, "Sync now"),
        (PREVIEW, "Preview the next sync"),
        (DRIFT, "Drift report"),
    ]
    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATES = [(QUEUED, "Queued"), (RUNNING, "Running"), (DONE, "Done"), (FAILED, "Failed")]

    tenant = models.ForeignKey(TENANT, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=20, choices=KINDS)
    state = models.CharField(max_length=10, choices=STATES, default=QUEUED)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    record_ids = models.JSONField(default=list, blank=True, help_text="The records a replay covers.")
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "background job"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.DONE, self.FAILED)

    @property
    def percent(self) -> int | None:
        """Share done, or None when the size is not known in advance (initial load)."""
        if not self.total:
            return 100 if self.state == self.DONE else None
        return min(100, round(100 * self.done / self.total))


class AlertDigest(models.Model):
    """One needs-attention digest sent to a tenant's contacts; the latest one is the watermark."""

    tenant = models.ForeignKey(TENANT, on_delete=models.CASCADE, related_name="alert_digests")
    started_at = models.DateTimeField(
        help_text="Records changed after this are considered by the next digest."
    )
    sent_at = models.DateTimeField(auto_now_add=True)
    records = models.PositiveIntegerField(default=0)
    recipients = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"{self.tenant} digest at {self.sent_at:%Y-%m-%d %H:%M}"


class AlertMark(models.Model):
    """A record already reported in a digest, in the state it was reported in.

    Retries keep a record's state, so they send nothing new; the mark is dropped when the record
    stops needing attention, so a later problem with it is reported again.
    """

    record = models.OneToOneField(
        SyncRecord, on_delete=models.CASCADE, primary_key=True, related_name="alert_mark"
    )
    state = models.CharField(max_length=20)
    alerted_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.record_id} alerted as {self.state}"
