"""Ideas board: people propose short ideas, then spend a few votes (dots) on the best ones."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from slides.polls.base import KindSettings, PollBase, PollSource


class IdeasPoll(PollBase):
    """An ideas board: each participant proposes up to `ideas` ideas of at most `max_length`
    characters and has `votes_per_person` votes to spend, at most one per idea. With
    `moderation: before`, an idea is shown (and can be voted for) only once approved."""

    type: Literal["ideas"] = "ideas"
    votes_per_person: int = 3
    ideas: int = 3
    max_length: int = 280
    moderation: Literal["after", "before"] = "after"


class IdeasSettings(KindSettings):
    """`poll:` keys of an ideas board."""

    votes_per_person: int | None = Field(default=None, ge=1, le=10)
    ideas: int | None = Field(default=None, ge=1, le=10)
    max_length: int | None = Field(default=None, ge=1, le=280)
    moderation: Literal["after", "before"] | None = None


def parse(source: PollSource) -> dict[str, Any] | None:
    """An ideas board's fields from its slide: a heading (the question) and its settings."""
    question = source.needs_question()
    settings = source.validate(IdeasSettings) or IdeasSettings()
    if question is None:
        return None
    cited = source.source()
    source.finish(question, [], cited)
    return dict(
        question=question.text,
        source=cited,
        results=source.pick(settings.results, "results", "live"),
        timer=settings.timer,
        votes_per_person=settings.votes_per_person or 3,
        ideas=settings.ideas or 3,
        max_length=settings.max_length or 280,
        moderation=source.pick(settings.moderation, "moderation", "after"),
    )
