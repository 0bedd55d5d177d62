"""The demo: a tenant wired to both sandboxes, finance's approvals, payments in BILL, and the proof
that GP and BILL agree. Shared by `manage.py demo` (interactive and `--once`). A development tool
(connectors.devtools): it runs from a checkout and is not in the wheel."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from audit.models import Kind, State, SyncRecord, Trigger
from audit.words import tally_sentence
from connectors import queue
from connectors.devtools.agreement import (
    agrees,
    measure_bills,
    measure_classifications,
    measure_credits,
    measure_payments,
)
from connectors.models import BillConnection, GPConnection, Tenant
from connectors.relay.local import AgentOnThisMachine
from connectors.roles import CONNECTOR_ADMINS, FINANCE_STAFF, sync_role_permissions
from connectors.sync.bill_to_gp.manual_payments import file_rows, file_text
from connectors.sync.context import SyncContext
from connectors.sync.gp_to_bill.bill_payload import HOLD_UNKNOWN
from connectors.sync.runner import run_bill_to_gp, run_gp_to_bill
from connectors.tenancy import add_member
from mappings.approval import approve
from mappings.models import (
    AccountingClassMapping,
    CheckbookMapping,
    ClassificationAction,
    ClassificationMapping,
    DepartmentMapping,
    GLAccountMapping,
    LocationMapping,
    MappingAction,
    MappingState,
    Suggestion,
    VendorMapping,
)

DEMO_SLUG = "demo"
Say = Callable[[str], None]


def wire_tenant(gp: Any, bill: Any, poll_minutes: int = 1, gp_ws: Any = None) -> Tenant:
    """A fresh demo tenant pointed at the running sandboxes (an old one is removed with its records);
    with `gp_ws` (a GP Web Services sandbox) the GP connection uses GP Web Services."""
    Tenant.objects.filter(slug=DEMO_SLUG).delete()
    # Its GP accounts read location-account-department (100-6100-20), as many GP companies spell them:
    # segment 1 is the BILL location, segment 3 the BILL department.
    tenant = Tenant.objects.create(
        name="Demo Building Products",
        slug=DEMO_SLUG,
        poll_interval_minutes=poll_minutes,
        alert_emails="ap-team@demo.example",
        location_segment=1,
        department_segment=3,
    )
    GPConnection.objects.create(
        tenant=tenant,
        base_url=gp.url,
        gp_tenant=gp.tenant,
        company=gp.company,
        domain=gp.domain,
        username=gp.user,
        password=gp.password,
        timeout_seconds=30,
        interface="web_services" if gp_ws is not None else "sba",
        web_services_url=gp_ws.url if gp_ws else "",
    )
    c = bill.credentials
    BillConnection.objects.create(
        tenant=tenant,
        api_base_url=bill.api_url,
        webhook_api_base_url=bill.events_url,
        organization_id=c.org_id,
        username=c.username,
        password=c.password,
        dev_key=c.dev_key,
        timeout_seconds=30,
    )
    return Tenant.objects.get(pk=tenant.pk)


def demo_users(tenant: Tenant) -> dict[str, str]:
    """A connector admin and a finance clerk with fresh passwords (printed once by the command),
    both members of the demo tenant (without a membership they would see no tenant's data)."""
    sync_role_permissions()
    users = {}
    for username, role, superuser in (
        ("demo-admin", CONNECTOR_ADMINS, True),
        ("demo-finance", FINANCE_STAFF, False),
    ):
        password = secrets.token_urlsafe(9)
        user, _ = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@demo.example"}
        )
        user.is_staff, user.is_superuser = True, superuser
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        add_member(tenant, user)
        users[username] = password
    return users


def is_strong(mapping: Any, min_score: Decimal) -> bool:
    """A suggestion finance would approve without a second look: a link whose proposed BILL record
    scored at least `min_score`, or "create in BILL" when nothing in BILL looks like it at all."""
    if isinstance(mapping, CheckbookMapping):
        return True  # proposed from the GP checkbook whose bank account matches
    if isinstance(mapping, ClassificationMapping):
        if mapping.action == ClassificationAction.BLANK:
            return True  # a value of zeros: no department/location
        candidates = Suggestion.objects.filter(
            tenant_id=mapping.tenant_id, kind=mapping.kind, gp_key=mapping.gp_value
        )
        if mapping.action == ClassificationAction.CREATE:
            return not candidates.exists()
        best = candidates.filter(bill_id=mapping.bill_id).order_by("-score").first()
        return best is not None and best.score >= min_score
    vendor = isinstance(mapping, VendorMapping)
    key = mapping.gp_vendor_id if vendor else mapping.gp_account
    target = mapping.bill_vendor_id if vendor else mapping.bill_account_id
    candidates = Suggestion.objects.filter(
        tenant_id=mapping.tenant_id,
        gp_key=key,
        kind=Suggestion.KIND_VENDOR if vendor else Suggestion.KIND_ACCOUNT,
    )
    if mapping.action == MappingAction.CREATE:
        return not candidates.exists()
    best = candidates.filter(bill_id=target).order_by("-score").first()
    return best is not None and best.score >= min_score


def approve_suggestions(tenant: Tenant, say: Say, min_score: Decimal | None = None) -> dict[str, int]:
    """Approve suggested mappings as finance would (all, or only strong ones), saying what it does;
    returns how many of each kind were approved and how many were left for a person."""
    finance = get_user_model().objects.filter(username="demo-finance").first()
    counts: dict[str, int] = {
        "vendor": 0,
        "GL account": 0,
        "checkbook": 0,
        "department": 0,
        "location": 0,
        "accounting class": 0,
        "left": 0,
    }
    for model, label in (
        (VendorMapping, "vendor"),
        (GLAccountMapping, "GL account"),
        (CheckbookMapping, "checkbook"),
        (DepartmentMapping, "department"),
        (LocationMapping, "location"),
        (AccountingClassMapping, "accounting class"),
    ):
        for mapping in model.objects.filter(tenant=tenant, state=MappingState.SUGGESTED):
            if isinstance(mapping, CheckbookMapping) and not mapping.gp_checkbook_id:
                continue
            if min_score is not None and not is_strong(mapping, min_score):
                counts["left"] += 1
                continue
            create = getattr(mapping, "action", "") == MappingAction.CREATE
            blank = getattr(mapping, "action", "") == ClassificationAction.BLANK
            approve(mapping, finance, create=create, blank=blank)
            counts[label] += 1
            say(f"  approved {label} mapping {mapping}" + (" (create in BILL)" if create else ""))
    return counts


def approvals_sentence(counts: dict[str, int]) -> str:
    text = (
        f"Approved {counts['vendor']} vendor, {counts['GL account']} GL account and {counts['checkbook']} "
        "checkbook mapping(s)"
    )
    if counts.get("left"):
        text += f"; {counts['left']} weaker suggestion(s) wait for you under Mappings"
    text += "."
    segments = [f"{counts[k]} {k}" for k in ("department", "location", "accounting class") if counts.get(k)]
    if segments:
        text += f" GP account segment values: approved {', '.join(segments)} mapping(s)."
    return text


def pay_some_bills(tenant: Tenant, bill: Any, say: Say) -> int:
    """Pay about a third of the synced bills in the BILL sandbox: most in full, one partly, one
    payment covering two bills of one vendor — what an AP clerk does in BILL's UI."""
    synced = list(
        SyncRecord.objects.filter(tenant=tenant, kind=Kind.BILL, state=State.SYNCED).order_by("source_key")
    )
    chosen = synced[::3]
    by_vendor: dict[str, list[str]] = {}
    for r in chosen:
        by_vendor.setdefault(bill.store.bills[r.target_id]["vendorId"], []).append(r.target_id)
    payments = 0
    partial_done = False
    for _vendor, bill_ids in by_vendor.items():
        if len(bill_ids) >= 2:
            bill.pay_bills([{"billId": bill_ids[0]}, {"billId": bill_ids[1]}])
            payments += 1
            bill_ids = bill_ids[2:]
        for bill_id in bill_ids:
            if not partial_done:
                due = Decimal(str(bill.store.bills[bill_id]["dueAmount"]))
                bill.pay_bills([{"billId": bill_id, "amount": str((due / 2).quantize(Decimal("0.01")))}])
                partial_done = True
            else:
                bill.pay_bills([{"billId": bill_id}])
            payments += 1
    say(
        f"Paid {payments} payment(s) covering {len(chosen)} bill(s) in the BILL sandbox (one partial, "
        "one covering two bills)."
    )
    return payments


def _open_bills(tenant: Tenant, bill: Any, gp_vendor: str) -> list[str]:
    """BILL bills of one GP vendor that BILL still lets anyone pay (nothing scheduled), oldest voucher
    first."""
    rows = SyncRecord.objects.filter(tenant=tenant, kind=Kind.BILL, state=State.SYNCED, gp_vendor=gp_vendor)
    out = []
    for r in rows.order_by("source_key"):
        b = bill.store.bills.get(r.target_id)
        if b and not b["archived"] and b["dueAmount"] - b["scheduledAmount"] > 0:
            out.append(r.target_id)
    return out


def enter_credit_memos(tenant: Tenant, gp: Any, say: Say) -> int:
    """A GP clerk enters vendor credits (two credit memos and a return) for vendors whose bills are in BILL,
    as GP's Transactions › Purchasing › Payables Transaction Entry does: posted, approved."""
    vendors: dict[str, Decimal] = {}
    for r in SyncRecord.objects.filter(tenant=tenant, kind=Kind.BILL, state=State.SYNCED).order_by(
        "source_key"
    ):
        if r.gp_vendor and r.amount:
            vendors.setdefault(r.gp_vendor, Decimal(0))
            vendors[r.gp_vendor] += 1
    chosen = sorted(vendors, key=lambda v: (-vendors[v], v))[:3]  # vendors with the most bills in BILL
    for n, vendor in enumerate(chosen):
        smallest = min(
            r.amount
            for r in SyncRecord.objects.filter(
                tenant=tenant, kind=Kind.BILL, gp_vendor=vendor, state=State.SYNCED
            )
            if r.amount
        )
        amount = max((smallest * Decimal("0.4")).quantize(Decimal("0.01")), Decimal("5.00"))
        gp.insert_invoice(
            {
                "Key": f"{99001 + n:017d}",
                "VendorKey": vendor,
                "VendorDocumentNumber": f"DEMO-CM-{n + 1}",
                "DocumentType": "Return" if n == 2 else "CreditMemo",
                "PurchasesAmount": str(amount),
                "Date": "2025-06-01",
                "Description": "Goods returned to the vendor",
            }
        )
    say(f"A GP clerk entered {len(chosen)} vendor credit(s) (credit memos and a return) in GP.")
    return len(chosen)


def use_credits(tenant: Tenant, gp: Any, bill: Any, say: Say) -> int:
    """In BILL, AP pays bills using the vendor credits: one in part on one bill, one across two bills; and a
    GP clerk applies part of the third in GP first (BILL's credit must come down) before BILL uses the
    rest."""
    rows = list(
        SyncRecord.objects.filter(tenant=tenant, kind=Kind.VENDOR_CREDIT, state=State.SYNCED)
        .exclude(target_id="")
        .order_by("source_key")
    )
    uses = 0
    for n, row in enumerate(rows[:3]):
        credit = bill.app.payments.credits.table.get(row.target_id)
        bills = _open_bills(tenant, bill, row.gp_vendor)
        if credit is None or not bills:
            continue
        usable = credit["amount"] - credit["appliedAmount"]
        if n == 2:  # the clerk gets there first in GP, on this vendor's first open voucher
            voucher = SyncRecord.objects.get(tenant=tenant, kind=Kind.BILL, target_id=bills[0]).source_key
            half = (usable / 2).quantize(Decimal("0.01"))
            gp.apply_to_invoice(voucher, str(half), document=row.source_key, kind="credit")
            say(
                f"  a GP clerk applied {half} of {row.gp_vendor}'s return {row.document_number} to "
                f"voucher {voucher} "
                "in GP, before BILL used it"
            )
            again = run_gp_to_bill(tenant, trigger=Trigger.PERSON)
            say(f"  GP → BILL run: {tally_sentence(again)}")
            credit = bill.app.payments.credits.table[row.target_id]
            usable = credit["amount"] - credit["appliedAmount"]
            bills = _open_bills(tenant, bill, row.gp_vendor)
            if usable <= 0 or not bills:
                continue
        targets = bills[:2] if n == 1 and len(bills) >= 2 else bills[:1]
        parts = (
            [(usable / 2).quantize(Decimal("0.01")), usable - (usable / 2).quantize(Decimal("0.01"))]
            if len(targets) == 2
            else [(usable * Decimal("0.6")).quantize(Decimal("0.01"))]
        )
        lines = []
        for bill_id, part in zip(targets, parts, strict=True):
            due = bill.store.bills[bill_id]["dueAmount"] - bill.store.bills[bill_id]["scheduledAmount"]
            part = min(part, due)
            lines.append({"billId": bill_id, "vendorCredits": [{"id": row.target_id, "amount": str(part)}]})
            uses += 1
        bill.pay_bills(lines)
        say(
            f"  paid {len(lines)} bill(s) of {row.gp_vendor} in BILL using vendor credit "
            f"{row.document_number}"
        )
    say(f"BILL used vendor credits {uses} time(s) in its payments.")
    return uses


def choose_checkbooks(tenant: Tenant, say: Say) -> None:
    """GP Web Services shows no bank account digits on a checkbook, so no checkbook is suggested by them:
    finance picks one in Mappings. The demo picks the first active GP checkbook, as a person would."""
    ctx = SyncContext.for_tenant(tenant)
    try:
        active = next((c.checkbook_id for c in ctx.gp.iter_checkbooks() if not c.is_inactive), "")
    finally:
        ctx.gp.close()
    for mapping in CheckbookMapping.objects.filter(
        tenant=tenant, state=MappingState.SUGGESTED, gp_checkbook_id=""
    ):
        mapping.gp_checkbook_id = active
        mapping.save(update_fields=["gp_checkbook_id"])
        say(f"  finance chose GP checkbook {active} for BILL funding account {mapping.bill_funding_name}")


def record_payments_in_gp(tenant: Tenant, gp_ws: Any, say: Say) -> int:
    """What a GP user does on a Web-Services-only GP: download the manual-payments file from Needs
    attention and import it (Integration Manager), posting the batch. Sent over HTTP to the sandbox."""
    tasks = SyncRecord.objects.filter(tenant=tenant, kind=Kind.GP_PAYMENT, state=State.BLOCKED).order_by("id")
    rows = file_rows(tasks)
    if not rows:
        return 0
    answer = requests.post(
        gp_ws.base_url + "/_sandbox/import/manual-payments",
        data=file_text(tasks).encode(),
        headers={"Content-Type": "text/csv"},
        timeout=30,
    ).json()["Payload"]
    say(
        f"A GP user imported the manual-payments file ({len(rows)} line(s)) and posted batch(es) "
        f"{', '.join(answer['batches_posted'])}: {len(answer['imported'])} payment(s) recorded, "
        f"{len(answer['errors'])} refused."
    )
    return len(answer["imported"])


def accept_sending_without_hold_check(tenant: Tenant, say: Say) -> None:
    """Over GP Web Services every invoice waits (GP does not show holds there) until a connector admin
    accepts sending without a hold check; the demo does so, says what that risks, and runs again."""
    waited = SyncRecord.objects.filter(
        tenant=tenant, kind=Kind.BILL, state=State.BLOCKED, waiting_on__contains=HOLD_UNKNOWN
    ).count()
    say(
        f"GP Web Services does not show which invoices are on hold in GP, so {waited} invoice(s) waited "
        f"in Needs "
        "attention, not sent. The demo's connector admin now turns on 'send invoices read over GP Web "
        "Services, "
        "which cannot show invoice holds' (right only where AP never puts invoices on hold: an invoice "
        "on hold "
        "in GP is sent too)."
    )
    tenant.send_without_hold_check = True
    tenant.save(update_fields=["send_without_hold_check"])
    third = run_gp_to_bill(tenant, trigger=Trigger.PERSON, full=True)
    say(f"GP → BILL run after that choice: {tally_sentence(third)}")


def run_once(gp: Any, bill: Any, say: Say, gp_ws: Any = None, via_agent: bool = False) -> dict[str, Any]:
    """Set up, approve, sync both ways, pay, write back; return the measured agreement. With `gp_ws`
    GP is reached over GP Web Services and payments go the manual way (record in GP, then settle).

    `via_agent`: GP is reachable only by a GP agent (the connection has no GP address or password);
    the result then also counts the GP requests that did not come from the agent (must be 0)."""
    if not via_agent:
        return _run_once(gp, bill, say, gp_ws=gp_ws)
    tenant = wire_tenant(gp, bill)
    agent = AgentOnThisMachine(tenant, gp)
    gp.reset_stats()
    say(
        f"GP is reachable only through the agent: the connection's GP address is "
        f"{tenant.gp_connection.base_url}."
    )
    try:
        result = _run_once(gp, bill, say, tenant=Tenant.objects.get(pk=tenant.pk))
    finally:
        agent.stop()
    by_client = gp.stats()["requests"]["by_client"]
    result["gp_requests_by_client"] = by_client
    result["gp_requests_not_from_agent"] = sum(n for c, n in by_client.items() if c != "ml-connector-agent")
    result["agree"] = result["agree"] and result["gp_requests_not_from_agent"] == 0 and bool(by_client)
    return result


def _run_once(
    gp: Any, bill: Any, say: Say, gp_ws: Any = None, tenant: Tenant | None = None
) -> dict[str, Any]:
    queue.RUN_INLINE = True  # this process is the worker: approvals release waiting records right here
    tenant = tenant or wire_tenant(gp, bill, gp_ws=gp_ws)
    demo_users(tenant)
    say(f"Tenant {tenant.name!r} wired to GP {(gp_ws or gp).company_url()} and BILL {bill.api_url}.")
    first = run_gp_to_bill(tenant, trigger=Trigger.PERSON, full=True)
    say(f"First GP → BILL run: {tally_sentence(first)}")
    say("Approving every suggested mapping, as a finance user would in Mappings:")
    approved = approve_suggestions(tenant, say)
    say(approvals_sentence(approved) + " The bills that waited on them went to BILL by themselves.")
    second = run_gp_to_bill(tenant, trigger=Trigger.PERSON)
    say(f"Second GP → BILL run: {tally_sentence(second)}")
    if gp_ws is not None:
        accept_sending_without_hold_check(tenant, say)
    if enter_credit_memos(tenant, gp, say):
        third = run_gp_to_bill(tenant, trigger=Trigger.PERSON)
        say(f"GP → BILL run after the credit memos: {tally_sentence(third)}")
    bills_before_payments = measure_bills(tenant)
    pay_some_bills(tenant, bill, say)
    use_credits(tenant, gp, bill, say)
    back = run_bill_to_gp(tenant, trigger=Trigger.PERSON)
    say(f"BILL → GP run: {tally_sentence(back)}")
    if gp_ws is not None:
        choose_checkbooks(tenant, say)
    if sum(approve_suggestions(tenant, say).values()):  # checkbooks seen on the first payments
        back = run_bill_to_gp(tenant, trigger=Trigger.PERSON)
        say(f"BILL → GP run after checkbook approval: {tally_sentence(back)}")
    if gp_ws is not None and record_payments_in_gp(tenant, gp_ws, say):
        back = run_bill_to_gp(tenant, trigger=Trigger.PERSON)
        say(f"BILL → GP run after the GP user recorded the payments: {tally_sentence(back)}")
    after = measure_bills(tenant)  # duplicates or stuck rows created by write-back would show here
    credits = measure_credits(tenant)
    result = {
        **bills_before_payments,
        **measure_payments(tenant),
        **credits,
        "duplicates": max(bills_before_payments["duplicates"], after["duplicates"])
        + credits["credit_duplicates"],
        "stuck_sending": after["stuck_sending"],
        "failed": after["failed"],
        "flagged": after["flagged"],
        # BILL never shows more due than GP has open, before payments and after the write-back.
        "bill_due_over_gp_open": max(
            bills_before_payments["bill_due_over_gp_open"], after["bill_due_over_gp_open"]
        ),
        "double_payment_risks_open": after["double_payment_risks_open"],
    }
    # Bill lines with a BILL department/location, as BILL shows them, against what the GP account segments
    # and the approved mappings say (`*_expected`); any bill whose lines differ counts as a mismatch.
    result.update(measure_classifications(tenant))
    say(
        f"Bill lines in BILL with a department: {result['lines_with_department']}, with a location: "
        f"{result['lines_with_location']} (GP account segment {tenant.department_segment} is the department, "
        f"segment {tenant.location_segment} the location)."
    )
    result["agree"] = (
        agrees(result)
        and result["classification_mismatches"] == 0
        and all(
            result[f"lines_with_{k}"] == result[f"lines_with_{k}_expected"]
            for k in ("department", "location", "class")
        )
    )
    return result
