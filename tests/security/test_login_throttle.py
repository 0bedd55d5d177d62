"""Password guessing at the admin login is slowed to a stop: a few tries, then a lock for a while."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.cast import CAST_PASSWORD

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture(autouse=True)
def own_cache(settings):
    """A cache of this test's own, so counts never leak between tests or runs."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "login-throttle-tests",
        }
    }
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    settings.LOGIN_THROTTLE_SECONDS = 600
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher"
    ]  # many sign-ins: keep them quick
    from django.core.cache import cache

    cache.clear()


def _try(password: str, username: str = "frank", address: str = "198.51.100.7", client: Client | None = None):
    client = client or Client(REMOTE_ADDR=address)
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def _signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_it_lets_a_user_in_after_a_mistake_or_two(frank):
    assert not _signed_in(_try("guess-1"))
    assert not _signed_in(_try("guess-2"))
    assert _signed_in(_try(CAST_PASSWORD))


def test_it_locks_a_user_name_after_repeated_failures_even_with_the_right_password(frank):
    for n in range(3):
        assert "Please enter the correct username" in _try(f"guess-{n}").content.decode()
    locked = _try(CAST_PASSWORD)
    assert not _signed_in(locked)
    assert "Too many failed sign-ins. Try again in 10 minutes" in locked.content.decode()


def test_it_keeps_other_addresses_and_other_users_unaffected(frank, alice):
    for n in range(3):
        _try(f"guess-{n}")
    assert _signed_in(_try(CAST_PASSWORD, address="203.0.113.9"))
    assert _signed_in(_try(CAST_PASSWORD, username="alice"))


def test_it_locks_an_address_spraying_many_user_names(frank):
    for n in range(12):
        _try("Password1", username=f"user{n}")
    assert not _signed_in(_try(CAST_PASSWORD))


def test_it_lets_the_user_in_again_when_the_window_has_passed(frank, settings):
    from django.core.cache import cache

    for n in range(3):
        _try(f"guess-{n}")
    assert not _signed_in(_try(CAST_PASSWORD))
    cache.clear()  # what the window's expiry does
    assert _signed_in(_try(CAST_PASSWORD))


def test_it_forgets_past_failures_after_a_successful_sign_in(frank):
    _try("guess-1")
    _try("guess-2")
    assert _signed_in(_try(CAST_PASSWORD))
    _try("guess-3")
    _try("guess-4")
    assert _signed_in(_try(CAST_PASSWORD))


def test_it_never_writes_the_tried_password_or_user_name_to_the_cache(frank):
    from django.core.cache import cache

    _try("Hunter2-secret")
    stored = " ".join(str(k) for k in cache._cache)  # LocMemCache keeps its keys here
    assert "Hunter2" not in stored and "frank" not in stored


@pytest.fixture
def behind_proxy(settings):
    """What BEHIND_TLS_PROXY=True sets (gpbill_site/settings.py)."""
    settings.BEHIND_TLS_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def _from(peer: str, forwarded: str, password: str, username: str = "frank"):
    client = Client(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def test_a_forged_x_forwarded_for_does_not_escape_the_lock(frank, behind_proxy):
    """Behind the TLS proxy, a caller reaching the app directly cannot pick a new address per try."""
    behind_proxy.TRUSTED_PROXIES = ["10.0.0.2"]
    for n in range(10):
        _from("198.51.100.7", f"203.0.113.{n}", f"guess-{n}")
    assert not _signed_in(_from("198.51.100.7", "192.0.2.250", CAST_PASSWORD))


def test_a_client_prepending_addresses_through_our_proxy_is_still_counted_by_its_own(frank, behind_proxy):
    behind_proxy.TRUSTED_PROXIES = ["10.0.0.0/24"]
    # The proxy appends the address it saw (198.51.100.7); whatever the client wrote comes before it.
    for n in range(3):
        _from("10.0.0.2", f"203.0.113.{n}, 198.51.100.7", f"guess-{n}")
    assert not _signed_in(_from("10.0.0.2", "192.0.2.1, 198.51.100.7", CAST_PASSWORD))
    # Another client behind the same proxy is unaffected: the proxy's own address is not the client's.
    assert _signed_in(_from("10.0.0.2", "198.51.100.99", CAST_PASSWORD))


def test_chained_proxies_are_skipped_to_the_client(frank, behind_proxy):
    behind_proxy.TRUSTED_PROXIES = ["10.0.0.2", "10.0.0.3"]
    for n in range(3):
        _from("10.0.0.2", "198.51.100.7, 10.0.0.3", f"guess-{n}")
    assert not _signed_in(_from("10.0.0.2", "198.51.100.7, 10.0.0.3", CAST_PASSWORD))
    assert _signed_in(_from("10.0.0.2", "198.51.100.8, 10.0.0.3", CAST_PASSWORD))


def test_without_the_proxy_setting_x_forwarded_for_is_ignored(frank, settings):
    settings.BEHIND_TLS_PROXY, settings.TRUSTED_PROXIES = False, ["10.0.0.2"]
    for n in range(3):
        _from("10.0.0.2", f"203.0.113.{n}", f"guess-{n}")
    assert not _signed_in(_from("10.0.0.2", "198.51.100.5", CAST_PASSWORD))
