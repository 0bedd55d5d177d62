"""GP clients built from plain values (a sandbox's URL and account), for tests that have no saved
connection. The app builds its clients from a `GPConnection` only (`gp_client_for`), so this
convenience lives with the tests."""

from __future__ import annotations

from typing import Any

from connectors.gp import resource_map as rm
from connectors.gp.client import GPClient
from connectors.gp.http import GPHttp
from connectors.gp.resource_map import Shape
from connectors.gp.soap import ws_map as ws
from connectors.gp.soap.client import GPWSClient


def sba_client(
    base_url: str,
    tenant: str,
    company: str,
    account: str,
    password: str,
    page_size: int = rm.PAGE_SIZE,
    shape: Shape | None = None,
    **options: Any,
) -> GPClient:
    return GPClient(
        GPHttp(base_url, tenant, company, account, password, **options), page_size=page_size, shape=shape
    )


def ws_client_from(url: str, company: str, account: str, password: str, **options: Any) -> GPWSClient:
    list_limit = options.pop("list_limit", ws.LIST_LIMIT)
    return GPWSClient(GPHttp(url, "", company, account, password, **options), company, list_limit)
