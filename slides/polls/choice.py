"""Multiple choice: a heading (the question) and a task list (the options); `[x]` marks the
correct one, and with points (or the deck's `quiz: true`) it is a scored quiz question."""

from __future__ import annotations

from typing import Any, Literal

from slides.polls.base import KindSettings, PollBase, PollSource

MAX_OPTIONS = 10


class ChoicePoll(PollBase):
    """A multiple-choice question: one vote per participant, an optional correct option."""

    type: Literal["choice"] = "choice"
    options: list[str]
    correct: int | None = None
    change_vote: bool = True
    # Points for a correct answer, given by response time (quiz); None: not scored.
    points: int | None = None


class ChoiceSettings(KindSettings):
    """`poll:` keys of a choice question."""

    change_vote: bool | None = None
    points: int | None = None


def parse(source: PollSource) -> dict[str, Any] | None:
    """A choice poll's fields from its slide, or None after reporting what is wrong."""
    lists = [b for b in source.blocks if b.type == "bullet_list" and b.task_items() is not None]
    if not lists:
        source.error(source.line, "a poll needs 2 to 10 options as a task list: `- [ ] option`")
        return None
    if len(lists) > 1:
        source.error(lists[1].line, "a poll has one list of options; found a second one")
    option_list = lists[0]
    items = option_list.task_items() or []
    question = source.question()
    if question is None:
        source.error(source.line, "a poll needs its question as a heading above the options")
        return None
    settings = source.validate(ChoiceSettings)
    options = [text for _, text, _ in items]
    correct = [index for index, (_, _, is_correct) in enumerate(items) if is_correct]
    _check_options(source, items, option_list.line)
    if len(correct) > 1:
        lines = ", ".join(str(items[i][0]) for i in correct)
        source.error(
            items[correct[1]][0], f"a poll has at most one correct option; [x] on lines {lines}"
        )
    settings = settings or ChoiceSettings()
    points = settings.points
    if points is None and source.quiz and len(correct) == 1:
        points = 1000
    if points is not None and len(correct) != 1:
        source.error(source.key_line("points"), "a scored question needs one option marked [x]")
    if points is not None and not 1 <= points <= 100_000:
        source.error(source.key_line("points"), "poll.points must be from 1 to 100000")
    cited = source.source()
    source.used.append(option_list)
    source.finish(question, options, cited)
    return dict(
        question=question.text,
        options=options,
        correct=correct[0] if len(correct) == 1 else None,
        source=cited,
        change_vote=source.pick(settings.change_vote, "change_vote", points is None),
        results=source.pick(settings.results, "results", "live"),
        timer=settings.timer,
        points=points,
    )


def _check_options(source: PollSource, items: list[tuple[int, str, bool]], line: int) -> None:
    if len(items) < 2:
        source.error(line, f"a poll needs at least 2 options, found {len(items)}")
    if len(items) > MAX_OPTIONS:
        source.error(line, f"a poll has at most {MAX_OPTIONS} options, found {len(items)}")
    seen: dict[str, int] = {}
    for item_line, text, _ in items:
        if not text:
            source.error(item_line, "an option has no text")
            continue
        key = " ".join(text.casefold().split())
        if key in seen:
            source.error(item_line, f"duplicate option {text!r} (also on line {seen[key]})")
        else:
            seen[key] = item_line
