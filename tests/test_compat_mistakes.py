"""Deck mistakes that used to pass: unclosed comment, fence, option block and front matter.

Each deck in tests/decks/compat/ holds one mistake; each must be refused with the line where the
unclosed block opens, and `handsup serve` must refuse it too, so nothing reaches a screen.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from slides import DeckError, parse_deck
from tests.serverproc import ROOT

DECKS = Path(__file__).resolve().parent / "decks" / "compat"
COMMENT = (
    "`<!--` is never closed by `-->`: close the comment, or the notes after it would show on "
    "every screen"
)


def problems(name: str) -> list[str]:
    path = DECKS / name
    with pytest.raises(DeckError) as caught:
        parse_deck(path.read_text(encoding="utf-8"), file=name)
    return [str(problem) for problem in caught.value.problems]


def test_unclosed_comment_is_an_error_at_its_line() -> None:
    assert problems("unclosed-comment.md") == [f"unclosed-comment.md:20: {COMMENT}"]


def test_closing_the_comment_keeps_the_answer_in_the_notes() -> None:
    text = (DECKS / "unclosed-comment.md").read_text(encoding="utf-8")
    fixed = text.replace("before the reveal.\n", "before the reveal. -->\n")
    deck = parse_deck(fixed)
    poll = deck.slides[1]
    assert "read this out" not in poll.html + poll.text
    assert poll.notes.startswith("The answer is Canberra")


def test_comment_markers_in_code_are_not_unclosed_comments() -> None:
    deck = parse_deck("# Notes\n\nWrite `<!--` to start a note.\n\n```html\n<!-- open\n```\n")
    assert "&lt;!--" in deck.slides[0].html


def test_unclosed_fence_is_an_error_at_its_opening_line() -> None:
    # The fence opened on line 7 would run to the end of the next slide's code, hiding it.
    assert problems("unclosed-fence.md") == [
        "unclosed-fence.md:7: code fence is not closed: end the code with a line holding only "
        "``` (or ~~~), or what follows is shown as code"
    ]


def test_fence_left_open_at_the_end_is_an_error() -> None:
    with pytest.raises(DeckError) as caught:
        parse_deck("# One\n\n---\n\n# Two\n\n~~~\ncode\n")
    assert [p.line for p in caught.value.problems] == [7]


def test_a_longer_fence_may_show_fences_inside() -> None:
    deck = parse_deck("# Fences\n\n````markdown\n```sh\nls\n```\n````\n\n---\n\n# Next\n")
    assert [s.title for s in deck.slides] == ["Fences", "Next"]


def test_unclosed_option_block_says_so_instead_of_a_yaml_error() -> None:
    assert problems("unclosed-options.md") == [
        "unclosed-options.md:3: option block is not closed by a `---` line "
        "(the slide seems to start on line 7)"
    ]


def test_unclosed_front_matter_says_so_instead_of_an_unknown_key() -> None:
    assert problems("unclosed-front-matter.md") == [
        "unclosed-front-matter.md:1: front matter is not closed by a `---` line "
        "(the slide seems to start on line 5)"
    ]


@pytest.mark.parametrize(
    "name",
    ["unclosed-comment.md", "unclosed-fence.md", "unclosed-options.md", "unclosed-front-matter.md"],
)
def test_serve_refuses_the_deck_and_names_the_line(name: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "server.cli", "serve", str(DECKS / name)),
            *("--port", "0", "--host", "127.0.0.1", "--data", str(tmp_path), "--no-watch"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "audience:" not in result.stdout
    assert result.stderr.startswith(f"{DECKS / name}:")


def test_a_heading_swallowed_by_an_open_option_block_is_a_warning() -> None:
    # The YAML is valid (a heading is a YAML comment), so nothing fails; the warning says why
    # the slide "Part two" is missing.
    deck = parse_deck("# Intro\n\n---\nlayout: title\n\n# Part two\n\n---\n\n# Next\n")
    assert deck.warnings == [
        "deck.md:6: warning: `# Part two` is read as a YAML comment in the option block: "
        "is its closing `---` missing?"
    ]


def test_no_such_warning_for_a_closed_block_or_a_refused_one() -> None:
    assert parse_deck("# A\n\n---\nlayout: title\n---\n\n# B\n").warnings == []
    with pytest.raises(DeckError) as caught:
        parse_deck("# A\n\n---\nlayout: title\n\n# B\n\nText\n\n---\n\n# C\n")
    assert caught.value.warnings == []
