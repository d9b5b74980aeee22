"""The deck format: markdown in, a typed slide model out. Pure: no file or network access."""

from slides.errors import DeckError, Problem
from slides.model import Cell, Deck, DeckMeta, Decor, QaSettings, Slide, SlideKind
from slides.parser import parse_deck
from slides.polls import ChoicePoll, IdeasPoll, Poll, ScalePoll, TextPoll, WordsPoll

__all__ = [
    "Cell",
    "ChoicePoll",
    "Deck",
    "DeckError",
    "DeckMeta",
    "Decor",
    "IdeasPoll",
    "Poll",
    "Problem",
    "QaSettings",
    "ScalePoll",
    "Slide",
    "SlideKind",
    "TextPoll",
    "WordsPoll",
    "parse_deck",
]
