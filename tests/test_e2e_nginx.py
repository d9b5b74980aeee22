"""The real pages in Chromium, through a real nginx: what a person sees when handsup runs
behind `handsup deploy nginx`'s configuration, with nginx serving the scripts itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import Devices
from tests.nginxproc import NginxProcess, start_nginx
from tests.serverproc import ROOT, ServerProcess, start_server

pytestmark = pytest.mark.browser

QUIZ = Path(__file__).parent / "decks" / "quiz.md"
QA = Path(__file__).parent / "decks" / "qa.md"


@pytest.fixture
def behind_nginx() -> Iterator[tuple[ServerProcess, NginxProcess]]:
    server = start_server(QUIZ)
    try:
        proxy = start_nginx([f"127.0.0.1:{server.port}"], static=ROOT / "clients")
        try:
            yield server, proxy
        finally:
            print(f"nginx error log:\n{proxy.error_log()}")
            proxy.stop()
    finally:
        server.stop()


def test_presenter_and_phones_vote_through_nginx(
    behind_nginx: tuple[ServerProcess, NginxProcess], devices: Devices
) -> None:
    server, proxy = behind_nginx
    presenter = devices.open(f"{proxy.base}/presenter?key={server.key}")
    display = devices.open(f"{proxy.base}/display?room={server.room}")
    phones = [devices.open(f"{proxy.base}/?room={server.room}", phone=True) for _ in range(2)]
    expect(presenter.locator("#conn")).to_have_text("Live")
    expect(presenter.locator("#presence")).to_contain_text("2 connected · 2 joined")
    presenter.keyboard.press("ArrowRight")
    expect(display.locator(".poll-question")).to_have_text("Favourite colour?")
    presenter.keyboard.press("o")
    for phone, option in zip(phones, (1, 2), strict=True):
        expect(phone.locator(".poll-state")).to_have_text("Voting is open: tap your answer")
        phone.locator(".choice").nth(option).tap()
    for phone, letter in zip(phones, "BC", strict=True):
        expect(phone.locator("#vote-status")).to_have_text(f"Your vote is in ✓ ({letter})")
    expect(presenter.locator("#poll-voters")).to_have_text("2 voted")
    expect(display.locator(".poll-votes")).to_have_text("2 votes")


def printed_links(server: ServerProcess) -> dict[str, str]:
    """The page links `handsup serve` printed (name: path and fragment)."""
    found = (re.search(r"^\s*(\w+):\s+https?://[^/\s]+(/\S*)$", line) for line in server.banner)
    return {m[1]: m[2] for m in found if m is not None}


def test_no_key_lands_in_nginx_logs_when_a_worker_is_down(devices: Devices) -> None:
    server = start_server(QA)
    stopped = start_server(QA)  # a second worker, stopped: nginx logs each request it fails
    stopped.stop()
    keys = (server.key, server.moderator_key)
    assert all(keys)
    proxy = start_nginx([f"127.0.0.1:{stopped.port}", f"127.0.0.1:{server.port}"])
    try:
        links = printed_links(server)
        assert links["presenter"] == f"/presenter#key={server.key}"
        assert links["moderator"] == f"/moderate#key={server.moderator_key}"
        assert links["results"] == f"/results#key={server.key}"
        # Every page that takes a key works through nginx as printed...
        presenter = devices.open(proxy.base + links["presenter"])
        moderator = devices.open(proxy.base + links["moderator"])
        display = devices.open(f"{proxy.base}/display#key={server.key}")
        results = devices.open(proxy.base + links["results"])
        for page in (presenter, moderator, display):
            expect(page.locator("#conn")).to_have_text("Live")
        expect(results.locator("#status")).to_contain_text("poll")
        # ...the results page's downloads included (fetched with the key in a header).
        with results.expect_download() as saved:
            results.locator("#csv").click()
        assert saved.value.suggested_filename == "handsup-session-1.csv"
        assert Path(saved.value.path()).read_text().strip(), "the CSV came"

        # The last worker stops too: every reload is an upstream error in nginx's error log.
        server.stop()
        for page in (presenter, moderator, display, results):
            page.reload()
        error_log = proxy.error_log()
        for path in ("/presenter", "/moderate", "/display", "/results"):
            assert f'request: "GET {path} HTTP/1.1"' in error_log, path
        access_log = (proxy.prefix / "access.log").read_text()
        for key in keys:
            assert key is not None and key not in error_log and key not in access_log
    finally:
        print(f"nginx error log:\n{proxy.error_log()}")
        proxy.stop()
        server.stop()
