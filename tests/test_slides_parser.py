"""The deck parser: splitting, front matter, poll settings, speaker notes, ids, images, links."""

from __future__ import annotations

from pathlib import Path

import pytest

from slides import Deck, DeckError, SlideKind, parse_deck
from slides.parser import decode_deck

ROOT = Path(__file__).resolve().parent.parent


def parse(text: str) -> Deck:
    return parse_deck(text, file="deck.md")


POLL = "# {q}\n\n- [ ] Yes\n- [ ] No\n"


# --- splitting -----------------------------------------------------------------------------


def test_separators_split_slides_and_lines_are_kept() -> None:
    deck = parse("# One\n\n---\n\n# Two\n---\n# Three\n")
    assert [s.title for s in deck.slides] == ["One", "Two", "Three"]
    assert [s.index for s in deck.slides] == [0, 1, 2]
    assert [s.line for s in deck.slides] == [1, 4, 7]


def test_separator_may_have_trailing_spaces() -> None:
    assert len(parse("# One\n---   \n# Two\n").slides) == 2


@pytest.mark.parametrize("fence", ["```", "~~~", "````"])
def test_separator_inside_fenced_code_does_not_split(fence: str) -> None:
    deck = parse(f"# Front matter\n\n{fence}yaml\n---\ntitle: x\n---\n{fence}\n\n---\n\n# Next\n")
    assert [s.title for s in deck.slides] == ["Front matter", "Next"]
    assert "---\ntitle: x\n---" in deck.slides[0].html


def test_a_shorter_fence_inside_a_longer_one_does_not_close_it() -> None:
    deck = parse("# Nested\n\n````markdown\n```\n---\n```\n````\n\n---\n\n# After\n")
    assert [s.title for s in deck.slides] == ["Nested", "After"]
    assert "```\n---\n```" in deck.slides[0].html


def test_other_horizontal_rules_stay_in_the_slide() -> None:
    deck = parse("Above\n\n***\n\nBelow\n")
    assert len(deck.slides) == 1
    assert "<hr>" in deck.slides[0].html


def test_windows_line_endings() -> None:
    deck = parse("---\r\ntitle: T\r\n---\r\n\r\n# One\r\n\r\n---\r\nid: two\r\n---\r\n# Two\r\n")
    assert deck.meta.title == "T"
    assert [(s.id, s.line) for s in deck.slides] == [("one", 4), ("two", 7)]


def test_unicode_line_separators_do_not_split_or_shift_lines() -> None:
    # U+2028 is not a line break for markdown or for `FILE:LINE`, so it is not one here either.
    deck = parse("Line\u2028---\u2028still the same slide\n\n---\n\n# Next\n")
    assert len(deck.slides) == 2
    assert deck.slides[1].line == 4


def test_byte_order_mark_is_ignored() -> None:
    text = decode_deck("\ufeff---\ntitle: T\n---\n# One\n".encode(), "deck.md")
    assert parse(text).meta.title == "T"


# --- front matter and poll settings ---------------------------------------------------------


def test_front_matter_fills_deck_metadata() -> None:
    deck = parse(
        "---\ntitle: Digital engagement\nauthor: Ada\nevent: Town hall\ndate: 2009-04-01\n---\n"
        "\n# One\n"
    )
    meta = deck.meta
    assert (meta.title, meta.author, meta.event, meta.date) == (
        "Digital engagement",
        "Ada",
        "Town hall",
        "2009-04-01",
    )
    assert [s.line for s in deck.slides] == [7]


def test_front_matter_is_optional_and_may_be_empty() -> None:
    assert parse("# One\n").meta.title is None
    assert parse("---\n---\n# One\n").meta.title is None


def test_year_only_date_is_kept_as_text() -> None:
    assert parse("---\ndate: 2009\n---\n# One\n").meta.date == "2009"


def test_built_in_poll_settings() -> None:
    poll = parse(POLL.format(q="Q?")).slides[0].poll
    assert poll is not None
    assert (poll.change_vote, poll.results) == (True, "live")


def test_deck_defaults_apply_and_slide_settings_win() -> None:
    deck = parse(
        "---\ndefaults:\n  poll:\n    change_vote: false\n    results: hidden\n---\n"
        + POLL.format(q="One?")
        + "\n---\npoll:\n  results: live\n---\n"
        + POLL.format(q="Two?")
        + "\n---\npoll:\n  change_vote: true\n---\n"
        + POLL.format(q="Three?")
    )
    settings = [(s.poll.change_vote, s.poll.results) for s in deck.slides if s.poll]
    assert settings == [(False, "hidden"), (False, "live"), (True, "hidden")]


def test_one_default_leaves_the_other_built_in() -> None:
    deck = parse("---\ndefaults:\n  poll:\n    results: hidden\n---\n" + POLL.format(q="Q?"))
    poll = deck.slides[0].poll
    assert poll is not None
    assert (poll.change_vote, poll.results) == (True, "hidden")


def test_a_slide_may_turn_vote_changing_off() -> None:
    deck = parse("# Intro\n\n---\npoll:\n  change_vote: false\n---\n" + POLL.format(q="Q?"))
    poll = deck.slides[1].poll
    assert poll is not None
    assert poll.change_vote is False


def test_option_block_needs_a_separator_directly_above() -> None:
    # A blank line after `---` makes it a plain separator, so `Contact:` is slide text.
    deck = parse("# Thanks\n\n---\n\nContact: me@example.org\n")
    assert deck.slides[1].text == "Contact: me@example.org"


def test_the_slide_right_after_front_matter_takes_no_option_block() -> None:
    # Design choice (see docs/deck-format.md): these lines are text, not options.
    deck = parse("---\ntitle: T\n---\nlayout: statement\n---\n# Real slide\n")
    assert deck.slides[0].text == "layout: statement"
    assert deck.slides[1].title == "Real slide"


# --- speaker notes --------------------------------------------------------------------------


def test_html_comment_notes() -> None:
    slide = parse("# Welcome\n\n<!-- Say hello.\nThen start. -->\n").slides[0]
    assert slide.notes == "Say hello.\nThen start."
    assert slide.html == "<h1>Welcome</h1>"


def test_remark_notes_after_question_marks() -> None:
    slide = parse("# Agenda\n\n- One\n\n???\nKeep it short.\n\n- not a bullet\n").slides[0]
    assert slide.notes == "Keep it short.\n\n- not a bullet"
    assert slide.html == "<h1>Agenda</h1>\n<ul>\n<li>One</li>\n</ul>"
    assert slide.kind is SlideKind.BULLETS


@pytest.mark.parametrize("marker", ["Note:", "Notes:"])
def test_reveal_notes(marker: str) -> None:
    slide = parse(f"# Questions\n\n{marker} Repeat each question.\nSlowly.\n").slides[0]
    assert slide.notes == "Repeat each question.\nSlowly."
    assert slide.html == "<h1>Questions</h1>"


def test_notes_forms_combine() -> None:
    slide = parse("# Mixed\n\n<!-- first -->\n\nText\n\n???\nsecond\n").slides[0]
    assert slide.notes == "first\n\nsecond"
    assert slide.text == "Mixed\nText"


def test_notes_on_poll_slides_are_not_shown_on_the_slide() -> None:
    slide = parse(POLL.format(q="Q?") + "\n<!-- Ask the room -->\n").slides[0]
    assert slide.notes == "Ask the room"
    assert slide.html == ""


def test_notes_markers_inside_code_are_code() -> None:
    slide = parse("# HTML\n\n```html\n<!-- a comment -->\nNote: text\n???\n```\n").slides[0]
    assert slide.notes == ""
    assert "&lt;!-- a comment --&gt;\nNote: text\n???" in slide.html


def test_code_inside_notes_stays_in_the_notes() -> None:
    slide = parse("# Demo\n\n<!--\nType this:\n```\nmake run\n```\n-->\n").slides[0]
    assert slide.notes == "Type this:\n```\nmake run\n```"
    assert slide.html == "<h1>Demo</h1>"


def test_notes_keep_line_numbers_of_what_follows() -> None:
    with pytest.raises(DeckError) as caught:
        parse("# Q?\n\n<!--\nlong\nnotes\n-->\n\n- [ ] Only\n")
    assert str(caught.value) == "deck.md:8: a poll needs at least 2 options, found 1"


# --- ids ------------------------------------------------------------------------------------


def test_ids_are_derived_from_titles() -> None:
    deck = parse("# How many 13-15s post reviews?\n\n---\n\nSocial media = conversations\n")
    assert [s.id for s in deck.slides] == [
        "how-many-13-15s-post-reviews",
        "social-media-conversations",
    ]


def test_derived_ids_are_ascii_and_cut_at_a_word() -> None:
    title = "Café déjà vu: " + "word " * 20
    slide_id = parse(f"# {title}\n").slides[0].id
    assert slide_id.startswith("cafe-deja-vu-word-word")
    assert len(slide_id) <= 48
    assert not slide_id.endswith("-")


def test_slide_without_words_is_named_by_its_kind() -> None:
    deck = parse("```\ncode\n```\n\n---\n\n```\nmore\n```\n")
    assert [s.id for s in deck.slides] == ["content", "content-2"]


def test_duplicate_derived_ids_get_suffixes() -> None:
    deck = parse("# Agenda\n\n---\n\n# Agenda\n\n---\n\n# Agenda\n")
    assert [s.id for s in deck.slides] == ["agenda", "agenda-2", "agenda-3"]


def test_polls_with_the_same_question_get_different_ids() -> None:
    deck = parse(POLL.format(q="Ready?") + "\n---\n\n" + POLL.format(q="Ready?"))
    assert [s.poll.id for s in deck.slides if s.poll] == ["ready", "ready-2"]


def test_explicit_ids_win_and_are_never_renamed() -> None:
    deck = parse("# Agenda\n\n---\nid: agenda\n---\n\n# Our plan\n")
    assert [s.id for s in deck.slides] == ["agenda-2", "agenda"]


def test_poll_id_names_the_poll_and_its_slide() -> None:
    deck = parse("# Intro\n\n---\npoll:\n  id: youtube-16-19\n---\n" + POLL.format(q="Q?"))
    slide = deck.slides[1]
    assert slide.poll is not None
    assert (slide.id, slide.poll.id) == ("youtube-16-19", "youtube-16-19")
    assert deck.poll("youtube-16-19") is slide.poll


def test_slide_id_and_poll_id_may_differ() -> None:
    deck = parse("# Intro\n\n---\nid: quiz-1\npoll:\n  id: wikis\n---\n" + POLL.format(q="Q?"))
    slide = deck.slides[1]
    assert slide.poll is not None
    assert (slide.id, slide.poll.id) == ("quiz-1", "wikis")


def test_rewording_a_question_changes_its_derived_id_but_not_an_explicit_one() -> None:
    derived = [parse(POLL.format(q=q)).slides[0].id for q in ("Ready?", "Are you ready?")]
    assert derived[0] != derived[1]
    explicit = [
        parse("# Intro\n\n---\npoll:\n  id: ready\n---\n" + POLL.format(q=q)).slides[1].id
        for q in ("Ready?", "Are you ready?")
    ]
    assert explicit == ["ready", "ready"]


def test_the_seed_deck_has_stable_poll_ids() -> None:
    deck = parse((ROOT / "deck.md").read_text(encoding="utf-8"))
    assert [s.poll.id for s in deck.slides if s.poll] == [
        "youtube-16-19",
        "friends-online",
        "reviews-13-15",
        "employer-wikis",
    ]
    assert len({s.id for s in deck.slides}) == len(deck.slides) == 30


# --- images and links -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "served"),
    [
        ("chart.png", "/assets/chart.png"),
        ("./chart.png", "/assets/chart.png"),
        ("images/a%20b.png", "/assets/images/a%20b.png"),
        ("https://example.org/chart.png", "https://example.org/chart.png"),
        ("http://example.org/chart.png", "http://example.org/chart.png"),
        ("/static/logo.png", "/static/logo.png"),
    ],
)
def test_image_sources(src: str, served: str) -> None:
    slide = parse(f"![chart]({src})\n").slides[0]
    assert slide.image == served
    assert f'src="{served}"' in slide.html


def test_images_inside_other_slides_are_rewritten_too() -> None:
    deck = parse(
        "# Intro\n\n---\nlayout: grid\n---\n## A\n![a](a.png)\n\n## B\n![b](https://x.example/b.png)\n"
    )
    assert [c.html for c in deck.slides[1].cells] == [
        '<p><img src="/assets/a.png" alt="a"></p>',
        '<p><img src="https://x.example/b.png" alt="b"></p>',
    ]


def test_asset_prefix_can_be_changed() -> None:
    deck = parse_deck("![chart](chart.png)\n", file="deck.md", asset_prefix="/decks/7/")
    assert deck.slides[0].image == "/decks/7/chart.png"


def test_links_open_in_a_new_tab_without_referrer() -> None:
    html = parse("# Links\n\nSee [us](https://example.org) and <https://example.com>.\n")
    assert html.slides[0].html == (
        "<h1>Links</h1>\n<p>See "
        '<a href="https://example.org" target="_blank" rel="noopener noreferrer">us</a> and '
        '<a href="https://example.com" target="_blank" rel="noopener noreferrer">'
        "https://example.com</a>.</p>"
    )


def test_deck_language_and_direction() -> None:
    """`lang` sets the direction unless `dir` says otherwise; English, left to right, by default."""
    plain = parse_deck("# Hi\n", file="deck.md").meta
    assert (plain.lang, plain.dir) == ("en", "ltr")
    hebrew = parse_deck("---\nlang: he-IL\n---\n\n# שלום\n", file="deck.md").meta
    assert (hebrew.lang, hebrew.dir) == ("he-IL", "rtl")
    forced = parse_deck("---\nlang: ar\ndir: ltr\n---\n\n# Hi\n", file="deck.md").meta
    assert (forced.lang, forced.dir) == ("ar", "ltr")
