"""The deck format: markdown in, a typed slide model out. Pure: no file or network access."""

from slides.errors import DeckError, Problem
from slides.model import ChoicePoll, Deck, DeckMeta, Slide, SlideKind
from slides.parser import parse_deck

__all__ = [
    "ChoicePoll",
    "Deck",
    "DeckError",
    "DeckMeta",
    "Problem",
    "Slide",
    "SlideKind",
    "parse_deck",
]
