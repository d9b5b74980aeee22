"""axe-core (from the npm registry, installed by scripts/test.sh) on every page, in the states a
talk goes through, in English and in a right-to-left deck: no critical or serious violation of
WCAG 2.1 AA."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import PROJECTOR, Devices, chromium
from tests.serverproc import ROOT, ServerProcess, start_server
from tests.test_e2e_browser import PUBLIC_URL, urls
from tests.test_e2e_rtl import ARABIC

pytestmark = pytest.mark.browser

AXE = ROOT / "tests" / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
ENGLISH = """\
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
- [ ] Green

Source: a survey
"""

_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  });
  return result.violations
    .filter((v) => v.impact === "critical" || v.impact === "serious")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}"""


def violations(page: Page) -> list[str]:
    """Critical and serious violations on the page as it is now."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the pages' CSP (rightly) refuses a script tag.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    found: list[str] = page.evaluate(_RUN)
    return found


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert AXE.is_file(), "axe-core is missing: run scripts/test.sh (it installs it with npm)"
    with chromium() as chromium_browser:
        yield chromium_browser


@pytest.mark.parametrize("deck_text", [ENGLISH, ARABIC], ids=["english", "arabic"])
def test_every_page_in_every_state_has_no_serious_violation(
    tmp_path: Path, devices: Devices, deck_text: str
) -> None:
    deck = tmp_path / "deck.md"
    deck.write_text(deck_text, encoding="utf-8")
    server: ServerProcess = start_server(deck, "--public-url", PUBLIC_URL, data=tmp_path / "data")
    try:
        presenter_url, display_url, phone_url = urls(server)
        join = devices.open(f"{server.base}/", phone=True)
        expect(join.locator("#join-title")).to_be_visible()
        presenter = devices.open(presenter_url)
        display = devices.open(display_url, viewport=PROJECTOR)
        phone = devices.open(phone_url, phone=True)
        expect(presenter.locator("#presence")).to_contain_text("1 connected")
        found: dict[str, list[str]] = {}

        def check(name: str, page: Page) -> None:
            found[name] = violations(page)

        check("join", join)
        for name, page in (("presenter", presenter), ("display", display), ("phone", phone)):
            check(f"{name} title", page)
        presenter.keyboard.press("ArrowRight")
        presenter.keyboard.press("o")
        expect(phone.locator(".choice").first).to_be_enabled()
        phone.locator(".choice").nth(1).tap()
        expect(phone.locator(".choice").nth(1)).to_have_attribute("aria-pressed", "true")
        for name, page in (("presenter", presenter), ("display", display), ("phone", phone)):
            check(f"{name} voting", page)
        presenter.keyboard.press("c")
        presenter.keyboard.press("r")
        expect(phone.locator(".results")).to_be_visible()
        for name, page in (("presenter", presenter), ("display", display), ("phone", phone)):
            check(f"{name} results", page)
        presenter.keyboard.press("b")
        expect(phone.locator("#paused")).to_be_visible()
        check("phone paused", phone)
        results = devices.open(f"{server.base}/results?key={server.key}")
        expect(results.locator("#status")).to_contain_text("1 vote")
        check("results page", results)
        assert {name: found_ for name, found_ in found.items() if found_} == {}
    finally:
        server.stop()
