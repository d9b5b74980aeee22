"""The projector on a first run, in a real Chromium: the opening title slide says how to join
(QR code and room code) unless the deck turns it off."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import PROJECTOR, Devices
from tests.serverproc import start_server
from tests.test_e2e_browser import PUBLIC_URL

pytestmark = pytest.mark.browser

DECK = """\
---
title: Welcome
{extra}---

# Welcome to the talk

---

# Second slide
"""


@pytest.mark.parametrize("shown", [True, False], ids=["default", "turned-off"])
def test_title_slide_shows_how_to_join(tmp_path: Path, devices: Devices, shown: bool) -> None:
    deck = tmp_path / "deck.md"
    deck.write_text(DECK.format(extra="" if shown else "join_on_title: false\n"), encoding="utf-8")
    server = start_server(deck, "--public-url", PUBLIC_URL)
    try:
        display = devices.open(f"{server.base}/display", viewport=PROJECTOR)
        expect(display.locator(".slide h1")).to_have_text("Welcome to the talk")
        footer = display.locator(".title-join")
        if not shown:
            expect(footer).to_have_count(0)
            return
        expect(footer.locator(".strip-code")).to_have_text(server.room)
        expect(footer.locator(".poll-badge")).to_have_text(f"Join at {PUBLIC_URL}")
        expect(footer.locator(".strip-qr")).to_have_attribute("src", "/qr/join.svg")
        expect(footer.locator(".strip-qr")).to_be_visible()
        # The title stays in view above the strip.
        title = display.locator(".slide h1").bounding_box()
        strip = footer.bounding_box()
        assert title and strip and title["y"] + title["height"] <= strip["y"]
        # Only on the opening slide.
        presenter = devices.open(f"{server.base}/presenter?key={server.key}")
        expect(presenter.locator("#position")).to_have_text("Slide 1 of 2")
        presenter.keyboard.press("ArrowRight")
        expect(display.locator(".slide h1")).to_have_text("Second slide")
        expect(display.locator(".title-join")).to_have_count(0)
    finally:
        server.stop()
