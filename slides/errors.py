"""Problems found in a deck, each pointing at a file and line a person can open."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One error or warning at a 1-based line of a deck file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class DeckError(Exception):
    """A deck that cannot be used; carries every problem found, in line order."""

    def __init__(self, problems: list[Problem], warnings: list[Problem] | None = None) -> None:
        self.problems = sorted(problems, key=lambda p: p.line)
        # Warnings found before the deck was refused, so that `check --json` can list them too.
        self.warnings = sorted(warnings or [], key=lambda p: p.line)
        super().__init__("\n".join(str(p) for p in self.problems))
