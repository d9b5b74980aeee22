"""Invariants of the session under random command sequences (hypothesis state machine)."""

from __future__ import annotations

from collections import Counter

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from server.commands import (
    ClosePoll,
    Command,
    GoTo,
    Hide,
    Join,
    OpenPoll,
    Refused,
    ResetPoll,
    Reveal,
    Vote,
)
from server.session import Session
from tests.test_session import QUIZ

PEOPLE = st.sampled_from(["ann", "bob", "cat", "dan"])
POLLS = st.sampled_from(["colour", "locked", "ghost"])


class SessionRules(RuleBasedStateMachine):
    """Random presenters and voters; the model tracks what each person last chose."""

    def __init__(self) -> None:
        super().__init__()
        self.session = Session(QUIZ)
        self.expected: dict[str, dict[str, int]] = {"colour": {}, "locked": {}}
        self.counter = 0
        self.ids: dict[str, dict[str, str]] = {}

    def attempt(self, command: Command) -> bool:
        try:
            self.session.apply(command)
        except Refused:
            return False
        return True

    @rule(person=PEOPLE)
    def join(self, person: str) -> None:
        self.attempt(Join(person))

    @rule(index=st.integers(-1, 5))
    def goto(self, index: int) -> None:
        self.attempt(GoTo(index))

    @rule(poll=POLLS, action=st.sampled_from([OpenPoll, ClosePoll, Reveal, Hide]))
    def control(self, poll: str, action: type[OpenPoll]) -> None:
        self.attempt(action(poll))

    @rule(poll=POLLS)
    def reset(self, poll: str) -> None:
        if self.attempt(ResetPoll(poll)):
            self.expected[poll] = {}
            self.ids[poll] = {}

    @rule(person=PEOPLE, poll=POLLS, option=st.integers(-1, 3), reuse=st.booleans())
    def vote(self, person: str, poll: str, option: int, reuse: bool) -> None:
        # A reused id ("v0") is a phone retrying: counted the first time only, never for another.
        vote_id = "v0" if reuse else f"v{self.counter}"
        self.counter += 1
        ids = self.ids.setdefault(poll, {})
        accepted = self.attempt(Vote(person, poll, option, vote_id, 0.0))
        if vote_id in ids:
            assert accepted == (ids[vote_id] == person), "a replay is acked only for its owner"
        elif accepted:
            ids[vote_id] = person
            self.expected[poll][person] = option

    @invariant()
    def tallies_equal_the_votes(self) -> None:
        for state in self.session.polls.values():
            counted = Counter(state.answers.votes.values())
            assert state.answers.counts == [
                counted.get(i, 0) for i in range(len(state.answers.counts))
            ]
            assert sum(state.answers.counts) == state.voters == len(state.answers.votes)

    @invariant()
    def one_vote_per_participant_matches_the_model(self) -> None:
        for poll, votes in self.expected.items():
            assert self.session.polls[poll].answers.votes == votes

    @invariant()
    def only_participants_vote(self) -> None:
        for state in self.session.polls.values():
            assert set(state.answers.votes) <= self.session.participants

    @invariant()
    def position_in_range(self) -> None:
        assert 0 <= self.session.position < len(QUIZ.slides)


SessionRules.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestSessionRules = SessionRules.TestCase
