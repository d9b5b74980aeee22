"""Quiz nicknames under hostile input (hypothesis): cleaned like every text from the room,
unique, within their length, and one person's name never changes another's."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from server.commands import Join, Refused, SetNickname
from server.session import NICKNAME_LENGTH, Session
from server.text import clean
from server.views import leaderboard_view
from slides import parse_deck

DECK = parse_deck("---\nquiz: true\nnicknames: optional\n---\n\n# Quiz night\n", "quiz.md")
PEOPLE = ["ann", "bob", "cat", "dan"]
PSEUDONYM = re.compile(r"Player [0-9A-F]{4}", re.IGNORECASE)
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
NAMES = [
    "Ann", "ann", "ANN", "Ann 2", "Ann 3", " Ann ", "A\u200bnn", "\u202eAnn", "ÅNN",
    "\uff21\uff4e\uff4e", "x" * 24, "X" * 24, "y" * 23 + "\u200d", "z" * 22 + " w",
    "👩\u200d💻" * 8, "Player 1A2B", "player 00ff", "<b>Bob</b>", "", " ", "\u200b", "q" * 25,
    "😀" * 25,
]  # fmt: skip
names = st.sampled_from(NAMES) | st.text(max_size=30)
steps = st.lists(st.tuples(st.sampled_from(PEOPLE), names), max_size=25)


@settings(max_examples=500, deadline=None)
@given(steps)
def test_nicknames_stay_clean_unique_and_each_persons_own(
    given_names: list[tuple[str, str]],
) -> None:
    session = Session(DECK)
    for person in PEOPLE:
        session.apply(Join(person))
    for person, name in given_names:
        before = dict(session.nicknames)
        try:
            session.apply(SetNickname(person, name))
        except Refused as refused:
            assert refused.code in {"empty_answer", "too_long"}, refused.code
            assert session.nicknames == before, "a refused name changes nothing"
            continue
        others = {who: n for who, n in session.nicknames.items() if who != person}
        assert others == {who: n for who, n in before.items() if who != person}
        mine = session.nicknames[person]
        assert mine == clean(mine) and mine, "cleaned: no invisible characters, trimmed"
        assert not BIDI & set(mine)
        assert len(mine) <= NICKNAME_LENGTH, f"{mine!r} is longer than a nickname may be"
        assert not PSEUDONYM.fullmatch(mine), "nobody can pass for an unnamed player"
        folded = [n.casefold() for n in session.nicknames.values()]
        assert len(folded) == len(set(folded)), "two people never share a name on the board"
    leaderboard_view(session)  # the board can always be drawn


def test_a_name_like_an_unnamed_players_is_numbered() -> None:
    session = Session(DECK)
    session.apply(Join("ann"))
    session.apply(Join("bob"))
    pseudonym = session.name_of("bob")
    assert PSEUDONYM.fullmatch(pseudonym), "bob has no nickname: a pseudonym"
    session.apply(SetNickname("ann", pseudonym))
    assert session.name_of("ann") == f"{pseudonym} 2"
    session.apply(SetNickname("ann", "Player Two"))  # not a pseudonym's shape: taken as it is
    assert session.name_of("ann") == "Player Two"
