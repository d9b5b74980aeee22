"""Marp and Slidev decks come over: their keys and directives are read or set aside with one
warning each, typos stay errors, and directive comments never become speaker notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from slides import Deck, DeckError, parse_deck

DECKS = Path(__file__).resolve().parent / "decks" / "compat"


def deck(name: str) -> Deck:
    return parse_deck((DECKS / name).read_text(encoding="utf-8"), file=name)


def errors(text: str) -> list[str]:
    with pytest.raises(DeckError) as caught:
        parse_deck(text)
    return [str(problem) for problem in caught.value.problems]


def test_marp_front_matter_is_set_aside_with_one_warning() -> None:
    marp = deck("marp-directives.md")
    keys = [w for w in marp.warnings if "settings with no meaning here" in w]
    # paginate, header, footer and colours are shown (tests/test_compat_decor.py).
    assert keys == [
        "marp-directives.md:3: warning: Marp settings with no meaning here, ignored: "
        "theme (line 3), size (line 5), style (line 10)"
    ]


def test_heading_divider_splits_at_level_two_headings_outside_code() -> None:
    marp = deck("marp-directives.md")
    assert [s.title for s in marp.slides] == [
        "Moving a Marp deck",
        "Directives",
        "Background images",
        "Code is not divided",
        "A last slide",
    ]
    assert "## This heading is code" in marp.slides[3].html
    # A divided slide starts at its heading's line, so errors and the presenter point there.
    assert [s.line for s in marp.slides] == [13, 23, 30, 37, 44]


def test_heading_divider_in_a_comment_and_as_a_list() -> None:
    text = "<!-- headingDivider: [1, 3] -->\n\n# A\n\n## B stays\n\n### C\n\n# D\n"
    assert [s.title for s in parse_deck(text).slides] == ["A", "C", "D"]


def test_a_heading_divider_marp_cannot_read_is_ignored_with_a_warning() -> None:
    parsed = parse_deck("---\nheadingDivider: seven\n---\n\n# A\n\n# B\n")
    assert [s.title for s in parsed.slides] == ["A"]
    assert parsed.warnings == [
        "deck.md:1: warning: headingDivider 'seven' ignored: expected a level 1 to 6 or a list"
    ]


def test_directive_comments_are_not_speaker_notes() -> None:
    marp = deck("marp-directives.md")
    assert marp.slides[0].notes == "Say where the deck came from."
    assert [s.notes for s in marp.slides[1:]] == ["", "", "", ""]
    # `_paginate` and `backgroundColor` are shown (or their own warning says why not).
    assert not [w for w in marp.warnings if "directives ignored" in w]


def test_marp_lead_class_centres_its_slide_as_a_title() -> None:
    marp = deck("marp-directives.md")
    # `_class: lead` on the first slide only: a heading and a line, shown as a title slide.
    assert [s.kind.value for s in marp.slides[:2]] == ["title", "bullets"]
    text = "# A\n\nx\n\n---\n\n<!-- class: lead -->\n\n# B\n\ny\n\n---\n\n# C\n\nz\n"
    assert [s.kind.value for s in parse_deck(text).slides] == ["content", "title", "title"]


def test_multi_line_directive_comment_is_not_a_note() -> None:
    text = "# A\n\n<!--\ntheme: default\npaginate: true\n-->\n\n<!-- A real note: key point -->\n"
    slide = parse_deck(text).slides[0]
    assert slide.notes == "A real note: key point"


def test_background_images_do_not_become_the_slide_image() -> None:
    marp = deck("marp-directives.md")
    slide = marp.slides[2]
    assert slide.kind.value == "content"
    assert slide.image is None
    assert "img" not in slide.html
    assert "Text stays on the slide" in slide.html
    assert (
        "marp-directives.md:32: warning: Marp background images (![bg]) are not shown: lines 32, 33"
    ) in marp.warnings


def test_a_plain_image_in_a_marp_deck_still_makes_an_image_slide() -> None:
    slide = parse_deck("---\nmarp: true\n---\n\n![Chart](chart.png)\n").slides[0]
    assert slide.image == "/assets/chart.png"


def test_slidev_front_matter_and_layouts() -> None:
    slidev = deck("slidev-deck.md")
    assert slidev.meta.title == "Slidev to handsup"
    assert slidev.meta.author == "Ada Lovelace"
    # The first slide is Slidev's cover: a title, though it has a line of text under it.
    assert [s.kind.value for s in slidev.slides] == [
        "title",
        "title",
        "content",
        "statement",
        "quote",
        "content",
    ]
    assert slidev.warnings == [
        "slidev-deck.md:2: warning: Slidev settings with no meaning here, ignored: "
        "theme (line 2), highlighter (line 5), drawings (line 6), transition (line 8), "
        "mdc (line 9), defaults.layout (line 10), class (line 20), hideInToc (line 27), "
        "clicks (line 40)",
        "slidev-deck.md:26: warning: Slidev layout 'two-cols' is shown as 'content'",
        "slidev-deck.md:56: warning: Slidev `src: ./pages/extra.md` is not read: paste its "
        "slides into this deck",
        "slidev-deck.md:63: warning: raw HTML not shown: <Tweet> (a Vue component)",
        "slidev-deck.md:65: warning: raw HTML not shown: <v-click> (a Vue component)",
    ]


def test_slidev_slots_and_components_leave_their_text_not_their_tags() -> None:
    slides = deck("slidev-deck.md").slides
    assert slides[2].html == "<h1>Two columns</h1>\n<p>Left side</p>\n<p>Right side</p>"
    assert "Tweet" not in slides[5].html
    assert "<p>Shown at once here</p>" in slides[5].html


def test_a_key_no_tool_defines_is_still_an_error() -> None:
    assert errors("---\nmarp: true\npagniate: true\n---\n\n# A\n") == [
        "deck.md:3: unknown deck option 'pagniate'"
    ]
    assert errors("# A\n\n---\nlayuot: cover\n---\n\n# B\n") == [
        "deck.md:4: unknown slide option 'layuot'"
    ]


def test_unknown_keys_are_reported_even_when_the_yaml_is_broken() -> None:
    assert errors("---\ntitle: [Broken\nthme: gaia\n---\n\n# A\n") == [
        "deck.md:3: unknown deck option 'thme'",
        "deck.md:3: bad YAML: expected ',' or ']', but got ':'",
    ]


def test_marp_loose_yaml_is_read() -> None:
    text = "---\nmarp: true\nheader :   ![#l](logo.png)\nfooter: **Ada** 2026\n---\n\n# A\n"
    parsed = parse_deck(text)
    assert [s.title for s in parsed.slides] == ["A"]
    assert parsed.warnings == []
    decor = parsed.slides[0].decor
    assert decor is not None
    assert decor.header == '<img src="/assets/logo.png" alt="#l">'
    assert decor.footer == "<strong>Ada</strong> 2026"


def test_a_marp_checklist_is_a_list_and_poll_options_make_a_poll() -> None:
    marp = deck("marp-checklist.md")
    checklist, poll = marp.slides
    assert (checklist.kind.value, checklist.poll) == ("bullets", None)
    assert "<li>☐ Tests pass</li>" in checklist.html
    assert "<li>☑ Changelog written</li>" in checklist.html
    assert poll.poll is not None and poll.poll.options == ["Yes", "Not yet"]
    assert marp.warnings == [
        "marp-checklist.md:4: warning: checklists shown as lists, not polls, in this Marp deck "
        "(slide on line 4); give a slide `poll:` options to make a poll"
    ]


def test_a_handsup_checklist_is_still_a_poll() -> None:
    slide = parse_deck("---\ntitle: Quiz\n---\n\n# Q?\n\n- [ ] a\n- [ ] b\n").slides[0]
    assert slide.poll is not None


def test_non_latin_titles_get_ids_that_do_not_depend_on_position() -> None:
    text = (DECKS / "japanese.md").read_text(encoding="utf-8")
    first = parse_deck(text)
    slides = text.split("\n---\npoll:\n---\n")
    swapped = parse_deck("\n---\npoll:\n---\n".join([slides[0], slides[2], slides[1] + "\n"]))
    ids = {s.title: s.poll.id for s in first.slides if s.poll}
    assert ids == {s.title: s.poll.id for s in swapped.slides if s.poll}
    assert len(set(ids.values())) == 2
    assert all(poll_id.startswith("poll-") for poll_id in ids.values())
    assert first.slides[0].id.startswith("title-")


def test_math_is_mathml_with_the_tex_kept_verbatim() -> None:
    slide = deck("math.md").slides[0]
    assert slide.html.count('<math display="inline">') == 2
    assert slide.html.count('<math display="block">') == 1
    # Markdown escapes do not touch TeX: `\{` and `\\` survive as written.
    assert r'<annotation encoding="application/x-tex">\{x \mid x &gt; 0\}</annotation>' in (
        slide.html
    )
    assert "x_i \\\\\n\\sqrt{a^2 + b^2}</annotation>" in slide.html
    assert r"$\{x \mid x > 0\}$" in slide.text
    assert "<p>It costs $5 and $10 to get in.</p>" in slide.html


def test_math_in_a_handsup_deck_too_and_none_without_dollars() -> None:
    assert "<math" in parse_deck("# Area\n\n$\\pi r^2$\n").slides[0].html
    assert parse_deck("# Plain\n\nNo formulas here.\n").slides[0].html == (
        "<h1>Plain</h1>\n<p>No formulas here.</p>"
    )


def test_marp_decks_keep_line_breaks_and_link_bare_urls() -> None:
    slide = deck("marp-breaks.md").slides[0]
    assert "Ada Lovelace<br>\nAnalytical Engines Ltd<br>" in slide.html
    assert '<a href="https://example.org/talk"' in slide.html
    # A handsup deck keeps CommonMark's soft breaks, as documented.
    plain = parse_deck("# Contact\n\nAda\nLovelace https://example.org\n").slides[0]
    assert plain.html == "<h1>Contact</h1>\n<p>Ada\nLovelace https://example.org</p>"


def test_slidev_headmatter_layout_is_the_first_slides() -> None:
    text = "---\nhighlighter: shiki\nlayout: default\n---\n\n# Hello\n\nWorld\n"
    parsed = parse_deck(text)
    assert parsed.slides[0].kind.value == "content"
    assert "layout" not in parsed.warnings[0]


def test_marp_image_sizes_are_kept_and_filters_are_not_the_image_description() -> None:
    text = (
        "---\nmarp: true\n---\n\n![w:300 sepia Team photo](team.jpg)\n"
        "\n---\n\n```\n![w:1](x)\n```\n"
    )
    parsed = parse_deck(text)
    assert parsed.slides[0].image == "/assets/team.jpg"
    assert (
        parsed.slides[0].html == '<p><img src="/assets/team.jpg" alt="Team photo" width="300"></p>'
    )
    assert "![w:1](x)" in parsed.slides[1].html
    assert parsed.warnings == [
        "deck.md:5: warning: Marp image filters (sepia...) and sizes not in pixels ignored: line 5"
    ]


def test_marp_page_breaks_other_than_dashes_split_a_marp_deck_only() -> None:
    text = (
        "---\nmarp: true\n---\n\n# A\n\ntext\n\n***\n\n# B\n\n___\n\n# C\n\n"
        "```\n***\n```\n\n- - -\n\n# D\n"
    )
    assert [(s.line, s.title) for s in parse_deck(text).slides] == [
        (4, "A"),
        (10, "B"),
        (14, "C"),
        (22, "D"),
    ]
    # In a handsup deck a `***` stays a horizontal rule inside the slide, as documented.
    assert [s.title for s in parse_deck("# A\n\ntext\n\n***\n\n# B\n").slides] == ["A"]


def test_slidev_image_layout_with_its_image_key_is_content_not_an_error() -> None:
    text = "# A\n\n---\nlayout: image\nimage: https://example.org/x.png\n---\n\n# Photo\n\nText\n"
    parsed = parse_deck(text)
    assert parsed.slides[1].kind.value == "content"
    assert "deck.md:4: warning: Slidev layout 'image' is shown as 'content'" in parsed.warnings
    # handsup's own `layout: image` still wants an image in the slide.
    assert parse_deck("# A\n\n---\nlayout: image\n---\n\n![x](x.png)\n").slides[1].image


def test_marp_front_matter_spot_class_and_class_for_every_slide() -> None:
    text = "---\ntheme: gaia\n_class: lead\n---\n\n# Marp\n\nsub\n\n---\n\n# How\n\ntext\n"
    assert [s.kind.value for s in parse_deck(text).slides] == ["title", "content"]
    text = "---\nmarp: true\nclass: lead\n---\n\n# Marp\n\nsub\n\n---\n\n# How\n\ntext\n"
    assert [s.kind.value for s in parse_deck(text).slides] == ["title", "title"]


def test_a_slide_holding_only_a_style_block_is_skipped_not_shown_blank() -> None:
    text = "---\nmarp: true\n---\n\n<style>\nh1 { color: red }\n</style>\n\n---\n\n# Marp\n"
    parsed = parse_deck(text)
    assert [s.title for s in parsed.slides] == ["Marp"]
    assert parsed.warnings == [
        "deck.md:4: warning: empty slide skipped",
        "deck.md:5: warning: raw HTML not shown: <style>",
    ]


def test_a_slidev_deck_of_only_src_includes_says_why_it_has_no_slides() -> None:
    text = (
        "---\ntheme: seriph\nsrc: ./pages/page-1.md\n---\n\n"
        "---\nlayout: two-cols\nlayoutClass: gap-16\n\nsrc: ./pages/page-2.md\n---\n"
    )
    with pytest.raises(DeckError) as caught:
        parse_deck(text)
    assert [str(p) for p in caught.value.problems] == [
        "deck.md:1: the deck has no slides (its slides are in Slidev `src:` files, not read)"
    ]
    assert [str(p) for p in caught.value.warnings if "src:" in str(p)] == [
        "deck.md:3: warning: Slidev `src: ./pages/page-1.md` is not read: paste its slides into "
        "this deck",
        "deck.md:10: warning: Slidev `src: ./pages/page-2.md` is not read: paste its slides into "
        "this deck",
    ]


def test_a_class_set_on_a_skipped_first_page_still_holds_for_the_next() -> None:
    text = "---\nmarp: true\nclass: lead\n---\n\n<style>\nh1{}\n</style>\n\n---\n\n# A\n\nb\n"
    assert [s.kind.value for s in parse_deck(text).slides] == ["title"]


def test_handsup_keys_are_never_taken_for_another_tools() -> None:
    from slides.compat import HANDSUP_DECK
    from slides.options import FrontMatter

    assert set(FrontMatter.model_fields) == HANDSUP_DECK
