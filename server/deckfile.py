"""Reading a deck file from disk into the model, with problems as DeckError."""

from __future__ import annotations

from pathlib import Path

from slides import Deck, DeckError, Problem
from slides.parser import decode_deck, parse_deck


def load_deck(path: Path) -> Deck:
    """Read and parse a deck file; problems (including a missing file) raise DeckError."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DeckError(
            [Problem(str(path), 1, f"cannot read the deck: {error.strerror}")]
        ) from None
    return parse_deck(decode_deck(data, str(path)), str(path))
