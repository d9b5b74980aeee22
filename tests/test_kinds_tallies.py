"""Live tallies kept up as answers come (so a tally is cheap) equal the plain computation.

The word cloud keeps its top words as counts change, an open question indexes answers by
participant, a scale takes its median from the counts; each is checked here against the
obvious way of computing the same thing from everything the poll holds.
"""

from __future__ import annotations

import contextlib
import statistics
from typing import Any
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from server.commands import Refused
from server.kinds import words as words_module
from server.kinds.base import Timing
from server.kinds.scale import ScaleLive
from server.kinds.text import WALL, TextLive
from server.kinds.words import WordsLive
from server.text import key
from slides import ScalePoll, TextPoll, WordsPoll

NO_TIME = Timing(None, None)
PEOPLE = st.sampled_from([f"p{n}" for n in range(6)])
# Few words in several spellings, so counts collide and ties are frequent.
SPELLINGS = st.sampled_from(
    ["trust", "Trust", "care", "CARE", "open", "\uff4f\uff50\uff45\uff4e", "fair", "why", "x"]
)
WORD_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("answer"), PEOPLE, st.lists(SPELLINGS, min_size=1, max_size=2)),
        st.tuples(
            st.sampled_from(["hide", "show"]),
            st.just(""),
            st.sampled_from(["trust", "care", "open", "x"]),
        ),
    ),
    max_size=40,
)


def ranked(live: WordsLive, words: Any) -> list[str]:
    return sorted(words, key=lambda w: (-live.counts[w], live.order[w]))


@given(WORD_OPS)
def test_the_cloud_is_the_top_words_however_they_came(ops: list[tuple[str, str, Any]]) -> None:
    # A cloud of three, so words enter it, move up in it and fall out of it.
    with mock.patch.object(words_module, "TOP", 3):
        live = WordsLive(WordsPoll(id="w", question="?", entries=4))
        for op, who, value in ops:
            with contextlib.suppress(Refused):  # too many words, an unknown word to hide
                if op == "answer":
                    live.submit(who, live.read(value), NO_TIME)
                else:
                    live.moderate(op, value)
            visible = [w for w in live.counts if w not in live.hidden]
            top = ranked(live, visible)[:3]
            cloud = [(i.id, i.count, i.state) for i in live.tally("display").items or []]
            # Screens other than the presenter's see a word's place, never the word as its id.
            assert cloud == [(f"w{live.order[w]}", live.counts[w], "shown") for w in top]
            presenter = [(i.id, i.state) for i in live.tally("presenter").items or []]
            hidden = ranked(live, live.hidden)[:3]
            assert presenter == [(w, "shown") for w in top] + [(w, "hidden") for w in hidden]
        # Counts are what the participants hold, each word once per participant.
        held = [key(w) for entries in live.entries.values() for w in entries]
        assert live.counts == {w: held.count(w) for w in set(held)}


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


@given(st.lists(st.tuples(PEOPLE, st.integers(-2, 3)), max_size=30))
def test_a_scales_mean_and_median_are_the_ratings(ratings: list[tuple[str, int]]) -> None:
    live = ScaleLive(ScalePoll(id="s", question="?", min=-2, max=3))
    for who, rating in ratings:
        live.submit(who, live.read(rating), NO_TIME)
    values = list(live.ratings.values())
    tally = live.tally("display")
    if not values:
        assert tally.mean is None and tally.median is None
        return
    assert tally.mean == round(statistics.mean(values), 2)
    assert tally.median == float(statistics.median(values))
    assert tally.counts == [values.count(p) for p in range(-2, 4)]
