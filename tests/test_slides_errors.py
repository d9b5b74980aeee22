"""Broken decks: every error names the file and the exact line to fix; warnings do not fail."""

from __future__ import annotations

import pytest

from slides import Deck, DeckError, Problem, parse_deck
from slides.parser import decode_deck


def parse(text: str) -> Deck:
    return parse_deck(text, file="deck.md")


def errors(text: str) -> list[str]:
    with pytest.raises(DeckError) as caught:
        parse(text)
    return [str(problem) for problem in caught.value.problems]


INTRO = "# Intro\n\n"  # lines 1-2, so an option block can start on line 3


def options(block: str, body: str) -> str:
    """A deck whose second slide has this option block; the block's `---` is line 3."""
    return f"{INTRO}---\n{block}---\n{body}"


def test_empty_file() -> None:
    assert errors("") == ["deck.md:1: the deck is empty"]


def test_whitespace_only_file() -> None:
    assert errors("  \n\n\t\n") == ["deck.md:1: the deck is empty"]


def test_front_matter_without_slides() -> None:
    assert errors("---\ntitle: T\n---\n") == ["deck.md:1: the deck has no slides"]


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"\xff# Intro\n", 1),
        (b"# Intro\n\n---\n\n# Caf\xe9\n", 5),
        (b"# Intro\r\n\r\n# \x80\r\n", 3),
    ],
)
def test_non_utf8_bytes_name_the_line_of_the_first_bad_byte(data: bytes, line: int) -> None:
    with pytest.raises(DeckError) as caught:
        decode_deck(data, "deck.md")
    assert str(caught.value) == f"deck.md:{line}: the deck is not UTF-8 text"


def test_bad_yaml_in_front_matter() -> None:
    assert errors("---\ntitle: Quiz\n  author: me\n---\n# One\n") == [
        "deck.md:3: bad YAML: mapping values are not allowed here"
    ]


def test_bad_yaml_in_slide_options() -> None:
    assert errors(options("layout: grid\npoll: [id: x\n", "# B\n")) == [
        "deck.md:5: bad YAML: expected ',' or ']', but got '<stream end>'"
    ]


def test_front_matter_that_is_not_a_mapping() -> None:
    assert errors("---\n- title\n- author\n---\n# One\n") == [
        "deck.md:2: expected `key: value` lines"
    ]


def test_unknown_deck_option() -> None:
    # `theme` is Marp's and Slidev's (ignored with a warning); a typo of it is no tool's.
    assert errors("---\ntitle: T\nthme: seriph\n---\n# One\n") == [
        "deck.md:3: unknown deck option 'thme'"
    ]


def test_unknown_deck_default() -> None:
    text = "---\ndefaults:\n  poll:\n    anonymous: true\n---\n# One\n"
    assert errors(text) == ["deck.md:4: unknown deck option 'defaults.poll.anonymous'"]


def test_bad_deck_default_value() -> None:
    text = "---\ndefaults:\n  poll:\n    results: later\n---\n# One\n"
    assert errors(text) == ["deck.md:4: defaults.poll.results: Input should be 'live' or 'hidden'"]


def test_unknown_slide_option() -> None:
    assert errors(options("id: two\ntransiton: fade\n", "# B\n")) == [
        "deck.md:5: unknown slide option 'transiton'"
    ]


def test_unknown_poll_setting() -> None:
    text = options("poll:\n  id: q\n  anonymous: true\n", "# Q?\n\n- [ ] a\n- [ ] b\n")
    assert errors(text) == ["deck.md:6: unknown slide option 'poll.anonymous'"]


def test_unknown_layout() -> None:
    assert errors(options("id: two\nlayout: two-columns\n", "# B\n")) == [
        "deck.md:5: unknown layout 'two-columns' (known: title, statement, bullets, numbered, "
        "quote, grid, steps, link, image, poll, leaderboard, questions, content)"
    ]


def test_invalid_id() -> None:
    assert errors(options("id: My slide\n", "# B\n")) == [
        "deck.md:4: id: id 'My slide' must be letters, digits, '-' or '_' (at most 64)"
    ]


def test_invalid_poll_id() -> None:
    text = options("poll:\n  id: -x\n", "# Q?\n\n- [ ] a\n- [ ] b\n")
    assert errors(text) == [
        "deck.md:5: poll.id: id '-x' must be letters, digits, '-' or '_' (at most 64)"
    ]


def test_unknown_poll_type_is_refused_clearly() -> None:
    text = options("poll:\n  type: wordcloud\n", "# One word?\n\n- [ ] a\n- [ ] b\n")
    assert errors(text) == [
        "deck.md:5: poll.type: poll type 'wordcloud' is not supported"
        " (supported: choice, words, text, scale, ideas)"
    ]


def test_explicit_choice_type_is_fine() -> None:
    deck = parse(options("poll:\n  type: choice\n", "# Q?\n\n- [ ] a\n- [ ] b\n"))
    assert deck.slides[1].poll is not None


def test_unclosed_option_block() -> None:
    assert errors(f"{INTRO}---\nlayout: statement\n\nWords\n") == [
        "deck.md:3: option block is not closed by a `---` line"
    ]


def test_unclosed_front_matter() -> None:
    assert errors("---\ntitle: T\n\n# One\n") == [
        "deck.md:1: front matter is not closed by a `---` line"
    ]


def test_poll_layout_without_options() -> None:
    assert errors(options("layout: poll\n", "# Q?\n\n- Yes\n- No\n")) == [
        "deck.md:3: a poll needs 2 to 10 options as a task list: `- [ ] option`"
    ]


def test_poll_without_a_question() -> None:
    assert errors(f"{INTRO}---\n\n- [ ] Yes\n- [ ] No\n") == [
        "deck.md:4: a poll needs its question as a heading above the options"
    ]


def test_poll_with_one_option() -> None:
    assert errors(f"{INTRO}---\n\n# Q?\n\n- [ ] Only\n") == [
        "deck.md:7: a poll needs at least 2 options, found 1"
    ]


def test_poll_with_eleven_options() -> None:
    items = "".join(f"- [ ] Option {n}\n" for n in range(1, 12))
    assert errors(f"# Pick one\n\n{items}") == [
        "deck.md:3: a poll has at most 10 options, found 11"
    ]


def test_duplicate_options_ignore_case_and_spacing() -> None:
    text = "# City?\n\n- [ ] New York\n- [ ] Paris\n- [ ] new  YORK\n- [ ] PARIS\n"
    assert errors(text) == [
        "deck.md:5: duplicate option 'new YORK' (also on line 3)",
        "deck.md:6: duplicate option 'PARIS' (also on line 4)",
    ]


def test_more_than_one_correct_option() -> None:
    text = "# Q?\n\n- [x] 12%\n- [ ] 34%\n- [X] 50%\n"
    assert errors(text) == ["deck.md:5: a poll has at most one correct option; [x] on lines 3, 5"]


def test_two_option_lists() -> None:
    text = "# Q?\n\n- [ ] a\n- [ ] b\n\nOr:\n\n- [ ] c\n- [ ] d\n"
    assert errors(text) == ["deck.md:8: a poll has one list of options; found a second one"]


def test_grid_with_three_cells() -> None:
    text = options("layout: grid\n", "\n## Listening\n\n## Sharing\n\n## Conversing\n")
    assert errors(text) == ["deck.md:3: a grid has 2 or 4 cells (## headings), found 3"]


@pytest.mark.parametrize("count", [1, 9])
def test_steps_with_too_few_or_too_many_cells(count: int) -> None:
    body = "".join(f"## Step {n}\n" for n in range(count))
    assert errors(options("layout: steps\n", body)) == [
        f"deck.md:3: steps have 2 to 8 cells (## headings), found {count}"
    ]


def test_link_layout_without_a_link() -> None:
    assert errors(options("layout: link\n", "# Visit us\n\nexample.org\n")) == [
        "deck.md:3: a link slide needs a link, e.g. [example.org](https://example.org)"
    ]


def test_image_layout_without_an_image() -> None:
    assert errors(options("layout: image\n", "# Architecture\n")) == [
        "deck.md:3: an image slide needs an image, e.g. ![a chart](chart.png)"
    ]


def test_duplicate_explicit_slide_ids() -> None:
    text = options("id: intro\n", "# A\n") + "\n---\nid: intro\n---\n# B\n"
    assert errors(text) == ["deck.md:8: duplicate id 'intro' (also on line 3)"]


def test_slide_id_clashing_with_a_poll_id() -> None:
    text = (
        options("id: quiz\n", "# A\n") + "\n---\npoll:\n  id: quiz\n---\n# Q?\n- [ ] a\n- [ ] b\n"
    )
    assert errors(text) == ["deck.md:8: duplicate id 'quiz' (also on line 3)"]


def test_all_problems_are_reported_together_in_line_order() -> None:
    text = (
        "---\nthme: seriph\n---\n"  # 1-3
        "# Q?\n\n- [ ] Only\n"  # 4-6
        "\n---\nlayout: nope\n---\n"  # 7-10
        "# B\n"  # 11
    )
    with pytest.raises(DeckError) as caught:
        parse(text)
    assert caught.value.problems == [
        Problem("deck.md", 2, "unknown deck option 'thme'"),
        Problem("deck.md", 6, "a poll needs at least 2 options, found 1"),
        Problem(
            "deck.md",
            9,
            "unknown layout 'nope' (known: title, statement, bullets, numbered, quote, grid, "
            "steps, link, image, poll, leaderboard, questions, content)",
        ),
    ]
    assert str(caught.value).splitlines()[0] == "deck.md:2: unknown deck option 'thme'"


def test_errors_name_the_file_given() -> None:
    with pytest.raises(DeckError) as caught:
        parse_deck("# Q?\n\n- [ ] Only\n", file="talks/quiz.md")
    assert str(caught.value) == "talks/quiz.md:3: a poll needs at least 2 options, found 1"


# --- warnings -------------------------------------------------------------------------------


def test_empty_slides_are_skipped_with_a_warning() -> None:
    deck = parse("# One\n\n---\n\n---\n\n# Two\n\n---\n")
    assert [s.title for s in deck.slides] == ["One", "Two"]
    assert deck.warnings == [
        "deck.md:4: warning: empty slide skipped",
        "deck.md:10: warning: empty slide skipped",
    ]


def test_slide_with_options_but_no_content_is_kept_with_a_warning() -> None:
    deck = parse(options("id: pause\n", "\n<!-- breathe -->\n"))
    pause = deck.slides[1]
    assert (pause.id, pause.html, pause.notes) == ("pause", "", "breathe")
    assert deck.warnings == ["deck.md:3: warning: slide has no content"]


def test_a_clean_deck_has_no_warnings() -> None:
    assert parse("# One\n\n---\n\n# Two\n").warnings == []
