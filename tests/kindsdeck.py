"""A deck with every kind of poll, and session helpers shared by the per-kind tests."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from server.commands import Answer, Command, Event, GoTo, Join, OpenPoll, Refused, Vote
from server.session import Session
from slides import Deck, parse_deck

KINDS_PATH = Path(__file__).parent / "decks" / "kinds.md"
KINDS_TEXT = KINDS_PATH.read_text()
KINDS = parse_deck(KINDS_TEXT, "kinds.md")
_ids = itertools.count()


def on_poll(poll: str, *people: str, at: float = 0.0, deck: Deck = KINDS) -> Session:
    """A session with `people` joined, on `poll`'s slide, voting open since `at`."""
    session = Session(deck)
    for person in people or ("ann", "bob", "cat"):
        session.apply(Join(person))
    session.apply(GoTo(session.polls[poll].slide))
    session.apply(OpenPoll(poll, at))
    return session


def answer(
    session: Session,
    who: str,
    poll: str,
    given: Answer,
    vote_id: str | None = None,
    at: float = 1.0,
) -> list[Event]:
    """A phone's answer applied to the session; the events it caused."""
    return session.apply(Vote(who, poll, given, vote_id or f"v{next(_ids)}", at))


def observable(session: Session) -> object:
    """Everything a user could see of the polls: every role's tally, the rows, each
    participant's own answers, the scores."""
    return {
        pid: (
            state.status,
            [state.answers.tally(role) for role in ("presenter", "display", "audience")],
            state.answers.rows(),
            {p: state.answers.mine(p) for p in sorted(session.participants)},
            dict(state.vote_ids),
            state.answers.scores(),
        )
        for pid, state in session.polls.items()
    }


def refused(session: Session, command: Command, code: str) -> None:
    """The command is refused with `code` and changes nothing anyone could see."""
    before = observable(session)
    with pytest.raises(Refused) as info:
        session.apply(command)
    assert info.value.code == code, info.value.reason
    assert info.value.reason
    assert observable(session) == before, "a refused command must change nothing"


def items(session: Session, poll: str, role: str = "display") -> list[tuple[str, int]]:
    """(text, count) of the tally items this role sees, in order."""
    tally = session.polls[poll].answers.tally(role)  # type: ignore[arg-type]
    return [(i.text, i.count) for i in tally.items or []]


def states(session: Session, poll: str) -> dict[str, Any]:
    """Item id -> state, as the presenter's tally gives them."""
    tally = session.polls[poll].answers.tally("presenter")
    return {i.id: i.state for i in tally.items or []}
