"""Speaker notes: HTML comments, and everything after a `???` or `Note:` line."""

from __future__ import annotations

import re

from slides.split import Chunk, fenced

_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
_NOTES_MARKER = re.compile(r"^(?:\?\?\?|Notes?:)\s*(.*)$")


def split_notes(body: Chunk) -> tuple[Chunk, str]:
    """Take speaker notes out of a slide body, keeping line numbers of what remains."""
    text = body.text
    # Most slides have neither form; skip the fence scan and the line-by-line search.
    if "<!--" not in text and "???" not in text and "Note" not in text:
        return body, ""
    notes: list[str] = []
    # Fenced code shows comments and note markers as written. Find the fences with comments
    # blanked, so that a fence inside a comment (code in the notes) does not count.
    inside = fenced(_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n"))

    def blank(match: re.Match[str]) -> str:
        if inside[text.count("\n", 0, match.start())]:
            return match.group(0)
        notes.append(match.group(1).strip())
        return "\n" * match.group(0).count("\n")

    lines = _COMMENT.sub(blank, text).split("\n")
    for index, line in enumerate(lines):
        marker = None if inside[index] else _NOTES_MARKER.match(line)
        if marker:
            tail = "\n".join([marker.group(1), *lines[index + 1 :]]).strip()
            notes.append(tail)
            lines = lines[:index]
            break
    return Chunk(body.line, lines), "\n\n".join(n for n in notes if n)
