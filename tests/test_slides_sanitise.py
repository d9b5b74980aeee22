"""A hostile deck cannot put scripts, event handlers or dangerous URLs into any slide's HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from slides import Deck, DeckError, Slide, SlideKind, parse_deck

ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "ul",
    # Raw HTML may add structure and inline markup, none of which can run or restyle.
    "abbr", "caption", "cite", "dd", "details", "div", "dl", "dt", "figcaption", "figure",
    "ins", "kbd", "mark", "q", "samp", "small", "span", "summary", "tfoot", "u", "var",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "target", "rel"},
    # width and height: Marp's `![w:300](x.png)`, a number of pixels (checked below).
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "abbr": {"title"},
    "details": {"open"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
SAFE_SCHEMES = {"", "http", "https", "mailto"}
C0_AND_SPACE = "".join(chr(code) for code in range(0x21))

HOSTILE = """\
---
title: <script>alert('title')</script>
---

# Hi <script>alert(1)</script> <img src=x onerror=alert(1)>

<script>alert(1)</script>

<img src=x onerror=alert(1)>

<a href="javascript:alert(1)">html link</a>

[x](javascript:alert(1)) [y](JaVaScRiPt:alert(1)) [z](vbscript:msgbox(1))
[w](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) [v](file:///etc/passwd)
<javascript:alert(1)> [t](java&#x09;script:alert(1)) [e](&#106;avascript:alert(1))

![x](javascript:alert(1)) ![svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)
![png](data:image/png;base64,iVBORw0KGgo=)

<iframe src="https://evil.example"></iframe>

<style>body { display: none }</style>

<svg onload=alert(1)><form action=x><input autofocus onfocus=alert(1)>

<div style="background:url(javascript:alert(1))" onclick="alert(1)">div</div>

[safe](https://example.org)

---
layout: grid
---

## <img src=x onerror=alert(1)> cell
<script>alert(1)</script>

## [x](javascript:alert(1))
<a href="javascript:alert(1)">a</a> <iframe src=x></iframe>

---

# <b onmouseover=alert(1)>Which?</b> <script>alert(1)</script>

- [ ] <img src=x onerror=alert(1)>
- [ ] [x](javascript:alert(1))
- [ ] <script>alert(1)</script>

Source: <script>alert(1)</script> [s](javascript:alert(1))

<!-- <script>alert(1)</script> -->

---
layout: steps
---

## <style>*{}</style>
<style>*{}</style>

## <iframe src=x>
![x](javascript:alert(1))

---

# Notes

???
<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))
"""


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Collect()
    parser.feed(html)
    parser.close()
    return parser.elements


def fragments(deck: Deck) -> list[str]:
    """Every piece of HTML the clients will insert: slide bodies and grid/steps cells."""
    return [s.html for s in deck.slides] + [c.html for s in deck.slides for c in s.cells]


def browser_scheme(url: str) -> str:
    """The scheme a browser would see: it drops tabs and newlines and trims control characters."""
    cleaned = re.sub(r"[\t\n\r]", "", url).strip(C0_AND_SPACE)
    return urlsplit(cleaned).scheme.lower()


def assert_safe(html: str) -> None:
    lowered = html.lower()
    for needle in ("<script", "<iframe", "<style", "<svg", "<form", "<input", "<link"):
        assert needle not in lowered, html
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), (tag, name, html)
            if name in ("href", "src"):
                assert browser_scheme(value or "") in SAFE_SCHEMES, (tag, name, value)
            if name in ("width", "height"):
                assert re.fullmatch(r"[1-9][0-9]{0,3}", value or ""), (tag, name, value)
        if tag == "a":
            assert dict(attrs).get("rel") == "noopener noreferrer"
            assert dict(attrs).get("target") == "_blank"


@pytest.fixture(scope="module")
def deck() -> Deck:
    return parse_deck(HOSTILE, file="deck.md")


def test_hostile_deck_still_parses_into_its_slides(deck: Deck) -> None:
    assert [s.kind for s in deck.slides] == [
        SlideKind.CONTENT,
        SlideKind.GRID,
        SlideKind.POLL,
        SlideKind.STEPS,
        SlideKind.TITLE,
    ]


def test_no_slide_or_cell_html_has_scripts_handlers_or_bad_urls(deck: Deck) -> None:
    html = fragments(deck)
    assert len(html) == 9
    for fragment in html:
        assert_safe(fragment)


def test_raw_html_keeps_its_structure_and_loses_what_would_run(deck: Deck) -> None:
    first = deck.slides[0].html
    # Scripts and styles go with their content; a div keeps its text, not its handlers.
    assert first.startswith('<h1>Hi  <img src="/assets/x"></h1>')
    assert "<div>div</div>" in first
    assert "display: none" not in first
    assert "alert(1)</" not in first


def test_unsafe_raw_html_is_named_in_warnings(deck: Deck) -> None:
    raw = [w for w in deck.warnings if "raw HTML not shown" in w]
    assert raw[:4] == [
        "deck.md:5: warning: raw HTML not shown: <script>, onerror= handler",
        "deck.md:7: warning: raw HTML not shown: <script>",
        "deck.md:9: warning: raw HTML not shown: onerror= handler",
        "deck.md:11: warning: raw HTML not shown: javascript: URL",
    ]
    assert "deck.md:22: warning: raw HTML not shown: <style>" in raw


def test_only_the_safe_link_survives_as_a_link(deck: Deck) -> None:
    links = [dict(attrs).get("href") for tag, attrs in elements(deck.slides[0].html) if tag == "a"]
    # The raw `<a href="javascript:...">` keeps its text, not its href; `java&#x09;script:`
    # is percent-encoded by markdown into a harmless relative link.
    assert links == [None, "java%09script:alert(1)", "https://example.org"]


def test_data_urls_do_not_reach_the_html(deck: Deck) -> None:
    for fragment in fragments(deck):
        for _, attrs in elements(fragment):
            for _, value in attrs:
                assert not (value or "").lower().startswith("data:")


def test_poll_text_stays_plain_text(deck: Deck) -> None:
    poll = deck.slides[2].poll
    assert poll is not None
    # Raw tags are markup, dropped from plain text like emphasis; a script's text goes too.
    assert poll.question == "Which?"
    assert poll.options == [
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "<script>alert(1)</script>",
    ]
    assert poll.source == "[s](javascript:alert(1))"
    assert deck.slides[2].html == ""
    assert deck.slides[2].notes == "<script>alert(1)</script>"


def test_notes_never_reach_the_slide_html(deck: Deck) -> None:
    notes = deck.slides[4]
    assert notes.html == "<h1>Notes</h1>"
    assert notes.notes.startswith("<script>alert(1)</script>")


def test_cell_headings_are_plain_text(deck: Deck) -> None:
    assert [c.heading for c in deck.slides[1].cells] == ["cell", "[x](javascript:alert(1))"]


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "vbscript:msgbox(1)", "file:///etc"]
)
def test_a_dangerous_link_cannot_make_a_link_slide(url: str) -> None:
    text = f"# Intro\n\n---\nlayout: link\n---\n\n[click]({url})\n"
    with pytest.raises(DeckError) as caught:
        parse_deck(text, file="deck.md")
    assert "a link slide needs a link" in str(caught.value)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:image/svg+xml;base64,PHN2Zz4="])
def test_a_dangerous_image_cannot_make_an_image_slide(url: str) -> None:
    slide: Slide = parse_deck(f"![x]({url})\n", file="deck.md").slides[0]
    assert slide.kind is not SlideKind.IMAGE
    assert slide.image is None
    assert_safe(slide.html)
