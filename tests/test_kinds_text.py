"""Open text at the session level: approve-first moderation, the wall, limits, resends, reloads."""

from __future__ import annotations

from server.commands import Moderate, TallyChanged, Vote, VoteCast
from server.kinds.text import WALL
from server.session import Session
from slides import parse_deck
from tests.kindsdeck import KINDS_TEXT, answer, items, on_poll, refused, states


def test_approve_first_answers_reach_no_screen_until_approved() -> None:
    session = on_poll("ask")
    events = answer(session, "ann", "ask", "How do we reach people who never join?")
    assert [type(e) for e in events] == [VoteCast, TallyChanged]
    assert items(session, "ask") == [], "pending: not on the display"
    assert items(session, "ask", "audience") == [], "pending: not on phones"
    assert states(session, "ask") == {"a1": "pending"}, "the presenter sees it, to decide"
    assert session.polls["ask"].answers.mine("ann") == ["How do we reach people who never join?"]

    assert session.apply(Moderate("ask", "approve", "a1")) == [TallyChanged("ask")]
    assert items(session, "ask") == [("How do we reach people who never join?", 1)]
    assert session.apply(Moderate("ask", "approve", "a1")) == [], "approved already"
    assert session.apply(Moderate("ask", "hide", "a1")) == [TallyChanged("ask")]
    assert items(session, "ask") == []
    assert states(session, "ask") == {"a1": "hidden"}
    assert session.apply(Moderate("ask", "show", "a1")) == [TallyChanged("ask")]
    assert [text for text, _ in items(session, "ask")] == ["How do we reach people who never join?"]


def test_pending_and_hidden_answers_are_marked_in_the_export() -> None:
    session = on_poll("ask")
    answer(session, "ann", "ask", "first")
    answer(session, "bob", "ask", "second")
    answer(session, "cat", "ask", "third")
    session.apply(Moderate("ask", "approve", "a2"))
    session.apply(Moderate("ask", "approve", "a3"))
    session.apply(Moderate("ask", "hide", "a3"))
    rows = session.polls["ask"].answers.rows()
    assert [(r.key, r.text, r.hidden) for r in rows] == [
        ("a1", "first", True),
        ("a2", "second", False),
        ("a3", "third", True),
    ]


def test_shown_as_they_arrive_and_the_presenter_can_hide_one() -> None:
    session = on_poll("wall")
    answer(session, "ann", "wall", "Great talk")
    answer(session, "bob", "wall", "rude remark")
    assert [text for text, _ in items(session, "wall")] == ["Great talk", "rude remark"]
    session.apply(Moderate("wall", "hide", "a2"))
    assert items(session, "wall") == [("Great talk", 1)]
    assert session.polls["wall"].answers.voters == 2, "a hidden answer still came from someone"


def test_answers_per_participant_are_limited() -> None:
    session = on_poll("wall")
    answer(session, "ann", "wall", "one")
    refused(session, Vote("ann", "wall", "two", "w2", 1.0), "answer_limit")
    session = on_poll("ask")
    answer(session, "ann", "ask", "one")
    answer(session, "ann", "ask", "two")
    refused(session, Vote("ann", "ask", "three", "a3", 1.0), "answer_limit")
    answer(session, "bob", "ask", "bob's own")
    assert session.polls["ask"].answers.mine("ann") == ["one", "two"]


def test_the_same_text_twice_is_two_answers_but_a_resend_is_one() -> None:
    session = on_poll("ask")
    answer(session, "ann", "ask", "again", vote_id="r1")
    events = answer(session, "ann", "ask", "again", vote_id="r1")
    assert len(events) == 1 and isinstance(events[0], VoteCast) and events[0].replay
    assert session.polls["ask"].answers.mine("ann") == ["again"], "resent: counted once"
    answer(session, "ann", "ask", "again", vote_id="r2")
    assert session.polls["ask"].answers.mine("ann") == ["again", "again"], "meant twice"
    refused(session, Vote("bob", "ask", "mine now", "r1", 1.0), "duplicate_vote_id")


def test_text_is_cleaned_and_limited_in_characters_and_bytes() -> None:
    session = on_poll("wall", "ann", "bob", "cat", "dan", "eve")
    refused(session, Vote("ann", "wall", " \u200b\u2060 ", "t1", 1.0), "empty_answer")
    refused(session, Vote("ann", "wall", "x" * 41, "t2", 1.0), "too_long")
    refused(session, Vote("ann", "wall", "😀" * 41, "t3", 1.0), "too_long")
    refused(session, Vote("ann", "wall", ["a list"], "t4", 1.0), "bad_answer")
    refused(session, Vote("ann", "wall", 1, "t5", 1.0), "bad_answer")
    answer(session, "ann", "wall", "😀" * 40)
    answer(session, "bob", "wall", "eva\u202eli\u200bve  \n\n on   one\tline")
    answer(session, "cat", "wall", "<script>alert(1)</script>")
    texts = [text for text, _ in items(session, "wall")]
    assert texts == ["😀" * 40, "evalive on one line", "<script>alert(1)</script>"], (
        "markup is kept as the text it is: the screens show it, never run it"
    )


def test_the_wall_shows_the_newest_answers_the_presenter_sees_more() -> None:
    people = [f"p{n}" for n in range(WALL + 10)]
    session = on_poll("wall", *people)
    for n, person in enumerate(people):
        answer(session, person, "wall", f"answer {n}")
    shown = [text for text, _ in items(session, "wall")]
    assert shown == [f"answer {n}" for n in range(10, WALL + 10)], "newest 60, in order"
    assert len(items(session, "wall", "presenter")) == WALL + 10


def test_moderation_refusals() -> None:
    session = on_poll("ask")
    answer(session, "ann", "ask", "a question")
    refused(session, Moderate("ask", "approve", "a9"), "unknown_item")
    refused(session, Moderate("ask", "delete", "a1"), "unknown_action")


def test_ids_and_decisions_come_back_the_same_after_a_restart() -> None:
    session = on_poll("ask")
    log = [
        Vote("ann", "ask", "first", "i1", 1.0),
        Vote("bob", "ask", "second", "i2", 1.0),
        Moderate("ask", "approve", "a2"),
        Vote("ann", "ask", "third", "i3", 1.0),
        Moderate("ask", "hide", "a1"),
    ]
    for command in log:
        session.apply(command)
    restarted = on_poll("ask")
    assert restarted.restore((command, {}) for command in log) == 0
    assert (
        states(restarted, "ask")
        == states(session, "ask")
        == {
            "a1": "hidden",
            "a2": "shown",
            "a3": "pending",
        }
    )


def test_a_deck_reload_keeps_answers_and_decisions() -> None:
    session = on_poll("ask")
    answer(session, "ann", "ask", "kept")
    answer(session, "bob", "ask", "waiting")
    session.apply(Moderate("ask", "approve", "a1"))
    edited = parse_deck(KINDS_TEXT.replace("What would you ask?", "What now?"), "kinds.md")
    assert session.reload(edited).changed == ["ask"]
    assert items(session, "ask") == [("kept", 1)]
    assert states(session, "ask") == {"a1": "shown", "a2": "pending"}
    answer(session, "ann", "ask", "after the reload")
    assert states(session, "ask")["a3"] == "pending", "ids go on where they were"
    refused(session, Vote("ann", "ask", "too many", "x", 1.0), "answer_limit")


def test_nobody_changes_another_participants_answers() -> None:
    session: Session = on_poll("ask")
    answer(session, "ann", "ask", "ann's")
    answer(session, "bob", "ask", "bob's")
    answer(session, "bob", "ask", "bob's again")
    refused(session, Vote("bob", "ask", "bob's third", "n3", 1.0), "answer_limit")
    assert session.polls["ask"].answers.mine("ann") == ["ann's"]


def test_listed_words_are_masked_on_the_wall_and_kept_in_the_data() -> None:
    session = on_poll("wall")
    answer(session, "ann", "wall", "What a load of shit, honestly")
    for role in ("display", "audience", "presenter"):
        assert items(session, "wall", role) == [("What a load of ****, honestly", 1)]
    wall = session.polls["wall"].answers
    assert [r.text for r in wall.rows()] == ["What a load of shit, honestly"]
    assert wall.mine("ann") == ["What a load of shit, honestly"]
