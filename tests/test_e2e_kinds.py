"""Word clouds, open questions and rating scales in a real Chromium, as people use them: the
presenter at the keyboard, phones typing and tapping, the projector showing the room."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from websockets.sync.client import connect

from server.commands import Answer
from tests.browser import PROJECTOR, Devices, screenshots
from tests.serverproc import ServerProcess, start_server
from tests.test_e2e_browser import PUBLIC_URL, urls

pytestmark = pytest.mark.browser

KINDS = """\
---
title: Listening to the room
---

# Welcome

---
poll:
  id: one-word
  type: words
  entries: 3
---

# One word for this talk?

---
poll:
  id: ask
  type: text
  answers: 2
  max_length: 120
  moderation: before
---

# What would you ask the panel?

---
poll:
  id: useful
  type: scale
  labels: [Not at all, Very]
---

# How useful was this session?

---
poll:
  id: quick
  type: scale
  min: 0
  max: 10
  timer: 6
---

# Quick! How likely are you to come back?

---
poll:
  id: ideas
  type: text
---

# One idea to reach people who never take part?

---
poll:
  id: colour
---

# Favourite colour?

- [ ] Red
- [x] Blue
"""

# Indexes of the slides above.
WORDS, TEXT, SCALE, TIMED, IDEAS, CHOICE = 1, 2, 3, 4, 5, 6

HOSTILE_TEXT = '<img src=x onerror="window.pwned=1"> and <b>bold</b>?'
HOSTILE_WORD = "<b>bold</b>"


@pytest.fixture
def kinds(tmp_path: Path) -> Iterator[ServerProcess]:
    deck = tmp_path / "kinds.md"
    deck.write_text(KINDS, encoding="utf-8")
    proc = start_server(deck, "--public-url", PUBLIC_URL)  # as phones would reach it
    yield proc
    proc.stop()


class Room:
    """A presenter, a full-HD projector and some phones, all on the welcome slide."""

    def __init__(self, server: ServerProcess, devices: Devices, phones: int) -> None:
        presenter_url, display_url, phone_url = urls(server)
        self.server = server
        self.devices = devices
        self.presenter = devices.open(presenter_url)
        self.display = devices.open(display_url, viewport=PROJECTOR)
        self.phones = [devices.open(phone_url, phone=True) for _ in range(phones)]
        for page in (self.display, *self.phones):
            expect(page.locator(".slide")).to_have_attribute("data-index", "0")
        expect(self.presenter.locator("#presence")).to_contain_text(f"{phones} connected")

    def go_to(self, index: int, question: str) -> None:
        """Step there with the arrow keys; every screen shows the question."""
        expect(self.presenter.locator("#position")).to_have_text(re.compile(r"^Slide \d+ of"))
        current = int(self.presenter.locator("#position").inner_text().split()[1]) - 1
        for _ in range(abs(index - current)):
            self.presenter.keyboard.press("ArrowRight" if index > current else "ArrowLeft")
        for page in (self.display, *self.phones):
            expect(page.locator(".poll-question")).to_have_text(question)
        for phone in self.phones:  # nothing sticks out of the slide's card on a phone
            assert phone.evaluate(_INSIDE_THE_CARD)

    def open_voting(self, prompt: str) -> None:
        self.presenter.keyboard.press("o")
        expect(self.presenter.locator("#poll-status")).to_have_text("Voting open")
        for phone in self.phones:
            expect(phone.locator(".poll-state")).to_have_text(prompt)


# Whether everything on a phone's slide lies within the slide's card, left to right.
_INSIDE_THE_CARD = """() => {
  const card = document.querySelector(".slide").getBoundingClientRect();
  return [...document.querySelectorAll(".slide *")].every((node) => {
    const box = node.getBoundingClientRect();
    return box.width === 0 || (box.left >= card.left - 0.5 && box.right <= card.right + 0.5);
  });
}"""


def screenshot(page: Page, name: str) -> None:
    """A picture for the README (docs/screenshots, by scripts/screenshots.sh)."""
    page.screenshot(path=str(screenshots() / name), animations="disabled")


def send_word(phone: Page, word: str) -> None:
    box = phone.get_by_label("Your word or short phrase")
    box.fill(word)
    box.press("Enter")


def send_text(phone: Page, text: str) -> None:
    phone.get_by_label("Your answer", exact=True).fill(text)
    phone.get_by_role("button", name="Send").tap()


# The computed font size of each word in the cloud under `scope`, in pixels, once no size
# transition is running; null until then.
_SETTLED_SIZES = """(scope) => {
  const words = [...document.querySelectorAll(`${scope} .cloud-word`)];
  const moving = document.getAnimations().some(
    (animation) => animation instanceof CSSTransition && words.includes(animation.effect?.target),
  );
  if (moving || !words.length) return null;
  return Object.fromEntries(
    words.map((word) => [
      word.querySelector(".cloud-text").textContent,
      parseFloat(getComputedStyle(word).fontSize),
    ]),
  );
}"""


def word_sizes(page: Page, scope: str = "") -> dict[str, float]:
    sizes: dict[str, float] = page.wait_for_function(_SETTLED_SIZES, arg=scope).json_value()
    return sizes


# The height of each column of the histogram under `scope` as a share of the tallest possible
# (its track, less the room kept above for the count),
# once no column is moving; null until then.
_SETTLED_COLUMNS = """(scope) => {
  const fills = [...document.querySelectorAll(`${scope} .scale-fill`)];
  const moving = document.getAnimations().some(
    (animation) => animation instanceof CSSTransition && fills.includes(animation.effect?.target),
  );
  if (moving || !fills.length) return null;
  const room = (track) => {
    const style = getComputedStyle(track);
    const pads = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
    return track.getBoundingClientRect().height - pads;
  };
  return fills.map((fill) => fill.getBoundingClientRect().height / room(fill.parentElement));
}"""


def column_heights(page: Page, scope: str = "") -> list[float]:
    heights: list[float] = page.wait_for_function(_SETTLED_COLUMNS, arg=scope).json_value()
    return heights


def test_word_cloud_from_phones_to_projector(kinds: ServerProcess, devices: Devices) -> None:
    room = Room(kinds, devices, phones=3)
    presenter, display, phones = room.presenter, room.display, room.phones
    room.go_to(WORDS, "One word for this talk?")
    expect(phones[0].locator(".poll-state")).to_have_text("Voting hasn't started yet")
    expect(phones[0].get_by_label("Your word or short phrase")).to_be_disabled()
    room.open_voting("Voting is open: send a word")

    # Three people, five different spellings of three words. The first types two words in a
    # row on the keyboard: the box keeps the focus, and the second word is not lost while the
    # first is still on its way.
    box = phones[0].get_by_label("Your word or short phrase")
    box.tap()
    phones[0].keyboard.type("Listening")
    phones[0].keyboard.press("Enter")
    phones[0].keyboard.type("trust")
    phones[0].keyboard.press("Enter")
    expect(phones[0].locator(".my-entries li")).to_have_text(["Listening", "trust"])
    expect(box).to_be_focused()
    expect(box).to_have_value("")
    for word in ("listening", "TRUST"):
        send_word(phones[1], word)
        expect(phones[1].locator(".my-entries li").last).to_have_text(word)
    # The third is offline for a moment: both words wait, then both land.
    phones[2].evaluate("handsup.connection.pause()")
    send_word(phones[2], "  LISTENING ")
    send_word(phones[2], "rubbish")
    expect(phones[2].locator("#vote-status")).to_have_text("Sending… (waiting for the connection)")
    expect(phones[2].locator(".my-entries li")).to_have_text(["LISTENING", "rubbish"])
    phones[2].evaluate("handsup.connection.resume()")
    expect(phones[2].locator("#vote-status")).to_have_text(
        "Your words are in ✓ (LISTENING, rubbish)"
    )
    expect(phones[0].locator("#vote-status")).to_have_text("Your words are in ✓ (Listening, trust)")
    expect(phones[0].locator(".entry-help")).to_have_text(
        "2 of 3 sent · at most 25 characters each"
    )

    # The projector counts each word once per person, as first written, biggest most sent.
    expect(display.locator(".poll-votes")).to_have_text("3 people")
    cloud = display.locator(".cloud-word")
    expect(cloud.locator(".cloud-text")).to_have_text(["Listening", "trust", "rubbish"])
    expect(cloud.locator(".cloud-count")).to_have_text(["3", "2", "1"])
    sizes = word_sizes(display)
    assert sizes["Listening"] > sizes["trust"] > sizes["rubbish"]
    expect(presenter.locator("#poll-voters")).to_have_text("3 voted")
    expect(presenter.locator(".moderation-text")).to_have_text(["Listening", "trust", "rubbish"])
    expect(phones[0].locator(".results")).to_be_hidden()

    # A third word fills phone 0's quota: it can send no more.
    send_word(phones[0], "care")
    expect(phones[0].locator("#vote-status")).to_have_text(
        "Your words are in ✓ (Listening, trust, care)"
    )
    expect(phones[0].get_by_label("Your word or short phrase")).to_be_hidden()
    expect(phones[0].locator(".vote-note")).to_have_text("You have sent all your words.")
    expect(cloud.locator(".cloud-text")).to_have_text(["Listening", "trust", "rubbish", "care"])

    # A reload keeps what this phone sent.
    phones[1].reload()
    expect(phones[1].locator(".my-entries li")).to_have_text(["listening", "TRUST"])
    expect(phones[1].locator("#vote-status")).to_have_text("Your words are in ✓ (listening, TRUST)")
    expect(phones[1].locator(".entry-help")).to_have_text(
        "2 of 3 sent · at most 25 characters each"
    )

    # Revealed: the phones show the room's cloud.
    presenter.keyboard.press("r")
    for phone in phones:
        expect(phone.locator(".results .cloud-text")).to_have_text(
            ["Listening", "trust", "rubbish", "care"]
        )
    phone_sizes = word_sizes(phones[2], ".results")
    screenshot(phones[0], "words-phone.png")
    assert phone_sizes["Listening"] > phone_sizes["trust"] > phone_sizes["rubbish"]

    # The presenter hides a word: it leaves every screen but stays, crossed out, on theirs.
    row = presenter.locator(".moderation-item", has_text="rubbish")
    row.get_by_role("button", name="Hide").click()
    expect(display.locator(".cloud-text")).to_have_text(["Listening", "trust", "care"])
    for phone in phones:
        expect(phone.locator(".results .cloud-text")).to_have_text(["Listening", "trust", "care"])
    expect(row).to_have_class(re.compile(r"\bstate-hidden\b"))
    row.get_by_role("button", name="Show").click()
    expect(display.locator(".cloud-text")).to_have_text(["Listening", "trust", "rubbish", "care"])

    # Closed by the keyboard: phones stop taking words but keep showing theirs.
    presenter.keyboard.press("c")
    expect(display.locator(".poll-badge")).to_have_text("Voting closed")
    expect(phones[1].locator(".poll-state")).to_have_text("Voting is closed")
    expect(phones[1].get_by_label("Your word or short phrase")).to_be_hidden()
    expect(phones[1].locator(".my-entries li")).to_have_text(["listening", "TRUST"])


def test_open_question_wall_curated_by_the_presenter(
    kinds: ServerProcess, devices: Devices
) -> None:
    room = Room(kinds, devices, phones=3)
    presenter, display, phones = room.presenter, room.display, room.phones
    room.go_to(TEXT, "What would you ask the panel?")
    expect(phones[0].get_by_label("Your answer", exact=True)).to_be_disabled()
    room.open_voting("Voting is open: write your answer")

    questions = [
        "How do we hear from people who never join a consultation?",
        "Who reads the answers?",
        "What changed because of the last one?",
    ]
    for phone, question in zip(phones, questions, strict=True):
        send_text(phone, question)
    for phone, question in zip(phones, questions, strict=True):
        expect(phone.locator("#vote-status")).to_have_text("Your answer is in ✓")
        expect(phone.locator(".my-entries li")).to_have_text([question])
    expect(display.locator(".poll-votes")).to_have_text("3 people")

    # Held for approval: nothing on the wall yet; the presenter sees all three, newest first.
    expect(presenter.locator(".moderation-text")).to_have_text(questions[::-1])
    expect(presenter.locator(".moderation-state")).to_have_text(["Waiting for approval"] * 3)
    expect(display.locator(".wall-card")).to_have_count(0)

    def approve(text: str) -> None:
        row = presenter.locator(".moderation-item", has_text=text)
        row.get_by_role("button", name="Approve").click()
        expect(row.locator(".moderation-state")).to_have_text("On the wall")

    approve(questions[1])
    expect(display.locator(".wall-card")).to_have_text([questions[1]])
    approve(questions[0])
    approve(questions[2])
    expect(display.locator(".wall-card")).to_have_text(questions)

    # A second answer from the first phone (two allowed); then it has said all it can.
    send_text(phones[0], "Is there a summary?")
    expect(phones[0].locator("#vote-status")).to_have_text("Your 2 answers are in ✓")
    expect(phones[0].locator(".my-entries li")).to_have_text([questions[0], "Is there a summary?"])
    expect(phones[0].get_by_label("Your answer", exact=True)).to_be_hidden()
    expect(phones[0].locator(".vote-note")).to_have_text("You have sent all your answers.")
    expect(presenter.locator(".moderation-text").first).to_have_text("Is there a summary?")
    expect(display.locator(".wall-card")).to_have_count(3)

    # A reload keeps what the phone sent, approved or not.
    phones[0].reload()
    expect(phones[0].locator(".my-entries li")).to_have_text([questions[0], "Is there a summary?"])
    expect(phones[0].locator("#vote-status")).to_have_text("Your 2 answers are in ✓")

    # Revealed: the phones show the wall too.
    presenter.keyboard.press("r")
    for phone in phones:
        expect(phone.locator(".results .wall-card")).to_have_text(questions)

    # The presenter takes one off the wall: gone from the projector and the phones.
    row = presenter.locator(".moderation-item", has_text=questions[1])
    row.get_by_role("button", name="Hide").click()
    expect(row.locator(".moderation-state")).to_have_text("Hidden")
    remaining = [questions[0], questions[2]]
    expect(display.locator(".wall-card")).to_have_text(remaining)
    for phone in phones:
        expect(phone.locator(".results .wall-card")).to_have_text(remaining)


def test_rating_scale_histogram_mean_and_median(kinds: ServerProcess, devices: Devices) -> None:
    room = Room(kinds, devices, phones=3)
    presenter, display, phones = room.presenter, room.display, room.phones
    room.go_to(SCALE, "How useful was this session?")
    expect(display.locator(".scale-point")).to_have_text(["1", "2", "3", "4", "5"])
    expect(display.locator(".scale-ends")).to_have_text(re.compile("Not at all.*Very"))
    rating = phones[0].get_by_role("group", name="Your rating")
    expect(rating.get_by_role("button")).to_have_count(5)
    expect(rating.get_by_role("button").first).to_be_disabled()
    room.open_voting("Voting is open: tap your rating")

    # 4, 5 and 2; the first changes their mind from 3 to 4.
    phones[0].get_by_role("button", name="3", exact=True).tap()
    expect(phones[0].locator("#vote-status")).to_have_text("Your vote is in ✓ (3)")
    for phone, point in zip(phones, ("4", "5", "2"), strict=True):
        phone.get_by_role("button", name=point, exact=True).tap()
    for phone, point in zip(phones, ("4", "5", "2"), strict=True):
        expect(phone.locator("#vote-status")).to_have_text(f"Your vote is in ✓ ({point})")
        expect(phone.get_by_role("button", name=point, exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )

    expect(display.locator(".poll-votes")).to_have_text("3 votes")
    expect(display.locator(".scale-count")).to_have_text(["0", "1", "0", "1", "1"])
    expect(display.locator(".scale-stats")).to_have_text("Mean 3.7 · median 4")
    heights = column_heights(display)
    assert heights[0] == heights[2] == pytest.approx(0, abs=0.02)
    assert heights[1] == heights[3] == heights[4] == pytest.approx(1, abs=0.01)
    expect(presenter.locator("#results .scale-count")).to_have_text(["0", "1", "0", "1", "1"])
    expect(phones[0].locator(".results")).to_be_hidden()

    # Another 4: that column grows to twice the others.
    phones[1].get_by_role("button", name="4", exact=True).tap()
    expect(display.locator(".scale-count")).to_have_text(["0", "1", "0", "2", "0"])
    expect(display.locator(".scale-stats")).to_have_text("Mean 3.3 · median 4")
    heights = column_heights(display)
    assert heights[3] == pytest.approx(1, abs=0.01)
    assert heights[1] == pytest.approx(0.5, abs=0.02)

    # A reload shows the phone's own rating.
    phones[2].reload()
    expect(phones[2].get_by_role("button", name="2", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(phones[2].locator("#vote-status")).to_have_text("Your vote is in ✓ (2)")

    # Closed and revealed: phones see the histogram with their own rating marked.
    presenter.keyboard.press("c")
    presenter.keyboard.press("r")
    for phone in phones:
        expect(phone.locator(".results .scale-count")).to_have_text(["0", "1", "0", "2", "0"])
        expect(phone.locator(".results .scale-stats")).to_have_text("Mean 3.3 · median 4")
    expect(phones[2].locator(".results .scale-column.mine")).to_have_attribute("data-point", "2")


def test_timed_question_counts_down_and_closes_by_itself(
    kinds: ServerProcess, devices: Devices
) -> None:
    room = Room(kinds, devices, phones=2)
    presenter, display, phones = room.presenter, room.display, room.phones
    room.go_to(TIMED, "Quick! How likely are you to come back?")
    expect(display.locator(".poll-clock")).to_be_hidden()
    expect(phones[0].locator(".poll-clock")).to_be_hidden()
    room.open_voting("Voting is open: tap your rating")

    # The seconds left, from the server's deadline, on the phones and the projector.
    expect(phones[0].locator(".poll-clock")).to_have_text(re.compile(r"^[1-6] s left$"))
    expect(display.locator(".poll-clock")).to_have_text(re.compile(r"^[1-6]$"))
    expect(display.locator(".poll-clock")).to_have_attribute(
        "aria-label", re.compile(r"^[1-6] seconds? left$")
    )
    phones[0].get_by_role("button", name="7", exact=True).tap()
    expect(phones[0].locator("#vote-status")).to_have_text("Your vote is in ✓ (7)")
    expect(phones[1].locator(".poll-clock")).to_have_text("1 s left", timeout=10_000)

    # Nobody closes it: at the deadline it closes on every screen (a screen reader says so).
    expect(phones[0].get_by_role("timer")).to_be_visible()
    expect(display.locator(".poll-badge")).to_have_text("Voting closed", timeout=10_000)
    expect(phones[0].locator("#announcer")).to_have_text("Voting is closed")
    expect(presenter.locator("#poll-status")).to_have_text("Voting closed")
    for phone in phones:
        expect(phone.locator(".poll-state")).to_have_text("Voting is closed")
        expect(phone.locator(".poll-clock")).to_be_hidden()
        expect(phone.get_by_role("button", name="3", exact=True)).to_be_disabled()
    expect(display.locator(".poll-clock")).to_be_hidden()
    expect(display.locator(".scale-count").nth(7)).to_have_text("1")
    expect(display.locator(".poll-votes")).to_have_text("1 vote")


def test_text_from_the_audience_is_only_ever_text(kinds: ServerProcess, devices: Devices) -> None:
    room = Room(kinds, devices, phones=2)
    presenter, display, phones = room.presenter, room.display, room.phones
    pages = (presenter, display, *phones)

    def nothing_injected() -> None:
        for page in pages:
            assert page.evaluate("window.pwned") is None
            expect(page.locator("main b, main img:not(.strip-qr, .join-qr)")).to_have_count(0)

    room.go_to(WORDS, "One word for this talk?")
    room.open_voting("Voting is open: send a word")
    send_word(phones[0], HOSTILE_WORD)
    expect(phones[0].locator("#vote-status")).to_have_text(f"Your word is in ✓ ({HOSTILE_WORD})")
    expect(phones[0].locator(".my-entries li")).to_have_text([HOSTILE_WORD])
    expect(display.locator(".cloud-text")).to_have_text([HOSTILE_WORD])
    expect(presenter.locator(".moderation-text")).to_have_text([HOSTILE_WORD])
    presenter.keyboard.press("r")
    expect(phones[1].locator(".results .cloud-text")).to_have_text([HOSTILE_WORD])
    nothing_injected()

    room.go_to(TEXT, "What would you ask the panel?")
    room.open_voting("Voting is open: write your answer")
    send_text(phones[1], HOSTILE_TEXT)
    expect(phones[1].locator(".my-entries li")).to_have_text([HOSTILE_TEXT])
    expect(presenter.locator(".moderation-text")).to_have_text([HOSTILE_TEXT])
    presenter.get_by_role("button", name="Approve").click()
    expect(display.locator(".wall-card")).to_have_text([HOSTILE_TEXT])
    presenter.keyboard.press("r")
    for phone in phones:
        expect(phone.locator(".results .wall-card")).to_have_text([HOSTILE_TEXT])
    nothing_injected()


ENGLISH_STRINGS = json.loads(
    (Path(__file__).parents[1] / "clients/shared/locales/en.json").read_text(encoding="utf-8")
)


def test_a_refused_answer_stays_in_the_box_with_the_reason(
    tmp_path: Path, devices: Devices
) -> None:
    """One text answer per phone, ever (a burst of one, refilled in about 17 minutes): the
    second is refused as too fast, and the phone keeps what was typed, saying why."""
    deck = tmp_path / "kinds.md"
    deck.write_text(KINDS, encoding="utf-8")
    server = start_server(deck, "--text-burst", "1", "--text-rate", "0.001")
    try:
        room = Room(server, devices, phones=1)
        phone = room.phones[0]
        too_fast = ENGLISH_STRINGS["error.too_fast"]
        room.go_to(WORDS, "One word for this talk?")
        room.open_voting("Voting is open: send a word")
        box = phone.get_by_label("Your word or short phrase")
        send_word(phone, "trust")
        expect(phone.locator("#vote-status")).to_have_text("Your word is in ✓ (trust)")
        expect(box).to_have_value("")  # taken: the box is ready for the next word
        send_word(phone, "listening")
        expect(phone.locator("#errors")).to_have_text(too_fast)  # the alert region says it
        expect(box).to_have_value("listening")
        expect(box).to_have_attribute("aria-invalid", "true")
        expect(box).to_have_accessible_description(too_fast)  # read out with the box
        expect(box).to_be_enabled()
        expect(phone.locator(".my-entries li")).to_have_text(["trust"])  # not counted as sent
        box.press_sequentially("!")  # typing again: the refusal no longer applies
        expect(box).not_to_have_attribute("aria-invalid", "true")
        expect(box).to_have_accessible_description("1 of 3 sent · at most 25 characters each")

        room.go_to(IDEAS, "One idea to reach people who never take part?")
        room.open_voting("Voting is open: write your answer")
        idea = "Ask them where they would like to meet"
        send_text(phone, idea)
        text_box = phone.get_by_label("Your answer", exact=True)
        expect(text_box).to_have_accessible_description(too_fast)
        expect(text_box).to_have_value(idea)
        expect(text_box).to_be_enabled()
        expect(phone.locator("#vote-status")).to_have_text("")  # nothing is in
        expect(phone.locator(".my-entries li")).to_have_count(0)
    finally:
        server.stop()


# A hall's worth of words: some said by many, many said once (more than the cloud's 50).
CROWD_WORDS = [
    ["listening", "trust", "community"],
    ["Listening", "openness", "time"],
    ["listening", "trust", "dialogue"],
    ["Trust", "empathy", "listening"],
    ["participation", "trust", "listening"],
    ["feedback", "listening", "respect"],
    ["community", "trust", "reach"],
    ["dialogue", "listening", "patience"],
    ["inclusion", "community", "trust"],
    ["curiosity", "listening", "openness"],
    ["respect", "feedback", "transparency"],
    ["follow-up", "listening", "time"],
    ["conversation", "empathy", "trust"],
    ["honesty", "listening", "community"],
    ["accessibility", "inclusion", "feedback"],
    ["humility", "openness", "dialogue"],
    ["listening", "action", "trust"],
    ["co-design", "community", "listening"],
    ["storytelling", "clarity", "warmth"],
    ["moderation", "accountability", "plain language"],
    ["small groups", "surveys", "town halls"],
    ["workshops", "forums", "online panels"],
    ["newsletters", "podcasts", "office hours"],
    ["open data", "Q&A", "wikis"],
    ["meetups", "hackathons", "citizens' juries"],
    ["mapping", "crowdsourcing", "participatory budgeting"],
    ["youth councils", "pop-up stalls", "door knocking"],
    ["radio", "libraries", "listening"],
]
CROWD_IDEAS = [
    "Go where people already are: markets, school gates, the bus station.",
    "Pay people for their time, like any other expert.",
    "Ask fewer questions, and say what changed because of the answers.",
    "Work with the groups people already trust instead of starting new ones.",
    "Text messages, not apps.",
    "Hold sessions in the evening and provide childcare.",
    "Translate everything, including the follow-up.",
    "Let young people run the consultation themselves.",
    "Publish every answer, not just a summary.",
    "Shorter surveys with one open question at the end.",
    "A stall at the football on Saturday.",
    "Make it easy to say 'I don't know' without feeling stupid.",
    "Radio phone-ins reach people who never go online.",
    "Post a reply to everyone who took part, even if it is no.",
    "Meet in libraries and community centres, not the town hall.",
    "Start with a problem people care about this week.",
    "Use plain language: no acronyms, no jargon.",
    "Ask the people who run the corner shops what they hear.",
    "Open the data so others can check what you did with it.",
    "Give people more than two weeks to reply.",
    "Offer a phone number staffed by a person.",
    "Invite the people who complained last time.",
    "Show the budget so the choices are real.",
    "Run it in the languages spoken at home.",
    "Go back to the same street a year later and show the result.",
    "Small tables, not a stage and a microphone.",
    "Let people answer with a photo or a voice note.",
    "Print it on the back of the council tax letter.",
]

CROWD_RATINGS = [1] + [2] * 3 + [3] * 6 + [4] * 11 + [5] * 7


def crowd(server: ServerProcess, poll: str, answers: list[Answer]) -> None:
    """Many more people than the test opens pages for: each joins on its own socket, as a
    phone does, answers, and waits until the answer is in."""
    for index, answer in enumerate(answers):
        with connect(f"{server.ws}/audience") as socket:
            socket.send(json.dumps({"type": "hello", "room": server.room}))
            vote_id = f"crowd-{poll}-{index}"
            message = {"type": "answer", "poll": poll, "answer": answer, "vote_id": vote_id}
            socket.send(json.dumps(message))
            while (reply := json.loads(socket.recv(timeout=10)))["type"] != "vote_ack":
                assert reply["type"] != "error", reply


# Where each element under `scope` is, and the box of the element `box` that should hold them.
_BOXES = """([scope, box]) => {
  const rect = (node) => {
    const r = node.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  };
  const items = [...document.querySelectorAll(scope)].filter((node) => !node.hidden);
  return { box: rect(document.querySelector(box)), items: items.map(rect),
           sizes: items.map((node) => parseFloat(getComputedStyle(node).fontSize)),
           screen: [0, 0, innerWidth, innerHeight] };
}"""


def inside(inner: list[float], outer: list[float]) -> bool:
    return (
        inner[0] >= outer[0] - 1
        and inner[1] >= outer[1] - 1
        and inner[2] <= outer[2] + 1
        and inner[3] <= outer[3] + 1
    )


def test_a_full_hall_stays_on_the_screen(kinds: ServerProcess, devices: Devices) -> None:
    room = Room(kinds, devices, phones=1)
    presenter, display, phone = room.presenter, room.display, room.phones[0]

    # Fifty words at most, each on the screen, none too small to read from the back.
    room.go_to(WORDS, "One word for this talk?")
    room.open_voting("Voting is open: send a word")
    crowd(kinds, "one-word", CROWD_WORDS)
    expect(display.locator(".poll-votes")).to_have_text(f"{len(CROWD_WORDS)} people")
    expect(display.locator(".cloud-word")).to_have_count(50)
    expect(display.locator(".cloud-text").first).to_have_text("listening")
    placed = display.evaluate(_BOXES, [".cloud-word", ".cloud-holder"])
    assert inside(placed["box"], placed["screen"])
    assert all(inside(word, placed["box"]) for word in placed["items"])
    assert min(placed["sizes"]) >= 20
    sizes = word_sizes(display)
    assert sizes["listening"] == max(sizes.values()) > sizes["trust"] > sizes["wikis"]
    screenshot(display, "words-display.png")

    # The wall: the newest answers that fit, the oldest counted below.
    room.go_to(IDEAS, "One idea to reach people who never take part?")
    room.open_voting("Voting is open: write your answer")
    crowd(kinds, "ideas", CROWD_IDEAS[:-1])
    send_text(phone, CROWD_IDEAS[-1])
    expect(display.locator(".poll-votes")).to_have_text(f"{len(CROWD_IDEAS)} people")
    newest = display.locator(".wall-card").last
    expect(newest).to_have_text(CROWD_IDEAS[-1])
    expect(newest).to_be_visible()
    cards = display.locator(".wall-card:visible")
    shown = cards.count()
    assert 4 <= shown < len(CROWD_IDEAS)
    expect(cards).to_have_text(CROWD_IDEAS[-shown:])
    expect(display.locator(".wall-more")).to_have_text(
        f"and {len(CROWD_IDEAS) - shown} earlier answers"
    )
    placed = display.evaluate(_BOXES, [".wall-card", ".wall-holder"])
    assert inside(placed["box"], placed["screen"])
    assert all(inside(card, placed["box"]) for card in placed["items"])
    assert min(placed["sizes"]) >= 20
    screenshot(display, "text-display.png")
    presenter.keyboard.press("r")
    expect(phone.locator(".results .wall-card")).to_have_count(len(CROWD_IDEAS))

    # Ratings from the whole hall: columns to scale, the mean and the median.
    room.go_to(SCALE, "How useful was this session?")
    room.open_voting("Voting is open: tap your rating")
    crowd(kinds, "useful", CROWD_RATINGS)
    expect(display.locator(".poll-votes")).to_have_text(f"{len(CROWD_RATINGS)} votes")
    expect(display.locator(".scale-count")).to_have_text(["1", "3", "6", "11", "7"])
    expect(display.locator(".scale-stats")).to_have_text("Mean 3.7 · median 4")
    heights = column_heights(display)
    assert [round(h * 11, 1) for h in heights] == pytest.approx([1, 3, 6, 11, 7], abs=0.25)
    placed = display.evaluate(_BOXES, [".scale-column", ".poll-area"])
    assert all(inside(column, placed["screen"]) for column in placed["items"])
    screenshot(display, "scale-display.png")


def test_presenter_moderates_from_the_keyboard(kinds: ServerProcess, devices: Devices) -> None:
    room = Room(kinds, devices, phones=2)
    presenter, display, phones = room.presenter, room.display, room.phones
    room.go_to(TEXT, "What would you ask the panel?")
    room.open_voting("Voting is open: write your answer")
    send_text(phones[0], "Who reads the answers?")
    item = presenter.locator(".moderation-item", has_text="Who reads the answers?")
    approve = item.get_by_role("button", name="Approve")
    expect(approve).to_have_accessible_description("Who reads the answers?")

    # Enter on a focused button approves; the answer's next button (Hide) takes the focus.
    approve.focus()
    presenter.keyboard.press("Enter")
    expect(display.locator(".wall-card")).to_have_text(["Who reads the answers?"])
    hide = item.get_by_role("button", name="Hide")
    expect(hide).to_be_focused()

    # New answers arriving do not take the presenter's place in the list.
    send_text(phones[1], "What changed because of the last one?")
    expect(presenter.locator(".moderation-text")).to_have_text(
        ["What changed because of the last one?", "Who reads the answers?"]
    )
    expect(hide).to_be_focused()
    presenter.keyboard.press(" ")
    expect(display.locator(".wall-card")).to_have_count(0)
    expect(item.get_by_role("button", name="Show")).to_be_focused()
    expect(item.locator(".moderation-state")).to_have_text("Hidden")


def test_bars_and_columns_show_in_forced_colours(kinds: ServerProcess, devices: Devices) -> None:
    room = Room(kinds, devices, phones=0)
    display = room.display
    display.emulate_media(forced_colors="active")
    background = display.evaluate(
        "getComputedStyle(document.querySelector('.stage')).backgroundColor"
    )

    def colours(selector: str) -> list[str]:
        found: list[str] = display.eval_on_selector_all(
            selector, "(nodes) => nodes.map((n) => getComputedStyle(n).backgroundColor)"
        )
        return found

    room.go_to(SCALE, "How useful was this session?")
    room.open_voting("")
    crowd(kinds, "useful", [4, 4, 5])
    expect(display.locator(".scale-count")).to_have_text(["0", "0", "0", "2", "1"])
    assert background not in colours(".scale-fill")
    room.go_to(CHOICE, "Favourite colour?")
    room.open_voting("")
    crowd(kinds, "colour", [0, 1, 1])
    expect(display.locator(".bar-count")).to_have_text(["1 · 33%", "2 · 67%"])
    assert background not in colours(".bar-fill")


def test_results_page_shows_every_kind(kinds: ServerProcess, devices: Devices) -> None:
    room = Room(kinds, devices, phones=0)
    presenter = room.presenter
    room.go_to(WORDS, "One word for this talk?")
    room.open_voting("")
    crowd(kinds, "one-word", [["Listening", "rubbish"], ["listening"]])
    item = presenter.locator(".moderation-item", has_text="rubbish")
    item.get_by_role("button", name="Hide").click()
    expect(item.locator(".moderation-state")).to_have_text("Hidden")
    room.go_to(SCALE, "How useful was this session?")
    room.open_voting("")
    crowd(kinds, "useful", [2, 5, 5])
    expect(presenter.locator("#poll-voters")).to_have_text("3 voted")

    results = devices.open(f"{kinds.base}/results?key={kinds.key}")
    words = results.get_by_role("article", name="One word for this talk?")
    expect(words.locator(".turnout")).to_contain_text("2 answered")
    expect(words.locator(".label")).to_have_text(["Listening", "rubbish (hidden)"])
    expect(words.locator(".row.hidden .label")).to_have_text("rubbish (hidden)")
    scale = results.get_by_role("article", name="How useful was this session?")
    expect(scale.locator(".label")).to_have_text(["1", "2", "3", "4", "5"])
    expect(scale.locator(".count")).to_have_text(
        ["0 · 0%", "1 · 33.3%", "0 · 0%", "0 · 0%", "2 · 66.7%"]
    )
    expect(scale.locator(".summary")).to_have_text("Mean 4 · median 5")
