"""What a connection's address may be, and what happens to its secrets when the address changes.

- **Addresses**: https only (plain http only where `CONNECTION_ALLOW_HTTP` says so: the local
  sandboxes, tests, the demo); no user name or password inside the URL (`https://gateway.prod.bill.com@evil/`
  reads as host `evil`); no link-local, cloud-metadata or unspecified address (169.254.169.254 and
  friends answer with the server's own cloud credentials), whether typed or what the name resolves to.
- **BILL hosts**: BILL's own gateways only — `gateway.stage.bill.com` (sandbox) and
  `gateway.prod.bill.com` (production), as BILL's API reference gives them — plus any host listed in
  `BILL_EXTRA_HOSTS` (the local sandbox). A BILL password and developer key are sent to this host.
- **Secrets stay bound to where they were entered**: when the endpoint or identity of a connection
  changes (base URL, organization, user; GP host, tenant, company, domain, account, certificate
  checks or CA bundle), the stored
  password and developer key are not carried over: the form asks for them again, and the cached BILL
  session is dropped. Otherwise whoever may edit a connection could point it at a listener and
  press "Test connection" to read secrets they were never shown.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

BILL_GATEWAY_HOSTS = frozenset({"gateway.stage.bill.com", "gateway.prod.bill.com"})
# Names that answer with the host's cloud credentials whatever address they resolve to.
METADATA_HOSTS = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
)
# Metadata services outside 169.254.0.0/16: AWS IPv6, Alibaba, Oracle's second address.
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
        ipaddress.ip_address("192.0.0.192"),
    }
)

# Fields whose change means "another endpoint or another identity": secrets are entered again.
IDENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    # Turning certificate checks off or trusting another CA changes who can receive the sign-in too.
    "GPConnection": (
        "base_url",
        "web_services_url",
        "gp_tenant",
        "company",
        "domain",
        "username",
        "verify_tls",
        "ca_bundle_pem",
    ),
    "BillConnection": ("environment", "api_base_url", "webhook_api_base_url", "organization_id", "username"),
}
# Secrets a person types; they must be typed again after an identity change.
RETYPED_SECRETS: dict[str, tuple[str, ...]] = {
    "GPConnection": ("password",),
    "BillConnection": ("password", "dev_key"),
}


def _forbidden_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_link_local or ip.is_unspecified or ip.is_multicast or ip in METADATA_ADDRESSES


def _resolved(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses `host` stands for now: itself when it is an address, else what DNS says (none
    when it does not resolve from here: the connection test will say so)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    out = []
    for info in infos:
        try:
            out.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
        except ValueError:
            continue
    return out


def check_url(url: str, *, bill: bool = False) -> None:
    """Raise a ValidationError naming what is wrong with a connection address, in plain words."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise ValidationError("This is not a web address.", code="invalid") from None
    allowed = ("https", "http") if settings.CONNECTION_ALLOW_HTTP else ("https",)
    if parts.scheme.lower() not in allowed:
        raise ValidationError(
            "The address must start with https:// (the connection carries passwords).", code="scheme"
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError(
            "The address must not contain a user name or password (no '@'); enter them in their own fields.",
            code="userinfo",
        )
    if not host:
        raise ValidationError("The address has no host name.", code="host")
    if parts.query or parts.fragment:
        raise ValidationError("The address must not contain '?' or '#'.", code="query")
    if host in METADATA_HOSTS or any(_forbidden_address(ip) for ip in _resolved(host)):
        raise ValidationError(
            "This address is a link-local or cloud metadata address, not a GP or BILL server.",
            code="link_local",
        )
    if bill and host not in BILL_GATEWAY_HOSTS | {h.lower() for h in settings.BILL_EXTRA_HOSTS}:
        raise ValidationError(
            "BILL's address must be one of BILL's gateways: https://gateway.prod.bill.com/… (production) "
            "or https://gateway.stage.bill.com/… (sandbox).",
            code="bill_host",
        )


def address_problem(url: str, *, bill: bool = False) -> str:
    """What is wrong with a saved address, in words, or "" when it may be called.

    The clients ask this each time they are built from a saved connection, not only the admin form:
    a row written some other way (a data import, a shell, an older release), a setting changed since,
    or a host name that now resolves to a metadata address must not receive a password either."""
    try:
        check_url(url, bill=bill)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return ""


def identity_changed(model_name: str, changed_fields: list[str]) -> list[str]:
    """The identity fields among those a form changed."""
    return [f for f in IDENTITY_FIELDS.get(model_name, ()) if f in changed_fields]
