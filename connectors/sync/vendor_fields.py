"""The vendor fields kept aligned between GP and BILL, in one canonical shape for both sides."""

from __future__ import annotations

from typing import Any

from audit.words import as_text as as_text  # lives with the other words people read; re-exported
from connectors.gp.records import GPVendor

ALIGNED_FIELDS = ("name", "email", "phone", "address", "tax_id")
_COUNTRY_3_TO_2 = {"USA": "US", "CAN": "CA", "MEX": "MX", "GBR": "GB"}


def clean(value: Any, limit: int | None = None) -> str:
    """One line of printable text: GP allows newlines and padding that BILL should never see."""
    text = " ".join(str(value or "").split())
    return text[:limit] if limit else text


def country2(code: str) -> str:
    code = clean(code).upper()
    return _COUNTRY_3_TO_2.get(code, code)


def from_gp(vendor: GPVendor) -> dict[str, Any]:
    return {
        "name": clean(vendor.name, 100),
        "email": clean(vendor.email).lower(),
        "phone": clean(vendor.phone),
        "address": {
            "line1": clean(vendor.line1),
            "line2": clean(vendor.line2),
            "city": clean(vendor.city),
            "state": clean(vendor.state),
            "zip": clean(vendor.postal_code),
            "country": country2(vendor.country) or "US",
        },
        "tax_id": clean(vendor.tax_id),
    }


def from_bill(raw: dict[str, Any]) -> dict[str, Any]:
    address = raw.get("address") or {}
    return {
        "name": clean(raw.get("name"), 100),
        "email": clean(raw.get("email")).lower(),
        "phone": clean(raw.get("phone")),
        "address": {
            "line1": clean(address.get("line1")),
            "line2": clean(address.get("line2")),
            "city": clean(address.get("city")),
            "state": clean(address.get("stateOrProvince")),
            "zip": clean(address.get("zipOrPostalCode")),
            "country": country2(address.get("country") or "") or "US",
        },
        "tax_id": clean((raw.get("additionalInfo") or {}).get("taxId")),
    }


def bill_body(aligned: dict[str, Any], fields: tuple[str, ...] | set[str] = ALIGNED_FIELDS) -> dict[str, Any]:
    """The BILL vendor create/PATCH body for the given aligned fields."""
    body: dict[str, Any] = {}
    if "name" in fields:
        body["name"] = aligned["name"]
    if "email" in fields and aligned["email"]:
        body["email"] = aligned["email"]
    if "phone" in fields and aligned["phone"]:
        body["phone"] = aligned["phone"]
    if "address" in fields:
        a = aligned["address"]
        body["address"] = {
            "line1": a["line1"],
            "line2": a["line2"],
            "city": a["city"],
            "stateOrProvince": a["state"],
            "zipOrPostalCode": a["zip"],
            "country": a["country"],
        }
    if "tax_id" in fields and aligned["tax_id"]:
        body["additionalInfo"] = {"taxId": aligned["tax_id"]}
    return body


def gp_address_key(vendor: GPVendor) -> str:
    """The GP address the aligned fields live on: remit-to (where payments go), else the default."""
    raw = vendor.raw or {}
    for name in ("RemitToAddressKey", "DefaultAddressKey"):
        key = raw.get(name)
        key = key.get("Id") if isinstance(key, dict) else key
        if key:
            return str(key).strip()
    return "PRIMARY"


def gp_patch(aligned: dict[str, Any], fields: set[str], address_key: str) -> dict[str, Any]:
    """The GP vendor PATCH body (GP's field names) for the given aligned fields."""
    body: dict[str, Any] = {}
    if "name" in fields:
        body["Name"] = aligned["name"][:64]
    if "tax_id" in fields:
        body["TaxIdNumber"] = aligned["tax_id"]
    address_fields = {"email", "phone", "address"} & fields
    if address_fields:
        a = aligned["address"]
        address: dict[str, Any] = {"Key": {"Id": address_key}}
        if "address" in fields:
            address.update(
                {
                    "Line1": a["line1"],
                    "Line2": a["line2"],
                    "City": a["city"],
                    "State": a["state"],
                    "PostalCode": a["zip"],
                    "CountryCode": a["country"],
                }
            )
        if "email" in fields:
            address["Email"] = aligned["email"]
        if "phone" in fields:
            address["Phone1"] = aligned["phone"]
        body["Addresses"] = [address]
    return body


def changed_fields(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
    return {f for f in ALIGNED_FIELDS if a.get(f) != b.get(f)}


# How each aligned field is named to a finance user. The GP address we align is the remit-to one.
FIELD_LABELS = {
    "name": "name",
    "email": "e-mail",
    "phone": "phone",
    "address": "remit address",
    "tax_id": "tax ID",
}


NESTED = ("address", "additionalInfo")


def bill_patch(
    current: dict[str, Any], aligned: dict[str, Any], fields: tuple[str, ...] | set[str]
) -> dict[str, Any]:
    """The BILL vendor PATCH body with every nested object sent whole: as read from BILL (`current`,
    the vendor's raw JSON) with our change applied. BILL may replace a nested object given in a PATCH
    rather than merge it, so sending `additionalInfo: {taxId}` alone would wipe the 1099 flag, and an
    address without BILL's other keys would lose them."""
    body = bill_body(aligned, fields)
    for key in NESTED:
        if key in body:
            body[key] = {**(current.get(key) or {}), **body[key]}
    return body


def kept_after_patch(sent: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What BILL's vendor (read back) does not hold of what we sent: dotted names, empty when all is kept."""
    lost = []
    for key, value in sent.items():
        if isinstance(value, dict):
            held = now.get(key)
            held = held if isinstance(held, dict) else {}
            lost += [f"{key}.{k}" for k, v in value.items() if v not in ("", None) and held.get(k) != v]
        elif value not in ("", None) and now.get(key) != value:
            lost.append(key)
    return lost
