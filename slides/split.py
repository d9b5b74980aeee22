"""Cut deck text into front matter and slides, keeping each piece's first line number."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SEPARATOR = re.compile(r"^---\s*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})(.*)$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_OPTION_LINE = re.compile(r"^[A-Za-z_][\w-]*\s*:")


@dataclass
class Chunk:
    """Lines of text and the 1-based line number of the first one."""

    line: int
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class RawSlide:
    """One slide's optional option block (YAML) and its markdown body."""

    line: int
    options: Chunk | None
    body: Chunk


@dataclass
class RawDeck:
    """The deck front matter (if any) and the raw slides."""

    front_matter: Chunk | None
    slides: list[RawSlide]
    unclosed: int | None = None  # line of an option block or front matter never closed


def fenced(lines: list[str]) -> list[bool]:
    """For each line, whether it belongs to a fenced code block (fence lines included)."""
    inside: list[bool] = []
    fence: str | None = None
    for line in lines:
        # A fence needs three backticks or tildes: most lines have neither and skip the regex.
        match = _FENCE.match(line) if "`" in line or "~" in line else None
        if match and fence is None:
            fence = match.group(1)
            inside.append(True)
            continue
        inside.append(fence is not None)
        # A closing fence: the same character, at least as long, and nothing after it.
        if match and fence and match.group(1).startswith(fence) and not match.group(2).strip():
            fence = None
    return inside


def _blocks(lines: list[str]) -> list[Chunk]:
    """Split on `---` lines outside fenced code; each block remembers where it started."""
    blocks = [Chunk(1)]
    current = blocks[0].lines
    for number, (line, in_fence) in enumerate(zip(lines, fenced(lines), strict=True), start=1):
        if not in_fence and line.startswith("---") and _SEPARATOR.match(line):
            blocks.append(Chunk(number + 1))
            current = blocks[-1].lines
        else:
            current.append(line)
    return blocks


def split_deck(text: str) -> RawDeck:
    """Split deck text into front matter and slides (Slidev-style per-slide option blocks)."""
    # Only CR/LF end lines, as in markdown-it and editors (str.splitlines also breaks on
    # U+2028, form feeds and more, which would shift every line number after them).
    lines = _LINE_BREAK.split(text.removesuffix("\n").removesuffix("\r"))
    blocks = _blocks(lines)
    front: Chunk | None = None
    unclosed: int | None = None
    start = 0
    # Front matter: the file's very first line is `---` (so block 0 is empty).
    if lines and _SEPARATOR.match(lines[0]) and len(blocks) >= 2 and not blocks[0].lines:
        if len(blocks) >= 3:
            front, start = blocks[1], 2
        else:
            unclosed, start = 1, 1
    slides: list[RawSlide] = []
    index = start
    while index < len(blocks):
        block = blocks[index]
        # A separator directly followed by `key: value` opens an option block closed by `---`.
        opens_options = (
            index > 0
            and index != start
            and bool(block.lines)
            and bool(_OPTION_LINE.match(block.lines[0]))
        )
        if opens_options:
            if index + 1 < len(blocks):
                slides.append(RawSlide(block.line - 1, block, blocks[index + 1]))
                index += 2
                continue
            unclosed = block.line - 1
        slides.append(RawSlide(block.line if index else 1, None, block))
        index += 1
    return RawDeck(front, slides, unclosed)
