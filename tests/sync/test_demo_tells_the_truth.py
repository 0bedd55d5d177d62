"""The demo does what the README says: it approves the strong suggestions, leaves the rest for a
person, and `manage.py demo --once` works on a database that was never migrated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from audit.models import Kind, State, SyncRecord
from connectors.devtools import demo as demo_setup
from connectors.sync.runner import run_gp_to_bill
from mappings.models import MappingState, VendorMapping
from tests.fitcheck.test_fit_check import demo  # noqa: F401  (the demo seeds of both sandboxes)

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_approves_the_strong_suggestions_and_its_bills_reach_bill(demo, frank):  # noqa: F811
    tenant, _, _ = demo
    demo_setup.demo_users(tenant)
    run_gp_to_bill(tenant, full=True)
    said: list[str] = []

    counts = demo_setup.approve_suggestions(tenant, said.append, min_score=Decimal("0.8"))

    # 48 GP vendors have nothing like them in BILL ("create in BILL"); the two whose only evidence
    # is the same name, and whose master data differs, wait for a person.
    assert counts["vendor"] == 48 and counts["GL account"] >= 1
    waiting = set(
        VendorMapping.objects.filter(tenant=tenant, state=MappingState.SUGGESTED).values_list(
            "gp_vendor_id", flat=True
        )
    )
    assert waiting == {"ADVANCED0001", "CONTOSO0001"}
    synced = SyncRecord.objects.filter(tenant=tenant, kind=Kind.BILL, state=State.SYNCED).count()
    assert synced > 100
    assert "2 weaker suggestion(s) wait for you under Mappings" in demo_setup.approvals_sentence(counts)


def test_demo_once_migrates_a_fresh_database_first_and_reports_in_sentences(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "demo", "--once", "--seed", "small"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "no such table" not in done.stderr
    lines = done.stdout.strip().splitlines()
    assert json.loads(lines[-1])["agree"] is True, done.stderr[-2000:]
    assert not [line for line in lines[:-1] if "{'" in line]  # run summaries are sentences, not dicts
    assert "Approved 8 vendor, 6 GL account and 0 checkbook mapping(s)." in done.stdout
