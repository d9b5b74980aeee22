"""Poll kinds in the deck: each kind's model and parser, registered here by its `type`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field

from slides.polls import choice, ideas, scale, text, words
from slides.polls.base import PollBase, PollSource
from slides.polls.choice import ChoicePoll
from slides.polls.ideas import IdeasPoll
from slides.polls.scale import ScalePoll
from slides.polls.text import TextPoll
from slides.polls.words import WordsPoll

# A new kind: its module here, its model in `Poll`, its parser in `PARSERS`.
Poll = Annotated[
    ChoicePoll | WordsPoll | TextPoll | ScalePoll | IdeasPoll, Field(discriminator="type")
]
PARSERS: dict[str, Callable[[PollSource], dict[str, Any] | None]] = {
    "choice": choice.parse,
    "words": words.parse,
    "text": text.parse,
    "scale": scale.parse,
    "ideas": ideas.parse,
}

__all__ = [
    "PARSERS",
    "ChoicePoll",
    "IdeasPoll",
    "Poll",
    "PollBase",
    "PollSource",
    "ScalePoll",
    "TextPoll",
    "WordsPoll",
]
