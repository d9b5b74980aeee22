"""The three web clients in a real Chromium: a presenter, a projector and phones in a live poll."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from slides import Deck, parse_deck
from tests.browser import Devices, screenshots, settled_bar_widths
from tests.serverproc import DECK, ServerProcess, start_server

pytestmark = pytest.mark.browser

# What phones would be told to open (as behind a venue's proxy); the test itself uses loopback.
PUBLIC_URL = "http://192.0.2.2:8000"

QUIZ = """\
---
title: Browser quiz
---

# Warm-up

---
poll:
  id: colour
---

# Favourite colour?

- [ ] Red
- [x] Blue
- [ ] Green

---
poll:
  id: locked
  change_vote: false
  results: hidden
---

# Locked in?

- [ ] Yes
- [ ] No

---

The end
"""


@pytest.fixture
def talk() -> Iterator[ServerProcess]:
    """The default deck, with a public URL so the projector shows a join QR code."""
    proc = start_server(DECK, "--public-url", PUBLIC_URL)
    yield proc
    proc.stop()


@pytest.fixture
def quiz(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server on a small deck with a correct answer and a locked, hidden-results poll."""
    deck = tmp_path / "quiz.md"
    deck.write_text(QUIZ, encoding="utf-8")
    proc = start_server(deck)
    yield proc
    proc.stop()


def urls(server: ServerProcess) -> tuple[str, str, str]:
    """Presenter, display and phone URLs as reached from this machine."""
    return (
        f"{server.base}/presenter?key={server.key}",
        f"{server.base}/display",
        f"{server.base}/?room={server.room}",
    )


def pending_votes(phone: Page, room: str) -> dict[str, dict[str, object]] | None:
    raw = phone.evaluate("(key) => localStorage.getItem(key)", f"handsup.pending.{room}")
    return json.loads(raw) if raw else None


def test_live_poll_from_presenter_to_phones_and_projector(
    talk: ServerProcess, devices: Devices
) -> None:
    server = talk
    deck: Deck = parse_deck(DECK.read_text(encoding="utf-8"), file=str(DECK))
    first = next(slide for slide in deck.slides if slide.poll is not None)
    poll = first.poll
    assert poll is not None and len(poll.options) >= 3
    following = deck.slides[first.index + 1]
    presenter_url, display_url, phone_url = urls(server)

    presenter = devices.open(presenter_url)
    display = devices.open(display_url)
    phones = [devices.open(phone_url, phone=True) for _ in range(3)]
    for page in (display, *phones):
        expect(page.locator(".slide")).to_have_attribute("data-index", "0")
    expect(presenter.locator("#conn")).to_have_text("Live")
    expect(presenter.locator("#presence")).to_contain_text("3 connected · 3 joined")

    # The presenter steps to the first quiz slide and opens voting from the keyboard.
    for _ in range(first.index):
        presenter.keyboard.press("ArrowRight")
    expect(presenter.locator("#position")).to_have_text(
        f"Slide {first.index + 1} of {len(deck.slides)}"
    )
    expect(display.locator(".poll-question")).to_have_text(poll.question)
    expect(phones[0].locator(".poll-state")).to_have_text("Voting hasn't started yet")
    expect(phones[0].locator(".choice").first).to_be_disabled()
    presenter.keyboard.press("o")
    expect(display.locator(".poll-badge")).to_have_text(f"Vote now at {PUBLIC_URL}")
    expect(display.locator(".strip-code")).to_have_text(server.room)
    expect(display.locator(".strip-qr")).to_have_attribute("src", "/qr/join.svg")
    expect(presenter.locator("#join-url")).to_have_text(PUBLIC_URL)

    # Two phones pick the second option, one the third; each hears back from the server.
    for phone, option in zip(phones, (1, 2, 1), strict=True):
        expect(phone.locator(".poll-state")).to_have_text("Voting is open: tap your answer")
        phone.locator(".choice").nth(option).tap()
    for phone, option in zip(phones, (1, 2, 1), strict=True):
        letter = "ABC"[option]
        expect(phone.locator("#vote-status")).to_have_text(f"Your vote is in ✓ ({letter})")
        expect(phone.locator(".choice").nth(option)).to_have_attribute("aria-pressed", "true")
        expect(phone.locator(".choice[aria-pressed=true]")).to_have_count(1)

    # The projector counts three votes, and its bars stand two to one.
    expect(display.locator(".poll-votes")).to_have_text("3 votes")
    expect(display.locator(".bar-count")).to_have_text(["0 · 0%", "2 · 67%", "1 · 33%"])
    widths = settled_bar_widths(display, ".kind-poll", [0, 2 / 3, 1 / 3])
    assert widths[0] == 0
    assert widths[1] == pytest.approx(2 * widths[2], rel=0.03)
    expect(presenter.locator("#poll-voters")).to_have_text("3 voted")
    expect(presenter.locator("#results .bar-count")).to_have_text(["0 · 0%", "2 · 67%", "1 · 33%"])
    # Phones see no counts before the reveal.
    expect(phones[0].locator(".results")).to_be_hidden()

    # Close and reveal: the phones show the results, each marking its own answer.
    presenter.keyboard.press("c")
    expect(display.locator(".poll-badge")).to_have_text("Voting closed")
    expect(phones[0].locator(".poll-state")).to_have_text("Voting is closed")
    presenter.keyboard.press("r")
    expect(presenter.locator("#btn-reveal")).to_contain_text("Hide results")
    for phone, option in zip(phones, (1, 2, 1), strict=True):
        expect(phone.locator(".results-summary")).to_have_text("3 votes")
        expect(phone.locator(".results .bar-count")).to_have_text(["0 · 0%", "2 · 67%", "1 · 33%"])
        expect(phone.locator(".results .bar-row.mine")).to_have_attribute(
            "data-option", str(option)
        )
    settled_bar_widths(phones[0], ".results", [0, 2 / 3, 1 / 3])
    expect(presenter.locator("#poll-visibility")).to_have_text("Results revealed to everyone")

    shots = screenshots()
    presenter.screenshot(path=str(shots / "presenter.png"))
    display.screenshot(path=str(shots / "display.png"))
    phones[0].screenshot(path=str(shots / "audience.png"))

    # Next (by clicking this time): every screen follows.
    presenter.get_by_role("button", name=re.compile(r"^Next")).click()
    expect(presenter.locator("#position")).to_have_text(
        f"Slide {following.index + 1} of {len(deck.slides)}"
    )
    for page in (display, *phones):
        expect(page.locator(".slide")).to_have_attribute("data-index", str(following.index))
    expect(presenter.locator("#current .slide")).to_have_attribute(
        "data-index", str(following.index)
    )
    if following.poll is not None:
        for page in (display, *phones):
            expect(page.locator(".poll-question")).to_have_text(following.poll.question)
        expect(phones[0].locator("#vote-status")).to_have_text("")


def test_votes_survive_reloads_and_lost_connections(quiz: ServerProcess, devices: Devices) -> None:
    presenter_url, display_url, phone_url = urls(quiz)
    presenter = devices.open(presenter_url)
    display = devices.open(display_url)
    steady, flaky = (devices.open(phone_url, phone=True) for _ in range(2))
    presenter.keyboard.press("ArrowRight")
    expect(display.locator(".poll-question")).to_have_text("Favourite colour?")
    presenter.keyboard.press("o")
    expect(steady.locator(".poll-state")).to_have_text("Voting is open: tap your answer")

    # A change of mind is allowed here; the server keeps the last answer.
    steady.locator(".choice").nth(0).tap()
    expect(steady.locator("#vote-status")).to_have_text("Your vote is in ✓ (A)")
    steady.locator(".choice").nth(1).tap()
    expect(steady.locator("#vote-status")).to_have_text("Your vote is in ✓ (B)")
    expect(steady.locator(".vote-note")).to_have_text(
        "You can change your answer until voting closes."
    )
    expect(display.locator(".bar-count")).to_have_text(["0 · 0%", "1 · 100%", "0 · 0%"])

    # A reload keeps the room, the identity and the vote.
    steady.reload()
    expect(steady.locator(".choice").nth(1)).to_have_attribute("aria-pressed", "true")
    expect(steady.locator("#vote-status")).to_have_text("Your vote is in ✓ (B)")
    expect(steady.locator("#room-label")).to_have_text(f"Room {quiz.room}")

    # A vote made while the connection is down waits, then lands once it is back.
    expect(flaky.locator("#conn")).to_have_text("Live")
    flaky.evaluate("handsup.connection.pause()")
    expect(flaky.locator("#conn")).to_have_text("Reconnecting…")
    flaky.locator(".choice").nth(2).tap()
    expect(flaky.locator("#vote-status")).to_have_text("Sending… (waiting for the connection)")
    expect(flaky.locator(".choice").nth(2)).to_have_attribute("aria-pressed", "true")
    pending = pending_votes(flaky, quiz.room)
    assert pending is not None and pending["colour"]["value"] == 2
    expect(display.locator(".poll-votes")).to_have_text("1 vote")
    flaky.evaluate("handsup.connection.resume()")
    expect(flaky.locator("#vote-status")).to_have_text("Your vote is in ✓ (C)")
    expect(display.locator(".poll-votes")).to_have_text("2 votes")
    expect(display.locator(".bar-count")).to_have_text(["0 · 0%", "1 · 50%", "1 · 50%"])
    assert pending_votes(flaky, quiz.room) is None

    # The ack got lost on the way (as if the phone died first): the same vote is resent with
    # the same id after a reload, acknowledged again and still counted once.
    flaky.evaluate(
        "([key, value]) => localStorage.setItem(key, value)",
        [f"handsup.pending.{quiz.room}", json.dumps(pending)],
    )
    flaky.reload()
    expect(flaky.locator("#vote-status")).to_have_text("Your vote is in ✓ (C)")
    flaky.wait_for_function(
        "(key) => localStorage.getItem(key) === null", arg=f"handsup.pending.{quiz.room}"
    )
    fresh = devices.open(display_url)  # a new screen gets the server's own tally
    expect(fresh.locator(".poll-votes")).to_have_text("2 votes")
    expect(fresh.locator(".bar-count")).to_have_text(["0 · 0%", "1 · 50%", "1 · 50%"])
    expect(presenter.locator("#poll-voters")).to_have_text("2 voted")

    # The reveal marks the correct answer in words, on the projector and on the phones.
    presenter.keyboard.press("c")
    presenter.keyboard.press("r")
    expect(display.locator(".bar-row.correct .bar-tag")).to_have_text("✓ correct")
    expect(display.locator(".bar-row.correct")).to_have_attribute("data-option", "1")
    expect(steady.locator(".results .bar-row.correct .bar-tag")).to_have_text(
        "✓ correct · your answer"
    )
    expect(flaky.locator(".results .bar-row.mine .bar-tag")).to_have_text("your answer")

    # One vote only, results hidden: the display shows no counts, the phone cannot change.
    presenter.keyboard.press("ArrowRight")
    expect(display.locator(".poll-question")).to_have_text("Locked in?")
    presenter.keyboard.press("v")
    expect(steady.locator(".poll-state")).to_have_text("Voting is open: tap your answer")
    steady.locator(".choice").nth(0).tap()
    expect(steady.locator("#vote-status")).to_have_text("Your vote is in ✓ (A)")
    expect(steady.locator(".choice").nth(1)).to_be_disabled()
    expect(steady.locator(".vote-note")).to_have_text(
        "This question takes one vote: yours is locked in."
    )
    expect(presenter.locator("#poll-voters")).to_have_text("1 voted")
    expect(presenter.locator("#poll-visibility")).to_have_text("Results hidden from the display")
    expect(display.locator(".bars")).to_have_class(re.compile(r"\bno-counts\b"))
    expect(display.locator(".bar-count")).to_have_text(["", ""])

    # Reset (X, confirmed): the votes are gone everywhere.
    presenter.once("dialog", lambda dialog: dialog.accept())
    presenter.keyboard.press("x")
    expect(presenter.locator("#poll-voters")).to_have_text("0 voted")
    expect(steady.locator(".poll-state")).to_have_text("Voting hasn't started yet")
    expect(steady.locator("#vote-status")).to_have_text("")
    expect(steady.locator(".choice[aria-pressed=true]")).to_have_count(0)


def test_blackout_join_instructions_and_presenter_tabs(
    quiz: ServerProcess, devices: Devices
) -> None:
    presenter_url, display_url, phone_url = urls(quiz)
    presenter = devices.open(presenter_url)
    second = devices.open(presenter_url)
    display = devices.open(display_url)
    phone = devices.open(phone_url, phone=True)
    expect(display.locator(".slide h1")).to_have_text("Warm-up")

    presenter.keyboard.press("b")
    expect(display.locator("#blackout")).to_be_visible()
    expect(phone.locator("#paused")).to_have_text("The presenter paused the screen")
    expect(phone.locator("#slide")).to_be_hidden()
    expect(second.locator("#btn-blackout")).to_have_attribute("aria-pressed", "true")
    second.keyboard.press("b")
    expect(display.locator("#blackout")).to_be_hidden()
    expect(phone.locator("#paused")).to_be_hidden()

    second.keyboard.press("j")
    expect(display.locator("#join-panel")).to_be_visible()
    expect(display.locator("#join-code")).to_have_text(quiz.room)
    expect(display.locator("#join-url")).to_have_text(quiz.audience.split("/?")[0])
    expect(presenter.locator("#btn-join")).to_have_attribute("aria-pressed", "true")
    presenter.keyboard.press("j")
    expect(display.locator("#join-panel")).to_be_hidden()

    # G opens the outline; Enter goes there, in every presenter tab. Keys typed in the list
    # (B here) are not shortcuts: had B blacked out the display, that state would come first.
    presenter.keyboard.press("g")
    expect(presenter.locator("#goto-dialog")).to_be_visible()
    presenter.locator("#goto-select").press("b")
    presenter.locator("#goto-select").select_option("3")
    presenter.locator("#goto-select").press("Enter")
    expect(presenter.locator("#goto-dialog")).to_be_hidden()
    expect(second.locator("#position")).to_have_text("Slide 4 of 4")
    expect(display.locator(".slide")).to_have_attribute("data-index", "3")
    expect(display.locator("#blackout")).to_be_hidden()
    expect(second.locator("#btn-blackout")).to_have_attribute("aria-pressed", "false")
    expect(presenter.locator("#btn-next")).to_be_disabled()
    expect(presenter.locator("#btn-open")).to_be_disabled()
    expect(presenter.locator("#join-warning")).to_be_visible()  # loopback: phones cannot join


def test_wrong_room_code_can_be_corrected(quiz: ServerProcess, devices: Devices) -> None:
    phone = devices.open(f"{quiz.base}/?room=NOPE9", phone=True)
    expect(phone.locator("#join-error")).to_contain_text("There is no room “NOPE9” here")
    expect(phone.get_by_label("Enter the room code")).to_have_value("NOPE9")
    phone.get_by_label("Enter the room code").fill(quiz.room.lower())
    phone.get_by_role("button", name="Join").click()
    expect(phone.locator(".slide h1")).to_have_text("Warm-up")
    assert phone.url.endswith(f"/?room={quiz.room}")
    phone.goto(f"{quiz.base}/")  # the room is remembered
    expect(phone.locator("#room-label")).to_have_text(f"Room {quiz.room}")
    expect(phone.locator(".slide h1")).to_have_text("Warm-up")


@pytest.mark.parametrize(("query", "status"), [("?key=", 401), ("?key=not-the-key", 403)])
def test_presenter_page_needs_its_key(
    quiz: ServerProcess, devices: Devices, query: str, status: int
) -> None:
    assert httpx.get(f"{quiz.base}/presenter{query}").status_code == status
    page = devices.open(f"{quiz.base}/display")
    response = page.goto(f"{quiz.base}/presenter{query}")
    assert response is not None and response.status == status
    expect(page.locator("#controls")).to_have_count(0)
    expect(page.get_by_role("button")).to_have_count(0)


@pytest.mark.parametrize("link", ["/presenter", "/presenter#key=not-the-key"])
def test_presenter_page_without_its_key_in_the_fragment_controls_nothing(
    quiz: ServerProcess, devices: Devices, link: str
) -> None:
    # The page itself is no secret (the key stays in the fragment, never sent): its socket is.
    page = devices.open(f"{quiz.base}{link}")
    expect(page.locator("#messages")).to_contain_text("The presenter key is missing or wrong")
    expect(page.locator("#controls button")).not_to_have_count(0)
    for button in page.locator("#controls button").all():
        expect(button).to_be_disabled()


def test_presenter_link_as_printed_works_and_an_old_one_moves_its_key_out_of_the_query(
    quiz: ServerProcess, devices: Devices
) -> None:
    printed = re.search(r"presenter: \S+?(/presenter\S*)", "\n".join(quiz.banner))
    assert printed is not None and printed[1] == f"/presenter#key={quiz.key}"
    page = devices.open(f"{quiz.base}{printed[1]}")
    expect(page.locator("#controls button:enabled").first).to_be_visible()
    old = devices.open(f"{quiz.base}/presenter?key={quiz.key}")
    expect(old.locator("#controls button:enabled").first).to_be_visible()
    expect(old).to_have_url(f"{quiz.base}/presenter#key={quiz.key}")  # a reload sends no key
