"""`manage.py check --deploy` is clean under production settings, and stays loud when one is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": "prod-" + "k3y-" * 15,
    "FERNET_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "connector.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://connector.example.com",
}


def _check(**env: str) -> subprocess.CompletedProcess[str]:
    # As a production host would start it: none of the test run's own variables (live-server tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly refuses).
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION and not k.startswith("SECURE_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    base.update(
        ENV_FILE=str(ROOT / "var" / "no-such-env-file"), DJANGO_SETTINGS_MODULE="gpbill_site.settings"
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_under_production_settings():
    done = _check(**PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_names_hsts_switched_off():
    done = _check(**PRODUCTION, SECURE_HSTS_SECONDS="0")
    assert done.returncode != 0 and "security.W004" in done.stdout + done.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    done = _check(**env)
    assert done.returncode != 0 and "SECRET_KEY must be set" in done.stderr
