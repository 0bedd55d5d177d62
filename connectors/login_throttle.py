"""Login throttling: after LOGIN_THROTTLE_ATTEMPTS failed sign-ins for one user name from one address
(or four times as many from one address, whatever the name) within LOGIN_THROTTLE_SECONDS, the admin
login refuses every try from there — right password or not — until the window has passed.

Counts live in Django's cache (Redis when REDIS_URL is set, else a file cache under var/ shared by the
processes of one host). Only a hash of the user name is kept; the password is never seen here.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest

log = logging.getLogger(__name__)
PER_ADDRESS_FACTOR = 4


def client_address(request: HttpRequest | None) -> str:
    """The caller's address; behind our TLS proxy, the hop the proxy appended (a client cannot forge it)."""
    if request is None:
        return "-"
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.SECURE_PROXY_SSL_HEADER and forwarded:
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "-")


def _keys(username: str, address: str) -> tuple[str, str]:
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:24]
    return f"login-fail:{name}:{address}", f"login-fail:*:{address}"


def is_locked(username: str, address: str) -> bool:
    by_name, by_address = _keys(username, address)
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    return (cache.get(by_name, 0) >= limit) or (cache.get(by_address, 0) >= limit * PER_ADDRESS_FACTOR)


def record_failure(username: str, address: str) -> None:
    for key in _keys(username, address):
        # add() starts the window once; incr() keeps it (the window runs from the first failure).
        if not cache.add(key, 1, timeout=settings.LOGIN_THROTTLE_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=settings.LOGIN_THROTTLE_SECONDS)


def forget(username: str, address: str) -> None:
    cache.delete(_keys(username, address)[0])


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin login form, refusing to check passwords for a throttled user name or address."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many failed sign-ins. Try again in %(minutes)d minutes, or ask a connector admin.",
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        if is_locked(username, address):
            log.warning("admin sign-in refused (throttled) from %s", address)
            raise ValidationError(self.error_messages["throttled"], code="throttled",
                                  params={"minutes": max(1, settings.LOGIN_THROTTLE_SECONDS // 60)})
        try:
            cleaned = super().clean()
        except ValidationError:
            record_failure(username, address)
            raise
        forget(username, address)
        return cleaned
