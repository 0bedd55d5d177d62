"""GP Web Services objects (zeep values as dicts) → the Part B-shaped dicts `connectors.gp.records` parses,
so the flows get the same record types whichever interface GP is reached by; and back for UpdateVendor.

What Web Services does not carry is filled so the flows stay honest: no workflow status on a payables
document (""), no apply lines on a posted payment summary (empty). A payables invoice has no documented
hold flag, so IsOnHold is None ("not known"), never False: the bill flow holds such invoices back unless
the tenant accepted sending without a hold check (`Tenant.send_without_hold_check`). Its open amount is
computed from the documented parts (`open_amount`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from connectors.gp import resource_map as rm

from . import ws_map as ws

Raw = dict[str, Any]


def _id(value: Any) -> str:
    return str((value or {}).get(ws.ID) or "") if isinstance(value, dict) else str(value or "")


def _stamp(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).strftime(rm.STAMP_FORMAT)
    return str(value) if value else None


def _money(value: Any) -> Raw:
    value = value or {}
    return {
        rm.MONEY_VALUE: Decimal(str(value.get(ws.MONEY_VALUE) or 0)),
        rm.MONEY_CURRENCY: value.get(ws.MONEY_CURRENCY) or "USD",
        rm.MONEY_DIGITS: value.get(ws.MONEY_DIGITS) or 2,
    }


def _items(array: Any, name: str) -> list[Raw]:
    return list((array or {}).get(name) or []) if isinstance(array, dict) else []


ADDRESS_FIELDS = {
    ws.Address.CONTACT: rm.Address.CONTACT,
    ws.Address.LINE1: rm.Address.LINE1,
    ws.Address.LINE2: rm.Address.LINE2,
    ws.Address.LINE3: rm.Address.LINE3,
    ws.Address.CITY: rm.Address.CITY,
    ws.Address.STATE: rm.Address.STATE,
    ws.Address.POSTAL_CODE: rm.Address.POSTAL_CODE,
    ws.Address.COUNTRY: rm.Address.COUNTRY,
    ws.Address.EMAIL: rm.Address.EMAIL,
}
VENDOR_FIELDS = {
    ws.Vendor.NAME: rm.Vendor.NAME,
    ws.Vendor.SHORT_NAME: rm.Vendor.SHORT_NAME,
    ws.Vendor.CHECK_NAME: rm.Vendor.CHECK_NAME,
    ws.Vendor.STATUS: rm.Vendor.STATUS,
    ws.Vendor.ON_HOLD: rm.Vendor.ON_HOLD,
    ws.Vendor.TAX_ID: rm.Vendor.TAX_ID,
}
VENDOR_KEYS = {
    ws.Vendor.CLASS: rm.Vendor.CLASS,
    ws.Vendor.TERMS: rm.Vendor.TERMS,
    ws.Vendor.DEFAULT_ADDRESS: rm.Vendor.DEFAULT_ADDRESS,
    ws.Vendor.REMIT_TO_ADDRESS: rm.Vendor.REMIT_TO_ADDRESS,
}


def vendor(v: Raw) -> Raw:
    out: Raw = {
        rm.KEY: {rm.KEY_ID: _id(v.get(ws.KEY))},
        rm.CREATED: _stamp(v.get(ws.CREATED)),
        rm.MODIFIED: _stamp(v.get(ws.MODIFIED)),
    }
    out.update({sba: v.get(w) for w, sba in VENDOR_FIELDS.items()})
    out.update({sba: {rm.KEY_ID: _id(v.get(w))} for w, sba in VENDOR_KEYS.items()})
    out[rm.Vendor.ADDRESSES] = [
        {
            rm.KEY: {rm.KEY_ID: _id(a.get(ws.KEY))},
            rm.Address.PHONE: (a.get(ws.Address.PHONE) or {}).get(ws.Address.PHONE_VALUE),
            **{sba: a.get(w) for w, sba in ADDRESS_FIELDS.items()},
        }
        for a in _items(v.get(ws.Vendor.ADDRESSES), "VendorAddress")
    ]
    return out


def vendor_update(vendor_id: str, fields: Raw) -> Raw:
    """A Part B vendor patch as the `vendor` of UpdateVendor: only the elements to change (others nil)."""
    back = {sba: w for w, sba in VENDOR_FIELDS.items()}
    keys = {sba: w for w, sba in VENDOR_KEYS.items()}
    out: Raw = {ws.KEY: {ws.ID: vendor_id}}
    for name, value in fields.items():
        if name in back:
            out[back[name]] = value
        elif name in keys:
            out[keys[name]] = {ws.ID: _id(value)}
        elif name == rm.Vendor.ADDRESSES:
            address_back = {sba: w for w, sba in ADDRESS_FIELDS.items()}
            addresses = []
            for a in value or []:
                item: Raw = {ws.KEY: {ws.ID: _id(a.get(rm.KEY)) or "PRIMARY"}}
                item.update({address_back[k]: v for k, v in a.items() if k in address_back})
                if rm.Address.PHONE in a:
                    item[ws.Address.PHONE] = {ws.Address.PHONE_VALUE: a[rm.Address.PHONE]}
                addresses.append(item)
            out[ws.Vendor.ADDRESSES] = {"VendorAddress": addresses}
        else:
            raise ValueError(f"GP Web Services cannot change the vendor field {name!r}.")
    return out


def invoice(v: Raw) -> Raw:
    i, w = rm.Invoice, ws.Invoice
    amount = _money(v.get(w.DOCUMENT_AMOUNT))
    state = v.get(w.STATE) or ""
    remaining = dict(amount, **{rm.MONEY_VALUE: open_amount(v)})
    return {
        rm.KEY: {rm.KEY_ID: _id(v.get(ws.KEY))},
        i.VENDOR: {rm.KEY_ID: _id(v.get(w.VENDOR))},
        i.DOCUMENT_TYPE: v.get(w.TYPE) or "Invoice",
        i.DOCUMENT_NUMBER: v.get(w.DOCUMENT_NUMBER) or "",
        i.DESCRIPTION: v.get(w.DESCRIPTION) or "",
        i.DATE: _stamp(v.get(w.DATE)),
        i.DUE_DATE: _stamp((v.get(w.TERMS) or {}).get(w.TERMS_DUE_DATE)),
        i.POSTING_DATE: _stamp(v.get(w.POSTING_DATE)),
        i.BATCH: {rm.KEY_ID: _id(v.get(w.BATCH))},
        i.PO_NUMBER: v.get(w.PO_NUMBER) or "",
        i.CURRENCY: {rm.KEY_ID: (v.get(w.CURRENCY) or {}).get("ISOCode") or "USD"},
        i.DIGITS: amount[rm.MONEY_DIGITS],
        i.PURCHASES: _money(v.get(w.PURCHASES)),
        i.TRADE_DISCOUNT: _money(v.get(w.TRADE_DISCOUNT)),
        i.FREIGHT: _money(v.get(w.FREIGHT)),
        i.MISC: _money(v.get(w.MISC)),
        i.TAX: _money(v.get(w.TAX)),
        i.DOCUMENT_AMOUNT: amount,
        i.REMAINING: remaining,
        i.STATE: state,
        i.WORKFLOW: "",
        i.ON_HOLD: None,
        i.VOIDED: bool(v.get(w.VOIDED)),
        i.DISTRIBUTIONS: [distribution(d) for d in _items(v.get(w.DISTRIBUTIONS), "PayablesDistribution")],
        rm.CREATED: None,
        rm.MODIFIED: _stamp(v.get(ws.MODIFIED)),
    }


def open_amount(v: Raw) -> Decimal:
    """What GP still owes on a PayablesInvoice, from its documented parts: DocumentAmount − TotalPayments
    ("the total of all payments on the document") − WriteoffAmount − Terms.DiscountTakenAmount; 0 when
    voided or in History (fully applied), never below 0. Web Services documents no current (unapplied)
    amount, so a credit memo applied to the voucher is not seen here unless GP counts it in TotalPayments
    (docs/gp_web_services.md)."""
    w = ws.Invoice
    if v.get(w.VOIDED) or (v.get(w.STATE) or "") == "History":
        return Decimal(0)
    taken = (v.get(w.TERMS) or {}).get(w.TERMS_DISCOUNT_TAKEN)
    parts = (v.get(w.TOTAL_PAYMENTS), v.get(w.WRITEOFF), taken)
    left: Decimal = _money(v.get(w.DOCUMENT_AMOUNT))[rm.MONEY_VALUE] - sum(
        (_money(p)[rm.MONEY_VALUE] for p in parts), Decimal(0)
    )
    return max(left, Decimal(0))


def distribution(d: Raw) -> Raw:
    x, w = rm.Distribution, ws.Distribution
    kind: Any = (d.get(w.TYPE) or {}).get(ws.ID)  # GP's number for the type, as the SOAP answer gave it
    return {
        x.ACCOUNT: {rm.KEY_ID: _id(d.get(w.ACCOUNT))},
        x.TYPE: w.TYPES.get(kind, str(kind or "")),
        x.DEBIT: _money(d.get(w.DEBIT)),
        x.CREDIT: _money(d.get(w.CREDIT)),
        x.REFERENCE: d.get(w.REFERENCE) or "",
    }


def posted_payment(v: Raw) -> Raw:
    p, w = rm.Payment, ws.Payment
    return {
        rm.KEY: {rm.KEY_ID: _id(v.get(ws.KEY))},
        p.VENDOR: {rm.KEY_ID: _id(v.get(w.VENDOR))},
        p.CHECKBOOK: {rm.KEY_ID: _id(v.get(w.CHECKBOOK))},
        p.METHOD: "",
        p.DOCUMENT_NUMBER: v.get(w.DOCUMENT_NUMBER) or "",
        p.DATE: _stamp(v.get(w.DATE)),
        p.AMOUNT: _money(v.get(w.AMOUNT)),
        p.BATCH: {rm.KEY_ID: _id(v.get(w.BATCH))},
        p.STATE: v.get(w.STATE) or "",
        p.APPLY_TO: [],
        rm.CREATED: None,
        rm.MODIFIED: _stamp(v.get(ws.MODIFIED)),
    }


def gl_account(v: Raw) -> Raw:
    g, w = rm.GLAccount, ws.GLAccount
    return {
        rm.KEY: {rm.KEY_ID: _id(v.get(ws.KEY))},
        g.DESCRIPTION: v.get(w.DESCRIPTION) or "",
        g.CATEGORY: str((v.get(w.CATEGORY) or {}).get(ws.ID) or ""),
        g.ACTIVE: bool(v.get(w.ACTIVE)),
        g.ALLOW_ENTRY: bool(v.get(w.ALLOW_ENTRY)),
        rm.MODIFIED: _stamp(v.get(ws.MODIFIED)),
    }


def checkbook(v: Raw) -> Raw:
    c, w = rm.Checkbook, ws.Checkbook
    return {
        rm.KEY: {rm.KEY_ID: _id(v.get(ws.KEY))},
        c.DESCRIPTION: v.get(w.DESCRIPTION) or "",
        c.LAST4: "",
        c.CURRENCY: {rm.KEY_ID: (v.get(w.CURRENCY) or {}).get("ISOCode") or ""},
        c.INACTIVE: bool(v.get(w.INACTIVE)),
        rm.MODIFIED: _stamp(v.get(ws.MODIFIED)),
    }
