"""Shared test set-up: the cast of users and the sandbox fixtures (registered as plugins)."""

from __future__ import annotations

pytest_plugins = ["tests.fixtures_gp", "tests.fixtures_gp_ws", "tests.fixtures_bill"]

import os  # noqa: E402

import pytest  # noqa: E402

# Worker processes the tests start (qcluster, gunicorn, sync workers) inherit this: the sandboxes answer
# plain http on loopback, and the clients check a connection's address whenever they are built.
os.environ.setdefault("CONNECTION_ALLOW_HTTP", "True")
os.environ.setdefault("BILL_EXTRA_HOSTS", "127.0.0.1,localhost")

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
    """The cast's tenant: Alice and Frank are its members."""
    from connectors.models import Tenant

    return cast.join_cast(Tenant.objects.create(name="Northwind Building Supply", slug=cast.CAST_TENANT_SLUG))


@pytest.fixture(scope="session", autouse=True)
def no_stale_redis_locks(django_db_setup, django_db_blocker):
    """The test database is new each run; flow locks a killed worker left in Redis belong to an old one."""
    from django.conf import settings

    if settings.REDIS_URL:
        import redis

        with django_db_blocker.unblock():
            client = redis.Redis.from_url(settings.REDIS_URL)
            for key in client.scan_iter(match="mlc:lock:*"):
                client.delete(key)
    yield


@pytest.fixture(autouse=True)
def sandbox_addresses_allowed(settings):
    """The sandboxes answer plain http on loopback; tests of the address rules switch this off."""
    settings.CONNECTION_ALLOW_HTTP = True
    settings.BILL_EXTRA_HOSTS = ["127.0.0.1", "localhost"]


@pytest.fixture(autouse=True)
def inline_tasks_and_fast_retries():
    """Tasks run in the caller (after commit) and clients retry in milliseconds: tests stay fast."""
    from connectors import queue
    from connectors.sync import context
    from tests.fixtures_bill import fast_backoff

    saved = queue.RUN_INLINE, dict(context.CLIENT_OPTIONS)
    queue.RUN_INLINE = True
    context.CLIENT_OPTIONS.update(gp={"sleep": lambda seconds: None}, bill={"backoff": fast_backoff()})
    yield
    queue.RUN_INLINE = saved[0]
    context.CLIENT_OPTIONS.clear()
    context.CLIENT_OPTIONS.update(saved[1])
