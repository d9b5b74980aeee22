"""Fuzz: decks stitched from raw HTML, math, Marp and Slidev syntax and broken blocks are either
refused or give slide HTML that holds nothing that could run, restyle or leave the allow-list."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slides import DeckError, parse_deck
from slides.decor import css_colour
from slides.math import MATHML_ATTRIBUTES, MATHML_TAGS
from tests.test_slides_sanitise import assert_safe, elements

PIECES = [
    "<script>alert(1)</script>", "<script>", "</script>", "<style>*{color:red}</style>",
    "<img src=x onerror=alert(1)>", "<a href='javascript:alert(1)'>x</a>", "<div style='a:b'>",
    "</div>", "<svg onload=alert(1)>", "<math><mi href='javascript:1'>x</mi></math>",
    "<iframe src=https://evil.example></iframe>", "<link rel=stylesheet href=//e>",
    "<details open><summary>s</summary>", "<abbr title='t' onclick=1>a</abbr>", "<br>",
    "<img src='data:image/svg+xml,<svg onload=1>'>", "<![CDATA[x]]>", "<?php x ?>",
    "<!DOCTYPE html>", "<Tweet id=1 />", "<v-click>", "</v-click>", "::right::",
    "$x^2$", "$$\n\\frac{1}{2}\n$$", "$\\href{javascript:alert(1)}{x}$", "$<script>$",
    "![bg opacity:.1](x.png)", "![w:10 sepia](y.png)", "<!-- _class: lead -->",
    "<!-- note -->", "<!--", "-->", "```", "~~~", "---", "***", "# ", "## ", "- [ ] ", "- [x] ",
    "text", "https://example.org/x", "[l](javascript:alert(1))", "\n", "\n\n", "  ",
    "<span style='display:none'>hidden</span>", "<form action=x><input autofocus onfocus=1>",
    "<!-- header: <script>alert(1)</script> **b** -->", "<!-- _footer: [a](javascript:1) -->",
    "<!-- footer: ![w:10](https://e.example/x.png) <img src=x onerror=1> -->",
    "<!-- backgroundColor: url(https://e.example/x) -->", "<!-- _color: red;x:url(y) -->",
    "<!-- backgroundColor: '#000' -->", "<!-- color: rgb(1 2 3) -->", "<!-- paginate: true -->",
    "<img src='https://e.example/x.png'>", "<img src=//e.example/x width=99999>",
]  # fmt: skip
FRONTS = ["", "---\nmarp: true\nheadingDivider: 2\n---\n\n", "---\ntheme: seriph\n---\n\n"]
MATH = re.compile(r"<math\b.*?</math>", re.DOTALL)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    front=st.sampled_from(FRONTS),
    pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=40),
)
def test_no_deck_gives_unsafe_slide_html(front: str, pieces: list[str]) -> None:
    try:
        deck = parse_deck(front + "".join(pieces))
    except DeckError:
        return
    decors = [s.decor for s in deck.slides if s.decor is not None]
    for decor in decors:
        # Colours both or neither, and only plain colours: nothing that could fetch or restyle.
        assert (decor.background is None) == (decor.color is None)
        for colour in (decor.background, decor.color):
            assert colour is None or css_colour(colour) == colour
            assert colour is None or not any(
                bad in colour for bad in (";", "url(", "var(", "{", "}", "\\", "!")
            )
    headers = [h for d in decors for h in (d.header, d.footer) if h is not None]
    fragments = [s.html for s in deck.slides] + [c.html for s in deck.slides for c in s.cells]
    for html in fragments + headers:
        # MathML elements against their own lists (TeX in the annotation is escaped text);
        # everything around the formulas as for any slide.
        for formula in MATH.findall(html):
            for tag, attrs in elements(formula):
                assert tag in MATHML_TAGS, (tag, html)
                assert {name for name, _ in attrs} <= MATHML_ATTRIBUTES.get(tag, set()), html
        assert_safe(MATH.sub("", html))
