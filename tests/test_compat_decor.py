"""Marp's header, footer, page numbers and colours, image sizes, and raw `<img>` sources."""

from __future__ import annotations

import pytest

from server.views import slide_view
from slides import Decor, parse_deck
from slides.decor import css_colour

MARP = "---\nmarp: true\n"


def decors(text: str) -> list[Decor | None]:
    return [slide.decor for slide in parse_deck(text).slides]


def test_local_directives_hold_from_their_slide_on_and_spot_ones_for_one_slide() -> None:
    text = (
        MARP + "paginate: true\nheader: Intro\n---\n\n# One\n\n---\n\n"
        "<!-- _header: Only here -->\n<!-- _paginate: false -->\n\n# Two\n\n---\n\n"
        "<!-- footer: From three on -->\n\n# Three\n\n---\n\n"
        "<!--\nheader: ''\npaginate: false\n-->\n\n# Four\n"
    )
    assert decors(text) == [
        Decor(header="Intro", paginate=True),
        Decor(header="Only here"),
        Decor(header="Intro", footer="From three on", paginate=True),
        Decor(footer="From three on"),
    ]


def test_front_matter_spot_directives_are_the_first_slides_only() -> None:
    text = MARP + "_header: Cover\n_paginate: true\n---\n\n# One\n\n---\n\n# Two\n"
    assert decors(text) == [Decor(header="Cover", paginate=True), None]


def test_header_and_footer_are_inline_markdown_sanitised_as_slides_are() -> None:
    text = (
        MARP + "header: '**Acme** ![h:30](logo.png) [site](javascript:alert(1))'\n---\n\n"
        "<!-- footer: <script>alert(1)</script> <b>hi</b> -->\n\n# One\n"
    )
    (decor,) = decors(text)
    assert decor is not None
    assert decor.header == (
        '<strong>Acme</strong> <img src="/assets/logo.png" alt="" height="30"> '
        "[site](javascript:alert(1))"
    )
    # Raw HTML in a header is text, never markup.
    assert decor.footer == "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;hi&lt;/b&gt;"


@pytest.mark.parametrize(
    "colour",
    [
        "white", "RebeccaPurple", "#fff", "#1e293bcc", "rgb(1, 2, 3)", "rgba(1,2,3,0.5)",
        "rgb(10% 20% 30% / 50%)", "hsl(120 50% 50%)", "hsla(120deg, 50%, 50%, .3)",
    ],
)  # fmt: skip
def test_colours_handsup_takes(colour: str) -> None:
    assert css_colour(colour) == colour.lower()


@pytest.mark.parametrize(
    "value",
    [
        "url(x.png)", "red; background: url(https://evil.example/x)", "expression(alert(1))",
        "var(--x)", "inherit", "currentcolor", "#ggg", "#12345", "rgb(1,2)",
        "rgb(1,2,3) url(x)", "linear-gradient(red, blue)", "", "red !important", 12, None,
        "color-mix(in srgb, red, blue)", "hsl(120, 50, 50)", "rgb(calc(1),2,3)",
    ],
)  # fmt: skip
def test_anything_but_a_plain_colour_is_refused(value: object) -> None:
    assert css_colour(value) is None


def test_colours_apply_together_only_and_bad_ones_are_warned_about_at_their_line() -> None:
    text = (
        MARP + "backgroundColor: '#1e293b'\ncolor: white\n---\n\n# Dark\n\n---\n\n"
        "<!-- _backgroundColor: url(https://evil.example/x.png) -->\n\n# Still dark\n\n---\n\n"
        "<!-- _color: black -->\n\n# Black on dark\n"
    )
    parsed = parse_deck(text)
    assert [s.decor for s in parsed.slides] == [
        Decor(background="#1e293b", color="white"),
        Decor(background="#1e293b", color="white"),
        Decor(background="#1e293b", color="black"),
    ]
    assert parsed.warnings == [
        "deck.md:11: warning: _backgroundColor 'url(https://evil.example/x.png)' ignored: a "
        "colour is a name, #hex, rgb() or hsl()"
    ]
    lone = parse_deck(MARP + "color: white\n---\n\n# White on white?\n")
    assert lone.slides[0].decor is None
    assert lone.warnings == [
        "deck.md:3: warning: backgroundColor without color, or color without backgroundColor, "
        "ignored (line 3): set both, so that the text stays readable"
    ]


def test_decor_reaches_the_wire_and_a_plain_deck_has_none() -> None:
    deck = parse_deck(MARP + "footer: Ada\n---\n\n# One\n")
    view = slide_view(deck.slides[0])
    assert view.decor == Decor(footer="Ada")
    assert '"decor":{"header":null,"footer":"Ada"' in view.model_dump_json()
    assert slide_view(parse_deck("# Plain\n").slides[0]).decor is None


def test_marp_image_sizes_become_bounded_width_and_height() -> None:
    text = MARP + "---\n\n![w:300 h:200px A cat](cat.png) ![w:99999 width:50% sepia dog](dog.png)\n"
    parsed = parse_deck(text)
    assert parsed.slides[0].html == (
        '<p><img src="/assets/cat.png" alt="A cat" width="300" height="200"> '
        '<img src="/assets/dog.png" alt="dog"></p>'
    )
    assert parsed.warnings == [
        "deck.md:5: warning: Marp image filters (sepia...) and sizes not in pixels ignored: line 5"
    ]
    # Only in a Marp deck: elsewhere the alt text is the author's words.
    plain = parse_deck("![w:300 A cat](cat.png)\n")
    assert 'alt="w:300 A cat"' in plain.slides[0].html


def test_raw_img_shows_the_decks_own_or_https_images_and_says_which_line_lost_one() -> None:
    text = (
        "# Pictures\n\n"
        '<img src="photo.png" width="300" height="99999" alt="ours">\n\n'
        '<div><img src="http://plain.example/pixel.gif"></div>\n\n'
        '<p><img src="//cdn.example/x.png"> <img src="/static/shared/x.png"></p>\n\n'
        '<img src="data:image/png;base64,AAAA">\n\n'
        '<img src="https://example.org/chart.png" alt="remote, as a markdown image may be">\n'
    )
    parsed = parse_deck(text)
    html = parsed.slides[0].html
    assert '<img src="/assets/photo.png" width="300" alt="ours">' in html
    for elsewhere in ("plain.example", "cdn.example", "/static/", "data:"):
        assert elsewhere not in html
    # https, as the allow-list and a markdown image have it; nothing over plain http.
    assert '<img src="https://example.org/chart.png"' in html
    assert parsed.warnings == [
        "deck.md:5: warning: raw HTML not shown: <img> not from the deck's folder or https",
        "deck.md:7: warning: raw HTML not shown: <img> not from the deck's folder or https",
        "deck.md:9: warning: raw HTML not shown: data: URL",
    ]
