"""The presenter's messages as session commands: which poll a command means, which slide a
step goes to. Pure: the session is only read."""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from server.commands import (
    ClosePoll,
    Command,
    GoTo,
    Hide,
    Moderate,
    ModerateQuestion,
    OpenPoll,
    Refused,
    ResetPoll,
    Reveal,
    SetBlackout,
    SetJoinInfo,
    SetQuestionsOverlay,
)
from server.protocol import (
    AnswerMessage,
    AskMessage,
    ClientMessage,
    ForgetMessage,
    GotoMessage,
    Hello,
    ModerateMessage,
    ModerateQuestionMessage,
    NicknameMessage,
    PingMessage,
    PollCommandMessage,
    StepMessage,
    ToggleMessage,
    UpvoteMessage,
    VoteMessage,
)
from server.session import Session

_POLL_COMMANDS: dict[str, Callable[[str], Command]] = {
    "close": ClosePoll,
    "reveal": Reveal,
    "hide": Hide,
    "reset": ResetPoll,
}


def poll_id(session: Session, poll: str | None) -> str:
    """The poll a presenter command names, else the current slide's."""
    if poll is not None:
        return poll
    current = session.current_poll
    if current is None:
        raise Refused("no_poll", "there is no poll on this slide")
    return current.poll.id


def presenter_command(session: Session, message: ClientMessage, now: float) -> Command:
    """The command a presenter's message asks for; `now` (wall clock) starts a poll's timer."""
    match message:
        case GotoMessage(index=index):
            return GoTo(index)
        case StepMessage(type=step):
            return GoTo(session.position + 1 if step == "next" else session.position - 1)
        case ToggleMessage(type="blackout", on=on):
            return SetBlackout(on)
        case ToggleMessage(type="questions_overlay", on=on):
            return SetQuestionsOverlay(on)
        case ToggleMessage(on=on):
            return SetJoinInfo(on)
        case PollCommandMessage(type="open", poll=poll):
            return OpenPoll(poll_id(session, poll), now)
        case PollCommandMessage(type=kind, poll=poll):
            return _POLL_COMMANDS[kind](poll_id(session, poll))
        case ModerateMessage(poll=poll, action=action, item=item, into=into):
            return Moderate(poll_id(session, poll), action, item, into)
        case ModerateQuestionMessage(action=action, question=question):
            return ModerateQuestion(action, question)
        case (
            Hello()
            | VoteMessage()
            | AnswerMessage()
            | NicknameMessage()
            | AskMessage()
            | ForgetMessage()
            | UpvoteMessage()
            | PingMessage()
        ):
            # What a phone says, never a command to the session's controls.
            raise Refused("unknown_command", f"cannot handle {message.type!r}")
        case _:
            assert_never(message)
