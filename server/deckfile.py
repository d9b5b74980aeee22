"""Reading a deck file from disk into the model, with problems as DeckError."""

from __future__ import annotations

from pathlib import Path

from slides import Deck, DeckError, Problem
from slides.parser import decode_deck, parse_deck


def read_deck(path: Path) -> tuple[Deck, str]:
    """Read and parse a deck file: the model and its text. Problems raise DeckError."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DeckError(
            [Problem(str(path), 1, f"cannot read the deck: {error.strerror}")]
        ) from None
    text = decode_deck(data, str(path))
    return parse_deck(text, str(path)), text


def load_deck(path: Path) -> Deck:
    """Read and parse a deck file; problems (including a missing file) raise DeckError."""
    return read_deck(path)[0]
