"""Word cloud: each participant sends a few short entries; the room's words are counted."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from slides.polls.base import KindSettings, PollBase, PollSource


class WordsPoll(PollBase):
    """A word cloud: up to `entries` words or short phrases per participant."""

    type: Literal["words"] = "words"
    entries: int = 3
    max_length: int = 25


class WordsSettings(KindSettings):
    """`poll:` keys of a word cloud."""

    entries: int | None = Field(default=None, ge=1, le=10)
    max_length: int | None = Field(default=None, ge=1, le=50)


def parse(source: PollSource) -> dict[str, Any] | None:
    """A word cloud's fields from its slide: a heading (the prompt) and its settings."""
    question = source.needs_question()
    settings = source.validate(WordsSettings) or WordsSettings()
    if question is None:
        return None
    cited = source.source()
    source.finish(question, [], cited)
    return dict(
        question=question.text,
        source=cited,
        results=source.pick(settings.results, "results", "live"),
        timer=settings.timer,
        entries=settings.entries or 3,
        max_length=settings.max_length or 25,
    )
