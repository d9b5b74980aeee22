"""The real pages in Chromium, through a real nginx: what a person sees when handsup runs
behind `handsup deploy nginx`'s configuration, with nginx serving the scripts itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import Devices
from tests.nginxproc import NginxProcess, start_nginx
from tests.serverproc import ROOT, ServerProcess, start_server

pytestmark = pytest.mark.browser

QUIZ = Path(__file__).parent / "decks" / "quiz.md"


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
