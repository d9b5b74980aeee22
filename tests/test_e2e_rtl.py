"""An Arabic deck in a real Chromium: every screen speaks its language and mirrors right to
left (letters on the right of the options, bars growing from the right), the results too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import PROJECTOR, Devices
from tests.serverproc import ServerProcess, start_server
from tests.test_e2e_browser import PUBLIC_URL, urls

pytestmark = pytest.mark.browser

ARABIC = """\
---
title: استطلاع الغرفة
lang: ar
---

# مرحبا

---
poll:
  id: colour
---

# ما هو لونك المفضل؟

- [ ] أحمر
- [x] أزرق
- [ ] أخضر
"""
QUESTION = "ما هو لونك المفضل؟"


@pytest.fixture
def arabic(tmp_path: Path) -> Iterator[ServerProcess]:
    deck = tmp_path / "arabic.md"
    deck.write_text(ARABIC, encoding="utf-8")
    proc = start_server(deck, "--public-url", PUBLIC_URL, data=tmp_path / "data")
    yield proc
    proc.stop()


def right_to_left(page: Page, scope: str, first: str, second: str) -> bool:
    """Whether `first` lies to the right of `second` in every row under `scope`."""
    placed: bool = page.evaluate(
        """([scope, first, second]) => {
          const rows = [...document.querySelectorAll(scope)];
          return rows.length > 0 && rows.every((row) => {
            const a = row.querySelector(first).getBoundingClientRect();
            const b = row.querySelector(second).getBoundingClientRect();
            return a.left >= b.right - 0.5;
          });
        }""",
        [scope, first, second],
    )
    return placed


def fill_hugs_the_right(page: Page, scope: str) -> bool:
    """Whether every non-empty bar under `scope` starts at its track's right edge."""
    hugs: bool = page.evaluate(
        """(scope) => {
          const rows = [...document.querySelectorAll(`${scope} .bar-row`)];
          const full = rows.filter((row) => row.querySelector(".bar-fill").offsetWidth > 0);
          return full.length > 0 && full.every((row) => {
            const fill = row.querySelector(".bar-fill").getBoundingClientRect();
            const track = row.querySelector(".bar-track").getBoundingClientRect();
            return Math.abs(fill.right - track.right) < 1 && fill.left > track.left + 1;
          });
        }""",
        scope,
    )
    return hugs


def test_an_arabic_deck_reads_and_mirrors_right_to_left(
    arabic: ServerProcess, devices: Devices
) -> None:
    presenter_url, display_url, phone_url = urls(arabic)
    presenter = devices.open(presenter_url)
    display = devices.open(display_url, viewport=PROJECTOR)
    phone, other = (devices.open(phone_url, phone=True) for _ in range(2))
    for page in (presenter, display, phone, other):
        expect(page.locator("html")).to_have_attribute("lang", "ar")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")

    presenter.keyboard.press("ArrowRight")
    presenter.keyboard.press("o")
    expect(phone.locator(".poll-question")).to_have_text(QUESTION)
    expect(phone.locator(".poll-question")).to_have_attribute("dir", "auto")
    # The phone's options read from the right: the letter, then the Arabic text to its left.
    expect(phone.locator(".choice").first).to_be_enabled()
    assert right_to_left(phone, ".choice", ".choice-letter", ".choice-text")
    phone.locator(".choice").nth(1).tap()
    expect(phone.locator(".choice").nth(1)).to_have_attribute("aria-pressed", "true")
    other.locator(".choice").nth(2).tap()

    # On the projector and the presenter's desk, the half-full bars grow from the right.
    halves = ["0 · 0%", "1 · 50%", "1 · 50%"]
    expect(display.locator(".bar-count")).to_have_text(halves)
    assert right_to_left(display, ".kind-poll .bar-row", ".bar-letter", ".bar-text")
    display.wait_for_function(
        """() => !document.getAnimations().some((a) => a instanceof CSSTransition)"""
    )
    assert fill_hugs_the_right(display, ".kind-poll")
    expect(presenter.locator("#results .bar-count")).to_have_text(halves)
    assert right_to_left(presenter, "#results .bar-row", ".bar-letter", ".bar-text")

    # The results page reads the talk as it was given: in Arabic, right to left.
    results = devices.open(f"{arabic.base}/results?key={arabic.key}")
    expect(results.locator("#status")).to_have_text("1 poll, 2 votes")
    expect(results.locator("html")).to_have_attribute("lang", "ar")
    expect(results.locator("html")).to_have_attribute("dir", "rtl")
    assert right_to_left(results, ".row", ".label", ".count")
