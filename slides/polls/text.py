"""Open text: each participant writes a short answer; the presenter curates the wall."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from slides.polls.base import KindSettings, PollBase, PollSource


class TextPoll(PollBase):
    """An open question: one answer per participant (`answers` of them), `max_length` long.
    With `moderation: before`, an answer reaches the display only once approved."""

    type: Literal["text"] = "text"
    answers: int = 1
    max_length: int = 280
    moderation: Literal["after", "before"] = "after"


class TextSettings(KindSettings):
    """`poll:` keys of an open question."""

    answers: int | None = Field(default=None, ge=1, le=10)
    max_length: int | None = Field(default=None, ge=1, le=280)
    moderation: Literal["after", "before"] | None = None


def parse(source: PollSource) -> dict[str, Any] | None:
    """An open question's fields from its slide: a heading (the question) and its settings."""
    question = source.needs_question()
    settings = source.validate(TextSettings) or TextSettings()
    if question is None:
        return None
    cited = source.source()
    source.finish(question, [], cited)
    return dict(
        question=question.text,
        source=cited,
        results=source.pick(settings.results, "results", "live"),
        timer=settings.timer,
        answers=settings.answers or 1,
        max_length=settings.max_length or 280,
        moderation=source.pick(settings.moderation, "moderation", "after"),
    )
