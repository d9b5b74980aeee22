"""The ideas board at the session level: proposing, dot voting, moderation, merging, closing
proposing, exports, deletion, resends and replays."""

from __future__ import annotations

from pathlib import Path

from server.commands import Forget, Join, Moderate, TallyChanged, Vote, VoteCast
from server.kinds.ideas import AUDIENCE_NEW, AUDIENCE_TOP, IdeasLive
from server.session import Session
from server.store import redacted
from slides import parse_deck
from tests.kindsdeck import answer, items, on_poll, refused, states

IDEAS_TEXT = (Path(__file__).parent / "decks" / "ideas.md").read_text()
IDEAS = parse_deck(IDEAS_TEXT, "ideas.md")


def board(poll: str = "board", *people: str) -> Session:
    """A session on one of the ideas deck's boards, voting open."""
    return on_poll(poll, *people, deck=IDEAS)


def live(session: Session, poll: str = "board") -> IdeasLive:
    answers = session.polls[poll].answers
    assert isinstance(answers, IdeasLive)
    return answers


def test_the_deck_gives_an_ideas_board_its_settings_and_defaults() -> None:
    polls = {s.poll.id: s.poll for s in IDEAS.slides if s.poll is not None}
    board_poll, vetted = polls["board"], polls["vetted"]
    assert board_poll.type == "ideas" and vetted.type == "ideas"
    assert (board_poll.votes_per_person, board_poll.ideas, board_poll.max_length) == (3, 3, 280)
    assert board_poll.moderation == "after"
    assert (vetted.votes_per_person, vetted.ideas, vetted.max_length) == (2, 2, 80)
    assert vetted.moderation == "before"


def test_ideas_are_ranked_by_votes_then_by_when_they_were_proposed() -> None:
    session = board()
    answer(session, "ann", "board", "Go to where people already are")
    answer(session, "bob", "board", "Text message reminders")
    answer(session, "cat", "board", "Childcare at meetings")
    assert items(session, "board") == [
        ("Go to where people already are", 0),
        ("Text message reminders", 0),
        ("Childcare at meetings", 0),
    ], "no votes yet: the order they came in"
    events = answer(session, "ann", "board", ["i3", "i2"])
    assert [type(e) for e in events] == [VoteCast, TallyChanged]
    answer(session, "bob", "board", ["i3"])
    assert items(session, "board") == [
        ("Childcare at meetings", 2),
        ("Text message reminders", 1),
        ("Go to where people already are", 0),
    ]
    assert items(session, "board", "audience") == [
        ("Go to where people already are", 0),
        ("Text message reminders", 0),
        ("Childcare at meetings", 0),
    ], "phones see the ideas in the order proposed, without counts: no bandwagon"
    assert live(session).mine("ann") == ["i3", "i2"]
    assert live(session).mine("cat") == [], "proposed, but no votes yet"
    assert session.polls["board"].voters == 3


def test_one_dot_per_idea_and_no_more_dots_than_allowed() -> None:
    session = board()
    answer(session, "ann", "board", "one")
    answer(session, "bob", "board", "two")
    answer(session, "cat", "board", "three")
    answer(session, "cat", "board", "four")
    answer(session, "ann", "board", ["i1", "i1", "i1"])
    assert items(session, "board")[0] == ("one", 1), "the same idea three times is one dot"
    refused(session, Vote("ann", "board", ["i1", "i2", "i3", "i4"], "x1", 1.0), "too_many_votes")
    answer(session, "ann", "board", ["i1", "i2", "i3"])
    assert [count for _, count in items(session, "board")] == [1, 1, 1, 0]


def test_a_vote_can_be_taken_back_and_given_to_another_idea() -> None:
    session = board()
    answer(session, "ann", "board", "one")
    answer(session, "bob", "board", "two")
    answer(session, "cat", "board", ["i1"])
    answer(session, "cat", "board", ["i2"])
    assert items(session, "board") == [("two", 1), ("one", 0)]
    answer(session, "cat", "board", [])
    assert items(session, "board") == [("one", 0), ("two", 0)]
    again = answer(session, "cat", "board", [])
    assert [type(e) for e in again] == [VoteCast], "the same votes again change no screen"
    assert live(session).mine("cat") == []


def test_a_resent_or_replayed_vote_counts_once() -> None:
    session = board()
    answer(session, "ann", "board", "one")
    first = answer(session, "bob", "board", ["i1"], vote_id="dots-1")
    again = answer(session, "bob", "board", ["i1"], vote_id="dots-1")
    assert [type(e) for e in first] == [VoteCast, TallyChanged]
    assert len(again) == 1 and isinstance(again[0], VoteCast) and again[0].replay
    other_tab = answer(session, "bob", "board", ["i1"], vote_id="dots-2")
    assert [type(e) for e in other_tab] == [VoteCast], "the same dots from a second tab"
    assert items(session, "board") == [("one", 1)]


def test_approve_first_ideas_reach_no_screen_and_take_no_votes_until_approved() -> None:
    session = board("vetted")
    answer(session, "ann", "vetted", "A pilot in a library")
    assert items(session, "vetted") == [] and items(session, "vetted", "audience") == []
    assert states(session, "vetted") == {"i1": "pending"}
    own = live(session, "vetted").own("ann")
    assert [(i.id, i.text, i.state) for i in own] == [("i1", "A pilot in a library", "pending")]
    assert live(session, "vetted").own("bob") == [], "nobody else sees it"
    # Voting for a pending idea reads exactly as voting for one that does not exist.
    refused(session, Vote("bob", "vetted", ["i1"], "p1", 1.0), "unknown_idea")
    refused(session, Vote("bob", "vetted", ["i9"], "p2", 1.0), "unknown_idea")
    refused(session, Vote("ann", "vetted", ["i1"], "p3", 1.0), "unknown_idea")
    assert session.apply(Moderate("vetted", "approve", "i1")) == [TallyChanged("vetted")]
    answer(session, "bob", "vetted", ["i1"])
    assert items(session, "vetted", "audience") == [("A pilot in a library", 0)]
    assert items(session, "vetted") == [("A pilot in a library", 1)]
    assert [(i.state, i.count) for i in live(session, "vetted").own("ann")] == [("shown", 1)]


def test_a_hidden_idea_gives_its_votes_back_and_reads_pending_to_its_proposer() -> None:
    session = board()
    answer(session, "ann", "board", "something rude")
    answer(session, "bob", "board", "fine idea")
    answer(session, "cat", "board", ["i1", "i2"])
    assert session.apply(Moderate("board", "hide", "i1")) == [TallyChanged("board")]
    assert items(session, "board") == [("fine idea", 1)]
    assert live(session).mine("cat") == ["i2"], "the dot on the hidden idea is handed back"
    assert [i.state for i in live(session).own("ann")] == ["pending"], "not told it was hidden"
    refused(session, Vote("cat", "board", ["i1"], "h1", 1.0), "unknown_idea")


def test_merging_combines_votes_and_counts_a_person_who_voted_for_both_once() -> None:
    session = board("board", "ann", "bob", "cat", "dan")
    answer(session, "ann", "board", "More buses at night")
    answer(session, "bob", "board", "Night buses")
    answer(session, "cat", "board", "Cheaper parking")
    answer(session, "ann", "board", ["i1"])
    answer(session, "bob", "board", ["i2", "i3"])
    answer(session, "dan", "board", ["i1", "i2"])
    assert session.apply(Moderate("board", "merge", "i2", "i1")) == [TallyChanged("board")]
    assert items(session, "board") == [("More buses at night", 3), ("Cheaper parking", 1)]
    assert live(session).mine("dan") == ["i1"], "voted for both: one dot, the other back"
    assert live(session).mine("bob") == ["i1", "i3"]
    assert live(session).tally("audience").merged == {"i2": "i1"}, "phones follow the merge"
    # Bob's phone still sends the merged idea's id: it means the idea it joined.
    answer(session, "bob", "board", ["i2", "i3"])
    assert live(session).mine("bob") == ["i1", "i3"]
    assert [(i.id, i.text, i.count) for i in live(session).own("bob")] == [
        ("i1", "Night buses", 3)
    ], "the proposer of a merged idea follows the idea it joined"
    refused(session, Moderate("board", "merge", "i2", "i3"), "unknown_item")
    refused(session, Moderate("board", "merge", "i1", "i1"), "bad_merge")
    rows = live(session).rows()
    assert [(r.key, r.count, r.state) for r in rows] == [
        ("i1", 3, "shown"),
        ("i3", 1, "shown"),
        ("i2", 0, "merged into i1"),
    ]


def test_closing_proposing_keeps_voting_open() -> None:
    session = board()
    answer(session, "ann", "board", "one")
    assert session.apply(Moderate("board", "close_proposing", "")) == [TallyChanged("board")]
    assert session.apply(Moderate("board", "close_proposing", "")) == []
    assert live(session).tally("audience").proposing is False
    refused(session, Vote("bob", "board", "two", "c1", 1.0), "proposing_closed")
    answer(session, "bob", "board", ["i1"])
    assert items(session, "board") == [("one", 1)]
    session.apply(Moderate("board", "open_proposing", ""))
    answer(session, "bob", "board", "two")
    assert len(items(session, "board")) == 2


def test_ideas_per_person_length_and_empty_ideas_are_limited() -> None:
    session = board("vetted")
    answer(session, "ann", "vetted", "one")
    again = answer(session, "ann", "vetted", "  ONE ")
    assert [type(e) for e in again] == [VoteCast], "the same idea again is not a new one"
    answer(session, "ann", "vetted", "two")
    refused(session, Vote("ann", "vetted", "three", "l1", 1.0), "idea_limit")
    refused(session, Vote("bob", "vetted", "x" * 81, "l2", 1.0), "too_long")
    refused(session, Vote("bob", "vetted", " \u200b ", "l3", 1.0), "empty_answer")
    refused(session, Vote("bob", "vetted", 3, "l4", 1.0), "bad_answer")
    assert len(states(session, "vetted")) == 2, "the same idea twice from one phone is one idea"


def test_phones_get_the_best_and_the_newest_ideas_not_the_whole_board() -> None:
    people = [f"p{n}" for n in range(100)]
    session = board("board", *people)
    for n, who in enumerate(people):
        answer(session, who, "board", f"idea {n}")
    for who in people[:10]:
        answer(session, who, "board", ["i50"])
    phone = live(session).tally("audience").items or []
    assert len(phone) == AUDIENCE_TOP + AUDIENCE_NEW
    texts = [i.text for i in phone]
    assert "idea 49" in texts, "the most voted idea is on every phone"
    assert "idea 99" in texts, "the newest idea is seen, so it can rise"
    assert texts == sorted(texts, key=lambda t: int(t.split()[1])), "in the order proposed"
    ranked = [i.text for i in live(session).tally("display").items or []]
    assert ranked[0] == "idea 49"
    # A vote that does not change which ideas are the best sends phones the same frame.
    before = live(session).tally("audience")
    answer(session, "p0", "board", ["i50", "i1"])
    assert live(session).tally("audience") == before
    assert len(live(session).tally("display").items or []) == 20


def test_forgetting_blanks_ones_ideas_and_hands_their_votes_back() -> None:
    session = board()
    answer(session, "ann", "board", "my idea")
    answer(session, "bob", "board", "bob's idea")
    answer(session, "ann", "board", ["i2"])
    answer(session, "bob", "board", ["i1", "i2"])
    events = session.apply(Forget("ann"))
    assert TallyChanged("board") in events
    assert items(session, "board") == [("bob's idea", 1)], "her vote goes with her idea"
    assert live(session).mine("bob") == ["i2"]
    assert live(session).mine("ann") == []
    assert live(session).own("ann") == []
    assert "my idea" not in str(live(session).rows())


def test_after_forgetting_the_redacted_log_replays_to_the_same_board() -> None:
    log = [
        Join("ann"), Join("bob"),
        Vote("ann", "board", "my idea", "a1", 1.0),
        Vote("bob", "board", "bob's idea", "b1", 2.0),
        Vote("ann", "board", ["i2"], "a2", 3.0),
        Vote("bob", "board", ["i1", "i2"], "b2", 4.0),
        Forget("ann"),
        Vote("bob", "board", ["i2"], "b3", 5.0),
    ]  # fmt: skip
    running = board("board", "ann", "bob")
    for command in log[2:]:
        running.apply(command)
    # What the log holds once ann's texts are overwritten (`Room._forgotten`).
    stored = [(redacted(command, "ann"), {}) for command in log]
    replayed = Session(IDEAS)
    replayed.restore(stored)
    for role in ("presenter", "display", "audience"):
        assert live(replayed).tally(role) == live(running).tally(role)  # type: ignore[arg-type]
    assert live(replayed).mine("ann") == live(running).mine("ann") == []
    assert live(replayed).mine("bob") == ["i2"]


def test_the_log_replays_to_the_same_board() -> None:
    session = board("vetted", "ann", "bob", "cat")
    log = [
        Join("ann"), Join("bob"), Join("cat"),
        Vote("ann", "vetted", "first", "a", 1.0),
        Vote("bob", "vetted", "second", "b", 2.0),
        Moderate("vetted", "approve", "i1"),
        Moderate("vetted", "approve", "i2"),
        Vote("cat", "vetted", ["i1", "i2"], "c", 3.0),
        Moderate("vetted", "merge", "i2", "i1"),
        Moderate("vetted", "close_proposing", ""),
    ]  # fmt: skip
    for command in log[3:]:
        session.apply(command)
    replayed = Session(IDEAS)
    assert replayed.restore([(command, {}) for command in log]) == 0
    for role in ("presenter", "display", "audience"):
        assert live(replayed, "vetted").tally(role) == live(session, "vetted").tally(role)  # type: ignore[arg-type]
    assert live(replayed, "vetted").mine("cat") == ["i1"]
    assert live(replayed, "vetted").rows() == live(session, "vetted").rows()
