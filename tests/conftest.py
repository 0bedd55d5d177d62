"""Shared test set-up: the cast of users and the sandbox fixtures (registered as plugins)."""

from __future__ import annotations

pytest_plugins = ["tests.fixtures_gp", "tests.fixtures_bill"]

import pytest  # noqa: E402

from tests import cast  # noqa: E402


@pytest.fixture
def alice(db):
    """Alice, a connector admin: configures connections."""
    return cast.alice_admin()


@pytest.fixture
def frank(db):
    """Frank, finance staff: approves mappings and replays records, never sees connections."""
    return cast.frank_finance()


@pytest.fixture
def tenant(db):
    from connectors.models import Tenant

    return Tenant.objects.create(name="Northwind Building Supply", slug="northwind")
