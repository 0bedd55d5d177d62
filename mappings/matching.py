"""Rank BILL candidates for an unmapped GP vendor or account, and say why each was suggested."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher

_SUFFIXES = {
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "co",
    "corp",
    "corporation",
    "company",
    "the",
    "plc",
    "lp",
}
MIN_SCORE = Decimal("0.35")


@dataclass(frozen=True)
class Party:
    """The facts matching needs about a vendor on either side."""

    id: str
    name: str
    email: str = ""
    tax_id: str = ""
    line1: str = ""
    postal_code: str = ""


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    number: str = ""


@dataclass(frozen=True)
class Candidate:
    bill_id: str
    bill_name: str
    score: Decimal
    reasons: tuple[str, ...]


def normalise_name(name: str) -> str:
    text = (
        unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().replace("&", " and ")
    )
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in _SUFFIXES]
    return " ".join(words)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def _norm(value: str) -> str:
    return re.sub(r"\s+", " ", (value or "").strip().lower())


def _name_score(gp_name: str, bill_name: str, same: Decimal, similar: float) -> tuple[Decimal, str | None]:
    """Points for the same normalised name, or fewer for a similar one (with its percentage)."""
    a, b = normalise_name(gp_name), normalise_name(bill_name)
    if a and a == b:
        return same, "same name"
    if a and b:
        ratio = SequenceMatcher(None, a, b).ratio()
        if ratio >= 0.6:
            return Decimal(str(round(ratio * similar, 3))), f"similar name ({round(ratio * 100)}%)"
    return Decimal(0), None


def score_vendor(gp: Party, bill: Party) -> Candidate:
    score = Decimal(0)
    reasons: list[str] = []
    if _digits(gp.tax_id) and _digits(gp.tax_id) == _digits(bill.tax_id):
        score += Decimal("0.6")
        reasons.append("same tax ID")
    if _norm(gp.email) and _norm(gp.email) == _norm(bill.email):
        score += Decimal("0.3")
        reasons.append("same e-mail")
    points, reason = _name_score(gp.name, bill.name, Decimal("0.5"), 0.4)
    score += points
    reasons += [reason] if reason else []
    if (
        _norm(gp.line1)
        and _norm(gp.line1) == _norm(bill.line1)
        and _digits(gp.postal_code) == _digits(bill.postal_code)
    ):
        score += Decimal("0.2")
        reasons.append("same address")
    return Candidate(bill.id, bill.name, min(score, Decimal(1)).quantize(Decimal("0.001")), tuple(reasons))


def rank_vendors(gp: Party, candidates: list[Party], limit: int = 5) -> list[Candidate]:
    scored = [score_vendor(gp, c) for c in candidates]
    good = [c for c in scored if c.score >= MIN_SCORE]
    return sorted(good, key=lambda c: (-c.score, c.bill_name))[:limit]


def main_segment(account_string: str) -> str:
    """GP account strings look like 000-6100-00: the natural account is the longest segment."""
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", account_string) if p]
    return max(parts, key=len) if parts else account_string


def _share_a_word(a: str, b: str) -> bool:
    return bool(set(normalise_name(a).split()) & set(normalise_name(b).split()))


def score_account(gp: Account, bill: Account) -> Candidate:
    """The same number counts only when the names do not contradict it: two charts of accounts
    number independently, so GP's 000-6500-00 Freight In is not BILL's 6500 Professional Fees."""
    score = Decimal(0)
    reasons: list[str] = []
    points, reason = _name_score(gp.name, bill.name, Decimal("0.3"), 0.25)
    number = bill.number.strip()
    names_agree = bool(points) or not (gp.name and bill.name) or _share_a_word(gp.name, bill.name)
    if number and (number == gp.id or number == main_segment(gp.id)) and names_agree:
        score += Decimal("0.7")
        reasons.append("same account number")
    score += points
    reasons += [reason] if reason else []
    return Candidate(bill.id, bill.name, min(score, Decimal(1)).quantize(Decimal("0.001")), tuple(reasons))


def rank_accounts(gp: Account, candidates: list[Account], limit: int = 5) -> list[Candidate]:
    scored = [score_account(gp, c) for c in candidates]
    good = [c for c in scored if c.score >= MIN_SCORE]
    return sorted(good, key=lambda c: (-c.score, c.bill_name))[:limit]


@dataclass(frozen=True)
class Classification:
    """A BILL department, location or accounting class as matching sees it (short name = its code)."""

    id: str
    name: str
    short_name: str = ""


def score_classification(value: str, description: str, bill: Classification) -> Candidate:
    """A GP segment value against one BILL classification: the same code (BILL's short name, or a name
    that is just the code) is strong; a GP description like the BILL name adds to it."""
    score = Decimal(0)
    reasons: list[str] = []
    code = value.strip().lower()
    if code and bill.short_name.strip().lower() == code:
        score += Decimal("0.7")
        reasons.append("same code")
    elif code and bill.name.strip().lower() == code:
        score += Decimal("0.6")
        reasons.append("name is the code")
    if description:
        points, reason = _name_score(description, bill.name, Decimal("0.5"), 0.4)
        score += points
        reasons += [reason] if reason else []
    return Candidate(bill.id, bill.name, min(score, Decimal(1)).quantize(Decimal("0.001")), tuple(reasons))


def rank_classifications(
    value: str, description: str, candidates: list[Classification], limit: int = 5
) -> list[Candidate]:
    scored = [score_classification(value, description, c) for c in candidates]
    good = [c for c in scored if c.score >= MIN_SCORE]
    return sorted(good, key=lambda c: (-c.score, c.bill_name))[:limit]


def means_none(value: str) -> bool:
    """A segment value of zeros (00, 000) is how GP companies usually say 'no department/location'."""
    return bool(value) and set(value) == {"0"}
