"""Every example deck in docs/deck-format.md parses exactly as the doc says it does."""

# Convention: a fenced block with info string `markdown` is an example deck. The next fenced
# block, with only blank lines between, says what it gives:
#   ```json  a subset of `handsup check --json` output (dicts match key by key, recursively;
#            lists must have the same length and match item by item; `{}` matches any slide);
#   ```text  the exact error lines, in order, for a deck that is refused.
# Examples are parsed as the file "deck.md". Fences may be longer than three backticks, so an
# example can itself contain fenced code.

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.cli import deck_json
from slides import DeckError, SlideKind
from slides.parser import decode_deck, parse_deck

DOC = Path(__file__).resolve().parent.parent / "docs" / "deck-format.md"
_OPEN = re.compile(r"^(`{3,}|~{3,})\s*([^`\s]*)")


@dataclass
class Fenced:
    info: str
    body: str
    line: int  # 1-based line of the opening fence
    end: int  # 0-based index of the closing fence line


@dataclass
class Example:
    line: int
    deck: str
    expect: str  # "json" or "text"
    expected: str


def _fenced_blocks(lines: list[str]) -> list[Fenced]:
    blocks: list[Fenced] = []
    index = 0
    while index < len(lines):
        match = _OPEN.match(lines[index])
        if not match:
            index += 1
            continue
        marker, info = match.groups()
        end = index + 1
        while end < len(lines):
            closing = lines[end].strip()
            if closing.startswith(marker) and closing == marker[0] * len(closing):
                break
            end += 1
        assert end < len(lines), f"docs/deck-format.md:{index + 1}: fence never closed"
        body = "".join(line + "\n" for line in lines[index + 1 : end])
        blocks.append(Fenced(info, body, index + 1, end))
        index = end + 1
    return blocks


def _pair(doc: str) -> tuple[list[Example], list[int]]:
    """Examples with their expectation, and the lines of markdown blocks that have none."""
    lines = doc.splitlines()
    blocks = _fenced_blocks(lines)
    examples: list[Example] = []
    orphans: list[int] = []
    for block, after in zip(blocks, [*blocks[1:], None], strict=True):
        if block.info != "markdown":
            continue
        between = lines[block.end + 1 : after.line - 1] if after else []
        if after is None or after.info not in ("json", "text") or any(s.strip() for s in between):
            orphans.append(block.line)
            continue
        examples.append(Example(block.line, block.body, after.info, after.body))
    return examples, orphans


EXAMPLES, ORPHANS = _pair(DOC.read_text(encoding="utf-8"))


def _check(deck: str) -> dict[str, object]:
    parsed = parse_deck(decode_deck(deck.encode(), "deck.md"), "deck.md")
    result: dict[str, object] = json.loads(json.dumps(deck_json(parsed)))
    return result


def _assert_subset(expected: object, actual: object, path: str = "$") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{path}: no key {key!r} in {sorted(actual)}"
            _assert_subset(value, actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        assert len(actual) == len(expected), f"{path}: {len(actual)} items, doc says {expected}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            _assert_subset(want, got, f"{path}[{index}]")
    else:
        assert (type(actual), actual) == (type(expected), expected), (
            f"{path}: doc says {expected!r}, parser gives {actual!r}"
        )


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"line-{e.line}" for e in EXAMPLES])
def test_doc_example_gives_what_the_doc_says(example: Example) -> None:
    if example.expect == "json":
        try:
            output = _check(example.deck)
        except DeckError as error:
            pytest.fail(f"docs/deck-format.md:{example.line}: example is refused:\n{error}")
        _assert_subset(json.loads(example.expected), output)
    else:
        with pytest.raises(DeckError) as caught:
            _check(example.deck)
        printed = [str(problem) for problem in caught.value.problems]
        assert printed == example.expected.strip().splitlines()


def test_every_markdown_example_has_an_expected_result() -> None:
    assert ORPHANS == [], f"markdown blocks without a json/text block after them: {ORPHANS}"


def test_doc_has_enough_examples_of_both_kinds() -> None:
    assert len(EXAMPLES) >= 10
    assert {e.expect for e in EXAMPLES} == {"json", "text"}


def test_every_slide_kind_is_shown_in_some_example() -> None:
    shown = {
        slide["kind"]
        for example in EXAMPLES
        if example.expect == "json"
        for slide in json.loads(example.expected).get("slides", [])
        if "kind" in slide
    }
    assert shown == {kind.value for kind in SlideKind}
