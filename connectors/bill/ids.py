"""BILL identifiers: what one looks like, and the one way an ID is put into a BILL URL path.

BILL IDs are BILL-generated letters and digits, 20 characters in practice, whose first three
characters name the object type (BILL's v3 reference: organizations `008…`, vendors `009…`, bills
`00n…`, payments `stp…`, chart-of-accounts entries `0ca…`; webhook samples add `0de…` departments,
`loc…` locations and `cls…` accounting classes). Webhook subscription IDs are UUIDs, and BILL's own
test events use IDs such as `test-bill-id`, so the general pattern also allows `-` and `_` after the
first character.

An ID from anywhere outside this process — a person, an import file, a webhook, even our own
database — is checked against the pattern before it is used, and every ID placed in a path goes
through `path_id`, which checks it and percent-encodes it: `../bills/00n…` can never become another
endpoint.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from .http import BillError

BILL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,59}")
# Prefixes BILL documents for the objects a person may name in a mapping.
PREFIXES = {
    "vendor": "009",
    "bill": "00n",
    "payment": "stp",
    "chart_of_accounts": "0ca",
    "organization": "008",
    "department": "0de",
    "location": "loc",
    "accounting_class": "cls",
}
KIND_WORDS = {
    "vendor": "BILL vendor ID",
    "chart_of_accounts": "BILL chart-of-accounts ID",
    "department": "BILL department ID",
    "location": "BILL location ID",
    "accounting_class": "BILL accounting class ID",
    "funding_account": "BILL funding account ID",
    "bill": "BILL bill ID",
    "payment": "BILL payment ID",
}


class InvalidBillId(ValueError):
    """An identifier that is not a BILL ID (or not one of the expected kind); the message says why."""


def is_bill_id(value: object, kind: str | None = None) -> bool:
    if not isinstance(value, str) or not BILL_ID.fullmatch(value):
        return False
    return kind not in PREFIXES or value.startswith(PREFIXES[kind])


def check_bill_id(value: object, kind: str | None = None) -> str:
    """`value` when it is a BILL ID (of `kind`, when BILL documents that kind's prefix), else
    InvalidBillId."""
    if is_bill_id(value, kind):
        return str(value)
    word = KIND_WORDS.get(kind or "", "BILL ID")
    shown = str(value)[:40]
    if kind in PREFIXES and isinstance(value, str) and BILL_ID.fullmatch(value):
        raise InvalidBillId(f"'{shown}' is not a {word}: those start with {PREFIXES[kind]}.")
    raise InvalidBillId(
        f"'{shown}' is not a {word}: BILL IDs are letters and digits only, "
        f"like {PREFIXES.get(kind or '', '009')}02ABCDEFGHIJKLMN."
    )


def path_id(value: object) -> str:
    """The one way an ID enters a BILL URL path: checked, then percent-encoded (nothing is left to
    encode in a valid ID; the encoding is the second lock)."""
    if not is_bill_id(value):
        raise BillError(f"Refused to call BILL with {str(value)[:40]!r} in the address: it is not a BILL ID.")
    return quote(str(value), safe="")
