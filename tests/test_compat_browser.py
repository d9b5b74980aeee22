"""Marp and Slidev decks, and deck mistakes, as the projector and the phones show them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import Devices
from tests.serverproc import ServerProcess, start_server
from tests.test_e2e_axe import violations

pytestmark = pytest.mark.browser

DECKS = Path(__file__).resolve().parent / "decks" / "compat"


def serving(deck: Path) -> ServerProcess:
    return start_server(deck)


def test_an_unclosed_comment_saved_mid_talk_never_reaches_a_screen(
    tmp_path: Path, devices: Devices
) -> None:
    # The deck is fine when the talk starts; then the presenter edits the quiz slide's note and
    # forgets `-->`. The save is refused: screens keep the slide, and the answer stays hidden.
    broken = (DECKS / "unclosed-comment.md").read_text(encoding="utf-8")
    good = broken.replace("before the reveal.\n", "before the reveal. -->\n")
    deck = tmp_path / "quiz.md"
    deck.write_text(good, encoding="utf-8")
    server = serving(deck)
    try:
        presenter = devices.open(f"{server.base}/presenter?key={server.key}")
        display = devices.open(f"{server.base}/display")
        phone = devices.open(f"{server.base}/?room={server.room}", phone=True)
        expect(presenter.locator("#conn")).to_have_text("Live")
        presenter.keyboard.press("ArrowRight")
        for page in (display, phone):
            expect(page.locator(".poll-question")).to_have_text("Capital of Australia?")

        deck.write_text(broken, encoding="utf-8")
        notice = presenter.locator("#notice")
        expect(notice).to_have_attribute("data-level", "error")
        expect(notice).to_contain_text("quiz.md:20: `<!--` is never closed by `-->`")
        for page in (display, phone):
            expect(page.locator(".poll-question")).to_have_text("Capital of Australia?")
            expect(page.locator("body")).not_to_contain_text("The answer is")
    finally:
        server.stop()


def test_raw_html_keeps_structure_on_every_screen_and_nothing_runs_or_restyles(
    devices: Devices,
) -> None:
    server = serving(DECKS / "marp-html.md")
    try:
        display = devices.open(f"{server.base}/display")
        phone = devices.open(f"{server.base}/?room={server.room}", phone=True)
        for page in (display, phone):
            body = page.locator(".slide-html")
            expect(body).to_contain_text("First line")
            # `<br>` breaks the line and `<kbd>` marks the keys: structure, not printed tags.
            expect(body.locator("div br")).to_have_count(1)
            expect(body.locator("kbd")).to_have_text(["Ctrl", "C"])
            expect(body.locator("span")).to_have_text("Still visible")
            expect(body.locator("span")).to_be_visible()
            text = body.inner_text()
            for leaked in ("<div>", "<br>", "rgb(255", "window.pwned", "<style>", "<script>"):
                assert leaked not in text
            assert page.evaluate("() => window.pwned") is None
            heading = page.locator(".slide h1")
            color = heading.evaluate("(h) => getComputedStyle(h).color")
            assert color != "rgb(255, 0, 0)"
            assert page.locator(".slide style, .slide script").count() == 0
    finally:
        server.stop()


def test_a_marp_checklist_is_shown_as_a_list_not_a_surprise_poll(devices: Devices) -> None:
    server = serving(DECKS / "marp-checklist.md")
    try:
        display = devices.open(f"{server.base}/display")
        phone = devices.open(f"{server.base}/?room={server.room}", phone=True)
        for page in (display, phone):
            expect(page.locator(".slide")).to_have_attribute("data-index", "0")
            expect(page.locator(".slide li")).to_have_text(
                ["☐ Tests pass", "☑ Changelog written", "☐ Version bumped"]
            )
        expect(phone.locator(".choice")).to_have_count(0)
        presenter = devices.open(f"{server.base}/presenter?key={server.key}")
        expect(presenter.locator("#conn")).to_have_text("Live")
        presenter.keyboard.press("ArrowRight")
        # The slide that says `poll:` is a poll: phones get their buttons there.
        expect(phone.locator(".choice")).to_have_count(2)
    finally:
        server.stop()


def test_math_is_drawn_as_math_on_the_display_and_a_phone(devices: Devices) -> None:
    server = serving(DECKS / "math.md")
    try:
        display = devices.open(f"{server.base}/display")
        phone = devices.open(f"{server.base}/?room={server.room}", phone=True)
        for page in (display, phone):
            formulas = page.locator(".slide math")
            expect(formulas).to_have_count(3)
            # Chromium lays MathML out: the fraction is a real fraction, taller than a line of
            # text, and the TeX source (the annotation) is not what people read.
            fraction = page.locator(".slide mfrac").first
            expect(fraction).to_be_visible()
            box = fraction.bounding_box()
            assert box is not None and box["height"] > 20
            text = page.locator(".slide").inner_text()
            assert "\\frac" not in text and "$" not in text.replace("$5", "").replace("$10", "")
            expect(page.locator(".slide")).to_contain_text("It costs $5 and $10 to get in.")
    finally:
        server.stop()


# Nothing of the slide is cut off: the projector's slide body has no overflow (text is fitted,
# code wraps, wide tables scroll), and nothing on a phone sticks out sideways. Tables scroll
# inside their own box, so only the table's box is measured, not its cells.
_DISPLAY_FITS = """(index) => {
  const slide = document.querySelector('.slide');
  const body = slide?.querySelector('.slide-body');
  if (!body || slide.dataset.index !== String(index)) return false;
  return body.scrollHeight <= body.clientHeight + 1 && body.scrollWidth <= body.clientWidth + 1;
}"""
_PHONE_FITS = """(index) => {
  const slide = document.querySelector('.slide');
  if (!slide || slide.dataset.index !== String(index)) return false;
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width) return false;
  return [...slide.querySelectorAll('*')]
    .filter((node) => !node.parentElement.closest('.slide table'))
    .every((node) => node.getBoundingClientRect().right <= width + 1);
}"""


def test_every_slide_of_a_fifty_slide_marp_deck_fits_the_projector_and_a_phone(
    devices: Devices,
) -> None:
    deck = DECKS / "marp-50.md"
    server = serving(deck)
    try:
        presenter = devices.open(f"{server.base}/presenter?key={server.key}")
        display = devices.open(f"{server.base}/display")
        display.set_viewport_size({"width": 1920, "height": 1080})
        phone = devices.open(f"{server.base}/?room={server.room}", phone=True)
        expect(presenter.locator("#conn")).to_have_text("Live")
        expect(presenter.locator("#position")).to_have_text("Slide 1 of 50")
        for index in range(50):
            if index:
                presenter.keyboard.press("ArrowRight")
            for page, fits in ((display, _DISPLAY_FITS), (phone, _PHONE_FITS)):
                try:
                    page.wait_for_function(fits, arg=index, timeout=5000)
                except Exception as error:
                    raise AssertionError(f"slide {index + 1} overflows on {page.url}") from error
            if index == 1:
                # A long list goes into two columns, but its nested lists stay whole in their
                # item: split into columns of their own they broke words ("codespa/ces").
                outer = display.locator(".slide-html > ul")
                nested = display.locator(".slide-html li > ul").first
                assert outer.evaluate("(e) => getComputedStyle(e).columnCount") == "2"
                assert nested.evaluate("(e) => getComputedStyle(e).columnCount") == "auto"
    finally:
        server.stop()


def test_a_slidev_deck_shows_every_slide_without_its_tool_syntax(devices: Devices) -> None:
    server = serving(DECKS / "slidev-deck.md")
    try:
        presenter = devices.open(f"{server.base}/presenter?key={server.key}")
        display = devices.open(f"{server.base}/display")
        expect(presenter.locator("#conn")).to_have_text("Live")
        # Six slides of its own, and the two of pages/extra.md in place of its `src:` slide.
        expect(presenter.locator("#position")).to_have_text("Slide 1 of 8")
        shown = []
        for index in range(8):
            if index:
                presenter.keyboard.press("ArrowRight")
            expect(display.locator(".slide")).to_have_attribute("data-index", str(index))
            shown.append(display.locator(".slide").inner_text())
        everything = "\n".join(shown)
        for syntax in ("::right::", "<Tweet", "v-click", "layout:", "hideInToc", "src:"):
            assert syntax not in everything
        assert "Right side" in shown[2] and "Shown at once here" in shown[7]
        assert "An included page" in shown[5] and "☐ A checklist, still not a poll" in shown[6]
        expect(display.locator(".slide")).to_have_class(re.compile(r"\bkind-content\b"))
    finally:
        server.stop()


def test_a_marp_deck_with_directives_and_heading_divider_on_the_display(
    devices: Devices,
) -> None:
    server = serving(DECKS / "marp-directives.md")
    try:
        presenter = devices.open(f"{server.base}/presenter?key={server.key}")
        display = devices.open(f"{server.base}/display")
        phone = devices.open(f"{server.base}/?room={server.room}", phone=True)
        expect(presenter.locator("#conn")).to_have_text("Live")
        # headingDivider: 2 makes five slides of what Marp would show as five pages.
        expect(presenter.locator("#position")).to_have_text("Slide 1 of 5")
        slide = display.locator(".slide")
        expect(slide).to_have_class(re.compile(r"\bkind-title\b"))  # `_class: lead`
        expect(slide).to_contain_text("Every slide comes over")
        # The speaker note is on the presenter's screen only; directives are on none.
        expect(presenter.locator("body")).to_contain_text("Say where the deck came from.")
        seen = []
        for index in range(5):
            if index:
                presenter.keyboard.press("ArrowRight")
            for page in (display, phone):
                expect(page.locator(".slide")).to_have_attribute("data-index", str(index))
                text = page.locator("body").inner_text()
                for leaked in ("Say where", "_class", "paginate: false", "aqua", "fit"):
                    assert leaked not in text, (index, leaked)
            seen.append(display.locator(".slide").inner_text())
            if index == 2:
                # The ![bg] watermark and photo are not the slide's picture; the text is there.
                expect(display.locator(".slide img")).to_have_count(0)
                expect(display.locator(".slide")).to_contain_text("Text stays on the slide")
        assert "## This heading is code" in seen[3]
    finally:
        server.stop()


def test_marp_header_footer_page_numbers_and_colours_on_the_display(devices: Devices) -> None:
    server = serving(DECKS / "marp-decor.md")
    try:
        presenter = devices.open(f"{server.base}/presenter?key={server.key}")
        display = devices.open(f"{server.base}/display")
        display.set_viewport_size({"width": 1920, "height": 1080})
        phone = devices.open(f"{server.base}/?room={server.room}", phone=True)
        expect(presenter.locator("#conn")).to_have_text("Live")
        slide = display.locator(".stage .slide")
        expect(slide.locator(".slide-header")).to_have_text("Acme quarterly")
        expect(slide.locator(".slide-header strong")).to_have_text("Acme")
        expect(slide.locator(".slide-footer")).to_have_text("Ada Lovelace · 2026")
        expect(slide.locator(".slide-page")).to_have_text("1")
        # In the stage's margins: above and below the slide's text, inside the screen.
        body = slide.locator(".slide-body").bounding_box()
        for part, above in ((".slide-header", True), (".slide-footer", False)):
            expect(slide.locator(part)).to_be_visible()
            box = slide.locator(part).bounding_box()
            assert body is not None and box is not None
            assert box["y"] >= 0 and box["y"] + box["height"] <= 1080
            if above:
                assert box["y"] + box["height"] <= body["y"] + 1
            else:
                assert box["y"] >= body["y"] + body["height"] - 1
        # The deck's colours, both set, on the projector and on the phone.
        for page in (display, phone):
            article = page.locator(".slide").first
            background = article.evaluate("(a) => getComputedStyle(a).backgroundColor")
            assert background == "rgb(30, 41, 59)"
            heading = page.locator(".slide h1").first
            assert heading.evaluate("(h) => getComputedStyle(h).color") == "rgb(248, 250, 252)"
        # Readable and well formed: no serious accessibility problem, contrast included.
        assert violations(display) == []
        assert violations(phone) == []
        # A phone shows the slide, not the projector's header, footer and page number.
        expect(phone.locator(".slide h1")).to_have_text("Quarterly review")
        expect(phone.locator(".slide-header, .slide-footer, .slide-page")).to_have_count(0)

        presenter.keyboard.press("ArrowRight")  # `_header` and `_paginate` for this slide only
        expect(slide).to_have_attribute("data-index", "1")
        expect(slide.locator(".slide-header")).to_have_text("Numbers")
        expect(slide.locator(".slide-page")).to_have_count(0)
        expect(slide.locator(".slide-footer")).to_have_text("Ada Lovelace · 2026")

        presenter.keyboard.press("ArrowRight")
        expect(slide).to_have_attribute("data-index", "2")
        expect(slide.locator(".slide-header")).to_have_text("Acme quarterly")
        expect(slide.locator(".slide-page")).to_have_text("3")
        # `url(...)` is no colour: the slide keeps the deck's, and nothing is fetched.
        style = slide.evaluate(
            "(a) => [getComputedStyle(a).backgroundColor, getComputedStyle(a).backgroundImage]"
        )
        assert style == ["rgb(30, 41, 59)", "none"]
        assert "evil.example" not in display.content()
    finally:
        server.stop()
