"""The BILL gate's slots and login mutex become leases in audit's FlowLease table (`audit.leases`), the
one lease table; BillGateLease goes.

Safe with old rows present: a slot or mutex still held at deploy time (holder set, lease unexpired) is
copied under its new lease name (`bill:<org>:slot:<n>`, `bill:<org>:mutex:<name>`) with its holder and
expiry, so a call an old process still has in flight keeps counting against the org's limit until it
ends or its lease runs out. Free rows (no holder, no expiry) and expired ones mean "free" in both
schemes and are not copied. Existing flow-lock rows keep their names and holders unchanged.
"""

from django.db import migrations
from django.utils import timezone


def copy_held_leases(apps, schema_editor):
    old = apps.get_model("connectors", "BillGateLease")
    lease = apps.get_model("audit", "FlowLease")
    held = old.objects.exclude(holder="").filter(expires_at__gt=timezone.now())
    rows = []
    for row in held.iterator():
        kind = "mutex:" if row.slot.startswith("mutex:") else "slot:"
        rows.append(
            lease(
                name=f"bill:{row.organization_id}:{kind}{row.slot.removeprefix('mutex:')}",
                holder=row.holder,
                expires_at=row.expires_at,
            )
        )
    lease.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0014_relay_wakeup_channels_async_read_lease"),
        ("audit", "0011_vendor_credit_kinds"),
    ]

    operations = [
        migrations.RunPython(copy_held_leases, migrations.RunPython.noop),
        migrations.DeleteModel(name="BillGateLease"),
    ]
