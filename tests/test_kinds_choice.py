"""Choice and the scored quiz question at the session level: points by time, the deadline."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.commands import (
    ClosePoll,
    Command,
    GoTo,
    Join,
    OpenPoll,
    TallyChanged,
    Vote,
    VoteCast,
)
from server.kinds.base import Timing
from server.kinds.choice import score
from server.session import Session
from server.views import leaderboard_view
from slides import ChoicePoll, SlideKind, parse_deck
from tests.kindsdeck import KINDS_TEXT, answer, on_poll, refused

OPENED = 100.0  # when voting opened; the question allows 20 s
CANBERRA, SYDNEY = 1, 0


def quiz(*people: str) -> Session:
    return on_poll("capital", *(people or ("ann", "bob", "cat")), at=OPENED)


@pytest.mark.parametrize(
    ("after", "points"),
    [
        (0.0, 1000),
        (0.3, 1000),
        (0.5, 1000),  # full points within half a second
        (10.25, 750),  # halfway between 0.5 s and the deadline: three quarters
        (15.125, 625),
        (20.0, 500),  # at the deadline: half
    ],
)
def test_a_right_answer_scores_by_how_fast_it_came(after: float, points: int) -> None:
    session = quiz()
    answer(session, "ann", "capital", CANBERRA, at=OPENED + after)
    assert session.scores() == {"ann": points}


def test_a_wrong_answer_scores_nothing() -> None:
    session = quiz()
    answer(session, "ann", "capital", SYDNEY, at=OPENED + 0.1)
    answer(session, "bob", "capital", CANBERRA, at=OPENED + 0.1)
    assert session.scores() == {"ann": 0, "bob": 1000}


def test_a_resent_vote_never_scores_twice() -> None:
    session = quiz()
    answer(session, "ann", "capital", CANBERRA, vote_id="q1", at=OPENED + 0.2)
    events = answer(session, "ann", "capital", CANBERRA, vote_id="q1", at=OPENED + 19)
    assert len(events) == 1 and isinstance(events[0], VoteCast) and events[0].replay
    events = answer(session, "ann", "capital", CANBERRA, vote_id="q2", at=OPENED + 19)
    assert [type(e) for e in events] == [VoteCast], "the same answer again changes nothing"
    assert session.scores() == {"ann": 1000}, "neither more nor fewer points"
    assert session.polls["capital"].answers.tally("presenter").counts == [0, 1, 0]


def test_a_quiz_answer_is_final() -> None:
    session = quiz()
    answer(session, "ann", "capital", SYDNEY, at=OPENED + 1)
    refused(session, Vote("ann", "capital", CANBERRA, "late", OPENED + 2), "vote_locked")
    assert session.scores() == {"ann": 0}


def test_a_vote_after_the_deadline_is_refused_too_late() -> None:
    session = quiz()
    assert session.polls["capital"].deadline == OPENED + 20
    answer(session, "ann", "capital", CANBERRA, at=OPENED + 20)
    refused(session, Vote("bob", "capital", CANBERRA, "b1", OPENED + 20.001), "too_late")
    assert session.scores() == {"ann": 500}


def test_reopening_a_timed_question_starts_a_new_clock() -> None:
    session = quiz()
    session.apply(ClosePoll("capital"))
    session.apply(OpenPoll("capital", 500.0))
    assert session.polls["capital"].deadline == 520.0
    answer(session, "ann", "capital", CANBERRA, at=500.2)
    assert session.scores() == {"ann": 1000}, "timed from the new opening"


def test_scores_add_up_over_questions_and_come_back_after_a_restart() -> None:
    second = "---\npoll: {id: second, points: 200}\n---\n\n# 2+2?\n\n- [ ] 3\n- [x] 4\n\n"
    deck = parse_deck(KINDS_TEXT.replace("---\n\nThe end", second + "---\n\nThe end"), "k.md")
    log: list[Command] = [
        Join("ann"),
        Join("bob"),
        GoTo(5),
        OpenPoll("capital", OPENED),
        Vote("ann", "capital", CANBERRA, "a1", OPENED + 10.25),
        Vote("bob", "capital", CANBERRA, "b1", OPENED + 0.4),
        GoTo(6),
        OpenPoll("second", 300.0),  # untimed: full points whenever
        Vote("ann", "second", 1, "a2", 999.0),
        Vote("bob", "second", 0, "b2", 301.0),
    ]
    session = Session(deck)
    for command in log:
        session.apply(command)
    assert session.scores() == {"ann": 750 + 200, "bob": 1000 + 0}

    # After a restart the log is replayed: the same times give the same points.
    restarted = Session(deck)
    assert restarted.restore((command, {}) for command in log) == 0
    assert restarted.scores() == session.scores()


def test_a_plain_choice_poll_does_not_score() -> None:
    deck = parse_deck(KINDS_TEXT.replace("points: 1000, timer: 20", "timer: 20"), "kinds.md")
    session = on_poll("capital", "ann", deck=deck, at=OPENED)
    events = answer(session, "ann", "capital", CANBERRA, at=OPENED + 1)
    assert [type(e) for e in events] == [VoteCast, TallyChanged]
    assert session.scores() == {}


def test_choice_answers_must_be_an_option() -> None:
    session = quiz()
    refused(session, Vote("ann", "capital", 3, "c1", OPENED), "unknown_option")
    refused(session, Vote("ann", "capital", -1, "c2", OPENED), "unknown_option")
    refused(session, Vote("ann", "capital", True, "c3", OPENED), "bad_answer")
    refused(session, Vote("ann", "capital", "1", "c4", OPENED), "bad_answer")


def test_the_score_rule() -> None:
    assert score(1000, Timing(None, None)) == 1000
    assert score(1000, Timing(30.0, 20.0)) == 500, "never below half, even if late"
    assert score(1000, Timing(1.0, 0.2)) == 500, "a limit under half a second"


def test_a_resend_of_a_vote_for_a_removed_option_is_not_acknowledged_as_taken() -> None:
    session = on_poll("capital", "ann", deck=parse_deck(KINDS_TEXT, "kinds.md"), at=OPENED)
    answer(session, "ann", "capital", 2, vote_id="melbourne", at=OPENED + 1)
    edited = parse_deck(KINDS_TEXT.replace("- [ ] Melbourne\n", ""), "kinds.md")
    session.reload(edited)
    refused(session, Vote("ann", "capital", 2, "melbourne", OPENED + 2), "unknown_option")


SEED = Path(__file__).resolve().parents[1] / "deck.md"


def as_scored_quiz(talk: str) -> str:
    """The seed talk made a quiz by a few lines of markdown: `quiz: true`, a timer and a
    correct option on each of its four questions, and a leaderboard after them. (The talk
    does not say which answers are right; the middle one stands in for it here.)"""
    talk = talk.replace('date: "2009"\n---', 'date: "2009"\nquiz: true\n---', 1)
    out: list[str] = []
    options = 0
    for line in talk.splitlines():
        if line.startswith("  id: "):
            out += [line, "  timer: 20"]
            options = 0
            continue
        if line.startswith("- [ ] "):
            options += 1
            line = line.replace("[ ]", "[x]") if options == 2 else line
        if line == "Social media = conversations":
            out[-1:-1] = ["layout: leaderboard", "---", "", "# Who knew?", "", "---"]
        out.append(line)
    return "\n".join(out) + "\n"


def test_the_seed_talk_runs_its_four_questions_as_a_scored_quiz() -> None:
    deck = parse_deck(as_scored_quiz(SEED.read_text(encoding="utf-8")), "deck.md")
    questions = [s.poll for s in deck.slides if isinstance(s.poll, ChoicePoll)]
    assert [(q.points, q.timer) for q in questions] == [(1000, 20.0)] * 4
    board = next(s.index for s in deck.slides if s.kind is SlideKind.LEADERBOARD)
    assert board == 5, "right after the fourth question"
    session = Session(deck)
    for person in ("ann", "bob", "cat"):
        session.apply(Join(person))
    for number, question in enumerate(questions):
        opened = 100.0 * (number + 1)
        session.apply(GoTo(session.polls[question.id].slide))
        session.apply(OpenPoll(question.id, opened))
        session.apply(Vote("ann", question.id, 1, f"a{number}", opened + 0.4))  # right, fast
        session.apply(Vote("bob", question.id, 1 if number < 2 else 0, f"b{number}", opened + 20))
        session.apply(Vote("cat", question.id, 0, f"c{number}", opened + 1))  # always wrong
        session.apply(ClosePoll(question.id))
    session.apply(GoTo(board))
    view = leaderboard_view(session)
    assert view.players == 3
    assert [(row.rank, row.score) for row in view.top] == [(1, 4000), (2, 1000), (3, 0)]
