"""The talk's Q&A in the pure session: asking, upvoting, moderation and what each role sees,
with a Hypothesis state machine for the invariants a hostile room must not break."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from server.codec import decode, encode
from server.commands import (
    Ask,
    DisplayChanged,
    Join,
    ModerateQuestion,
    QuestionsChanged,
    Refused,
    SetQuestionsOverlay,
    Upvote,
)
from server.qa_feed import my_questions, questions_message
from server.session import Session
from slides import parse_deck


def deck(qa: str = "true") -> str:
    return f"---\nqa: {qa}\n---\n\n# Welcome\n\n---\nlayout: questions\n---\n\n# Your questions\n"


def session(qa: str = "true", people: tuple[str, ...] = ("ann", "bob", "cat")) -> Session:
    talk = Session(parse_deck(deck(qa)))
    for person in people:
        talk.apply(Join(person))
    return talk


def ask(talk: Session, who: str, text: str, ask_id: str, name: str | None = None) -> str:
    talk.apply(Ask(who, ask_id, text, name, 10.0))
    return talk.qa.ask_ids[ask_id]


def public_texts(talk: Session) -> list[str]:
    return [q.text for q in questions_message(talk, "audience").top]


def test_the_deck_turns_q_and_a_on_with_its_settings() -> None:
    assert Session(parse_deck("# Hi\n")).qa_on is False
    on = parse_deck(deck("{moderation: after, anonymous: true}"))
    assert on.meta.qa is not None
    assert (on.meta.qa.moderation, on.meta.qa.anonymous) == ("after", True)
    assert parse_deck(deck()).slides[1].kind == "questions"


def test_a_talk_without_q_and_a_refuses_questions() -> None:
    talk = Session(parse_deck("# Hi\n"))
    talk.apply(Join("ann"))
    with pytest.raises(Refused) as refused:
        talk.apply(Ask("ann", "a1", "Why?", None, 1.0))
    assert refused.value.code == "qa_off"


def test_with_moderation_before_nobody_else_sees_a_question_until_it_is_approved() -> None:
    talk = session()
    qid = ask(talk, "ann", "  Why   <b>this</b>? ", "a1", name="Ann")
    assert public_texts(talk) == []
    assert questions_message(talk, "display").top == []
    # The presenter sees it waiting; the asker sees it as theirs, pending.
    queue = questions_message(talk, "presenter")
    assert [(q.text, q.state, q.name) for q in queue.pending or []] == [
        ("Why <b>this</b>?", "pending", "Ann")
    ]
    assert [(q.id, q.state) for q in my_questions(talk, "ann").asked] == [(qid, "pending")]
    assert my_questions(talk, "bob").asked == []
    with pytest.raises(Refused) as hidden:
        talk.apply(Upvote("bob", qid, True))
    assert hidden.value.code == "unknown_question"
    talk.apply(ModerateQuestion("approve", qid))
    assert public_texts(talk) == ["Why <b>this</b>?"]


def test_the_asker_is_not_told_their_question_was_dismissed() -> None:
    talk = session()
    qid = ask(talk, "ann", "Off topic", "a1")
    talk.apply(ModerateQuestion("dismiss", qid))
    assert [q.state for q in my_questions(talk, "ann").asked] == ["pending"]
    assert public_texts(talk) == []
    assert questions_message(talk, "presenter").pending == []


def test_moderation_after_shows_a_question_at_once_and_anonymous_drops_names() -> None:
    talk = session("{moderation: after, anonymous: true}")
    ask(talk, "ann", "Seen at once?", "a1", name="Ann Smith")
    assert [(q.text, q.name) for q in questions_message(talk, "display").top] == [
        ("Seen at once?", None)
    ]


def test_upvotes_order_the_list_then_time_asked_and_count_once_each() -> None:
    talk = session("{moderation: after}", ("ann", "bob", "cat", "dan"))
    first = ask(talk, "ann", "First", "a1")
    second = ask(talk, "bob", "Second", "b1")
    third = ask(talk, "cat", "Third", "c1")
    assert public_texts(talk) == ["First", "Second", "Third"]
    talk.apply(Upvote("dan", third, True))
    assert talk.apply(Upvote("dan", third, True)) == []  # twice is once
    talk.apply(Upvote("ann", second, True))
    talk.apply(Upvote("bob", third, True))
    assert [(q.text, q.votes) for q in questions_message(talk, "audience").top] == [
        ("Third", 2),
        ("Second", 1),
        ("First", 0),
    ]
    talk.apply(Upvote("dan", third, False))  # taken back
    talk.apply(Upvote("dan", first, True))
    # One upvote each now: the one asked first goes first.
    assert public_texts(talk) == ["First", "Second", "Third"]
    assert my_questions(talk, "dan").upvoted == [first]
    with pytest.raises(Refused) as own:
        talk.apply(Upvote("ann", first, True))
    assert own.value.code == "own_question"


def test_a_resent_ask_asks_once_and_an_ask_id_is_not_anyone_elses() -> None:
    talk = session()
    ask(talk, "ann", "Once", "a1")
    assert talk.apply(Ask("ann", "a1", "Once", None, 11.0)) == []
    assert len(talk.qa.questions) == 1
    with pytest.raises(Refused) as stolen:
        talk.apply(Ask("bob", "a1", "Mine now", None, 12.0))
    assert stolen.value.code == "duplicate_vote_id"


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty_answer"), ("\u200b \u202e", "empty_answer"), ("x" * 281, "too_long")],
)
def test_a_question_is_filtered_text_of_at_most_280_characters(text: str, code: str) -> None:
    talk = session()
    with pytest.raises(Refused) as refused:
        talk.apply(Ask("ann", "a1", text, None, 1.0))
    assert refused.value.code == code
    assert talk.qa.questions == {}


def test_pin_answer_and_the_moves_a_question_cannot_make() -> None:
    talk = session("{moderation: after}")
    qid = ask(talk, "ann", "Pin me", "a1")
    other = ask(talk, "bob", "Or me", "b1")
    talk.apply(ModerateQuestion("pin", qid))
    talk.apply(ModerateQuestion("pin", other))  # one pinned at a time
    pinned = questions_message(talk, "display").pinned
    assert pinned is not None and pinned.text == "Or me"
    talk.apply(ModerateQuestion("answer", other))
    assert [(q.text, q.state) for q in questions_message(talk, "audience").top] == [
        ("Pin me", "approved"),
        ("Or me", "answered"),
    ]
    talk.apply(ModerateQuestion("dismiss", other))
    assert questions_message(talk, "display").pinned is None
    with pytest.raises(Refused) as bad:
        talk.apply(ModerateQuestion("answer", other))
    assert bad.value.code == "bad_transition"
    with pytest.raises(Refused) as hidden:
        talk.apply(ModerateQuestion("pin", other))
    assert hidden.value.code == "not_approved"


def test_the_overlay_is_a_display_change() -> None:
    talk = session()
    assert talk.apply(SetQuestionsOverlay(True)) == [DisplayChanged()]
    assert talk.apply(SetQuestionsOverlay(True)) == []


def test_a_replayed_log_gives_the_same_questions_ids_and_upvotes() -> None:
    talk = session("{moderation: after}")
    log = [Join("ann"), Join("bob"), Join("cat")]
    commands = [
        Ask("ann", "a1", "One", "Ann", 1.0),
        Ask("bob", "b1", "Two", None, 2.0),
        Upvote("cat", "q2", True),
        Upvote("ann", "q2", True),
        ModerateQuestion("pin", "q1"),
        Upvote("ann", "q2", False),
    ]
    for command in commands:
        talk.apply(command)
    again = Session(parse_deck(deck("{moderation: after}")))
    again.restore(decode(*encode(c)) for c in log + commands)
    assert questions_message(again, "presenter") == questions_message(talk, "presenter")
    assert my_questions(again, "cat") == my_questions(talk, "cat")


def test_each_change_names_the_phones_whose_own_list_changed() -> None:
    talk = session()
    assert talk.apply(Ask("ann", "a1", "Q", None, 1.0)) == [QuestionsChanged(("ann",), False, "q1")]
    assert talk.apply(ModerateQuestion("approve", "q1")) == [QuestionsChanged(("ann",), True)]
    assert talk.apply(Upvote("bob", "q1", True)) == [QuestionsChanged(("bob", "ann"), True)]


PEOPLE = ("ann", "bob", "cat", "dan")


class QaRules(RuleBasedStateMachine):
    """Random asks, upvotes (repeated, taken back, on hidden questions) and moderation."""

    def __init__(self) -> None:
        super().__init__()
        self.talk = session("true", PEOPLE)
        self.asks = 0

    @rule(who=st.sampled_from(PEOPLE), text=st.text(max_size=30))
    def ask(self, who: str, text: str) -> None:
        self.asks += 1
        try:
            self.talk.apply(Ask(who, f"k{self.asks}", text, None, float(self.asks)))
        except Refused as refused:
            assert refused.code == "empty_answer"

    @rule(who=st.sampled_from(PEOPLE), number=st.integers(1, 8), on=st.booleans())
    def upvote(self, who: str, number: int, on: bool) -> None:
        question = self.talk.qa.questions.get(f"q{number}")
        try:
            self.talk.apply(Upvote(who, f"q{number}", on))
        except Refused as refused:
            assert refused.code in ("unknown_question", "own_question")
            assert question is None or not question.public or question.participant == who
        else:
            assert question is not None and question.public

    @rule(
        action=st.sampled_from(("approve", "dismiss", "answer", "pin", "unpin")),
        number=st.integers(1, 8),
    )
    def moderate(self, action: str, number: int) -> None:
        try:
            self.talk.apply(ModerateQuestion(action, f"q{number}"))
        except Refused as refused:
            assert refused.code in ("unknown_question", "bad_transition", "not_approved")

    @invariant()
    def counts_are_a_recount_of_one_upvote_per_person(self) -> None:
        qa = self.talk.qa
        for question in qa.questions.values():
            assert question.participant not in question.voters
            recount = sum(question.id in qa.upvoted_by(who) for who in PEOPLE)
            assert question.votes == recount

    @invariant()
    def nobody_sees_what_others_have_pending(self) -> None:
        qa = self.talk.qa
        hidden = {q.id for q in qa.questions.values() if not q.public}
        for role in ("audience", "display"):
            shown = questions_message(self.talk, role)  # type: ignore[arg-type]
            assert not hidden & {q.id for q in shown.top}
            assert shown.pinned is None or shown.pinned.id not in hidden
        for who in PEOPLE:
            for item in my_questions(self.talk, who).asked:
                assert qa.questions[item.id].participant == who
                assert item.state != "dismissed"

    @invariant()
    def the_list_is_ranked_by_upvotes_then_age(self) -> None:
        top = questions_message(self.talk, "audience").top
        keys = [(-q.votes, int(q.id[1:])) for q in top]
        assert keys == sorted(keys)


QaRules.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestQaRules = QaRules.TestCase
