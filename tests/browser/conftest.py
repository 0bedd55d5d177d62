"""Playwright driving Debian's Chromium against pytest-django's live server (never `playwright install`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# The live server runs in a thread next to Playwright's event loop; Django's async-safety check
# would refuse ORM calls from this test thread otherwise.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def inline_tasks(monkeypatch: Any) -> None:
    """Tasks run inside the live server's request, after its transaction commits (no worker needed)."""
    from connectors import queue

    monkeypatch.setattr(queue, "RUN_INLINE", True)


def sign_in(page: Any, live_server: Any, username: str) -> None:
    from tests.cast import CAST_PASSWORD

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", CAST_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
