"""Login throttling: after LOGIN_THROTTLE_ATTEMPTS failed sign-ins for one user name from one address
(or four times as many from one address, whatever the name) within LOGIN_THROTTLE_SECONDS, the admin
login refuses every try from there — right password or not — until the window has passed.

Counts live in Django's cache (Redis when REDIS_URL is set, else a file cache under var/ shared by the
processes of one host). Only a hash of the user name is kept; the password is never seen here.

The address counted is the TCP peer's, unless that peer is one of our own proxies (TRUSTED_PROXIES,
with BEHIND_TLS_PROXY on): then X-Forwarded-For is read from the right, skipping our proxies, and the
first other hop is the client. Anyone else can write any X-Forwarded-For they like, so from them it
is ignored. (django-axes was considered: it would add its own tables, admin and address library for
what these sixty lines do, and still need the same proxy settings.)
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest

log = logging.getLogger(__name__)
PER_ADDRESS_FACTOR = 4


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def is_trusted_proxy(address: str) -> bool:
    """True when `address` is one of our own proxies (an IP or inside a network of TRUSTED_PROXIES)."""
    if not settings.BEHIND_TLS_PROXY:
        return False
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(request: HttpRequest | None) -> str:
    """The caller's address: the TCP peer, or — when the peer is our proxy — the nearest hop in
    X-Forwarded-For that is not one of our proxies (a client can prepend anything, never append)."""
    if request is None:
        return "-"
    peer = request.META.get("REMOTE_ADDR", "-")
    if not is_trusted_proxy(peer):
        return peer
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop):
            return hop
    return hops[0] if hops else peer


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
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, settings.LOGIN_THROTTLE_SECONDS // 60)},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            record_failure(username, address)
            raise
        forget(username, address)
        return cleaned
