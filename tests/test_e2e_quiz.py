"""The scored quiz in Chromium: a phone takes a nickname, answers against the clock, and the
projector's leaderboard and the phone's own place show the result."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import PHONE, Devices, screenshots
from tests.serverproc import ServerProcess, start_server

pytestmark = pytest.mark.browser

DECK = Path(__file__).parent / "decks" / "scored_quiz.md"


@pytest.fixture
def quiz() -> Iterator[ServerProcess]:
    proc = start_server(DECK)
    yield proc
    proc.stop()


def test_a_phone_plays_the_quiz_and_finds_itself_on_the_leaderboard(
    devices: Devices, quiz: ServerProcess
) -> None:
    presenter = devices.open(f"{quiz.base}/presenter?key={quiz.key}")
    display = devices.open(f"{quiz.base}/display")
    phone = devices.open(f"{quiz.base}/?room={quiz.room}", phone=True)
    other = devices.open(f"{quiz.base}/?room={quiz.room}", phone=True)
    for page, name in ((phone, "Ann"), (other, "<b>Bob</b>")):
        expect(page.locator("#nickname-form")).to_be_visible()
        page.locator("#nickname-input").fill(name)
        page.locator("#nickname-form button").click()
    expect(presenter.locator("#position")).to_have_text("Slide 1 of 4")
    presenter.keyboard.press("ArrowRight")
    presenter.keyboard.press("o")
    # The server's clock runs: both the phone and the projector count down.
    expect(phone.locator(".poll-clock")).to_have_text(re.compile(r"^\d+ s left$"))
    expect(display.locator(".poll-clock")).to_have_text(re.compile(r"^\d+$"))
    phone.locator(".choice").nth(1).tap()
    expect(phone.locator("#vote-status")).to_have_text("Your vote is in ✓ (B)")
    other.locator(".choice").nth(0).tap()
    expect(other.locator("#vote-status")).to_have_text("Your vote is in ✓ (A)")
    presenter.keyboard.press("g")
    presenter.locator("#goto-select").select_option("3")
    presenter.keyboard.press("Enter")
    podium = display.locator(".podium-place")
    expect(podium).to_have_count(2)
    expect(podium.nth(0).locator(".podium-name")).to_have_text("Ann")
    # Text from the room stays text: the tags are shown, not obeyed.
    expect(podium.nth(1).locator(".podium-name")).to_have_text("<b>Bob</b>")
    assert display.locator(".podium b").count() == 0
    expect(display.locator(".leaderboard-players")).to_have_text("2 players")
    expect(phone.locator(".my-standing")).to_have_text(
        re.compile(r"^You are number 1 of 2 with \d[\d,]* points$")
    )
    expect(other.locator(".my-standing")).to_have_text("You are number 2 of 2 with 0 points")
    # The README's pictures (docs/screenshots, by scripts/screenshots.sh).
    display.screenshot(path=str(screenshots() / "leaderboard-display.png"), animations="disabled")
    phone.get_by_role("button", name="OK").click()  # the data notice read: out of the picture
    expect(phone.get_by_text("About your data")).to_be_hidden()
    phone.set_viewport_size(PHONE)
    phone.screenshot(path=str(screenshots() / "leaderboard-phone.png"), animations="disabled")
