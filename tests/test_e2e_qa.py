"""The talk's Q&A in a real Chromium: a question typed on a phone waits for a moderator, who
approves it from the keyboard; the display shows it, another phone upvotes it, and the
presenter puts the top questions over the slide with Q."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser import PROJECTOR, Devices, screenshots
from tests.serverproc import ServerProcess, start_server
from tests.test_e2e_browser import PUBLIC_URL, urls

pytestmark = pytest.mark.browser

DECK = Path(__file__).parent / "decks" / "qa.md"
HOSTILE = "How long is <b>my data</b> kept after the talk?"


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    proc = start_server(DECK, "--public-url", PUBLIC_URL)
    yield proc
    proc.stop()


def test_the_moderator_page_needs_its_own_key(server: ServerProcess) -> None:
    assert server.moderator_key and server.moderator_key != server.key
    assert httpx.get(f"{server.base}/moderate", params={"key": ""}).status_code == 401
    assert httpx.get(f"{server.base}/moderate?key={server.key}").status_code == 403
    assert httpx.get(f"{server.base}/moderate?key={server.moderator_key}").status_code == 200


def test_a_question_goes_from_a_phone_through_the_moderator_to_the_display(
    server: ServerProcess, devices: Devices
) -> None:
    presenter_url, display_url, phone_url = urls(server)
    presenter = devices.open(presenter_url)
    display = devices.open(display_url, viewport=PROJECTOR)
    moderator = devices.open(f"{server.base}/moderate?key={server.moderator_key}")
    asker, voter = (devices.open(phone_url, phone=True) for _ in range(2))

    # On joining, each phone is told what is kept, who sees it and for how long.
    for phone in (asker, voter):
        notice = phone.locator("#privacy")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("random token")
        expect(notice).to_contain_text("until they delete it")
        if phone is asker:
            phone.screenshot(path=str(screenshots() / "privacy-phone.png"), animations="disabled")
        phone.get_by_role("button", name="OK").tap()
        expect(notice).to_be_hidden()
    asker.get_by_role("button", name="Questions").tap()
    asker.get_by_label("Your question", exact=True).fill(HOSTILE)
    asker.get_by_label("Your name (optional)").fill("Ann")
    asker.get_by_role("button", name="Ask").tap()
    expect(asker.locator(".qa-status")).to_contain_text("once a moderator approves it")
    expect(asker.locator(".qa-mine .qa-item")).to_contain_text("Waiting for approval")

    # The moderator sees it waiting; nobody else does yet.
    queue = moderator.locator(".qa-queue")
    expect(queue.locator(".qa-item.pending .qa-text")).to_have_text(HOSTILE)
    expect(moderator.locator("#qa-queue-title")).to_have_text("Questions · 1 waiting")
    voter.get_by_role("button", name="Questions").tap()
    expect(voter.locator(".qa-list:not(.qa-mine) .qa-item")).to_have_count(0)
    screenshot_dir = screenshots()
    moderator.screenshot(path=str(screenshot_dir / "qa-moderator.png"), animations="disabled")

    queue.focus()
    moderator.keyboard.press("a")  # approve the first in the queue
    expect(moderator.locator("#qa-queue-title")).to_have_text("Questions · 0 waiting")

    # The presenter steps to the questions slide: the display shows it, as text.
    presenter.keyboard.press("ArrowRight")
    expect(voter.locator("#slide .qa-offer")).to_have_text("Ask a question or upvote one")
    expect(display.locator(".questions-area .qa-text")).to_have_text(HOSTILE)
    expect(display.locator(".questions-area .qa-name")).to_have_text("Ann")

    # Another phone upvotes it; the count reaches the display, and the asker sees it as theirs.
    upvote = voter.locator(".qa-upvote")
    expect(upvote).to_have_attribute("aria-pressed", "false")
    upvote.tap()
    expect(upvote).to_have_attribute("aria-pressed", "true")
    # The server's upvote_ack (once durable) confirms it: no longer drawn as still sending.
    expect(upvote).not_to_have_attribute("aria-busy", "true")
    expect(display.locator(".questions-area .qa-votes")).to_have_text("1")
    expect(asker.locator(".qa-list .qa-item.mine .qa-upvote")).to_be_disabled()
    asker.locator(".qa-mine").scroll_into_view_if_needed()
    asker.screenshot(path=str(screenshot_dir / "qa-phone.png"), animations="disabled")
    display.screenshot(path=str(screenshot_dir / "qa-display.png"), animations="disabled")

    # Back on the title slide, Q puts the top questions over it, and takes them away again.
    presenter.keyboard.press("ArrowLeft")
    expect(display.locator(".slide")).to_have_attribute("data-index", "0")
    expect(display.locator("#questions-overlay")).to_be_hidden()
    presenter.keyboard.press("q")
    expect(display.locator("#questions-overlay .qa-text")).to_have_text(HOSTILE)
    presenter.keyboard.press("q")
    expect(display.locator("#questions-overlay")).to_be_hidden()

    # The asker deletes what they typed: it leaves the display and every phone.
    presenter.keyboard.press("ArrowRight")
    expect(display.locator(".questions-area .qa-text")).to_have_text(HOSTILE)
    asker.on("dialog", lambda dialog: dialog.accept())
    asker.get_by_role("button", name="Your data").tap()
    asker.get_by_role("button", name="Delete what I typed").tap()
    expect(asker.locator(".privacy-status")).to_have_text(
        "Done: what you typed in this talk is deleted."
    )
    expect(display.locator(".questions-area .qa-empty")).to_be_visible()
    expect(voter.locator(".qa-list .qa-item")).to_have_count(0)
    for page in (display, asker, voter, moderator, presenter):
        assert page.locator(".qa-text b").count() == 0, "a question became HTML"
