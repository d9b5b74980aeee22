"""Phones in Welsh, French and German, in a real Chromium: each phone's interface follows its
browser's languages (the slides keep the deck's), with numbers written as that language does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser import PHONE
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
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    deck = tmp_path / "colours.md"
    deck.write_text(DECK, encoding="utf-8")
    proc = start_server(deck, "--public-url", PUBLIC_URL)
    yield proc
    proc.stop()


class Phones:
    """Phones, each in its own browser context with its own language."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    def open(self, url: str, locale: str) -> Page:
        context = self.browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale=locale
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{locale}: {error}"))
        page.goto(url)
        return page


@pytest.fixture
def phones(browser: Browser) -> Iterator[Phones]:
    opened = Phones(browser)
    yield opened
    for context in opened.contexts:
        context.close()
    assert opened.errors == []


def test_the_join_page_speaks_french(server: ServerProcess, phones: Phones) -> None:
    phone = phones.open(f"{server.base}/", "fr-CA")
    expect(phone.get_by_role("heading")).to_have_text("Rejoindre la présentation")
    expect(phone.get_by_role("heading")).to_have_attribute("lang", "fr")
    phone.get_by_role("button", name="Rejoindre").tap()
    expect(phone.locator("#join-error")).to_have_text(
        "Saisissez le code de la salle affiché sur le grand écran."
    )


def test_welsh_french_and_german_phones_vote_in_their_languages(
    server: ServerProcess, browser: Browser, phones: Phones
) -> None:
    presenter_url, _, phone_url = urls(server)
    welsh = phones.open(phone_url, "cy-GB")
    french = phones.open(phone_url, "fr-FR")
    german = phones.open(phone_url, "de-DE")
    presenter = browser.new_page()
    presenter.goto(presenter_url)
    expect(presenter.locator("#presence")).to_contain_text("3 connected")
    expect(welsh.locator("#room-label")).to_have_text(f"Ystafell {server.room}")
    expect(welsh.locator("#conn")).to_have_text("Byw")
    # The slides stay in the deck's language: the page is English, the interface Welsh.
    expect(welsh.locator("html")).to_have_attribute("lang", "en")

    presenter.keyboard.press("ArrowRight")
    presenter.keyboard.press("o")
    expect(welsh.locator(".poll-state")).to_have_text(
        "Mae\u2019r pleidleisio ar agor: tapiwch eich ateb"
    )
    expect(french.locator(".poll-state")).to_have_text("Le vote est ouvert : touchez votre réponse")
    expect(german.locator(".poll-state")).to_have_text(
        "Die Abstimmung läuft: Tippen Sie auf Ihre Antwort"
    )
    welsh.locator(".choice").nth(1).tap()
    french.locator(".choice").nth(1).tap()
    german.locator(".choice").nth(0).tap()
    expect(welsh.locator("#vote-status")).to_have_text("Mae eich pleidlais i mewn ✓ (B)")
    expect(french.locator("#vote-status")).to_have_text("Votre vote est enregistré ✓ (B)")
    expect(german.locator("#vote-status")).to_have_text("Ihre Stimme ist angekommen ✓ (A)")
    expect(presenter.locator("#poll-voters")).to_have_text("3 voted")

    presenter.keyboard.press("c")
    presenter.keyboard.press("r")
    # Counts and shares as each language writes them: German and French put a space before %.
    expect(german.locator(".results-summary")).to_have_text("3 Stimmen")
    expect(german.locator(".results .bar-count")).to_have_text(
        [re.compile(r"^1 · 33\s%$"), re.compile(r"^2 · 67\s%$")]
    )
    expect(french.locator(".results .bar-count")).to_have_text(
        [re.compile(r"^1 · 33\s%$"), re.compile(r"^2 · 67\s%$")]
    )
    expect(welsh.locator(".results .bar-count")).to_have_text(["1 · 33%", "2 · 67%"])
    expect(welsh.locator(".results .bar-row.correct .bar-tag")).to_contain_text("✓ cywir")
    expect(french.locator(".poll-state")).to_have_text("Le vote est clos")
