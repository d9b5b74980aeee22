"""The ideas board in a real Chromium: an idea typed on a phone waits for a moderator, who
approves it and merges a duplicate into it from the keyboard; another phone votes for it and
the display ranks it; closing proposing leaves voting open. Everything typed stays text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import PROJECTOR, Devices, screenshots
from tests.serverproc import ServerProcess, start_server
from tests.test_e2e_axe import violations
from tests.test_e2e_browser import PUBLIC_URL, urls

pytestmark = pytest.mark.browser

DECK = Path(__file__).parent / "decks" / "ideas.md"
HOSTILE = "Evening sessions <b>in libraries</b>"
QUESTION = "What should the next pilot try?"
FIRST = "How could we reach people who never come to consultations?"
VETTED = ".ideas-moderate[data-poll=vetted]"


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    proc = start_server(DECK, "--public-url", PUBLIC_URL)
    yield proc
    proc.stop()


def propose(phone: Page, text: str) -> None:
    phone.get_by_label("Your idea", exact=True).fill(text)
    phone.get_by_role("button", name="Propose").tap()


def press(page: Page, selector: str) -> None:
    """Move the keyboard focus to a button and press Enter, as a keyboard user does."""
    page.locator(selector).focus()
    page.keyboard.press("Enter")


def test_an_idea_goes_from_a_phone_through_the_moderator_to_the_ranked_display(
    server: ServerProcess, devices: Devices
) -> None:
    presenter_url, display_url, phone_url = urls(server)
    presenter = devices.open(presenter_url)
    display = devices.open(display_url, viewport=PROJECTOR)
    moderator = devices.open(f"{server.base}/moderate?key={server.moderator_key}")
    proposer, voter = (devices.open(phone_url, phone=True) for _ in range(2))
    for phone in (proposer, voter):
        phone.get_by_role("button", name="OK").tap()
    presenter.keyboard.press("ArrowRight")
    presenter.keyboard.press("ArrowRight")
    expect(display.locator(".slide")).to_have_attribute("data-index", "2")
    presenter.keyboard.press("o")
    expect(proposer.locator(".poll-state")).to_have_text(
        "Voting is open: propose an idea or vote for the best"
    )

    propose(proposer, HOSTILE)
    mine = proposer.locator(".ideas-own .idea-own")
    expect(mine.locator(".idea-text")).to_have_text(HOSTILE)
    expect(mine.locator(".idea-state")).to_have_text("Waiting for approval")
    expect(proposer.locator("#vote-status")).to_have_text("Your idea is in ✓")

    # The moderator finds it under the slide's question, not the poll's id; nobody else sees it.
    board = moderator.locator(".ideas-moderate[data-poll=vetted]")
    expect(moderator.locator(".answers-poll")).to_have_text([FIRST, QUESTION])
    expect(board.locator(".moderation-item.state-pending .moderation-text")).to_have_text(HOSTILE)
    expect(voter.locator(".ideas-empty")).to_be_visible()
    expect(display.locator(".idea-ranked")).to_have_count(0)
    press(moderator, f"{VETTED} .state-pending [data-moderate=approve]")
    expect(board.locator(".moderation-item.state-shown .moderation-text")).to_have_text(HOSTILE)
    expect(mine.locator(".idea-state")).to_have_text("On the board")

    # Another phone votes for it; the display ranks it with its vote.
    vote = voter.locator(".ideas-board .idea-vote")
    expect(vote).to_have_attribute("aria-pressed", "false")
    vote.tap()
    expect(vote).to_have_attribute("aria-pressed", "true")
    expect(voter.locator(".ideas-left")).to_have_text("1 vote left")
    ranked = display.locator(".idea-ranked")
    expect(ranked.locator(".idea-text")).to_have_text(HOSTILE)
    expect(ranked.locator(".idea-count")).to_have_text("1 vote")

    # The same idea again, from the voter: approved, voted for by the proposer, then merged
    # into the first from the keyboard. Its votes join the first.
    propose(voter, "Evening sessions in libraries")
    duplicate = board.locator(".moderation-item.state-pending")
    expect(duplicate.locator(".moderation-text")).to_have_text("Evening sessions in libraries")
    press(moderator, f"{VETTED} .state-pending [data-moderate=approve]")
    expect(display.locator(".idea-ranked")).to_have_count(2)
    second = proposer.locator(".ideas-board .idea", has_text="Evening sessions in libraries")
    second.locator(".idea-vote").tap()
    expect(second.locator(".idea-vote")).to_have_attribute("aria-pressed", "true")
    expect(display.locator(".idea-ranked .idea-count")).to_have_text(["1 vote", "1 vote"])
    # From the keyboard on the list: down to the duplicate, M, up to the original, M.
    board.locator(".moderation").focus()
    duplicate_row = board.locator(".moderation-item", has_text="Evening sessions in libraries")
    expect(board.locator(".moderation-item").first).to_have_attribute("aria-current", "true")
    moderator.keyboard.press("ArrowDown")  # ranked second: as many votes, proposed later
    expect(duplicate_row).to_have_attribute("aria-current", "true")
    moderator.keyboard.press("m")
    expect(board.locator(".ideas-merge-hint")).to_contain_text("choose the idea it duplicates")
    moderator.keyboard.press("ArrowUp")
    moderator.keyboard.press("m")
    expect(display.locator(".idea-ranked")).to_have_count(1)
    expect(ranked.locator(".idea-count")).to_have_text("2 votes")
    expect(display.locator(".idea-ranked .idea-text")).to_have_text(HOSTILE)
    # The proposer's vote followed the idea it was given to.
    expect(proposer.locator(".ideas-board .idea")).to_have_count(1)
    expect(proposer.locator(".ideas-board .idea-vote")).to_have_attribute("aria-pressed", "true")

    # Proposing closes; voting goes on.
    press(moderator, f"{VETTED} .ideas-proposing-toggle")
    expect(voter.locator(".ideas-closed")).to_have_text("New ideas are closed; you can still vote.")
    expect(voter.get_by_label("Your idea", exact=True)).to_be_hidden()
    expect(voter.locator(".poll-state")).to_have_text("Voting is open")
    expect(display.locator(".ideas-proposing")).to_have_text("New ideas are closed: voting goes on")
    vote.tap()
    expect(vote).to_have_attribute("aria-pressed", "false")
    expect(ranked.locator(".idea-count")).to_have_text("1 vote")

    # The results page ranks the ideas, the merged duplicate kept and marked, no proposers.
    results = devices.open(f"{server.base}/results?key={server.key}")
    rows = results.locator("article.poll", has_text=QUESTION).locator(".row .label")
    expect(rows).to_have_text([f"1. {HOSTILE}", "Evening sessions in libraries (merged into i1)"])

    folder = screenshots()
    display.screenshot(path=str(folder / "ideas-display.png"), animations="disabled")
    proposer.screenshot(path=str(folder / "ideas-phone.png"), animations="disabled")
    moderator.screenshot(path=str(folder / "ideas-moderator.png"), animations="disabled")

    # The presenter's page shows the same board, in step, and can open proposing again.
    toggle = presenter.locator(".ideas-proposing-toggle")
    expect(toggle).to_have_text("Open proposing")
    expect(presenter.locator(".moderation-item .moderation-text")).to_have_text([HOSTILE])
    toggle.click()
    expect(voter.get_by_label("Your idea", exact=True)).to_be_visible()
    expect(board.locator(".ideas-proposing-toggle")).to_have_text("Close proposing")

    for page in (display, proposer, voter, moderator, presenter):
        assert page.locator(".idea-text b, .moderation-text b").count() == 0, "an idea became HTML"
    # No serious accessibility violation on any screen of the board (axe-core, WCAG 2.1 AA).
    pages = {"display": display, "phone": proposer, "moderator": moderator}
    found = {name: violations(page) for name, page in {**pages, "presenter": presenter}.items()}
    assert {name: v for name, v in found.items() if v} == {}
