"""Start-up refuses unsafe production settings with one sentence naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "cHJvZHVjdGlvbi10ZXN0LWZlcm5ldC1rZXktMzJieXQ="  # a well-formed Fernet key (32 bytes, base64)
PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": "s" * 50,
    "FERNET_KEYS": KEY,
    "ALLOWED_HOSTS": "connector.example.com",
}


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "FERNET_KEYS", "ALLOWED_HOSTS", "DEBUG", "DATABASE_URL", "REDIS_URL"}
    }
    clean.update(env, ENV_FILE="/nonexistent", DJANGO_SETTINGS_MODULE="gpbill_site.settings")
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FERNET_KEYS", "ALLOWED_HOSTS"])
def test_it_refuses_to_start_in_production_without(missing):
    env = dict(PRODUCTION)
    del env[missing]
    result = _start(**env)
    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in result.stderr


def test_it_starts_with_zero_configuration():
    assert _start().returncode == 0


def test_it_starts_in_production_with_everything_set():
    result = _start(**PRODUCTION)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        (
            "FERNET_KEYS",
            f"{KEY},dev-only-insecure-fernet-key-change-me",
            "FERNET_KEYS key 2 is the development key",
        ),
        ("FERNET_KEYS", f"{KEY},k1", "FERNET_KEYS key 2 is not a Fernet key"),
        ("FERNET_KEYS", "correct-horse", "FERNET_KEYS key 1 is not a Fernet key"),
        ("ALLOWED_HOSTS", "*", "ALLOWED_HOSTS must name this app's host names, not '*'"),
        (
            "ALLOWED_HOSTS",
            "connector.example.com,*",
            "ALLOWED_HOSTS must name this app's host names, not '*'",
        ),
        (
            "TRUSTED_PROXIES",
            "10.0.0.1,the-proxy",
            "TRUSTED_PROXIES: 'the-proxy' is not an IP address or network",
        ),
    ],
)
def test_it_refuses_to_start_in_production_with_an_unsafe(setting, value, said):
    result = _start(**{**PRODUCTION, setting: value})
    assert result.returncode != 0
    assert said in result.stderr


def test_it_never_lets_a_task_be_retried_before_its_timeout(settings):
    assert settings.Q_CLUSTER["retry"] > settings.Q_CLUSTER["timeout"]
    assert settings.Q_CLUSTER["catch_up"] is False
