"""The quiz's optional answer streak bonus (`quiz: {streak: N}`), at the session level: what
extends a run, what ends it, and that it is off unless the deck asks for it."""

from __future__ import annotations

import pytest

from server.commands import ClosePoll, Command, GoTo, Join, OpenPoll, ResetPoll, Vote
from server.kinds.choice import streak_bonus
from server.session import Session
from slides import Deck, DeckError, parse_deck

RIGHT, WRONG = 1, 0
QUESTIONS = [f"q{n}" for n in range(1, 8)]


def deck_text(quiz: str = "quiz:\n  streak: 100") -> str:
    """A quiz of seven untimed questions (1000 points each, whenever answered) and a poll."""
    slides = [f"---\n{quiz}\n---\n\n# Quiz night\n"]
    for poll in QUESTIONS:
        slides.append(f"---\npoll: {{id: {poll}}}\n---\n\n# {poll}?\n\n- [ ] No\n- [x] Yes\n")
    slides.append("---\npoll: {id: mood}\n---\n\n# How are you?\n\n- [ ] Fine\n- [ ] Great\n")
    return "\n".join(slides)


STREAK = parse_deck(deck_text(), "quiz.md")


class Quiz:
    """A session on `deck`, its questions asked one after another; every command is kept, so
    the same talk can be replayed after a restart."""

    def __init__(self, deck: Deck = STREAK, people: tuple[str, ...] = ("ann", "bob")) -> None:
        self.deck = deck
        self.session = Session(deck)
        self.log: list[Command] = []
        self.clock = 100.0
        for person in people:
            self.run(Join(person))

    def run(self, command: Command) -> None:
        self.session.apply(command)
        self.log.append(command)

    def open(self, poll: str) -> None:
        self.clock += 60
        self.run(GoTo(self.session.polls[poll].slide))
        self.run(OpenPoll(poll, self.clock))

    def answer(self, who: str, poll: str, option: int, vote_id: str | None = None) -> None:
        self.run(Vote(who, poll, option, vote_id or f"{who}-{poll}", self.clock + 1))

    def ask(self, poll: str, **answers: int) -> None:
        """Open the question, take everyone's answer, close it."""
        self.open(poll)
        for who, option in answers.items():
            self.answer(who, poll, option)
        self.run(ClosePoll(poll))


def test_each_correct_answer_in_a_row_earns_more_up_to_five_steps() -> None:
    quiz = Quiz()
    for poll in QUESTIONS:
        quiz.ask(poll, ann=RIGHT)
    # 1000 a question; then 0, 100, 200, 300, 400, 500 and (at most) 500 for the run.
    assert quiz.session.scores() == {"ann": 7 * 1000 + 2000}


def test_a_wrong_answer_ends_the_run() -> None:
    quiz = Quiz()
    for poll, option in zip(QUESTIONS[:5], [RIGHT, RIGHT, WRONG, RIGHT, RIGHT], strict=True):
        quiz.ask(poll, ann=option, bob=RIGHT)
    assert quiz.session.scores() == {
        "ann": 4 * 1000 + 100 + 100,  # runs of two, then two again
        "bob": 5 * 1000 + 100 + 200 + 300 + 400,
    }


def test_a_question_left_unanswered_ends_the_run_once_it_closes() -> None:
    quiz = Quiz()
    quiz.ask("q1", ann=RIGHT, bob=RIGHT)
    quiz.ask("q2", ann=RIGHT, bob=RIGHT)
    quiz.open("q3")
    quiz.answer("bob", "q3", RIGHT)
    quiz.open("q4")  # q3 is still open for ann: her run is not over yet
    quiz.answer("ann", "q4", RIGHT)
    assert quiz.session.scores()["ann"] == 3 * 1000 + 100 + 200
    quiz.run(ClosePoll("q3"))  # and now it is, without her answer
    quiz.run(ClosePoll("q4"))
    assert quiz.session.scores() == {
        "ann": 3 * 1000 + 100,
        "bob": 3 * 1000 + 100 + 200,
    }


def test_a_poll_without_points_neither_extends_nor_ends_a_run() -> None:
    quiz = Quiz()
    quiz.ask("q1", ann=RIGHT)
    quiz.ask("mood", ann=0, bob=1)
    quiz.ask("q2", ann=RIGHT)
    assert quiz.session.scores() == {"ann": 2000 + 100}


def test_questions_count_in_the_order_they_were_opened() -> None:
    quiz = Quiz()
    quiz.ask("q3", ann=WRONG)
    quiz.ask("q1", ann=RIGHT)
    quiz.ask("q2", ann=RIGHT)
    assert quiz.session.scores() == {"ann": 2000 + 100}, "q3 came first, so the run is q1, q2"


def test_the_streak_changes_the_leaderboard() -> None:
    quiz = Quiz(people=("ann", "bob", "cat"))
    quiz.ask("q1", ann=RIGHT, bob=RIGHT, cat=RIGHT)
    quiz.ask("q2", ann=RIGHT, bob=WRONG, cat=RIGHT)
    quiz.ask("q3", ann=RIGHT, bob=RIGHT, cat=WRONG)
    board = [(s.participant, s.rank, s.score) for s in quiz.session.standings()]
    # Without the bonus cat and bob would tie on 2000.
    assert board == [("ann", 1, 3300), ("cat", 2, 2100), ("bob", 3, 2000)]


def test_a_resent_answer_never_adds_to_the_streak() -> None:
    quiz = Quiz()
    quiz.ask("q1", ann=RIGHT)
    quiz.open("q2")
    quiz.answer("ann", "q2", RIGHT, vote_id="same")
    quiz.answer("ann", "q2", RIGHT, vote_id="same")
    quiz.answer("ann", "q2", RIGHT, vote_id="again")
    quiz.run(ClosePoll("q2"))
    assert quiz.session.scores() == {"ann": 2000 + 100}


def test_a_reset_question_leaves_the_run() -> None:
    quiz = Quiz()
    quiz.ask("q1", ann=RIGHT)
    quiz.ask("q2", ann=WRONG)
    quiz.ask("q3", ann=RIGHT)
    quiz.run(ResetPoll("q2"))  # asked again from scratch, later
    assert quiz.session.scores() == {"ann": 2000 + 100}
    quiz.ask("q2", ann=RIGHT)
    assert quiz.session.scores() == {"ann": 3000 + 100 + 200}


def test_the_same_log_gives_the_same_bonuses_after_a_restart() -> None:
    quiz = Quiz()
    for poll, option in zip(
        QUESTIONS, [RIGHT, RIGHT, WRONG, RIGHT, RIGHT, RIGHT, RIGHT], strict=True
    ):
        quiz.ask(poll, ann=option, bob=RIGHT - option)
    restarted = Session(quiz.deck)
    assert restarted.restore((command, {}) for command in quiz.log) == 0
    assert (
        restarted.scores()
        == quiz.session.scores()
        == {
            "ann": 6000 + 100 + 100 + 200 + 300,
            "bob": 1000,
        }
    )


@pytest.mark.parametrize("quiz_option", ["quiz: true", "quiz: false"])
def test_no_streak_bonus_unless_the_deck_asks(quiz_option: str) -> None:
    scored = deck_text(quiz_option).replace("poll: {id: q", "poll: {points: 1000, id: q")
    deck = parse_deck(scored, "quiz.md")
    assert deck.meta.streak is None
    quiz = Quiz(deck)
    for poll in QUESTIONS[:3]:
        quiz.ask(poll, ann=RIGHT)
    assert quiz.session.scores() == {"ann": 3000}


def test_the_option_turns_the_quiz_on_and_is_checked() -> None:
    assert STREAK.meta.quiz and STREAK.meta.streak == 100
    with pytest.raises(DeckError, match=r"quiz\.md:3: .*streak.*greater than or equal to 1"):
        parse_deck(deck_text("quiz:\n  streak: 0"), "quiz.md")
    with pytest.raises(DeckError, match=r"unknown deck option 'quiz\.QuizOptions\.streek'"):
        parse_deck(deck_text("quiz:\n  streek: 100"), "quiz.md")


def test_the_bonus_rule() -> None:
    assert [streak_bonus(run, 100) for run in range(9)] == [
        0, 0, 100, 200, 300, 400, 500, 500, 500,
    ]  # fmt: skip
    assert streak_bonus(3, 50) == 100
