"""Hardening a user expects: a Content-Security-Policy the admin lives with, sign-in landing on the
admin, a working-day session, static files served under gunicorn, heavy jobs for connector admins."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.test import Client

from audit.models import Job
from tests.cast import CAST_PASSWORD
from tests.foundation.test_settings import KEY as FERNET_KEY

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(tenant):
    from audit.models import SyncRecord
    from mappings.models import VendorMapping

    record = SyncRecord.objects.create(
        tenant=tenant, kind="bill", source_key="V1", state="failed", reason="x"
    )
    mapping = VendorMapping.objects.create(tenant=tenant, gp_vendor_id="ACME0001", gp_name="Acme")
    job = Job.objects.create(tenant=tenant, kind=Job.REPLAY, state=Job.RUNNING, total=4, done=1)
    return {"record": record, "mapping": mapping, "job": job}


def _pages(world) -> list[str]:
    return [
        "/admin/",
        "/admin/ops/dashboard/",
        f"/admin/ops/jobs/{world['job'].pk}/",
        f"/admin/audit/syncrecord/{world['record'].pk}/change/",
        "/admin/audit/attentionrecord/",
        f"/admin/mappings/vendormapping/{world['mapping'].pk}/change/",
        "/admin/mappings/vendormapping/",
        "/admin/mappings/vendormapping/import/",
        "/admin/connectors/tenant/",
    ]


def test_every_page_carries_a_policy_without_inline_script_or_style(client, alice, world):
    signed_in = Client()
    signed_in.force_login(alice)
    for user, url in [(client, "/admin/login/"), *((signed_in, u) for u in _pages(world))]:
        response = user.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        for directive in (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "form-action 'self'",
        ):
            assert directive in policy, (url, directive)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        page = response.content.decode()
        assert "<style" not in page, url
        assert not re.search(r"<[a-z][^>]*\sstyle=", page), (
            url,
            re.findall(r"<[a-z][^>]*\sstyle=[^>]*>", page)[:3],
        )
        for tag in re.findall(r"<script\b[^>]*>", page):  # only files, or JSON data the admin reads
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)


def test_signing_in_without_a_next_page_lands_on_the_admin(alice):
    response = Client().post("/admin/login/", {"username": "alice", "password": CAST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_a_sign_in_lasts_one_working_day(alice, settings):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "alice", "password": CAST_PASSWORD, "next": "/admin/"}
    )
    assert response.cookies["sessionid"]["max-age"] == 8 * 3600
    assert client.session.get_expiry_age() == 8 * 3600


def test_finance_cannot_start_the_heavy_jobs_and_is_not_offered_them(client, frank, tenant):
    client.force_login(frank)
    for kind in ("initial_load", "drift"):
        assert client.post(f"/admin/ops/dashboard/{tenant.slug}/start/{kind}/").status_code == 403
    assert not Job.objects.exists()
    page = client.get("/admin/ops/dashboard/").content.decode()
    assert "Preview the next sync" in page
    assert "Initial load" not in page and "Drift report" not in page


def test_pressing_start_again_shows_the_job_already_under_way(client, alice, tenant):
    running = Job.objects.create(tenant=tenant, kind=Job.DRIFT, state=Job.QUEUED)
    client.force_login(alice)
    response = client.post(f"/admin/ops/dashboard/{tenant.slug}/start/drift/", follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/ops/jobs/{running.pk}/"
    assert "already under way" in response.content.decode()
    assert Job.objects.filter(kind=Job.DRIFT).count() == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_gunicorn_serves_the_static_files_after_collectstatic(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DEBUG="False",
        SECRET_KEY="s" * 50,
        FERNET_KEYS=FERNET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="False",
        SECURE_HSTS_SECONDS="0",
        STATIC_ROOT=str(tmp_path / "static"),
        VAR_DIR=str(tmp_path / "var"),
        ENV_FILE="/nonexistent",
        DJANGO_SETTINGS_MODULE="gpbill_site.settings",
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "gpbill_site.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                css = requests.get(f"{base}/static/ml/admin.css", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert css.status_code == 200 and ".ml-badge" in css.text
        admin_css = requests.get(
            f"{base}/static/admin/css/base.css", timeout=5, headers={"Accept-Encoding": "gzip"}
        )
        assert admin_css.status_code == 200 and "max-age" in admin_css.headers.get("Cache-Control", "")
        login = requests.get(f"{base}/admin/login/", timeout=5)
        assert "script-src 'self'" in login.headers["Content-Security-Policy"]
    finally:
        server.terminate()
        server.wait(timeout=10)
