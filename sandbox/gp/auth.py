"""Windows auth as SBA does it: NTLM (or Negotiate carrying NTLM) verified for real by pyspnego's
acceptor, one context per TCP connection, and Basic with `DOMAIN\\user` as a second mode.

pyspnego's acceptor looks users up in the file named by the `NTLM_USER_FILE` environment variable at
each handshake, so this module keeps one process-wide file holding the users of every running sandbox
(a user registered twice with different passwords: the latest wins).
"""

from __future__ import annotations

import atexit
import base64
import binascii
import os
import shutil
import struct
import tempfile
import threading
from dataclasses import dataclass, field

import spnego
from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1
from spnego.channel_bindings import GssChannelBindings

_registry: dict[str, str] = {}
_registry_lock = threading.Lock()
_user_dir: str | None = None


def split_account(account: str) -> tuple[str, str]:
    domain, sep, user = account.partition("\\")
    if not sep or not domain or not user:
        raise ValueError(f"account {account!r} must look like DOMAIN\\user")
    return domain, user


def canonical(account: str) -> str:
    domain, user = split_account(account)
    return f"{domain.upper()}\\{user.lower()}"


def register_users(users: dict[str, str]) -> None:
    """Add accounts (DOMAIN\\user -> password) to the process-wide NTLM user file."""
    global _user_dir
    with _registry_lock:
        _registry.update({canonical(a): p for a, p in users.items()})
        if _user_dir is None:
            _user_dir = tempfile.mkdtemp(prefix="gp-sandbox-ntlm-")
            atexit.register(shutil.rmtree, _user_dir, True)
        # smbpasswd lines (hashes, not passwords) so a ':' in a password cannot break the format.
        lines = [
            f"{a}:0:{lmowfv1(p).hex().upper()}:{ntowfv1(p).hex().upper()}:[U]:LCT-00000000"
            for a, p in sorted(_registry.items())
        ]
        path = os.path.join(_user_dir, "users")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(path + ".tmp", path)
        os.environ["NTLM_USER_FILE"] = path


@dataclass
class GPUser:
    account: str  # DOMAIN\user
    password: str
    companies: set[str] | None = None  # None: every company; empty: none (authenticates, then 403)


@dataclass
class ConnectionAuth:
    """Auth state of one TCP connection: the NTLM context in progress, then the proven principal."""

    channel_bindings: GssChannelBindings | None = None
    context: spnego.ContextProxy | None = None
    principal: str | None = None
    scheme: str = "NTLM"
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AuthStep:
    """What to answer: `principal` when proven, else a 401 carrying `challenge` (if any)."""

    principal: str | None = None
    challenge: str | None = None  # full WWW-Authenticate value for NTLM leg 2
    reason: str = ""


def step(conn: ConnectionAuth, header: str | None, users: dict[str, GPUser]) -> AuthStep:
    """Advance authentication with this request's Authorization header."""
    if not header:
        if conn.principal:  # NTLM authenticates the connection, as IIS does by default
            return AuthStep(principal=conn.principal)
        return AuthStep(reason="no credentials")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "basic":
        return _basic(token.strip(), users)
    if scheme.lower() not in ("ntlm", "negotiate"):
        return AuthStep(reason=f"unsupported scheme {scheme}")
    try:
        raw = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return AuthStep(reason="token is not base64")
    if not raw.startswith(b"NTLMSSP\x00") or len(raw) < 12:
        return AuthStep(reason="only NTLM tokens are accepted (no Kerberos here)")
    kind = struct.unpack("<I", raw[8:12])[0]
    if kind == 1:
        conn.principal, conn.scheme = None, scheme
        conn.context = spnego.server(protocol="ntlm", channel_bindings=conn.channel_bindings)
        challenge = conn.context.step(raw)
        return AuthStep(challenge=f"{scheme} {base64.b64encode(challenge or b'').decode()}")
    if kind == 3 and conn.context is not None:
        context, conn.context = conn.context, None
        try:
            context.step(raw)
        except spnego.exceptions.SpnegoError as exc:
            return AuthStep(reason=f"NTLM rejected: {exc.message}")
        principal = canonical(context.client_principal or "")
        if principal not in users:
            return AuthStep(reason="account is not a user of this server")
        conn.principal = principal
        return AuthStep(principal=principal)
    return AuthStep(reason="unexpected NTLM message")


def _basic(token: str, users: dict[str, GPUser]) -> AuthStep:
    try:
        account, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        principal = canonical(account)
    except (binascii.Error, ValueError):
        return AuthStep(reason="malformed Basic credentials")
    user = users.get(principal)
    if user is None or user.password != password:
        return AuthStep(reason="wrong user name or password")
    return AuthStep(principal=principal)
