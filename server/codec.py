"""Commands to and from rows: a kind name and a JSON object, stable across versions."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

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
)

KINDS: dict[str, type[Command]] = {
    "join": Join,
    "goto": GoTo,
    "open": OpenPoll,
    "close": ClosePoll,
    "reveal": Reveal,
    "hide": Hide,
    "reset": ResetPoll,
    "blackout": SetBlackout,
    "join_info": SetJoinInfo,
    "vote": Vote,
    "moderate": Moderate,
    "nickname": SetNickname,
    "ask": Ask,
    "upvote": Upvote,
    "moderate_question": ModerateQuestion,
    "questions_overlay": SetQuestionsOverlay,
    "forget": Forget,
}
NAMES = {cls: name for name, cls in KINDS.items()}
# Each command's field names, read once: every vote is encoded on its way to the log, and
# dataclasses.asdict walks and deep-copies each value (a word cloud answer is a list), for
# the same JSON as reading the fields as they are.
_FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in KINDS.values()}


def encode(command: Command, extra: dict[str, Any] | None = None) -> tuple[str, str]:
    """(kind, JSON) for a command; `extra` adds context such as the slide id of a GoTo."""
    cls = type(command)
    fields = {name: getattr(command, name) for name in _FIELDS[cls]}
    if extra:
        fields |= extra
    return NAMES[cls], json.dumps(fields, separators=(",", ":"))


def decode(kind: str, data: str) -> tuple[Command, dict[str, Any]]:
    """The command back from a row, and any extra fields stored beside it."""
    cls = KINDS[kind]
    fields: dict[str, Any] = json.loads(data)
    if cls is Vote and "option" in fields:  # logged before answers had kinds
        fields["answer"] = fields.pop("option")
    names = {f.name for f in dataclasses.fields(cls)}
    command = cls(**{k: v for k, v in fields.items() if k in names})
    return command, {k: v for k, v in fields.items() if k not in names}
