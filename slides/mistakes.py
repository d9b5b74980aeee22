"""Deck mistakes that would otherwise pass silently: blocks opened and never closed.

Each is an error at the line where the block opens, because what follows it would be shown
wrongly: an open `<!--` shows the speaker notes after it on every screen, an open code fence
swallows the rest of the deck, an open front matter or option block reads slides as YAML.
"""

from __future__ import annotations

from slides.errors import Problem
from slides.split import RawDeck

UNCLOSED_COMMENT = (
    "`<!--` is never closed by `-->`: close the comment, or the notes after it would show on "
    "every screen"
)


def mistakes(raw: RawDeck, file: str) -> list[Problem]:
    """The unclosed blocks that splitting the deck found, each at the line it opens."""
    found: list[Problem] = []
    if raw.unclosed_front:
        found.append(Problem(file, 1, "front matter is not closed by a `---` line"))
    if raw.unclosed is not None:
        found.append(Problem(file, raw.unclosed, "option block is not closed by a `---` line"))
    if raw.unclosed_fence is not None:
        found.append(
            Problem(
                file,
                raw.unclosed_fence,
                "code fence is not closed: end the code with a line holding only ``` (or ~~~), "
                "or what follows is shown as code",
            )
        )
    return found
