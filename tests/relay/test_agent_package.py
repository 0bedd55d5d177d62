"""The agent customers install: no Django, no database, settings from the environment."""

from __future__ import annotations

import os
import subprocess
import sys


def test_the_agent_imports_neither_django_nor_a_database_driver():
    code = (
        "import sys, connectors.agent_client.__main__, connectors.agent_client.worker\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'psycopg', 'redis', 'audit', "
        "'mappings')]\n"
        "print(bad)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_the_agent_says_which_settings_are_missing():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLC_AGENT_")}
    out = subprocess.run(
        [sys.executable, "-m", "connectors.agent_client", "--gp-url", "https://gp.corp.local"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 2
    assert "missing --connector-url, --token, --gp-account, --gp-password" in out.stderr
