"""Small screens and zoomed pages in a real Chromium (WCAG 1.4.10, reflow): the results page at
320 px wide scrolls only up and down; the presenter's controls never cover the desk at 200 % or
400 % zoom; on a 360 px phone a long option's count sits under its label, and the vote's
confirmation is in view however many options there are."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import Devices
from tests.serverproc import ServerProcess, start_server
from tests.test_e2e_browser import urls

pytestmark = pytest.mark.browser

LONG = (
    "A remarkably long answer that goes on and on, as real options in real talks sometimes do, "
    "well past the width of any phone"
)
OPTIONS = ["Yes", LONG, *(f"Option number {n}" for n in range(3, 11))]
DECK = (
    """\
---
title: Ten options
---

---
poll:
  id: ten
---

# Which one?

"""
    + "\n".join(f"- [ ] {text}" for text in OPTIONS)
    + "\n"
)
SMALL_PHONE = {"width": 360, "height": 640}


@pytest.fixture
def ten(tmp_path: Path) -> Iterator[ServerProcess]:
    deck = tmp_path / "ten.md"
    deck.write_text(DECK, encoding="utf-8")
    server = start_server(deck, data=tmp_path / "data")
    yield server
    server.stop()


def scrolls_sideways(page: Page) -> bool:
    wide: bool = page.evaluate(
        "() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"
    )
    return wide


# Scroll `selector`'s element to the bottom edge of the window (where a bar along the bottom
# would sit), then say whether what is drawn at its centre belongs to it.
_UNCOVERED = """(selector) => {
  const node = document.querySelector(selector);
  node.scrollIntoView({ block: "end", inline: "nearest" });
  const box = node.getBoundingClientRect();
  const x = Math.min(Math.max(box.left + box.width / 2, 0), innerWidth - 1);
  const y = Math.min(Math.max(box.top + box.height / 2, 0), innerHeight - 1);
  const hit = document.elementFromPoint(x, y);
  return hit !== null && (node === hit || node.contains(hit));
}"""


def in_view(page: Page, selector: str) -> bool:
    inside: bool = page.evaluate(
        """(selector) => {
          const box = document.querySelector(selector).getBoundingClientRect();
          return box.height > 0 && box.top >= 0 && box.bottom <= innerHeight;
        }""",
        selector,
    )
    return inside


def test_the_results_page_reflows_at_320_px(ten: ServerProcess, devices: Devices) -> None:
    presenter_url, _, phone_url = urls(ten)
    presenter = devices.open(presenter_url)
    phone = devices.open(phone_url, phone=True)
    presenter.keyboard.press("o")
    phone.locator(".choice").nth(1).tap()
    expect(presenter.locator("#poll-voters")).to_have_text("1 voted")
    results = devices.open(
        f"{ten.base}/results?key={ten.key}", viewport={"width": 320, "height": 640}
    )
    expect(results.locator("#status")).to_have_text("1 poll, 1 vote")
    expect(results.locator(".row")).to_have_count(10)
    assert not scrolls_sideways(results)
    # Every bar still shows, the long option's too.
    widths = results.locator(".track").evaluate_all(
        "nodes => nodes.map((n) => n.getBoundingClientRect().width)"
    )
    assert min(widths) > 100


@pytest.mark.parametrize("zoom", [2, 4], ids=["200%", "400%"])
def test_the_presenters_controls_never_cover_the_desk_when_zoomed(
    server: ServerProcess, devices: Devices, zoom: int
) -> None:
    # A 1280 x 800 laptop zoomed in: the same pixels, each CSS pixel `zoom` of them.
    presenter_url, _, _ = urls(server)
    viewport = {"width": 1280 // zoom, "height": 800 // zoom}
    presenter = devices.open(presenter_url, viewport=viewport, scale=zoom)
    expect(presenter.locator("#conn")).to_have_text("Live")
    expect(presenter.locator("#btn-next")).to_be_enabled()
    assert not scrolls_sideways(presenter)
    for selector in ("#position", "#now-title", "#poll-status", "#next-title", "#notes-title"):
        assert presenter.evaluate(_UNCOVERED, selector), f"{selector} is covered at {zoom}x"
    # And every control can be reached and pressed.
    for button in presenter.locator("#controls button:visible").all():
        assert presenter.evaluate(_UNCOVERED, f"#{button.get_attribute('id')}")
    presenter.keyboard.press("ArrowRight")
    expect(presenter.locator("#position")).to_have_text(re.compile(r"^Slide 2 of \d+$"))


def test_a_long_options_count_sits_under_its_label_on_a_360_px_phone(
    ten: ServerProcess, devices: Devices
) -> None:
    presenter_url, _, phone_url = urls(ten)
    presenter = devices.open(presenter_url)
    phone = devices.open(phone_url, phone=True, viewport=SMALL_PHONE)
    presenter.keyboard.press("o")
    phone.locator(".choice").first.tap()
    expect(phone.locator("#vote-status")).to_have_text("Your vote is in ✓ (A)")
    # The confirmation shows where the person is looking, not below nine more options.
    assert in_view(phone, "#vote-status")
    phone.locator(".choice").nth(9).tap()
    expect(phone.locator("#vote-status")).to_have_text("Your vote is in ✓ (J)")
    assert in_view(phone, "#vote-status")

    presenter.keyboard.press("c")
    presenter.keyboard.press("r")
    long_row = phone.locator(".results .bar-row").nth(1)
    expect(long_row.locator(".bar-count")).to_have_text("0 · 0%")
    label = long_row.locator(".bar-label").bounding_box()
    count = long_row.locator(".bar-count").bounding_box()
    assert label and count and count["y"] >= label["y"] + label["height"] - 1
    assert not scrolls_sideways(phone)
