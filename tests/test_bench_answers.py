"""The bench's phones and checks for poll kinds: what they send, and that a wrong tally fails."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from server.bench import answers
from server.kinds.base import Timing
from server.kinds.choice import score
from server.text import key


def test_every_spelling_a_phone_types_is_the_word_it_means() -> None:
    # The harness counts words by what they mean; the server's normalisation must agree.
    rng = random.Random(3)
    vocabulary = answers.vocabulary(500)
    assert len(set(vocabulary)) == 500
    spellings = {answers.typed(word, rng) for word in vocabulary for _ in range(40)}
    assert {s for s in spellings if s != key(s)}  # some need normalising
    for word in vocabulary:
        for _ in range(40):
            assert key(answers.typed(word, rng)) == word


def test_zipf_words_collide() -> None:
    rng = random.Random(1)
    zipf = answers.Zipf(answers.vocabulary(20_000))
    drawn = Counter(zipf.draw(rng) for _ in range(15_000))
    assert 1_000 < len(drawn) < 10_000
    assert drawn.most_common(1)[0][1] > 500


def test_the_scoring_rule_agrees_with_the_server() -> None:
    for elapsed in (0.0, 0.5, 0.51, 3.0, 7.25, 11.9, 12.0, 30.0):
        assert answers.expected_points(1000, elapsed, 12.0) == score(1000, Timing(elapsed, 12.0))
    assert answers.expected_points(1000, 12.0, 12.0) == 500


CLOUD = Counter({"trust": 5, "listening": 3, "open": 2, "care": 1})


def cloud(*items: tuple[str, int], voters: int = 4) -> dict[str, object]:
    return {"voters": voters, "items": [{"id": w, "text": w, "count": n} for w, n in items]}


def test_an_exact_cloud_passes() -> None:
    exact = cloud(("trust", 5), ("listening", 3), ("open", 2))
    assert answers.check_words(CLOUD, 4, exact, top=3) == []


@pytest.mark.parametrize(
    "tally",
    [
        cloud(("trust", 4), ("listening", 3), ("open", 2)),  # one word lost
        cloud(("trust", 5), ("listening", 3), ("care", 1)),  # a word that outranks one left out
        cloud(("trust", 5), ("listening", 3)),  # too few
        cloud(("trust", 5), ("trust", 5), ("listening", 3)),  # twice
        cloud(("trust", 5), ("listening", 3), ("open", 2), voters=3),
    ],
)
def test_a_wrong_cloud_fails(tally: dict[str, object]) -> None:
    assert answers.check_words(CLOUD, 4, tally, top=3)


def test_texts_scale_and_exports_fail_when_wrong() -> None:
    sent = Counter({"a?": 1, "b.": 2})
    wall = {"voters": 3, "items": [{"text": "a?"}, {"text": "b."}, {"text": "b."}]}
    assert answers.check_texts(sent, 3, wall, 60) == []
    assert answers.check_texts(sent, 3, {**wall, "items": wall["items"][:2]}, 60)
    assert answers.check_texts(sent, 3, {**wall, "items": [{"text": "c"}] * 3}, 60)
    scale = {"voters": 3, "counts": [1, 0, 2], "mean": 1.33, "median": 2.0}
    assert answers.check_scale([1, 0, 2], 0, 3, scale) == []
    assert answers.check_scale([1, 0, 2], 0, 3, {**scale, "median": 1.0})
    assert answers.check_scale([1, 1, 1], 0, 3, scale)
    poll = {"voters": 3, "options": [{"key": "a?", "text": "a?", "votes": 1, "hidden": False}]}
    assert answers.check_export("text", Counter({"a?": 1}), 3, poll) == []
    assert answers.check_export("words", Counter({"a?": 2}), 3, poll)
    assert answers.check_export("scale", [1], 2, poll)


def test_frame_rate_counts_the_busiest_second() -> None:
    figures = answers.frame_rate([0.0, 0.1, 0.2, 1.05, 1.1, 1.15, 1.2], [10, 20, 30, 5, 5, 5, 5])
    assert figures["most_per_s"] == 4 and figures["frames"] == 7 and figures["max_bytes"] == 30
