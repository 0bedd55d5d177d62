"""`BillClient`: every BILL operation the flows use, each one call through the gate and the session.

A call = take a gate slot → current session → one HTTP request (→ on 401/BDC_1109, one re-login and
one repeat, still in the slot) → free the slot. Retryable failures (BDC_1322, BDC_1144, 5xx, timeouts
on safe requests) wait with backoff *outside* the slot, so a sleeping worker never blocks others.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from connectors.connection_rules import address_problem

from .connection_check import check_connection
from .filters import FilterLike, Sort, encode_filters, encode_sort
from .gate import BillGate, gate_for, key_of
from .http import Backoff, BillError, BillHttp, CallStats, SessionInvalid
from .ids import path_id
from .records import (
    BillBill,
    BillChartOfAccount,
    BillClassification,
    BillFundingAccount,
    BillPayment,
    BillSubscription,
    BillVendor,
    BillVendorCredit,
)
from .session import BillSessions

MAX_BULK_VENDORS = 20
MAX_BULK_BILLS = 100
PAGE_SIZE = 100
R = TypeVar("R")


def _refuse_unsafe_addresses(connection: Any) -> None:
    """No password or developer key goes to an address the connection rules refuse (see
    connectors.connection_rules): checked when the client is built, not only when the form was saved."""
    for url in (connection.api_base_url, connection.webhook_api_base_url):
        problem = address_problem(url or "", bill=True)
        if problem:
            raise BillError(
                f"The BILL connection's address {url!r} cannot be used: {problem} "
                "A connector admin corrects it on the BILL connection.",
                code="ADDRESS",
            )


class BillClient:
    """BILL v3 for one BillConnection. Build it with `BillClient.for_connection(conn)`."""

    def __init__(
        self,
        connection: Any,
        *,
        http: BillHttp | None = None,
        gate: BillGate | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.connection = connection
        self.stats = CallStats()
        if http is None:
            _refuse_unsafe_addresses(connection)
        self.http = http or BillHttp(
            connection.api_base_url,
            connection.webhook_api_base_url,
            connection.dev_key,
            timeout=float(connection.timeout_seconds),
            stats=self.stats,
        )
        self.http.stats = self.stats
        self.gate = gate or gate_for(timeout_seconds=float(connection.timeout_seconds))
        self.backoff = backoff or Backoff()
        # BILL's hourly limits are per developer key, shared with every org configured with the same key.
        self.key = key_of(connection)
        self.sessions = BillSessions(connection, self.http, self.gate, key=self.key)
        # Set by a read-only context (preview, drift): every call but a read is refused before it leaves.
        self.read_only = False

    @classmethod
    def for_connection(cls, connection: Any, **kwargs: Any) -> BillClient:
        return cls(connection, **kwargs)

    # --- the one path every call takes -----------------------------------------------------------
    def _once(self, method: str, path: str, **options: Any) -> Any:
        with self.gate.acquire(self.connection.organization_id, key=self.key):
            session_id = self.sessions.current()
            try:
                answer = self.http.send(method, path, session_id=session_id, **options)
            except SessionInvalid:
                session_id = self.sessions.renew(failed=session_id)
                try:
                    self.gate.spend(self.connection.organization_id, key=self.key)
                    answer = self.http.send(method, path, session_id=session_id, **options)
                except SessionInvalid as exc:
                    raise BillError(
                        "BILL refused a session it had just issued; check the organization ID and "
                        "developer key.",
                        status=exc.status,
                        code=exc.code,
                    ) from None
            self.sessions.used(session_id)
            return answer

    def call(self, operation: str, method: str, path: str, **options: Any) -> Any:
        """One logical operation, retried with backoff while BILL says to try again."""
        if self.read_only and method.upper() != "GET":
            raise BillError(
                f"A preview or drift report only reads: it refused to {operation} in BILL.", code="READ_ONLY"
            )
        self.stats.calls += 1
        self.stats.by_operation[operation] += 1

        def note_retry(exc: BillError) -> None:
            self.stats.retries += 1
            self.stats.by_error[exc.code or "transient"] += 1

        try:
            return self.backoff.run(lambda: self._once(method, path, **options), on_retry=note_retry)
        except BillError as exc:
            self.stats.by_error[exc.code or ("in_doubt" if exc.in_doubt else "error")] += 1
            raise

    def _pages(
        self,
        operation: str,
        path: str,
        make: Callable[[dict[str, Any]], R],
        filters: Iterable[FilterLike] | None = None,
        sort: Any = None,
        api: str = "connect",
    ) -> Iterator[R]:
        """Follow `nextPage` until BILL stops giving one (an empty page with a cursor still means go on)."""
        params: dict[str, Any] = {"max": PAGE_SIZE}
        if encoded := encode_filters(filters):
            params["filters"] = encoded
        if encoded_sort := encode_sort(sort):
            params["sort"] = encoded_sort
        while True:
            answer = self.call(operation, "GET", path, params=params, api=api) or {}
            for row in answer.get("results") or ():
                yield make(row)
            next_page = answer.get("nextPage")
            if not next_page:
                return
            params = {**params, "page": next_page}

    # --- vendors ---------------------------------------------------------------------------------
    def iter_vendors(
        self, filters: Iterable[FilterLike] | None = None, sort: Any = None
    ) -> Iterator[BillVendor]:
        return self._pages("list_vendors", "/v3/vendors", BillVendor.from_api, filters, sort)

    def get_vendor(self, vendor_id: str) -> BillVendor:
        return BillVendor.from_api(self.call("get_vendor", "GET", f"/v3/vendors/{path_id(vendor_id)}"))

    def create_vendor(self, payload: dict[str, Any]) -> BillVendor:
        return BillVendor.from_api(self.call("create_vendor", "POST", "/v3/vendors", body=payload))

    def bulk_create_vendors(self, payloads: Sequence[dict[str, Any]]) -> list[BillVendor]:
        """Create up to 20 vendors in one all-or-nothing call."""
        _check_batch(payloads, MAX_BULK_VENDORS, "vendors")
        answer = self.call("bulk_create_vendors", "POST", "/v3/vendors/bulk", body=list(payloads))
        rows = answer.get("vendors", []) if isinstance(answer, dict) else answer or []
        return [BillVendor.from_api(v) for v in rows]

    def patch_vendor(self, vendor_id: str, payload: dict[str, Any]) -> BillVendor:
        return BillVendor.from_api(
            self.call("patch_vendor", "PATCH", f"/v3/vendors/{path_id(vendor_id)}", body=payload)
        )

    def archive_vendor(self, vendor_id: str) -> BillVendor:
        answer = self.call(
            "archive_vendor", "POST", f"/v3/vendors/{path_id(vendor_id)}/archive", idempotent=True
        )
        return BillVendor.from_api(answer)

    def restore_vendor(self, vendor_id: str) -> BillVendor:
        answer = self.call(
            "restore_vendor", "POST", f"/v3/vendors/{path_id(vendor_id)}/restore", idempotent=True
        )
        return BillVendor.from_api(answer)

    # --- bills -----------------------------------------------------------------------------------
    def iter_bills(self, filters: Iterable[FilterLike] | None = None, sort: Any = None) -> Iterator[BillBill]:
        return self._pages("list_bills", "/v3/bills", BillBill.from_api, filters, sort)

    def get_bill(self, bill_id: str) -> BillBill:
        return BillBill.from_api(self.call("get_bill", "GET", f"/v3/bills/{path_id(bill_id)}"))

    def create_bill(self, payload: dict[str, Any]) -> BillBill:
        return BillBill.from_api(self.call("create_bill", "POST", "/v3/bills", body=payload))

    def bulk_create_bills(self, payloads: Sequence[dict[str, Any]]) -> list[BillBill]:
        """Create up to 100 bills (any vendors) in one all-or-nothing call."""
        _check_batch(payloads, MAX_BULK_BILLS, "bills")
        answer = self.call("bulk_create_bills", "POST", "/v3/bills/bulk", body=list(payloads))
        rows = (
            answer.get("bills", []) if isinstance(answer, dict) else answer or []
        )  # BILL sends a plain array
        return [BillBill.from_api(b) for b in rows]

    def put_bill(self, bill_id: str, payload: dict[str, Any]) -> BillBill:
        return BillBill.from_api(self.call("put_bill", "PUT", f"/v3/bills/{path_id(bill_id)}", body=payload))

    def archive_bill(self, bill_id: str) -> BillBill:
        return BillBill.from_api(
            self.call("archive_bill", "POST", f"/v3/bills/{path_id(bill_id)}/archive", idempotent=True)
        )

    def record_payment(
        self,
        vendor_id: str,
        process_date: date,
        payments: Sequence[tuple[str, Decimal]],
        description: str = "",
        to_print_check: bool = False,
    ) -> BillPayment:
        """`POST /v3/bills/record-payment`: tell BILL that bills were paid outside it (by a check or a
        credit applied in GP). No money moves; each bill's paidAmount rises and dueAmount falls by its
        amount. A create: an unanswered call is `in_doubt` (see connectors/sync/gp_to_bill/bill_due.py)."""
        body: dict[str, Any] = {
            "vendorId": vendor_id,
            "processDate": process_date.isoformat(),
            "toPrintCheck": to_print_check,
            "payments": [{"billId": bill_id, "amount": amount} for bill_id, amount in payments],
        }
        if description:
            body["description"] = description
        return BillPayment.from_api(
            self.call("record_payment", "POST", "/v3/bills/record-payment", body=body)
        )

    # --- vendor credits (BILL's v3 collection: create/bulk, get, list, PUT/PATCH, archive) -----------
    def iter_vendor_credits(self, filters: Iterable[FilterLike] | None = None) -> Iterator[BillVendorCredit]:
        return self._pages("list_vendor_credits", "/v3/vendor-credits", BillVendorCredit.from_api, filters)

    def get_vendor_credit(self, credit_id: str) -> BillVendorCredit:
        return BillVendorCredit.from_api(
            self.call("get_vendor_credit", "GET", f"/v3/vendor-credits/{path_id(credit_id)}")
        )

    def create_vendor_credit(self, payload: dict[str, Any]) -> BillVendorCredit:
        """A create: BILL has no idempotency key, so an unanswered call is `in_doubt` (see
        sync/credits.py)."""
        return BillVendorCredit.from_api(
            self.call("create_vendor_credit", "POST", "/v3/vendor-credits", body=payload)
        )

    def put_vendor_credit(self, credit_id: str, payload: dict[str, Any]) -> BillVendorCredit:
        """Replace: lines without `id` are added, lines left out are removed (BILL's PUT rules)."""
        return BillVendorCredit.from_api(
            self.call("put_vendor_credit", "PUT", f"/v3/vendor-credits/{path_id(credit_id)}", body=payload)
        )

    def archive_vendor_credit(self, credit_id: str) -> BillVendorCredit:
        """Archive (BILL: an archived vendor credit cannot be restored)."""
        return BillVendorCredit.from_api(
            self.call(
                "archive_vendor_credit",
                "POST",
                f"/v3/vendor-credits/{path_id(credit_id)}/archive",
                idempotent=True,
            )
        )

    # --- payments, accounts ----------------------------------------------------------------------
    def iter_payments(
        self, updated_since: datetime | None = None, filters: Iterable[FilterLike] | None = None
    ) -> Iterator[BillPayment]:
        wanted = list(filters or ())
        if updated_since is not None:
            wanted.append(("updatedTime", "gte", updated_since))
        return self._pages("list_payments", "/v3/payments", BillPayment.from_api, wanted, Sort("updatedTime"))

    def get_payment(self, payment_id: str) -> BillPayment:
        return BillPayment.from_api(self.call("get_payment", "GET", f"/v3/payments/{path_id(payment_id)}"))

    def iter_chart_of_accounts(
        self, filters: Iterable[FilterLike] | None = None
    ) -> Iterator[BillChartOfAccount]:
        return self._pages(
            "list_chart_of_accounts",
            "/v3/classifications/chart-of-accounts",
            BillChartOfAccount.from_api,
            filters,
        )

    def create_chart_of_account(
        self,
        name: str,
        number: str | None = None,
        account_type: str = "EXPENSE",
        description: str = "",
        parent_id: str | None = None,
    ) -> BillChartOfAccount:
        body: dict[str, Any] = {"name": name, "account": {"type": account_type}}
        if number:
            body["account"]["number"] = number
        if description:
            body["description"] = description
        if parent_id:
            body["parentId"] = parent_id
        answer = self.call(
            "create_chart_of_account", "POST", "/v3/classifications/chart-of-accounts", body=body
        )
        return BillChartOfAccount.from_api(answer)

    def get_chart_of_account(self, account_id: str) -> BillChartOfAccount:
        answer = self.call(
            "get_chart_of_account", "GET", f"/v3/classifications/chart-of-accounts/{path_id(account_id)}"
        )
        return BillChartOfAccount.from_api(answer)

    def iter_departments(self) -> Iterator[BillClassification]:
        return self._pages("list_departments", "/v3/classifications/departments", BillClassification.from_api)

    def iter_locations(self) -> Iterator[BillClassification]:
        return self._pages("list_locations", "/v3/classifications/locations", BillClassification.from_api)

    def create_department(self, name: str, short_name: str = "") -> BillClassification:
        body = {"name": name, **({"shortName": short_name} if short_name else {})}
        answer = self.call("create_department", "POST", "/v3/classifications/departments", body=body)
        return BillClassification.from_api(answer)

    def create_location(self, name: str, short_name: str = "") -> BillClassification:
        body = {"name": name, **({"shortName": short_name} if short_name else {})}
        answer = self.call("create_location", "POST", "/v3/classifications/locations", body=body)
        return BillClassification.from_api(answer)

    def iter_accounting_classes(self) -> Iterator[BillClassification]:
        return self._pages(
            "list_accounting_classes", "/v3/classifications/accounting-classes", BillClassification.from_api
        )

    def create_accounting_class(self, name: str, short_name: str = "") -> BillClassification:
        body = {"name": name, **({"shortName": short_name} if short_name else {})}
        answer = self.call(
            "create_accounting_class", "POST", "/v3/classifications/accounting-classes", body=body
        )
        return BillClassification.from_api(answer)

    # Segment classification kind (mappings.models.ClassificationKind) → BILL's path under
    # /v3/classifications.
    CLASSIFICATION_PATHS = {
        "department": "departments",
        "location": "locations",
        "class": "accounting-classes",
    }

    def iter_classifications(self, kind: str) -> Iterator[BillClassification]:
        """Departments, locations or accounting classes, by the connector's kind word."""
        return {
            "department": self.iter_departments,
            "location": self.iter_locations,
            "class": self.iter_accounting_classes,
        }[kind]()

    def create_classification(self, kind: str, name: str, short_name: str = "") -> BillClassification:
        return {
            "department": self.create_department,
            "location": self.create_location,
            "class": self.create_accounting_class,
        }[kind](name, short_name)

    def get_classification(self, kind: str, classification_id: str) -> BillClassification:
        segment = self.CLASSIFICATION_PATHS[kind]
        answer = self.call(
            f"get_{segment.replace('-', '_')}",
            "GET",
            f"/v3/classifications/{segment}/{path_id(classification_id)}",
        )
        return BillClassification.from_api(answer)

    def iter_funding_accounts(
        self, filters: Iterable[FilterLike] | None = None
    ) -> Iterator[BillFundingAccount]:
        return self._pages(
            "list_bank_accounts", "/v3/funding-accounts/banks", BillFundingAccount.from_api, filters
        )

    # --- webhook subscriptions (the connect-events API) ------------------------------------------
    def create_subscription(self, name: str, url: str, events: Iterable[str]) -> tuple[BillSubscription, str]:
        """Subscribe `url` to `events`; returns the subscription and its security key (BILL shows it once)."""
        body = {
            "name": name,
            "status": {"enabled": True},
            "notificationUrl": url,
            "events": [{"type": e, "version": "1"} for e in events],
        }
        # One key for all retries of this call: a repeat returns the first answer instead of a second
        # subscription.
        headers = {"X-Idempotent-Key": str(uuid.uuid4())}
        answer = self.call(
            "create_subscription",
            "POST",
            "/v3/subscriptions",
            api="connect-events",
            body=body,
            headers=headers,
            idempotent=True,
        )
        key = str(answer.pop("securityKey", "") or "")  # a secret: kept off the record (and its raw)
        return BillSubscription.from_api(answer), key

    def iter_subscriptions(self) -> Iterator[BillSubscription]:
        """Every subscription of the org (BILL pages these forward only: `nextPage`, no `prevPage`)."""
        return self._pages(
            "list_subscriptions", "/v3/subscriptions", BillSubscription.from_api, api="connect-events"
        )

    def get_subscription(self, subscription_id: str) -> BillSubscription:
        answer = self.call(
            "get_subscription", "GET", f"/v3/subscriptions/{path_id(subscription_id)}", api="connect-events"
        )
        return BillSubscription.from_api(answer)

    def patch_subscription(
        self,
        subscription_id: str,
        *,
        enabled: bool | None = None,
        url: str | None = None,
        events: Iterable[str] | None = None,
    ) -> BillSubscription:
        body: dict[str, Any] = {}
        if enabled is not None:
            body["status"] = {"enabled": enabled}
        if url is not None:
            body["notificationUrl"] = url
        if events is not None:
            body["events"] = [{"type": e, "version": "1"} for e in events]
        answer = self.call(
            "patch_subscription",
            "PATCH",
            f"/v3/subscriptions/{path_id(subscription_id)}",
            api="connect-events",
            body=body,
        )
        return BillSubscription.from_api(answer)

    def rotate_security_key(self, subscription_id: str) -> str:
        answer = self.call(
            "rotate_security_key",
            "POST",
            f"/v3/subscriptions/{path_id(subscription_id)}/security_key",
            api="connect-events",
            headers={"X-Idempotent-Key": str(uuid.uuid4())},
            idempotent=True,
        )
        return str(answer.get("securityKey") or "")

    def delete_subscription(self, subscription_id: str) -> None:
        self.call(
            "delete_subscription",
            "DELETE",
            f"/v3/subscriptions/{path_id(subscription_id)}",
            api="connect-events",
        )

    # --- session ---------------------------------------------------------------------------------
    def session_info(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.call("session_info", "GET", "/v3/login/session")
        return answer

    def test_connection(self) -> str | None:
        """Sign in afresh and read the session back. None when all is well, else one plain sentence."""
        return check_connection(self)


def _check_batch(payloads: Sequence[Any], limit: int, what: str) -> None:
    if not payloads:
        raise ValueError(f"no {what} to create")
    if len(payloads) > limit:
        raise ValueError(
            f"BILL creates at most {limit} {what} per bulk call; got {len(payloads)} (split the batch)"
        )
