"""The pure session state machine: every transition and every refusal, without any I/O."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.commands import (
    ClosePoll,
    DisplayChanged,
    GoTo,
    Hide,
    Join,
    OpenPoll,
    ParticipantJoined,
    PollChanged,
    Refused,
    ResetPoll,
    Reveal,
    SetBlackout,
    SetJoinInfo,
    SlideChanged,
    TallyChanged,
    Vote,
    VoteCast,
)
from server.session import PollStatus, Session
from slides import parse_deck

QUIZ = parse_deck((Path(__file__).parent / "decks" / "quiz.md").read_text(), "quiz.md")


def fresh(*people: str) -> Session:
    session = Session(QUIZ)
    for person in people:
        session.apply(Join(person))
    return session


def on_open_poll(poll: str = "colour", *people: str) -> Session:
    session = fresh(*(people or ("ann", "bob", "cat")))
    session.apply(GoTo(session.polls[poll].slide))
    session.apply(OpenPoll(poll))
    return session


def refused(session: Session, command: object, code: str) -> None:
    before = snapshot(session)
    with pytest.raises(Refused) as info:
        session.apply(command)  # type: ignore[arg-type]
    assert info.value.code == code
    assert info.value.reason
    assert snapshot(session) == before, "a refused command must change nothing"


def snapshot(session: Session) -> object:
    return (
        session.position,
        session.blackout,
        session.join_info,
        sorted(session.participants),
        {
            pid: (
                s.status,
                s.revealed,
                dict(s.answers.votes),
                list(s.answers.counts),
                dict(s.vote_ids),
            )
            for pid, s in session.polls.items()
        },
    )


def vote(who: str, option: int, vote_id: str, poll: str = "colour") -> Vote:
    return Vote(who, poll, option, vote_id, 1.0)


def test_starts_on_first_slide_with_polls_not_started() -> None:
    session = Session(QUIZ)
    assert session.position == 0
    assert {pid: s.status for pid, s in session.polls.items()} == {
        "colour": PollStatus.IDLE,
        "locked": PollStatus.IDLE,
    }
    assert session.current_poll is None


def test_join_once() -> None:
    session = Session(QUIZ)
    assert session.apply(Join("ann")) == [ParticipantJoined("ann")]
    assert session.apply(Join("ann")) == []
    assert session.participants == {"ann"}


def test_goto_moves_and_refuses_out_of_range() -> None:
    session = Session(QUIZ)
    assert session.apply(GoTo(3)) == [SlideChanged(3)]
    assert session.apply(GoTo(3)) == []
    refused(session, GoTo(4), "out_of_range")
    refused(session, GoTo(-1), "out_of_range")
    assert session.position == 3


def test_poll_lifecycle() -> None:
    session = fresh()
    assert session.apply(OpenPoll("colour")) == [PollChanged("colour")]
    refused(session, OpenPoll("colour"), "already_open")
    assert session.apply(ClosePoll("colour")) == [PollChanged("colour")]
    refused(session, ClosePoll("colour"), "not_open")
    assert session.apply(OpenPoll("colour")) == [PollChanged("colour")], "a closed poll reopens"
    assert session.apply(Reveal("colour")) == [PollChanged("colour")]
    refused(session, Reveal("colour"), "already_revealed")
    assert session.apply(Hide("colour")) == [PollChanged("colour")]
    refused(session, Hide("colour"), "not_revealed")


def test_close_refused_before_open() -> None:
    refused(fresh(), ClosePoll("colour"), "not_open")


@pytest.mark.parametrize(
    "command",
    [OpenPoll("nope"), ClosePoll("nope"), Reveal("nope"), Hide("nope"), ResetPoll("nope")],
)
def test_unknown_poll_refused(command: object) -> None:
    refused(fresh(), command, "unknown_poll")


def test_votes_tally_and_change() -> None:
    session = on_open_poll()
    assert session.apply(vote("ann", 1, "v1")) == [
        VoteCast("ann", "colour", 1, None, "v1", 1.0),
        TallyChanged("colour"),
    ]
    session.apply(vote("bob", 1, "v2"))
    session.apply(vote("cat", 0, "v3"))
    poll = session.polls["colour"]
    assert poll.answers.counts == [1, 2, 0]
    assert poll.voters == 3
    events = session.apply(vote("ann", 2, "v4"))
    assert events[0] == VoteCast("ann", "colour", 2, 1, "v4", 1.0)
    assert poll.answers.counts == [1, 1, 1]
    assert poll.voters == 3


def test_same_option_again_changes_no_tally() -> None:
    session = on_open_poll()
    session.apply(vote("ann", 1, "v1"))
    events = session.apply(vote("ann", 1, "v2"))
    assert events == [VoteCast("ann", "colour", 1, 1, "v2", 1.0)]
    assert session.polls["colour"].answers.counts == [0, 1, 0]


def test_retried_vote_id_is_acknowledged_not_counted_twice() -> None:
    session = on_open_poll()
    session.apply(vote("ann", 1, "v1"))
    session.apply(vote("ann", 2, "v2"))
    events = session.apply(vote("ann", 1, "v1"))
    assert events == [VoteCast("ann", "colour", 2, 2, "v1", 1.0, replay=True)]
    assert session.polls["colour"].answers.counts == [0, 0, 1]


def test_retry_after_close_still_acknowledged() -> None:
    session = on_open_poll()
    session.apply(vote("ann", 1, "v1"))
    session.apply(ClosePoll("colour"))
    assert session.apply(vote("ann", 1, "v1"))[0].replay  # type: ignore[union-attr]


def test_vote_id_of_someone_else_refused() -> None:
    session = on_open_poll()
    session.apply(vote("ann", 1, "v1"))
    refused(session, vote("bob", 0, "v1"), "duplicate_vote_id")


def test_vote_refusals() -> None:
    session = fresh("ann")
    refused(session, vote("ann", 0, "a"), "poll_not_open")
    session.apply(OpenPoll("colour"))
    refused(session, vote("ann", 0, "b"), "poll_not_shown")
    session.apply(GoTo(1))
    refused(session, vote("zed", 0, "c"), "not_joined")
    refused(session, vote("ann", 3, "d"), "unknown_option")
    refused(session, vote("ann", -1, "e"), "unknown_option")
    refused(session, vote("ann", 0, "f", poll="ghost"), "unknown_poll")
    session.apply(ClosePoll("colour"))
    refused(session, vote("ann", 0, "g"), "poll_not_open")


def test_locked_poll_refuses_a_change_but_accepts_the_same_choice() -> None:
    session = on_open_poll("locked", "ann")
    session.apply(vote("ann", 0, "v1", poll="locked"))
    refused(session, vote("ann", 1, "v2", poll="locked"), "vote_locked")
    assert session.apply(vote("ann", 0, "v3", poll="locked"))[0].answer == 0  # type: ignore[union-attr]
    assert session.polls["locked"].answers.counts == [1, 0]


def test_reset_forgets_votes_and_status() -> None:
    session = on_open_poll()
    session.apply(vote("ann", 1, "v1"))
    session.apply(Reveal("colour"))
    assert session.apply(ResetPoll("colour")) == [PollChanged("colour"), TallyChanged("colour")]
    poll = session.polls["colour"]
    assert (poll.status, poll.revealed, poll.answers.counts, poll.answers.votes) == (
        PollStatus.IDLE,
        False,
        [0, 0, 0],
        {},
    )
    session.apply(OpenPoll("colour"))
    session.apply(vote("ann", 0, "v1"))
    assert session.polls["colour"].answers.counts == [1, 0, 0], (
        "a vote id may be used again after a reset"
    )


def test_blackout_and_join_info_toggle() -> None:
    session = fresh()
    assert session.apply(SetBlackout(True)) == [DisplayChanged()]
    assert session.apply(SetBlackout(True)) == []
    assert session.apply(SetJoinInfo(True)) == [DisplayChanged()]
    assert session.apply(SetBlackout(False)) == [DisplayChanged()]
    assert (session.blackout, session.join_info) == (False, True)
