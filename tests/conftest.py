"""Shared test set-up: the cast of users and the sandbox fixtures (registered as plugins)."""

from __future__ import annotations

pytest_plugins = ["tests.fixtures_gp", "tests.fixtures_bill"]
