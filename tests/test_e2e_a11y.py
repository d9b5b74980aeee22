"""Screen readers and keyboards in a real Chromium: each page's one status region says every
change once, focus follows the slide, vote counts are summarised rather than read out one by
one, and the presenter's letter shortcuts can be turned off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import PHONE, SCREEN, Devices
from tests.serverproc import ServerProcess, start_server
from tests.test_e2e_browser import PUBLIC_URL, urls

pytestmark = pytest.mark.browser

DECK = """\
---
title: Colours
---

# Welcome

---
poll:
  id: colour
---

# Favourite colour?

- [ ] Red
- [x] Blue

---

# Thank you
"""

# Records every non-empty text the page's status region takes, in order.
_LISTEN = """() => {
  window.said = [];
  const region = document.getElementById("announcer");
  new MutationObserver(() => {
    const text = region.textContent;
    if (text) window.said.push(text);
  }).observe(region, { childList: true, characterData: true, subtree: true });
}"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    deck = tmp_path / "colours.md"
    deck.write_text(DECK, encoding="utf-8")
    proc = start_server(deck, "--public-url", PUBLIC_URL)
    yield proc
    proc.stop()


def said(page: Page) -> list[str]:
    texts: list[str] = page.evaluate("() => window.said")
    return texts


def hears(page: Page, *texts: str) -> None:
    """Wait until the page's status region has said exactly these, in this order."""
    try:
        page.wait_for_function("(n) => window.said.length >= n", arg=len(texts))
    finally:
        assert said(page) == list(texts)


def test_status_region_says_each_change_once_and_focus_follows_the_slide(
    server: ServerProcess, devices: Devices
) -> None:
    presenter_url, _, phone_url = urls(server)
    presenter = devices.open(presenter_url)
    phone, other = (devices.open(phone_url, phone=True) for _ in range(2))
    expect(presenter.locator("#presence")).to_contain_text("2 connected")
    for page in (presenter, phone):
        page.evaluate(_LISTEN)

    presenter.keyboard.press("ArrowRight")
    hears(phone, "Slide 2 of 3: Favourite colour?")
    presenter.keyboard.press("o")
    hears(phone, "Slide 2 of 3: Favourite colour?", "Voting is open")
    # The voting line is no longer a live region of its own: said once, by the status region.
    expect(phone.locator(".poll-state")).not_to_have_attribute("aria-live", "polite")

    # Two votes: the presenter hears a summary, not a live count rewritten per vote.
    expect(presenter.locator("#poll-voters")).not_to_have_attribute("aria-live", "polite")
    phone.locator(".choice").nth(1).tap()
    expect(presenter.locator("#poll-voters")).to_have_text("1 voted")
    presenter.wait_for_function("() => window.said.includes('1 voted')")
    other.locator(".choice").nth(0).tap()
    expect(presenter.locator("#poll-voters")).to_have_text("2 voted")
    assert "2 voted" not in said(presenter)  # held back: within the quiet time after "1 voted"

    # Each step waits for the phone to show it: a quick on-and-off is rightly one state.
    steps = [
        ("c", "Voting is closed"),
        ("r", "The results are shown"),
        ("b", "The presenter paused the screen"),
        ("b", "The screen is back"),
    ]
    heard = ["Slide 2 of 3: Favourite colour?", "Voting is open"]
    for key, announcement in steps:
        presenter.keyboard.press(key)
        heard.append(announcement)
        hears(phone, *heard)
    presenter.wait_for_function("() => window.said.includes('The screen is back')")
    assert said(presenter)[0] == "Slide 2 of 3: Favourite colour?"  # the position, said


def test_focus_in_the_old_slide_moves_to_the_new_slides_heading(
    server: ServerProcess, devices: Devices
) -> None:
    presenter_url, _, phone_url = urls(server)
    presenter = devices.open(presenter_url)
    phone = devices.open(phone_url, phone=True)
    expect(presenter.locator("#presence")).to_contain_text("1 connected")
    presenter.keyboard.press("ArrowRight")
    presenter.keyboard.press("o")
    expect(phone.locator(".choice").nth(1)).to_be_enabled()
    # Focus in the old slide moves to the new slide's heading, not to <body>.
    phone.locator(".choice").nth(1).focus()
    presenter.keyboard.press("ArrowRight")
    expect(phone.locator(".slide h1")).to_have_text("Thank you")
    expect(phone.locator(".slide h1")).to_be_focused()
    # Focus elsewhere stays where it is.
    phone.get_by_role("button", name="Change room").focus()
    presenter.keyboard.press("ArrowLeft")
    expect(phone.locator(".poll-question")).to_be_visible()
    expect(phone.get_by_role("button", name="Change room")).to_be_focused()


def test_letter_shortcuts_can_be_turned_off(server: ServerProcess, devices: Devices) -> None:
    presenter_url, _, _ = urls(server)
    presenter = devices.open(presenter_url)
    expect(presenter.locator("#position")).to_have_text("Slide 1 of 3")
    toggle = presenter.get_by_label("Letter shortcuts")
    expect(toggle).to_be_checked()
    toggle.uncheck()
    presenter.keyboard.press("ArrowRight")  # arrows still work, even from the checkbox
    expect(presenter.locator("#position")).to_have_text("Slide 2 of 3")
    presenter.keyboard.press("o")  # a letter does nothing
    presenter.get_by_role("button", name="Previous").focus()
    presenter.keyboard.press("o")
    expect(presenter.locator("#poll-status")).to_have_text("Not open yet")
    # Remembered after a reload; the buttons still open voting.
    presenter.reload()
    expect(presenter.get_by_label("Letter shortcuts")).not_to_be_checked()
    presenter.get_by_role("button", name="Open voting").click()
    expect(presenter.locator("#poll-status")).to_have_text("Voting open")


# The relative luminance (WCAG) of an element's computed colour property, 0 (black) to 1.
_LUMINANCE = """([selector, property]) => {
  const value = getComputedStyle(document.querySelector(selector))[property];
  const [r, g, b] = value.match(/[\\d.]+/g).slice(0, 3).map((c) => {
    const s = Number(c) / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}"""


def luminance(page: Page, selector: str, prop: str) -> float:
    value: float = page.evaluate(_LUMINANCE, [selector, prop])
    return value


def contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def test_dark_phones_and_forced_colours_keep_things_readable(
    server: ServerProcess, browser: Browser, devices: Devices
) -> None:
    presenter_url, display_url, phone_url = urls(server)
    presenter = devices.open(presenter_url)
    dark = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, color_scheme="dark"
    ).new_page()
    dark.goto(phone_url)
    contrasted = browser.new_context(viewport=SCREEN, forced_colors="active").new_page()
    contrasted.goto(display_url)
    expect(presenter.locator("#presence")).to_contain_text("1 connected")
    presenter.keyboard.press("ArrowRight")
    presenter.keyboard.press("o")
    dark.locator(".choice").nth(1).tap()
    expect(dark.locator(".choice").nth(1)).to_have_attribute("aria-pressed", "true")

    # A phone in dark mode: a dark page, light text, a chosen answer still legible (AA),
    # measured once the pressed button's colours have finished changing.
    dark.wait_for_function(
        "() => !document.getAnimations().some((a) => a instanceof CSSTransition)"
    )
    page = luminance(dark, "body", "backgroundColor")
    assert page < 0.05
    assert contrast(luminance(dark, ".poll-question", "color"), page) >= 7
    pressed = ".choice[aria-pressed=true]"
    chosen = contrast(
        luminance(dark, pressed, "color"), luminance(dark, pressed, "backgroundColor")
    )
    assert chosen >= 4.5

    # Forced colours: the projector's bar still shows, in a system colour, not transparent.
    expect(contrasted.locator(".bar-count").nth(1)).to_have_text("1 · 100%")
    fill = contrasted.locator(".bar-row").nth(1).locator(".bar-fill")
    contrasted.wait_for_function(
        "() => !document.getAnimations().some((a) => a instanceof CSSTransition)"
    )
    colour = fill.evaluate("(node) => getComputedStyle(node).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    box = fill.bounding_box()
    assert box is not None and box["width"] > 10
    dark.context.close()
    contrasted.context.close()
