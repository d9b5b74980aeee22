"""Speaker notes: HTML comments, and everything after a `???` or `Note:` line.

Marp directive comments (`<!-- _class: lead -->`, `<!-- fit -->`) are set aside, never kept as
notes, and a `<!--` that is never closed is reported: it would otherwise show on every screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from slides.directives import is_directive
from slides.split import Chunk, fenced

_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
_NOTES_MARKER = re.compile(r"^(?:\?\?\?|Notes?:)\s*(.*)$")
_CODE_SPAN = re.compile(r"(`+).*?\1")


@dataclass
class SlideText:
    """A slide body without its notes, the notes, and what else the comments held."""

    body: Chunk
    notes: str = ""
    unclosed_comment: int | None = None  # 1-based line of a `<!--` that is never closed
    directives: list[tuple[int, str]] = field(default_factory=list)  # (line, comment text)


def split_notes(body: Chunk) -> SlideText:
    """Take speaker notes out of a slide body, keeping line numbers of what remains."""
    text = body.text
    # Most slides have neither form; skip the fence scan and the line-by-line search.
    if "<!--" not in text and "???" not in text and "Note" not in text:
        return SlideText(body)
    notes: list[str] = []
    found = SlideText(body)
    # Fenced code shows comments and note markers as written. Find the fences with comments
    # blanked, so that a fence inside a comment (code in the notes) does not count.
    inside = fenced(_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n"))

    def blank(match: re.Match[str]) -> str:
        line = text.count("\n", 0, match.start())
        if inside[line]:
            return match.group(0)
        content = match.group(1).strip()
        if is_directive(content):
            found.directives.append((body.line + line, content))
        else:
            notes.append(content)
        return "\n" * match.group(0).count("\n")

    lines = _COMMENT.sub(blank, text).split("\n")
    for index, line in enumerate(lines):
        marker = None if inside[index] else _NOTES_MARKER.match(line)
        if marker:
            tail = "\n".join([marker.group(1), *lines[index + 1 :]]).strip()
            notes.append(tail)
            lines = lines[:index]
            break
    found.unclosed_comment = _unclosed(lines, inside, body.line)
    found.body = Chunk(body.line, lines)
    found.notes = "\n\n".join(n for n in notes if n)
    return found


def _unclosed(lines: list[str], inside: list[bool], first: int) -> int | None:
    """The line of a `<!--` left after every closed comment was taken out, outside code."""
    for index, line in enumerate(lines):
        if "<!--" in line and not inside[index] and "<!--" in _CODE_SPAN.sub("", line):
            return first + index
    return None
