"""Live tallies kept up as answers come (so a tally is cheap) equal the plain computation.

An open question indexes answers by participant; checked here against the obvious way of
computing the same thing from everything the poll holds.
"""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from server.commands import Refused
from server.kinds.base import Timing
from server.kinds.text import WALL, TextLive
from slides import TextPoll

NO_TIME = Timing(None, None)
PEOPLE = st.sampled_from([f"p{n}" for n in range(6)])


@given(st.lists(st.tuples(PEOPLE, st.sampled_from(["a", "b", "c"])), max_size=30))
def test_open_answers_per_participant_and_on_the_wall(answers: list[tuple[str, str]]) -> None:
    live = TextLive(TextPoll(id="t", question="?", answers=3))
    for who, text in answers:
        with contextlib.suppress(Refused):  # more than three answers
            live.submit(who, live.read(text), NO_TIME)
    for who in {w for w, _ in answers}:
        mine = [e.text for e in live.answers if e.participant == who]
        assert live.mine(who) == (mine or None)
    assert live.voters == len({e.participant for e in live.answers})
    wall = [i.id for i in live.tally("display").items or []]
    assert wall == [e.id for e in live.answers][-WALL:]


def test_the_wall_is_the_newest_shown_answers() -> None:
    live = TextLive(TextPoll(id="t", question="?", moderation="before"))
    for n in range(WALL + 30):
        live.submit(f"p{n}", live.read(f"answer {n}"), NO_TIME)
    approved = [f"a{n}" for n in range(1, WALL + 31, 2)]  # every other one
    for answer in approved:
        live.moderate("approve", answer)
    live.moderate("hide", approved[-1])
    wall = [i.id for i in live.tally("display").items or []]
    assert wall == approved[:-1][-WALL:]
