"""The service description on disk (`schema/`), served as WCF/ASMX serve it (`?wsdl`, `?xsd=xsdN`), and
used by the sandbox itself to read requests and write answers exactly as the XSD says."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from lxml import etree
from zeep import Transport
from zeep.helpers import serialize_object
from zeep.wsdl import Document

HERE = Path(__file__).parent / "schema"
WSDL_FILE = "DynamicsGPService.wsdl"
XSD_FILES = {"xsd0": "gp.xsd", "xsd1": "dynamics.xsd", "xsd2": "security.xsd"}
NS_GP = "http://schemas.microsoft.com/dynamics/gp/2006/01"
NS_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def wsdl_text(address: str) -> bytes:
    return (HERE / WSDL_FILE).read_text(encoding="utf-8").replace("{address}", address).encode()


def xsd_text(name: str) -> bytes | None:
    file = XSD_FILES.get(name)
    return (HERE / file).read_bytes() if file else None


class _LocalTransport(Transport):
    """Resolves the `?xsd=` imports from disk, so the sandbox needs no HTTP to read its own schema."""

    def load(self, url: str) -> bytes:
        if url.endswith(WSDL_FILE) or url.endswith(".asmx?wsdl"):
            return wsdl_text("http://localhost" + "/DynamicsGPWebServices/DynamicsGPService.asmx")
        if "?xsd=" in url:
            text = xsd_text(url.rsplit("=", 1)[1])
            if text is not None:
                return text
        raise ValueError(f"no local schema for {url}")


@functools.lru_cache(maxsize=1)
def document() -> Document:
    # zeep annotates `transport` as type[Transport], but takes (and needs) an instance.
    return Document(str(HERE / WSDL_FILE), _LocalTransport())  # type: ignore[arg-type]


def operations() -> set[str]:
    binding = next(iter(document().bindings.values()))
    return set(binding._operations)


def parse_request(body: bytes) -> tuple[str, dict[str, Any]]:
    """(operation name, its parameters as plain dicts) from a SOAP 1.1 request; ValueError if malformed."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"the request is not well-formed XML ({exc})") from None
    soap_body = root.find(f"{{{NS_SOAP}}}Body")
    if root.tag != f"{{{NS_SOAP}}}Envelope" or soap_body is None or len(soap_body) == 0:
        raise ValueError("the request is not a SOAP 1.1 envelope with a body")
    request = soap_body[0]
    qname = etree.QName(request)
    if qname.namespace != NS_GP:
        raise ValueError(f"unknown operation element {request.tag}")
    element = document().types.get_element(request.tag)
    value = element.parse(request, document().types)
    return qname.localname, _plain(serialize_object(value, dict))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def render_response(operation: str, result: Any) -> bytes:
    envelope = etree.Element(f"{{{NS_SOAP}}}Envelope", nsmap={"s": NS_SOAP})
    body = etree.SubElement(envelope, f"{{{NS_SOAP}}}Body")
    element = document().types.get_element(f"{{{NS_GP}}}{operation}Response")
    value = element(**({f"{operation}Result": result} if result is not None else {}))
    element.render(body, value)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def render_fault(code: str, message: str, log_id: str | None) -> bytes:
    """A SOAP 1.1 fault; a logged exception's GUID is the detail's text, as GP's exception log gives it."""
    envelope = etree.Element(f"{{{NS_SOAP}}}Envelope", nsmap={"s": NS_SOAP})
    body = etree.SubElement(envelope, f"{{{NS_SOAP}}}Body")
    fault = etree.SubElement(body, f"{{{NS_SOAP}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"s:{code}"
    etree.SubElement(fault, "faultstring").text = message
    if log_id:
        detail = etree.SubElement(fault, "detail")
        etree.SubElement(detail, "LogId", nsmap={None: NS_GP}).text = log_id
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
