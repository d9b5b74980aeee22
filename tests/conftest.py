"""Shared fixtures: a real server process per test module that needs one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.sync_api import Browser

from tests.browser import Devices, chromium
from tests.serverproc import ServerProcess, start_server
from tests.wsclient import Peer


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    """A fresh `handsup serve deck.md` on a free port, stopped after the test."""
    proc = start_server()
    yield proc
    proc.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's Chromium for one test. Per test, not per module: Playwright's sync API holds
    an event loop while it runs, and the suite's autouse async fixtures need none to be
    running when they start."""
    with chromium() as chromium_browser:
        yield chromium_browser


@pytest.fixture
def devices(browser: Browser) -> Iterator[Devices]:
    """Pages in separate browser contexts (separate people); no page may log an error."""
    opened = Devices(browser)
    yield opened
    opened.close()
    assert opened.errors == []


@pytest.fixture(autouse=True)
async def _close_peers() -> AsyncIterator[None]:
    """Close every websocket a test opened, so no transport outlives its test."""
    yield
    await Peer.close_all()
