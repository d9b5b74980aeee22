"""Rating scale: each participant picks a whole number from `min` to `max`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from slides.polls.base import KindSettings, PollBase, PollSource


class ScalePoll(PollBase):
    """A rating from `min` to `max`, with optional words for the two ends."""

    type: Literal["scale"] = "scale"
    min: int = 1
    max: int = 5
    labels: tuple[str, str] | None = None
    change_vote: bool = True


class ScaleSettings(KindSettings):
    """`poll:` keys of a rating scale."""

    min: int | None = Field(default=None, ge=-10, le=10)
    max: int | None = Field(default=None, ge=-10, le=10)
    labels: tuple[str, str] | None = None
    change_vote: bool | None = None


def parse(source: PollSource) -> dict[str, Any] | None:
    """A scale's fields from its slide: a heading (the question) and its range."""
    question = source.needs_question()
    settings = source.validate(ScaleSettings) or ScaleSettings()
    low = settings.min if settings.min is not None else 1
    high = settings.max if settings.max is not None else 5
    if not 2 <= high - low + 1 <= 11:
        source.error(
            source.key_line("max"),
            f"a scale has 2 to 11 points; min {low}, max {high} gives {high - low + 1}",
        )
    if question is None:
        return None
    cited = source.source()
    labels = settings.labels
    source.finish(question, list(labels or ()), cited)
    return dict(
        question=question.text,
        source=cited,
        results=source.pick(settings.results, "results", "live"),
        timer=settings.timer,
        min=low,
        max=high,
        labels=labels,
        change_vote=source.pick(settings.change_vote, "change_vote", True),
    )
