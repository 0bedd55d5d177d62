"""Every state, outcome, flow and tally code in a finance clerk's words: the one place that maps them.

The record page, its trail, the job page, the dashboard and the alert e-mail all read these, so
a code such as `in_doubt`, `updated_gp` or `gp_bills` never reaches a page. A code nobody mapped
yet still reads as words ("some new code" rather than `some_new_code`), never as the raw code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .models import State, Trigger

STATE_WORDS: dict[str, str] = dict(State.choices)
TRIGGER_WORDS: dict[str, str] = dict(Trigger.choices)

# What one attempt in the trail did.
OUTCOME_WORDS: dict[str, str] = {
    "created": "Created",
    "updated": "Updated",
    "updated_gp": "Updated in GP",
    "unchanged": "Nothing to change",
    "adopted": "Found already in BILL and linked",
    "already_in_gp": "Found already in GP",
    "archived": "Archived in BILL (GP vendor on hold or inactive)",
    "blocked": "Waiting for a mapping or GP",
    "conflict": "Changed on both sides",
    "flagged": "Needs a person",
    "linked": "Linked",
    "parked": "Parked until GP or BILL allows it",
    "resolved": "A person chose which value to keep",
    "resumed": "Sync again chosen",
    "skipped": "Don't sync chosen",
    "not_skipped": "Don't sync not applied: the record changed meanwhile",
    "replayed": "Replayed",
    "reversed": "Reversed",
    "applied": "Applied to the GP invoice",
    "error": "Error",
    **{
        code: words
        for code, words in STATE_WORDS.items()
        if code not in ("blocked", "conflict", "flagged", "skipped")
    },
}

FLOW_WORDS: dict[str, str] = {
    "gp_vendors": "GP vendors → BILL",
    "gl_accounts": "GP accounts → BILL",
    "classifications": "GP segment values → BILL departments, locations, classes",
    "gp_bills": "GP invoices → BILL bills",
    "bill_payments": "BILL payments → GP",
    "bill_vendors": "BILL vendor changes → GP",
    "vendor_link": "Vendor match approved",
    "vendor_conflict": "Vendor field choice",
    "manual": "A person's action",
    "replay": "Replay",
    "gp_to_bill": "GP → BILL",
    "bill_to_gp": "BILL → GP",
}

# Run tallies ("bill_created": 19) as sentences: the thing counted, then what happened to it.
TALLY_NOUNS: dict[str, tuple[str, str]] = {
    "bill": ("bill", "bills"),
    "vendor": ("vendor", "vendors"),
    "gp_vendor": ("BILL vendor", "BILL vendors"),
    "account": ("account", "accounts"),
    "payment": ("payment", "payments"),
    "credit_apply": ("credit use", "credit uses"),
    "credit": ("vendor credit", "vendor credits"),
}
TALLY_PHRASES: dict[str, str] = {
    "bill_created": "sent to BILL",
    "bill_updated": "updated in BILL",
    "bill_adopted": "found already in BILL",
    "bill_ignored": "not approved in GP yet (left alone)",
    "bill_blocked": "waiting for a mapping or GP",
    "vendor_created": "created in BILL",
    "vendor_updated": "updated in BILL",
    "vendor_suggested": "waiting for a vendor match review",
    "vendor_rejected": "rejected by finance (not synced)",
    "gp_vendor_updated": "changed in BILL and written to GP",
    "gp_vendor_unchanged": "checked, nothing new to write to GP",
    "gp_vendor_failed": "not taken by GP (will retry)",
    "account_created": "created in BILL",
    "payment_applied": "applied in GP",
    "payment_blocked": "waiting for a checkbook mapping or GP posting",
    "payment_parked": "parked (no GP invoice to apply to)",
    "payment_reversed": "reversed in GP",
    "payment_credit_only": "paid wholly with vendor credits (nothing to pay in GP)",
    "credit_created": "sent to BILL",
    "credit_adopted": "found already in BILL",
    "credit_ignored": "not approved in GP yet (left alone)",
    "credit_brought_down": "brought down in BILL (GP applied part outside BILL)",
    "credit_archived": "archived in BILL (used up or voided in GP)",
    "credit_double_use_risk": "flagged: used in BILL and in GP",
    "credit_applied": "applied in GP (credit memo to the invoice)",
    "credit_apply_parked": "needing a person to apply the credit memo in GP",
    "unchanged": "unchanged",
    "failed": "failed (will retry)",
    "in_doubt": "with an unknown outcome (checked before any retry)",
    "flagged": "needing a person",
    "conflict": "changed on both sides",
    "archived": "archived in BILL (GP vendor on hold or inactive)",
    "parked": "parked until GP or BILL allows it",
    "blocked": "waiting for a mapping or GP",
}


def _humanise(code: str) -> str:
    """some_code / someCode → "Some code"."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(code)).replace("_", " ").strip()
    words = [w if w.isupper() and len(w) > 1 else w.lower() for w in text.split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def state_words(code: str) -> str:
    return STATE_WORDS.get(code, _humanise(code))


def outcome_words(code: str) -> str:
    return OUTCOME_WORDS.get(code, _humanise(code))


def flow_words(code: str) -> str:
    return FLOW_WORDS.get(code, _humanise(code))


def trigger_words(code: str) -> str:
    return TRIGGER_WORDS.get(code, _humanise(code))


def _split_tally(key: str) -> tuple[str, str]:
    for noun in sorted(TALLY_NOUNS, key=len, reverse=True):
        if key.startswith(noun + "_"):
            return noun, key[len(noun) + 1 :]
    return "", key


def tally_sentence(tally: Mapping[str, Any]) -> str:
    """{"bill_created": 19, "bill_unchanged": 2, "payment_blocked": 1} →
    "19 bills sent to BILL, 2 unchanged, 1 payment waiting for a checkbook mapping or GP posting."."""
    if not isinstance(tally, Mapping):
        return "Nothing to do."
    parts: list[str] = []
    last_noun = None
    # By key: the same sentence on any database (PostgreSQL's jsonb keeps no key order), one noun's
    # counts together ("bill_*", then "payment_*", ...).
    for key, count in sorted(tally.items()):
        if not isinstance(count, int) or not count:
            continue
        noun, what = _split_tally(key)
        phrase = TALLY_PHRASES.get(key) or TALLY_PHRASES.get(what) or what.replace("_", " ")
        if noun and noun != last_noun:
            singular, plural = TALLY_NOUNS[noun]
            parts.append(f"{count} {singular if count == 1 else plural} {phrase}")
        else:
            parts.append(f"{count} {phrase}" if noun else f"{count} {_humanise(key).lower()}")
        last_noun = noun
    return (", ".join(parts) + ".") if parts else "Nothing to do."


def states_sentence(by_state: Mapping[str, Any]) -> str:
    """Where a replay left its records: "3 records synced, 1 waiting for a mapping or GP."."""
    if not isinstance(by_state, Mapping):
        return "No records."
    parts = [f"{n} {_lower_first(state_words(s))}" for s, n in sorted(by_state.items()) if n]
    if not parts:
        return "No records."
    total = sum(n for n in by_state.values() if isinstance(n, int))
    return f"{total} record{'s' if total != 1 else ''}: " + ", ".join(parts) + "."


ADDRESS_KEYS = frozenset({"line1", "line2", "city", "state", "zip", "country"})


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


# Symbols a clerk reads before the amount; other currencies are written "1,234.56 CHF".
CURRENCY_SIGNS = {
    "USD": "$",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "MXN": "MX$",
}
NO_CENTS = frozenset({"JPY", "KRW", "CLP", "ISK"})


def money_text(value: Any, currency: str = "USD") -> str:
    """An amount as AP reads it: "$7,091.52", "-$12.00", "€310.00", "1,234.56 CHF"; "" for none."""
    if value is None or value == "":
        return ""
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    code = (currency or "USD").upper()
    digits = 0 if code in NO_CENTS else 2
    number = f"{abs(amount):,.{digits}f}"
    sign = "-" if amount < 0 else ""
    if code in CURRENCY_SIGNS:
        return f"{sign}{CURRENCY_SIGNS[code]}{number}"
    return f"{sign}{number} {code}"


def money_sum_text(totals: dict[str, Decimal]) -> str:
    """Sums kept apart per currency, never added across them: "$1,200.00 + €300.00" (US dollars first)."""
    order = sorted(totals, key=lambda code: (code != "USD", code))
    return " + ".join(money_text(totals[code], code) for code in order)


def as_text(value: Any) -> str:
    """An aligned value as a person reads it: an address on one line, never a Python dict."""
    if isinstance(value, dict):
        a = value
        place = " ".join(p for p in (a.get("state", ""), a.get("zip", "")) if p)
        parts = [a.get("line1", ""), a.get("line2", ""), a.get("city", ""), place, a.get("country", "")]
        if not any(parts[:4]):
            return ""
        return ", ".join(p for p in parts if p)
    return "" if value is None else str(value)


def readable(value: Any) -> str:
    """Any stored value as a person reads it: an address on one line, amounts with separators,
    other mappings as "name: value" pairs, lists joined; never a Python repr."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return money(value) if isinstance(exponent, int) and exponent >= -2 else f"{value:,f}"
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Mapping):
        if value and set(value) <= ADDRESS_KEYS:
            return as_text(dict(value))
        # Alphabetical: PostgreSQL's jsonb keeps no key order, and a page must read the same on any database.
        return "; ".join(f"{_humanise(k)}: {readable(v)}" for k, v in sorted(value.items()) if readable(v))
    if isinstance(value, list | tuple | set):
        return "; ".join(t for t in (readable(v) for v in value) if t)
    return str(value)


KIND_NOUNS: dict[str, tuple[str, str]] = {
    "bill": ("invoice", "invoices"),
    "vendor": ("vendor", "vendors"),
    "gl_account": ("GL account", "GL accounts"),
    "gp_payment": ("payment", "payments"),
    "classification": ("department/location/class", "departments/locations/classes"),
    "vendor_credit": ("credit memo", "credit memos"),
    "credit_apply": ("credit use", "credit uses"),
}


def records_sentence(records: list[Any]) -> str:
    """Records grouped by kind and state: "2 invoices waiting for a mapping or GP, 1 vendor changed on both
    sides"."""
    from collections import Counter

    counts = Counter((r.kind, r.state) for r in records)
    parts = []
    for (kind, state), n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        singular, plural = KIND_NOUNS.get(kind, ("record", "records"))
        parts.append(f"{n} {singular if n == 1 else plural} {_lower_first(state_words(state))}")
    return ", ".join(parts)
