"""The presenter's results page in a real Chromium: bars, turnout and the timeline."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser import screenshots
from tests.serverproc import ServerProcess, start_server
from tests.test_results import QUIZ, cast_votes
from tests.wsclient import Peer

pytestmark = pytest.mark.browser


def cast_in_thread(server: ServerProcess) -> None:
    """Cast the test votes from real websockets, on a loop of their own (Playwright's sync API
    owns this thread's)."""

    async def cast() -> None:
        await cast_votes(server)
        await Peer.close_all()

    worker = threading.Thread(target=asyncio.run, args=(cast(),))
    worker.start()
    worker.join()


def test_results_page_shows_final_bars(browser: Browser, tmp_path: Path) -> None:
    server = start_server(QUIZ, data=tmp_path / "data")
    try:
        cast_in_thread(server)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # No request the page makes fails (a 404 shows in the browser's log).
        page.on(
            "response",
            lambda response: (
                response.status >= 400 and errors.append(f"{response.status} {response.url}")
            ),
        )
        page.goto(f"{server.base}/results?key={server.key}")
        expect(page.locator("#status")).to_have_text("2 polls, 4 votes")
        colour = page.get_by_role("article", name="Favourite colour?")
        expect(colour.locator(".turnout")).to_contain_text("3 voted · turnout 100% of participants")
        expect(colour.locator(".row.correct .label")).to_have_text("B. Blue")
        expect(colour.locator(".row.correct .count")).to_have_text("3 · 100%")
        full = colour.locator(".row.correct .fill").bounding_box()
        track = colour.locator(".row.correct .track").bounding_box()
        assert full and track and abs(full["width"] - track["width"]) < 1
        expect(
            page.get_by_role("img", name="Votes per minute over 1 minute, at most 4 in one minute")
        ).to_be_visible()
        assert errors == []
        page.screenshot(
            path=str(screenshots() / "results.png"),
            full_page=True,
        )
    finally:
        server.stop()


def test_every_page_names_its_icon() -> None:
    """Without `<link rel="icon">` a browser asks for /favicon.ico, which the server does not
    have: a 404 in the console of every page (headless Chromium does not ask, so read the
    pages)."""
    clients = Path(__file__).resolve().parent.parent / "clients"
    for page in clients.glob("*/index.html"):
        assert '<link rel="icon"' in page.read_text(encoding="utf-8"), page
