"""The GP half of the fit check: read-only GETs that say whether this GP server fits the resource map.

It probes each resource raw (envelope, field names, vocabularies, whether ModifiedDate carries a time),
proposes resource map overrides for what differs, then reads everything with those settings to count
what the first sync would meet. It never POSTs, PATCHes or posts a batch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from connectors.gp import resource_map as rm
from connectors.gp.client import GPClient, explain
from connectors.gp.http import GPError
from connectors.gp.records import GPGLAccount, GPInvoice, GPVendor, moment
from connectors.gp.resource_map import GPShapeError, Shape, describe
from connectors.gp.soap.client import GPWSClient
from connectors.gp.transport import AUTO, NO_PAYMENT_WRITE_BACK, SBA, WEB_SERVICES
from connectors.sync.gp_to_bill.bill_payload import is_approved

from . import gp_ws_side
from .problems import BLOCKER, PARKED, WARNING, Problems

# What the connector uses, and whether it writes there (payments back, batches posted, vendors patched).
NEEDED = {
    rm.VENDORS: "GET, PATCH",
    rm.PAYABLES_INVOICES: "GET",
    rm.PAYABLES_PAYMENTS: "GET, POST",
    rm.GL_ACCOUNTS: "GET",
    rm.CHECKBOOKS: "GET",
    "PostingServices/System/Batches": "POST",
}
# Fields each record must carry for the flows (Part B names, after the resource map's vocabularies).
REQUIRED = {
    rm.VENDORS: (rm.KEY, rm.Vendor.NAME, rm.Vendor.ON_HOLD, rm.MODIFIED),
    rm.PAYABLES_INVOICES: (
        rm.KEY,
        rm.Invoice.VENDOR,
        rm.Invoice.DOCUMENT_NUMBER,
        rm.Invoice.DOCUMENT_AMOUNT,
        rm.Invoice.REMAINING,
        rm.Invoice.STATE,
        rm.Invoice.DISTRIBUTIONS,
        rm.MODIFIED,
    ),
    rm.PAYABLES_PAYMENTS: (rm.KEY, rm.Payment.VENDOR, rm.Payment.AMOUNT, rm.Payment.APPLY_TO, rm.MODIFIED),
    rm.GL_ACCOUNTS: (rm.KEY, rm.GLAccount.ACTIVE, rm.GLAccount.ALLOW_ENTRY),
    rm.CHECKBOOKS: (rm.KEY, rm.Checkbook.INACTIVE),
}
PROBE_ROWS = 50
# Causes that park a bill for a person; inactive accounts wait for their mapping, duplicates still go.
PARKED_CAUSES = ("zero_or_negative", "other_currency", "missing_ap_account")
_HELP_RESOURCE = re.compile(
    r"\b((?:Purchasing|Financials|PostingServices|Administration)/[A-Za-z]+(?:/[A-Za-z]+)*)"
)


@dataclass
class GPFacts:
    """What the GP half found (the plan reads the records, the page and JSON the rest)."""

    report: dict[str, Any] = field(default_factory=dict)
    proposed: dict[str, Any] = field(default_factory=dict)
    vendors: list[GPVendor] = field(default_factory=list)
    invoices: list[GPInvoice] = field(default_factory=list)
    accounts: dict[str, GPGLAccount] = field(default_factory=dict)
    parked_vouchers: set[str] = field(
        default_factory=set
    )  # approved invoices the first sync parks for a person
    readable: bool = False


def check_gp(conn: Any, tenant: Any, problems: Problems, org_currency: str = "USD") -> GPFacts:
    """Ask SBA and GP Web Services which answers, then read through the one this connection uses."""
    facts = GPFacts()
    shape = conn.resource_shape()
    configured = getattr(conn, "interface", SBA) or SBA
    client = GPClient.for_connection(conn, shape=shape)
    soap = _soap_probe(conn, configured)
    reader: GPWSClient | None = None
    try:
        report = facts.report
        report["interface"] = _interface(conn, configured, client, soap, problems)
        used = report["interface"]["used"]
        if soap is not None and report["interface"]["web_services"] == "answers":
            report["web_services"] = {
                "operations": gp_ws_side.operations(soap, problems if used == WEB_SERVICES else None),
                "companies": gp_ws_side.companies(soap, conn.company),
            }
        if used == WEB_SERVICES:
            reader = GPWSClient.for_connection(conn)
            _check_web_services(reader, tenant, facts, problems, org_currency)
            return facts
        if used != SBA:
            return facts
        report["companies"] = _companies(client, conn)
        report["resources"] = _resources(client, problems)
        report["records"] = _records(client, shape, facts.proposed, problems, report["resources"]["listed"])
        report["modified_date"] = report["records"].pop("_modified_date")
        if facts.proposed:
            shape = Shape.from_overrides({**shape.differences(), **facts.proposed})
            client.shape = shape
        report["resource_map"] = {"in_force": conn.resource_shape().differences(), "proposed": facts.proposed}
        _read_all(client, tenant, facts, problems, org_currency)
    finally:
        for open_client in (client, soap, reader):
            if open_client is not None:
                open_client.close()
    return facts


def _soap_probe(conn: Any, configured: str) -> GPWSClient | None:
    """A one-try Web Services client, when this connection uses or names GP Web Services (an SBA
    connection without a Web Services URL is not probed at a guessed address: it could only time out)."""
    if configured == SBA and not (getattr(conn, "web_services_url", "") or "").strip():
        return None
    return GPWSClient.for_connection(conn, max_tries=1)


def _interface(
    conn: Any, configured: str, sba: GPClient, soap: GPWSClient | None, problems: Problems
) -> dict[str, Any]:
    """Which interface answers, and which one the fit check (and the sync) reads through."""
    sba_problem = sba.test_connection() if (conn.base_url or "").strip() else "not checked: no SBA URL"
    soap_problem = (
        soap.test_connection()
        if soap is not None
        else ("not checked: this connection uses SBA and names no GP Web Services URL")
    )
    sba_ok, soap_ok = sba_problem is None, soap is not None and soap_problem is None
    used = {
        SBA: SBA if sba_ok else None,
        WEB_SERVICES: WEB_SERVICES if soap_ok else None,
        AUTO: SBA if sba_ok else (WEB_SERVICES if soap_ok else None),
    }.get(configured)
    if used is None:
        if configured == WEB_SERVICES or (configured == AUTO and soap is not None):
            problems.add(
                "GP",
                BLOCKER,
                "GP Web Services",
                str(soap_problem),
                "Fix the GP Web Services URL or account, then run the fit check again.",
            )
        if configured in (SBA, AUTO):
            hint = (
                " GP Web Services answers, though: set this connection's GP interface to GP Web Services."
                if soap_ok
                else ""
            )
            problems.add(
                "GP",
                BLOCKER,
                "GP Service (SBA)",
                f"{sba_problem}{hint}",
                "Fix the GP connection, then run the fit check again.",
            )
    return {
        "configured": configured,
        "used": used or "none",
        "sba": "answers" if sba_ok else sba_problem,
        "web_services": "answers" if soap_ok else soap_problem,
    }


def _check_web_services(
    client: GPWSClient, tenant: Any, facts: GPFacts, problems: Problems, org_currency: str
) -> None:
    report = facts.report
    offered = report.get("web_services", {})
    report["resources"] = offered.get("operations") or gp_ws_side.operations(client, problems)
    report["companies"] = offered.get("companies") or gp_ws_side.companies(client, client.company)
    report["records"] = gp_ws_side.records(client, REQUIRED, problems)
    report["resource_map"] = {
        "in_force": {},
        "proposed": {},
        "note": "GP Web Services is read through its own mapping (ws_map), not the SBA resource map.",
    }
    _read_all(client, tenant, facts, problems, org_currency)
    report["modified_date"] = gp_ws_side.modified_date(
        [v.modified_date for v in facts.vendors] + [i.modified_date for i in facts.invoices], problems
    )
    if facts.readable:
        note = gp_ws_side.invoices_note(tenant)
        report["counts_note"] = note
        problems.add(
            "GP",
            WARNING,
            "GP Web Services invoices",
            note,
            "Use SBA if GP has it. Otherwise, turn on sending without a hold check only if AP never "
            "puts invoices on hold in GP, and apply credit memos in GP before invoices reach BILL.",
        )


def _companies(client: GPClient, conn: Any) -> dict[str, Any]:
    """Companies the account may open (the tenant's company list, where the server offers one)."""
    url = f"{client.http.base_url}/GPService/Tenants({conn.gp_tenant})/Companies"
    try:
        answer = client.http.request("GET", url, tries=1)
        names = [
            str(r.get("Name") or r.get(rm.KEY, {}).get(rm.KEY_ID) or "").strip()
            for r in client.unwrap_list("Companies", answer)
        ]
    except (GPError, GPShapeError) as exc:
        return {
            "configured": conn.company,
            "visible": [conn.company],
            "note": f"company list not offered: {exc}",
        }
    return {"configured": conn.company, "visible": names}


def _resources(client: GPClient, problems: Problems) -> dict[str, Any]:
    """The server's help page against what the connector needs."""
    url = f"{client.http.base_url}/GPService/Tenants({client.http.tenant})/help"
    try:
        response = client.http.session.get(url, timeout=client.http.timeout, verify=client.http.verify)
        listed = sorted(set(_HELP_RESOURCE.findall(response.text))) if response.ok else []
    except Exception:  # noqa: BLE001 - a help page is a nicety; its absence is reported, not fatal
        listed = []
    if not listed:
        problems.add(
            "GP",
            WARNING,
            "GP help page",
            "The server's help page did not list its resources, so "
            "the resources were checked one by one instead.",
            "Nothing to do if the rest of the check passes.",
        )
    missing = [r for r in NEEDED if listed and r not in listed]
    for resource in missing:
        problems.add(
            "GP",
            BLOCKER,
            resource,
            f"The GP server does not list {resource} ({NEEDED[resource]}).",
            "Ask the GP administrator to enable it, or set the resource path in the GP resource map.",
        )
    return {"listed": listed, "needed": NEEDED, "missing": missing}


def _records(
    client: GPClient, shape: Shape, proposed: dict[str, Any], problems: Problems, listed: list[str]
) -> dict[str, Any]:
    """One page of each kind, raw: envelope, fields, vocabularies, stamps."""
    out: dict[str, Any] = {}
    stamps: list[dt.datetime] = []
    for resource, required in REQUIRED.items():
        try:
            answer = client.http.request(
                "GET", resource, params={rm.TOP: PROBE_ROWS, rm.ORDERBY: rm.STABLE_ORDER}, tries=1
            )
        except GPError as exc:
            out[resource] = {"read": False, "error": explain(exc, client.http)}
            problems.add(
                "GP",
                BLOCKER,
                resource,
                f"Reading {resource} failed: {exc.message}",
                "Check the GP user's access.",
            )
            continue
        rows, envelope = _rows(answer, shape.envelope, proposed, resource, problems)
        sample = rows[0] if rows else {}
        missing = [f for f in required if sample and f not in sample]
        if resource == rm.VENDORS and sample:
            _vendor_status(sample, shape, proposed, problems)
            _vendor_addresses(client, shape, sample, listed, proposed, problems)
        vocab = _vocabulary_problems(client, shape, resource, rows, proposed)
        for text in vocab:
            problems.add(
                "GP", BLOCKER, resource, text, "Confirm the proposed GP resource map (values GP uses)."
            )
        for name in missing:
            if not (resource == rm.VENDORS and name == rm.Vendor.STATUS):
                problems.add(
                    "GP",
                    BLOCKER,
                    resource,
                    f"GP records of {resource} have no '{name}' field.",
                    "Set the field name in the GP resource map.",
                )
        stamps += [m for r in rows if (m := moment(r.get(rm.MODIFIED))) is not None]
        out[resource] = {
            "read": True,
            "envelope": envelope,
            "sample_key": _key(sample),
            "rows_probed": len(rows),
            "fields_missing": missing,
            "vocabulary_problems": vocab,
        }
    _record_envelope(client, shape, out.get(rm.VENDORS, {}).get("sample_key", ""), proposed, problems)
    date_only = len(stamps) >= 2 and all(s.time() == dt.time(0) for s in stamps)
    if date_only and not shape.day_stamps:
        proposed["modified_precision"] = rm.PRECISION_DAY
        problems.add(
            "GP",
            BLOCKER,
            "ModifiedDate",
            f"GP stamps ModifiedDate with a date only ({len(stamps)} records "
            "checked, all at 00:00:00): changes made later in a day would be missed.",
            "Confirm modified_precision = day: polls then re-read from the start of the day, and content "
            "hashes keep repeats from being sent again.",
        )
    out["_modified_date"] = "date only" if date_only else "date and time"
    return out


def _rows(
    answer: Any, envelope: str, proposed: dict[str, Any], resource: str, problems: Problems
) -> tuple[list[dict], str]:
    if envelope and isinstance(answer, dict) and isinstance(answer.get(envelope), list):
        return answer[envelope], f"records under '{envelope}'"
    if not envelope and isinstance(answer, list):
        return answer, "a bare JSON array"
    if isinstance(answer, list):
        found, key = answer, rm.ENVELOPE_BARE
    elif (
        isinstance(answer, dict)
        and (lists := [k for k, v in answer.items() if isinstance(v, list)])
        and len(lists) == 1
    ):
        found, key = answer[lists[0]], lists[0]
    else:
        problems.add(
            "GP",
            BLOCKER,
            resource,
            f"GP answered the list {resource} with {describe(answer)}; the "
            "connector cannot find the records in it.",
            "Check that the URL points at GP's Service Based Architecture.",
        )
        return [], "unknown"
    if proposed.get("envelope", key) == key:
        proposed["envelope"] = key
        problems.add(
            "GP",
            BLOCKER,
            resource,
            f"GP answers lists with {describe(answer)}, not under '{envelope or 'nothing'}'.",
            f"Confirm the proposed GP resource map (envelope = '{key}').",
        )
    return found, ("a bare JSON array" if key == "" else f"records under '{key}'")


def _record_envelope(
    client: GPClient, shape: Shape, key: str, proposed: dict[str, Any], problems: Problems
) -> None:
    """One vendor read by key: is the record under the record envelope, or bare?"""
    if not key:
        return
    try:
        answer = client.http.request("GET", f"{rm.VENDORS}({quote(key, safe='')})", tries=1)
    except GPError as exc:
        problems.add(
            "GP",
            BLOCKER,
            f"{rm.VENDORS}({key})",
            f"Reading one vendor by key failed: {exc.message}",
            "Check the GP user's access to vendors.",
        )
        return
    if shape.record_envelope and isinstance(answer, dict) and shape.record_envelope in answer:
        return
    if shape.record_envelope and isinstance(answer, dict) and rm.KEY in answer:
        proposed["record_envelope"] = rm.ENVELOPE_BARE
        problems.add(
            "GP",
            BLOCKER,
            f"{rm.VENDORS}({key})",
            f"GP answers a single record bare ({describe(answer)}), not under '{shape.record_envelope}'.",
            "Confirm the proposed GP resource map (record_envelope = '').",
        )
    elif not shape.record_envelope and not (isinstance(answer, dict) and rm.KEY in answer):
        problems.add(
            "GP",
            BLOCKER,
            f"{rm.VENDORS}({key})",
            f"GP answered a single record with {describe(answer)}.",
            "Set record_envelope in the GP resource map.",
        )


def _vendor_status(sample: dict, shape: Shape, proposed: dict[str, Any], problems: Problems) -> None:
    if shape.vendor_status_field in sample:
        return
    if rm.VENDOR_IS_ACTIVE in sample and isinstance(sample[rm.VENDOR_IS_ACTIVE], bool):
        proposed["vendor_status_field"] = rm.VENDOR_IS_ACTIVE
        problems.add(
            "GP",
            BLOCKER,
            rm.VENDORS,
            "GP vendors carry IsActive (true/false) instead of a Status word; "
            "read as they are, inactive vendors would stay active in BILL.",
            "Confirm the proposed GP resource map (vendor_status_field = IsActive).",
        )
    else:
        problems.add(
            "GP",
            BLOCKER,
            rm.VENDORS,
            "GP vendors carry neither Status nor IsActive.",
            "Set the vendor status field in the GP resource map.",
        )


def _vendor_addresses(
    client: GPClient,
    shape: Shape,
    sample: dict,
    listed: list[str],
    proposed: dict[str, Any],
    problems: Problems,
) -> None:
    """Where this server keeps a vendor's addresses: in the vendor, under another field, or in a resource
    of their own (read for the sample vendor, as the sync would). Never left to arrive empty."""
    if shape.vendor_address_resource or shape.vendor_addresses in sample:
        return
    renamed = [
        k
        for k, v in sample.items()
        if isinstance(v, list) and v and isinstance(v[0], dict) and rm.Address.LINE1 in v[0]
    ]
    if renamed:
        proposed["vendor_addresses"] = renamed[0]
        problems.add(
            "GP",
            BLOCKER,
            rm.VENDORS,
            f"GP vendors list their addresses under '{renamed[0]}', not '{shape.vendor_addresses}'.",
            f"Confirm the proposed GP resource map (vendor_addresses = {renamed[0]}).",
        )
        return
    key = _key(sample)
    candidates = [r for r in listed if "Address" in r] or [rm.VENDOR_ADDRESS_RESOURCE]
    for resource in candidates:
        try:
            answer = client.http.request(
                "GET",
                resource,
                tries=1,
                params={rm.FILTER: rm.VENDOR_IS.format(vendor_id=key.replace("'", "''")), rm.TOP: PROBE_ROWS},
            )
        except GPError:
            continue
        rows = (
            answer
            if isinstance(answer, list)
            else next((v for v in answer.values() if isinstance(v, list)), None)
            if isinstance(answer, dict)
            else None
        )
        if isinstance(rows, list) and all(
            isinstance(r, dict) and _key({rm.KEY: r.get(rm.ADDRESS_VENDOR)}) == key for r in rows
        ):
            proposed["vendor_address_resource"] = resource
            problems.add(
                "GP",
                BLOCKER,
                rm.VENDORS,
                f"GP vendors carry no '{shape.vendor_addresses}'; GP lists vendor "
                f"addresses in {resource} ({len(rows)} for vendor {key}). Read as they are, vendors would "
                "reach BILL without addresses.",
                f"Confirm the proposed GP resource map (vendor_address_resource = {resource}).",
            )
            return
    problems.add(
        "GP",
        BLOCKER,
        rm.VENDORS,
        f"GP vendors carry no '{shape.vendor_addresses}' and no address resource "
        f"answered ({', '.join(candidates)}): vendors would reach BILL without addresses.",
        "Set vendor_addresses or vendor_address_resource in the GP resource map.",
    )


def _vocabulary_problems(
    client: GPClient, shape: Shape, resource: str, rows: list[dict], proposed: dict
) -> list[str]:
    probe = Shape.from_overrides(
        {**shape.differences(), **{k: v for k, v in proposed.items() if k == "vendor_status_field"}}
    )
    if resource == rm.VENDORS:  # where the addresses are is asked by _vendor_addresses, not here
        rows = [{rm.Vendor.ADDRESSES: [], probe.vendor_addresses: [], **r} for r in rows]
    parse = {
        rm.VENDORS: probe.vendor,
        rm.PAYABLES_INVOICES: probe.invoice,
        rm.PAYABLES_PAYMENTS: probe.payment,
    }.get(resource)
    found: list[str] = []
    if parse is None:
        return found
    for row in rows:
        try:
            parse(row)
        except GPShapeError as exc:
            text = f"{exc.what}: GP sent {exc.came} (expected {exc.expected})"
            if text not in found:
                found.append(text)
    return found


def _read_all(
    client: GPClient | GPWSClient, tenant: Any, facts: GPFacts, problems: Problems, org_currency: str
) -> None:
    try:
        facts.vendors = list(client.iter_vendors())
        facts.invoices = list(client.iter_invoices())
        facts.accounts = {a.account: a for a in client.iter_gl_accounts()}
        checkbooks = list(client.iter_checkbooks())
        payments_readable = _payments_readable(client)
    except (GPError, GPShapeError) as exc:
        problems.add(
            "GP",
            BLOCKER,
            "GP lists",
            f"Reading GP's lists failed: {exc}",
            "Fix what is named, then run again.",
        )
        return
    facts.readable = True
    approved = [i for i in facts.invoices if is_approved(i, tenant)[0]]
    partly = [i for i in facts.invoices if i.state == "Open" and Decimal(0) < i.remaining < i.document_amount]
    held = [v for v in facts.vendors if v.is_on_hold]
    active = [v for v in facts.vendors if v.status != "Inactive" and not v.is_on_hold]
    active_checkbooks = [c for c in checkbooks if not c.is_inactive]
    facts.report["counts"] = {
        "vendors": len(facts.vendors),
        "vendors_active": len(active),
        "vendors_on_hold": len(held),
        "vendors_inactive": sum(1 for v in facts.vendors if v.status == "Inactive"),
        "invoices": len(facts.invoices),
        "approved_unpaid_invoices": len(approved),
        "approved_unpaid_amount": str(
            sum((i.remaining for i in approved), Decimal(0)).quantize(Decimal("0.01"))
        ),
        "partly_paid_vouchers": len(partly),
        "gl_accounts": len(facts.accounts),
        "gl_accounts_allowing_entry": sum(1 for a in facts.accounts.values() if a.can_post),
        "checkbooks": len(checkbooks),
        "checkbooks_active": len(active_checkbooks),
    }
    _credit_applies(client, facts, problems)
    if not client.writes_payments:
        facts.report["payments_write_back"] = {
            "possible": False,
            "why": NO_PAYMENT_WRITE_BACK,
            "instead": (
                "Each BILL payment becomes a 'record in GP' task, "
                "with a manual-payments file to import in GP."
            ),
            "payments_readable": payments_readable,
            "note": "Checked by reading only: nothing was written to GP.",
        }
        problems.add(
            "GP",
            WARNING,
            "Payment write-back",
            f"{NO_PAYMENT_WRITE_BACK} Each BILL payment becomes a "
            "'record in GP' task with a manual-payments file to import.",
            "Nothing to do, or use SBA (GP 2015 and later) to have payments written back.",
        )
        facts.report["parked"] = _parked(facts, approved, problems, org_currency)
        return
    listed = facts.report["resources"]["listed"]
    can_write = (
        payments_readable
        and bool(active_checkbooks)
        and (not listed or (rm.PAYABLES_PAYMENTS in listed and "PostingServices/System/Batches" in listed))
    )
    why = (
        "payments can be read, the payments and batch-posting resources are offered, and "
        f"{len(active_checkbooks)} active checkbook(s) exist"
        if can_write
        else "payments cannot be read, no active checkbook exists, "
        "or the payments/batch resources are not offered"
    )
    facts.report["payments_write_back"] = {
        "possible": can_write,
        "why": why,
        "note": "Checked by reading only: nothing was written to GP.",
    }
    if not can_write:
        problems.add(
            "GP",
            BLOCKER,
            "Payment write-back",
            f"BILL payments cannot be written back to GP: {why}.",
            "Give the GP user access to payables payments and batches, and set up a checkbook.",
        )
    facts.report["parked"] = _parked(facts, approved, problems, org_currency)


NO_CREDIT_APPLY = (
    "GP Web Services has no method that applies a credit memo or return to an invoice, so a BILL "
    "payment that uses a vendor credit cannot have its credit part applied in GP from here."
)


def _credit_applies(client: GPClient | GPWSClient, facts: GPFacts, problems: Problems) -> None:
    """Vendor credits both ways need GP's 'Apply Payables Documents' as a resource (modelled: not in SBA's
    published list, see resource_map.PAYABLES_APPLIES). Over Web Services credits are not sent to BILL."""
    if not client.writes_payments:
        facts.report["credits"] = {
            "possible": False,
            "why": NO_CREDIT_APPLY,
            "instead": "GP credit memos and returns are not sent to BILL as vendor credits.",
        }
        problems.add(
            "GP",
            WARNING,
            "Vendor credits",
            NO_CREDIT_APPLY + " Credit memos stay in GP.",
            "Apply credit memos in GP (Transactions › Purchasing › Apply Payables Documents), or use SBA "
            "with the payables-applies resource.",
        )
        return
    listed = facts.report.get("resources", {}).get("listed") or []
    possible = not listed or rm.PAYABLES_APPLIES in listed
    facts.report["credits"] = {
        "possible": possible,
        "note": "Checked by reading only: nothing was written to GP.",
        "why": (
            "GP's help page offers the payables-applies resource"
            if possible
            else f"GP's help page does not offer {rm.PAYABLES_APPLIES} (GP's Apply Payables Documents)"
        ),
    }
    if not possible:
        problems.add(
            "GP",
            WARNING,
            "Vendor credits",
            f"GP does not offer {rm.PAYABLES_APPLIES}: a BILL payment that "
            "uses a vendor credit would be flagged for a person to apply the credit memo in GP.",
            "Offer the resource (an SBA extension over eConnect taPMApply), or apply credits in GP by hand.",
        )


def _payments_readable(client: GPClient | GPWSClient) -> bool:
    try:
        next(iter(client.iter_payments()), None)
    except GPError:
        return False
    return True


def _parked(
    facts: GPFacts, approved: list[GPInvoice], problems: Problems, org_currency: str
) -> dict[str, int]:
    """Approved invoices the first sync would park (shown in Needs attention), by cause."""
    counts: Counter[str] = Counter()
    numbers = Counter((i.vendor_id, i.invoice_number.upper()) for i in approved if i.invoice_number)
    for inv in approved:
        label = f"{inv.vendor_id} invoice {inv.invoice_number or '(no number)'} (voucher {inv.voucher})"
        causes = []
        bad_accounts = sorted(
            {
                d.account
                for d in inv.distributions
                if d.account in facts.accounts and not facts.accounts[d.account].can_post
            }
        )
        if bad_accounts:
            causes.append(
                (
                    "inactive_accounts",
                    f"distributions on accounts that are inactive or allow no entry: "
                    f"{', '.join(bad_accounts)}",
                    "Move the lines to an account that takes entries.",
                )
            )
        if inv.invoice_number and numbers[(inv.vendor_id, inv.invoice_number.upper())] > 1:
            causes.append(
                (
                    "duplicate_invoice_numbers",
                    "the vendor has another invoice with this number",
                    "Check it is not the same invoice entered twice.",
                )
            )
        if inv.document_amount <= 0:
            causes.append(
                (
                    "zero_or_negative",
                    f"the document amount is {inv.document_amount:.2f}",
                    "BILL takes bills above zero only: enter it as a credit in BILL by hand.",
                )
            )
        if inv.currency and inv.currency.upper() != org_currency.upper():
            causes.append(
                (
                    "other_currency",
                    f"it is in {inv.currency}, BILL pays in {org_currency}",
                    "Pay it outside the connector.",
                )
            )
        if inv.distributions and not any(d.type == "Payable" for d in inv.distributions):
            causes.append(
                (
                    "missing_ap_account",
                    "it has no payables (AP) distribution: the vendor has no AP account",
                    "Set the vendor's payables account in GP.",
                )
            )
        for cause, text, fix in causes:
            counts[cause] += 1
            if cause in PARKED_CAUSES:
                facts.parked_vouchers.add(inv.voucher)
            problems.add(
                "GP",
                PARKED if cause != "duplicate_invoice_numbers" else WARNING,
                label,
                text[0].upper() + text[1:] + ".",
                fix,
            )
    return {
        k: counts.get(k, 0)
        for k in (
            "inactive_accounts",
            "duplicate_invoice_numbers",
            "zero_or_negative",
            "other_currency",
            "missing_ap_account",
        )
    }


def _key(row: dict) -> str:
    key = row.get(rm.KEY) if isinstance(row, dict) else None
    return str((key.get(rm.KEY_ID) if isinstance(key, dict) else key) or "").strip()
