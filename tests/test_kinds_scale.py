"""Rating scale at the session level: distribution, mean, median, changes, resends, reloads."""

from __future__ import annotations

import pytest

from server.commands import Moderate, TallyChanged, Vote, VoteCast
from slides import parse_deck
from tests.kindsdeck import KINDS_TEXT, answer, on_poll, refused


def figures(session: object, poll: str = "rate") -> tuple[list[int], float | None, float | None]:
    tally = session.polls[poll].answers.tally("display")  # type: ignore[attr-defined]
    return tally.counts, tally.mean, tally.median


@pytest.mark.parametrize(
    ("ratings", "mean", "median"),
    [
        ([4], 4.0, 4.0),
        ([1, 2, 4, 5], 3.0, 3.0),  # an even count: the median is between the middle two
        ([1, 2, 2], 1.67, 2.0),  # the mean to two places
        ([5, 5, 5, 1], 4.0, 5.0),
    ],
)
def test_distribution_mean_and_median(ratings: list[int], mean: float, median: float) -> None:
    people = [f"p{n}" for n in range(len(ratings))]
    session = on_poll("rate", *people)
    for person, rating in zip(people, ratings, strict=True):
        answer(session, person, "rate", rating)
    counts, got_mean, got_median = figures(session)
    assert counts == [ratings.count(point) for point in range(1, 6)]
    assert (got_mean, got_median) == (mean, median)
    assert session.polls["rate"].answers.summary() == {"mean": mean, "median": median}


def test_no_ratings_no_figures() -> None:
    assert figures(on_poll("rate")) == ([0, 0, 0, 0, 0], None, None)


def test_a_rating_can_be_moved_and_counts_once() -> None:
    session = on_poll("rate")
    answer(session, "ann", "rate", 2)
    events = answer(session, "ann", "rate", 5)
    assert [type(e) for e in events] == [VoteCast, TallyChanged]
    assert events[0].previous == 2  # type: ignore[union-attr]
    assert figures(session) == ([0, 0, 0, 0, 1], 5.0, 5.0)
    assert [type(e) for e in answer(session, "ann", "rate", 5)] == [VoteCast], "no change"


def test_a_resent_rating_is_acknowledged_and_counted_once() -> None:
    session = on_poll("rate")
    answer(session, "ann", "rate", 3, vote_id="same")
    events = answer(session, "ann", "rate", 3, vote_id="same")
    assert len(events) == 1 and isinstance(events[0], VoteCast) and events[0].replay
    answer(session, "bob", "rate", 4)
    assert figures(session) == ([0, 0, 1, 1, 0], 3.5, 3.5)
    refused(session, Vote("bob", "rate", 1, "same", 1.0), "duplicate_vote_id")


def test_only_whole_numbers_on_the_scale() -> None:
    session = on_poll("rate")
    refused(session, Vote("ann", "rate", 0, "o1", 1.0), "unknown_option")
    refused(session, Vote("ann", "rate", 6, "o2", 1.0), "unknown_option")
    refused(session, Vote("ann", "rate", True, "o3", 1.0), "bad_answer")
    refused(session, Vote("ann", "rate", "3", "o4", 1.0), "bad_answer")
    refused(session, Vote("ann", "rate", ["3"], "o5", 1.0), "bad_answer")
    refused(session, Moderate("rate", "hide", "3"), "not_moderated")


def test_a_scale_below_zero() -> None:
    deck = parse_deck(
        "# Hi\n\n---\npoll: {id: mood, type: scale, min: -2, max: 2}\n---\n\n# Mood?\n", "d.md"
    )
    session = on_poll("mood", deck=deck)
    answer(session, "ann", "mood", -2)
    answer(session, "bob", "mood", 1)
    refused(session, Vote("cat", "mood", -3, "m", 1.0), "unknown_option")
    assert figures(session, "mood") == ([1, 0, 0, 1, 0], -0.5, -0.5)
    rows = session.polls["mood"].answers.rows()
    assert [(r.text, r.count) for r in rows] == [("-2", 1), ("-1", 0), ("0", 0), ("1", 1), ("2", 0)]


def test_a_reload_keeps_the_ratings_still_on_the_scale() -> None:
    session = on_poll("rate", "ann", "bob", "cat")
    answer(session, "ann", "rate", 1)
    answer(session, "bob", "rate", 3)
    answer(session, "cat", "rate", 5)
    edited = parse_deck(KINDS_TEXT.replace("min: 1, max: 5", "min: 1, max: 3"), "kinds.md")
    assert session.reload(edited).changed == ["rate"]
    assert figures(session) == ([1, 0, 1], 2.0, 2.0)
    assert session.polls["rate"].answers.mine("cat") is None
    answer(session, "cat", "rate", 2)
    assert figures(session) == ([1, 1, 1], 2.0, 2.0)


def test_a_resend_of_a_rating_a_reload_dropped_is_not_acknowledged_as_taken() -> None:
    session = on_poll("rate")
    answer(session, "ann", "rate", 5, vote_id="five")
    edited = parse_deck(KINDS_TEXT.replace("min: 1, max: 5", "min: 1, max: 3"), "kinds.md")
    session.reload(edited)
    assert session.polls["rate"].answers.mine("ann") is None, "5 is off the new scale"
    # The phone, reconnecting, resends its vote: it must hear that it no longer counts.
    refused(session, Vote("ann", "rate", 5, "five", 2.0), "unknown_option")
    answer(session, "ann", "rate", 3, vote_id="three")
    assert figures(session) == ([0, 0, 1], 3.0, 3.0)
