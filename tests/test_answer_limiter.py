"""The per-participant limit on text answers, as bookkeeping (the live test is in
tests/test_kinds_live.py)."""

from __future__ import annotations

from server.limits import AnswerLimiter


def test_a_burst_then_the_sustained_rate_per_participant() -> None:
    limiter = AnswerLimiter(rate=0.5, burst=3)
    assert [limiter.allow("ann", 0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("bob", 0.0), "another participant has their own allowance"
    assert not limiter.allow("ann", 1.0), "half an answer a second: not yet"
    assert limiter.allow("ann", 2.1)


def test_idle_participants_are_forgotten_once_there_are_many() -> None:
    limiter = AnswerLimiter(rate=1.0, burst=2)
    limiter.PRUNE_AT = 100  # type: ignore[misc]
    for n in range(99):
        limiter.allow(f"p{n}", 0.0)
    limiter.allow("busy", 9.5)
    limiter.allow("busy", 9.5)
    assert limiter.allow("late", 10.0)
    assert set(limiter.buckets) == {"busy", "late"}, "only full buckets are forgotten"
    assert not limiter.allow("busy", 10.0), "a busy one keeps what it has used"
