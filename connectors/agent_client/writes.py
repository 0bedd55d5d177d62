"""Which GP requests are writes. The agent journals writes only (a write is never sent to GP twice); a
read lost on the way back is simply run again.

HTTP GET, HEAD and OPTIONS are reads. GP Web Services (SOAP) sends every call as a POST, so its
operation decides: named by the `SOAPAction` header (SOAP 1.1, what GP's legacy endpoint uses) or
the `action` parameter of `Content-Type` (SOAP 1.2). GP's read operations all start with `Get`
(GetVendorList, GetVendorByKey, GetPayablesInvoiceList, GetPolicyByOperation, GetCompanyList …);
every other operation (UpdateVendor, Create…, Delete…, Void…) and any other POST, PUT, PATCH or
DELETE is a write. When in doubt it is a write: journalling a read costs a row, not a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SOAP_READ_PREFIX = "Get"


def soap_operation(headers: Mapping[str, str]) -> str:
    """The SOAP operation a request names ("" when none): the last segment of its action URI."""
    action = ""
    for key, value in headers.items():
        name = key.lower()
        if name == "soapaction":
            action = value
            break
        if name == "content-type" and "action=" in value:
            action = value.split("action=", 1)[1].split(";", 1)[0]
    action = action.strip().strip('"').strip()
    return action.rstrip("/").rsplit("/", 1)[-1]


def is_write(method: str, headers: Mapping[str, str]) -> bool:
    """True unless the request surely only reads GP (see the module's docstring)."""
    method = method.upper()
    if method in READ_METHODS:
        return False
    if method == "POST":
        operation = soap_operation(headers)
        return not (
            operation.startswith(SOAP_READ_PREFIX) and operation[len(SOAP_READ_PREFIX) :][:1].isupper()
        )
    return True
