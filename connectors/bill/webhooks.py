"""Checking BILL's webhook signature: `x-bill-sha-signature` = base64(HMAC-SHA256(securityKey, raw body)).

Always over the raw request bytes (re-serialised JSON would not match), with a constant-time
compare, and closed by default: no stored key or no header means "not from BILL".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SIGNATURE_HEADER = "x-bill-sha-signature"
# The events the connector subscribes to and handles, in one place (subscriptions, the webhook view, the
# fit check): vendors and bills in one subscription, payments in another.
VENDOR_BILL_EVENTS = (
    "vendor.created",
    "vendor.updated",
    "vendor.archived",
    "vendor.restored",
    "bill.created",
    "bill.updated",
    "bill.archived",
    "bill.restored",
)
PAYMENT_EVENTS = ("payment.updated", "payment.failed")
EVENTS = VENDOR_BILL_EVENTS + PAYMENT_EVENTS


def compute_signature(raw_body: bytes, security_key: str) -> str:
    """The header value BILL would send for these bytes under this key."""
    return base64.b64encode(
        hmac.new(security_key.encode("utf-8"), raw_body, hashlib.sha256).digest()
    ).decode()


def verify_signature(raw_body: bytes, header_value: str | None, security_key: str | None) -> bool:
    """True only when the header is the base64 HMAC-SHA256 of exactly `raw_body` under `security_key`."""
    if not security_key or not header_value or not isinstance(raw_body, bytes | bytearray):
        return False
    try:
        given = base64.b64decode(header_value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(security_key.encode("utf-8"), bytes(raw_body), hashlib.sha256).digest()
    return hmac.compare_digest(given, expected)
