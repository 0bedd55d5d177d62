"""Start-up refuses unsafe production settings with one sentence naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"SECRET_KEY", "FERNET_KEYS", "ALLOWED_HOSTS", "DEBUG", "DATABASE_URL", "REDIS_URL"}}
    clean.update(env, ENV_FILE="/nonexistent", DJANGO_SETTINGS_MODULE="gpbill_site.settings")
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FERNET_KEYS", "ALLOWED_HOSTS"])
def test_it_refuses_to_start_in_production_without(missing):
    env = {"DEBUG": "False", "SECRET_KEY": "s" * 50, "FERNET_KEYS": "k1", "ALLOWED_HOSTS": "connector.example.com"}
    del env[missing]
    result = _start(**env)
    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in result.stderr


def test_it_starts_with_zero_configuration():
    assert _start().returncode == 0


def test_it_starts_in_production_with_everything_set():
    result = _start(DEBUG="False", SECRET_KEY="s" * 50, FERNET_KEYS="k1", ALLOWED_HOSTS="connector.example.com")
    assert result.returncode == 0, result.stderr


def test_it_never_lets_a_task_be_retried_before_its_timeout(settings):
    assert settings.Q_CLUSTER["retry"] > settings.Q_CLUSTER["timeout"]
    assert settings.Q_CLUSTER["catch_up"] is False
