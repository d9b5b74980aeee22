"""The `--workers` supervisor's restart rule (the processes themselves: tests/test_redis.py)."""

from __future__ import annotations

from itertools import pairwise

from server.workers import MAX_BACKOFF, POLL, restart_delay


def test_the_wait_before_restarting_a_worker_doubles_while_it_keeps_dying() -> None:
    # A deck broken on disk kills every new worker at start: without a backoff the
    # supervisor would start one five times a second for as long as the talk lasts.
    waits = []
    wait = 0.0
    for _ in range(10):
        wait = restart_delay(lived=0.5, previous=wait)
        waits.append(wait)
    assert waits[0] == POLL
    assert all(b >= a for a, b in pairwise(waits))
    assert waits[-1] == MAX_BACKOFF


def test_no_wait_before_restarting_a_worker_that_ran_a_while() -> None:
    # Killed mid-talk after a long life: its phones are waiting, so no wait at all.
    assert restart_delay(lived=MAX_BACKOFF + 60, previous=MAX_BACKOFF) == 0.0
