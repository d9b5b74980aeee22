"""Invariants of the word cloud, open text and scale under random commands (hypothesis).

A model predicts, from the rules a participant reads on their phone, which answers are taken and
what each person holds; the invariants check the session against it: counts always equal a
recount of the entries, no screen shows a hidden or unapproved item, and nobody's answers change
through anyone else's commands.
"""

from __future__ import annotations

from collections import Counter
from statistics import median

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from server.commands import Answer, Command, GoTo, Join, Moderate, OpenPoll, Refused, Vote
from server.session import Session
from server.text import clean, key
from tests.kindsdeck import KINDS

PEOPLE = st.sampled_from(["ann", "bob", "cat", "dan"])
# Few words, written in ways that must count together; now and then one that is refused.
GOOD_WORDS = ["trust", "Trust", " TRUST ", "tr\u200bust", "open data", "open  data", "data", "we"]
WORDS = st.one_of(
    st.sampled_from(GOOD_WORDS), st.sampled_from(GOOD_WORDS), st.sampled_from(["x" * 26, "\u200b"])
)
TEXTS = st.sampled_from(["yes", " yes ", "no", "<b>bold</b>", "why?", "why?", "\u202e", "q" * 281])
SLIDES = {"cloud": 1, "ask": 2, "rate": 4}


class KindRules(RuleBasedStateMachine):
    """Phones answer the cloud, the open question (approve-first, 2 each) and the scale."""

    def __init__(self) -> None:
        super().__init__()
        self.session = Session(KINDS)
        for poll in SLIDES:
            self.session.apply(OpenPoll(poll))
        self.joined: set[str] = set()
        self.words: dict[str, list[str]] = {}  # person -> word keys
        self.hidden: set[str] = set()
        self.texts: dict[str, list[str]] = {}
        self.text_state: dict[str, str] = {}  # answer id -> shown/hidden/pending
        self.ratings: dict[str, int] = {}
        self.ids: dict[str, tuple[str, str]] = {}  # vote id -> (person, poll)
        self.counter = 0

    def attempt(self, command: Command) -> bool:
        try:
            self.session.apply(command)
        except Refused:
            return False
        return True

    def vote(self, person: str, poll: str, given: Answer, reuse: bool) -> bool | None:
        """Apply a vote; None if it was a resend (the model must not change), else accepted."""
        vote_id = f"{poll}-0" if reuse else f"v{self.counter}"
        self.counter += 1
        accepted = self.attempt(Vote(person, poll, given, vote_id, 1.0))
        if vote_id in self.ids:
            assert accepted == (self.ids[vote_id][0] == person), "resends: only their owner's"
            return None
        if accepted:
            self.ids[vote_id] = (person, poll)
        return accepted

    def shown(self, person: str, poll: str) -> bool:
        return person in self.joined and self.session.position == SLIDES[poll]

    @initialize()
    def a_room_of_three(self) -> None:
        for person in ("ann", "bob", "cat"):
            self.join(person)  # dan joins only if the rule below says so

    @rule(person=PEOPLE)
    def join(self, person: str) -> None:
        self.session.apply(Join(person))
        self.joined.add(person)

    @rule(poll=st.sampled_from(sorted(SLIDES)))
    def goto(self, poll: str) -> None:
        self.session.apply(GoTo(SLIDES[poll]))

    @rule(person=PEOPLE, given=st.lists(WORDS, min_size=1, max_size=4), reuse=st.booleans())
    def add_words(self, person: str, given: list[str], reuse: bool) -> None:
        new = list(dict.fromkeys(key(w) for w in given))
        mine = self.words.get(person, [])
        added = [w for w in new if w not in mine]
        fits = all(0 < len(clean(w)) <= 25 for w in given) and len(new) <= 3
        expected = self.shown(person, "cloud") and fits and len(mine) + len(added) <= 3
        accepted = self.vote(person, "cloud", given, reuse)
        if accepted is None:
            return
        assert accepted == expected, (given, mine)
        if accepted and added:
            self.words[person] = [*mine, *added]

    @rule(person=PEOPLE, text=TEXTS, reuse=st.booleans())
    def write(self, person: str, text: str, reuse: bool) -> None:
        mine = self.texts.get(person, [])
        fits = 0 < len(clean(text)) <= 280 and len(mine) < 2
        accepted = self.vote(person, "ask", text, reuse)
        if accepted is None:
            return
        assert accepted == (self.shown(person, "ask") and fits), (text, mine)
        if accepted:
            self.texts[person] = [*mine, clean(text)]
            self.text_state[f"a{len(self.text_state) + 1}"] = "pending"

    @rule(person=PEOPLE, rating=st.integers(0, 6), reuse=st.booleans())
    def rate(self, person: str, rating: int, reuse: bool) -> None:
        accepted = self.vote(person, "rate", rating, reuse)
        if accepted is None:
            return
        assert accepted == (self.shown(person, "rate") and 1 <= rating <= 5)
        if accepted:
            self.ratings[person] = rating

    @rule(word=WORDS, action=st.sampled_from(["hide", "show"]))
    def moderate_word(self, word: str, action: str) -> None:
        known = any(key(word) in mine for mine in self.words.values())
        assert self.attempt(Moderate("cloud", action, key(word))) == known
        if known and action == "hide":
            self.hidden.add(key(word))
        elif known:
            self.hidden.discard(key(word))

    @rule(n=st.integers(1, 10), action=st.sampled_from(["hide", "show", "approve"]))
    def moderate_text(self, n: int, action: str) -> None:
        item = f"a{n}"
        assert self.attempt(Moderate("ask", action, item)) == (item in self.text_state)
        if item in self.text_state:
            self.text_state[item] = "hidden" if action == "hide" else "shown"

    @invariant()
    def cloud_counts_are_a_recount_of_everyones_entries(self) -> None:
        cloud = self.session.polls["cloud"].answers
        for person in self.session.participants:
            mine = cloud.mine(person)
            assert [key(w) for w in mine or []] == self.words.get(person, [])
        recount = Counter(w for mine in self.words.values() for w in mine)
        presenter = cloud.tally("presenter").items or []
        shown = [i for i in presenter if i.state == "shown"]
        assert {i.id: i.count for i in shown} == {
            w: n for w, n in recount.items() if w not in self.hidden
        }
        display = cloud.tally("display")
        assert [(i.text, i.count) for i in display.items or []] == [
            (i.text, i.count) for i in shown
        ], "the display shows what the presenter sees shown, in the same order"
        assert display.voters == len(self.words)
        hidden = {i.id for i in presenter if i.state == "hidden"}
        assert hidden == self.hidden & set(recount)

    @invariant()
    def no_screen_shows_an_answer_the_presenter_did_not_let_through(self) -> None:
        ask = self.session.polls["ask"].answers
        for person in self.session.participants:
            assert (ask.mine(person) or []) == self.texts.get(person, [])
        shown = [i for i, state in self.text_state.items() if state == "shown"]
        for role in ("display", "audience"):
            assert [i.id for i in ask.tally(role).items or []] == shown  # type: ignore[arg-type]
        presenter = {i.id: i.state for i in ask.tally("presenter").items or []}
        assert presenter == self.text_state

    @invariant()
    def scale_figures_match_the_ratings(self) -> None:
        tally = self.session.polls["rate"].answers.tally("display")
        values = list(self.ratings.values())
        assert tally.counts == [values.count(point) for point in range(1, 6)]
        assert tally.mean == (round(sum(values) / len(values), 2) if values else None)
        assert tally.median == (float(median(values)) if values else None)


KindRules.TestCase.settings = settings(max_examples=300, stateful_step_count=50, deadline=None)
TestKindRules = KindRules.TestCase
