"""Cut deck text into front matter and slides, keeping each piece's first line number."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slides.options import SlideOptions

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
    # A slide read from a Slidev `src:` file: that file (as problems name it), the options of
    # the slide(s) that included it (they win over its own, as in Slidev), and their YAML lines.
    file: str | None = None
    override: SlideOptions | None = None
    override_lines: list[str] = field(default_factory=list)


@dataclass
class RawDeck:
    """The deck front matter (if any) and the raw slides."""

    front_matter: Chunk | None
    slides: list[RawSlide]
    unclosed: int | None = None  # line of an option block never closed
    unclosed_front: bool = False  # the front matter's closing `---` is missing
    unclosed_fence: int | None = None  # line of a code fence never closed


def fenced(lines: list[str]) -> list[bool]:
    """For each line, whether it belongs to a fenced code block (fence lines included)."""
    return fences(lines)[0]


def fences(lines: list[str]) -> tuple[list[bool], int | None]:
    """`fenced(lines)`, and the 0-based index of a fence that seems never closed, if any.

    A fence still open at the end is one; so is a fence whose code holds a line that would
    close it but names a language (```` ```sh ````): that is the next fence's opening line,
    and the code block runs on over the slides between them.
    """
    inside: list[bool] = []
    fence: str | None = None
    opened = 0
    suspect: int | None = None
    for index, line in enumerate(lines):
        # A fence needs three backticks or tildes: most lines have neither and skip the regex.
        match = _FENCE.match(line) if "`" in line or "~" in line else None
        if match and fence is None:
            fence, opened = match.group(1), index
            inside.append(True)
            continue
        inside.append(fence is not None)
        # A closing fence: the same character, at least as long, and nothing after it.
        if match and fence and match.group(1).startswith(fence):
            if not match.group(2).strip():
                fence = None
            elif suspect is None and "`" not in match.group(2):
                suspect = opened
    if fence is not None and suspect is None:
        suspect = opened
    return inside, suspect


def _blocks(lines: list[str], inside: list[bool]) -> list[Chunk]:
    """Split on `---` lines outside fenced code; each block remembers where it started."""
    blocks = [Chunk(1)]
    current = blocks[0].lines
    for number, (line, in_fence) in enumerate(zip(lines, inside, strict=True), start=1):
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
    inside, open_fence = fences(lines)
    blocks = _blocks(lines, inside)
    front: Chunk | None = None
    unclosed: int | None = None
    unclosed_front = False
    start = 0
    # Front matter: the file's very first line is `---` (so block 0 is empty).
    if lines and _SEPARATOR.match(lines[0]) and len(blocks) >= 2 and not blocks[0].lines:
        if len(blocks) >= 3:
            front, start = blocks[1], 2
        else:
            unclosed_front, start = True, 1
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
    fence_line = open_fence + 1 if open_fence is not None else None
    return RawDeck(front, slides, unclosed, unclosed_front, fence_line)
