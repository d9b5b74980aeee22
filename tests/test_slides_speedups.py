"""The parser's shortcuts give exactly what the plain libraries give: markdown tokens and YAML."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from slides import DeckError, parse_deck
from slides.options import _load
from slides.render import markdown

# Lines built from block openers and inline pieces, so that generated text starts, ends and
# continues blocks in many ways.
INDENTS = ["", "", " ", "  ", "   ", "    ", "\t", "> ", ">", "> > "]
OPENERS = [
    "", "", "", "# ", "## ", "#5 ", "- ", "* ", "+ ", "-", "1. ", "2) ", "10. ", "0.", "```",
    "~~~", "```py", "***", "___", "- - -", "===", "---", "[a]: /u", "| a | b |", "|---|:-:|",
    "- [ ] ", "- [x] ",
]  # fmt: skip
INLINES = [
    "text", "word ", " ", "  ", "*", "_", "**b**", "[", "]", "](", ")", "![", "`", "\\", "&amp;",
    "<", ">", "|", "é", "\u00a0", "[ ] ",
]  # fmt: skip
MARKDOWN_LINE = st.builds(
    lambda indent, opener, words: indent + opener + "".join(words),
    st.sampled_from(INDENTS),
    st.sampled_from(OPENERS),
    st.lists(st.sampled_from(INLINES), max_size=4),
)
YAML_PIECES = [
    "layout", "id", "poll", "results", ":", ": ", "\n", "\n  ", "  ", "\t", "-", "- ", "[", "]",
    "{", "}", ",", "'", '"', "#", " #", "!", "&a ", "*a", "yes", "1e3", "0x1F", "2009-04-01",
    "~", "null", "é", "\u2028", "\x85", "\u00a0", "|", ">", "?", "\\", "x", "grid", "\r\n", "\r",
    "---", "...", "\ufeff", "\x07", "<<: ",
]  # fmt: skip


def _tokens(md: MarkdownIt, text: str) -> list[dict[str, object]]:
    return [token.as_dict() for token in md.parse(text)]


VANILLA = MarkdownIt("js-default")
TUNED = markdown()


@pytest.mark.parametrize(
    "text",
    [
        "- a\n- b\n\n  c\n- - -\n* * *\n",
        "Para\n2. not a list\n1. a list\n",
        "Para\n- \n- x\n",
        " - a\n   - b\n\t - c\n",
        "> quote\nlazy\n> - item\n>     code\n",
        "1. a\n   > q\n2. b\n",
        "    code\n# heading\n#5 bolt\n#\n",
        "Setext\n===\n\nText\n---\n",
        "| a | b |\n|---|:-:|\n| 1 | 2 |\n",
        "- x\n\n  ```\n  code\n  ```\n",
        "[ref]\n\n[ref]: /url 'title'\n",
        "***\n___\n- - -\n_ _ _ a\n",
        "  \n \t\n",
    ],
)
def test_tuned_markdown_gives_the_same_tokens(text: str) -> None:
    assert _tokens(TUNED, text) == _tokens(VANILLA, text)


@settings(max_examples=400, deadline=None)
@given(st.lists(MARKDOWN_LINE, max_size=12).map("\n".join))
def test_tuned_markdown_gives_the_same_tokens_for_any_text(text: str) -> None:
    assert _tokens(TUNED, text) == _tokens(VANILLA, text)


def _safe_load(text: str) -> tuple[str, object]:
    try:
        return ("data", yaml.load(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as error:
        return ("error", str(error))


def _fast_load(text: str) -> tuple[str, object]:
    try:
        return ("data", _load(text))
    except yaml.YAMLError as error:
        return ("error", str(error))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(YAML_PIECES), min_size=1, max_size=12).map("".join))
def test_option_yaml_reads_as_the_pure_python_loader_does(text: str) -> None:
    assert repr(_fast_load(text)) == repr(_safe_load(text))


@pytest.mark.parametrize(
    ("deck", "problem"),
    [
        # libyaml accepts a tab after a value and reads flow collections differently.
        ("# A\n\n---\nlayout: grid\t\n---\n\n# B\n", "deck.md:4: bad YAML: found character"),
        ("# A\n\n---\nid: [a?]\n---\n# B\n", "deck.md:4: bad YAML: expected ',' or ']'"),
    ],
)
def test_option_blocks_libyaml_reads_differently_are_still_refused(deck: str, problem: str) -> None:
    with pytest.raises(DeckError) as caught:
        parse_deck(deck)
    assert str(caught.value).startswith(problem)
