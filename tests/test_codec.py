"""Log rows: every command encodes to the JSON it always did, and decodes back to itself."""

from __future__ import annotations

import dataclasses
import json

import pytest

from server.codec import KINDS, decode, encode
from server.commands import (
    Ask,
    ClosePoll,
    Command,
    Forget,
    GoTo,
    Hide,
    Join,
    Moderate,
    ModerateQuestion,
    OpenPoll,
    ResetPoll,
    Reveal,
    SetBlackout,
    SetJoinInfo,
    SetNickname,
    SetQuestionsOverlay,
    Upvote,
    Vote,
)  # fmt: skip

EXAMPLES: list[Command] = [
    Join("p1"), GoTo(3), OpenPoll("q", 1764484800.25), ClosePoll("q"), Reveal("q"), Hide("q"),
    ResetPoll("q"), SetBlackout(True), SetJoinInfo(False), Vote("p1", "q", 2, "v1", 1.5),
    Vote("p1", "cloud", ["Listening", "trust"], "v2", 2.5), Vote("p1", "wall", "Why?", "v3", 3.0),
    Moderate("cloud", "hide", "trust"), SetNickname("p1", "Ann"),
    Ask("p1", "a1", "Why?", None, 4.0), Upvote("p2", "q1", True),
    ModerateQuestion("approve", "q1"), SetQuestionsOverlay(True), Forget("p1"),
]  # fmt: skip


def test_every_kind_of_command_has_an_example() -> None:
    assert {type(c) for c in EXAMPLES} == set(KINDS.values())


@pytest.mark.parametrize("command", EXAMPLES, ids=repr)
def test_a_row_is_the_commands_fields(command: Command) -> None:
    # The rows logs already hold were written from dataclasses.asdict: same JSON, same order.
    extra = {"slide": "s3"} if isinstance(command, GoTo) else None
    kind, data = encode(command, extra)
    expected = dataclasses.asdict(command) | (extra or {})
    assert data == json.dumps(expected, separators=(",", ":"))
    assert decode(kind, data) == (command, extra or {})
