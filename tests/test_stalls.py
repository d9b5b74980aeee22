"""The stall monitor reports what held the loop, and the GC policy freezes what it found alive.

These time our own measurement, not the server's speed: a call that holds the loop for a
known time must be reported as at least that long.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator

import pytest

from server.stalls import GcPolicy, StallMonitor


@pytest.fixture
def monitor() -> Iterator[StallMonitor]:
    watched = StallMonitor()
    yield watched
    watched.stop()


async def ticks(monitor: StallMonitor, count: int) -> None:
    """Wait for the probe to tick `count` times (it notes a gap only between two ticks)."""
    seen = 0
    done = asyncio.Event()
    tick = monitor._tick

    def counting() -> None:
        nonlocal seen
        tick()
        seen += 1
        if seen >= count:
            done.set()

    monitor._tick = counting  # type: ignore[method-assign]
    try:
        await done.wait()
    finally:
        monitor._tick = tick  # type: ignore[method-assign]


def hold_loop_asleep(seconds: float) -> None:
    """A blocking call: the thread sleeps, the loop can run nothing, no CPU is used."""
    time.sleep(seconds)


def hold_loop_busy(seconds: float) -> None:
    """A blocking computation: `seconds` of this thread's CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def test_a_blocking_call_is_reported_at_least_as_long_as_it_was(
    monitor: StallMonitor,
) -> None:
    monitor.start()
    await ticks(monitor, 2)
    monitor.take()
    asyncio.get_running_loop().call_soon(hold_loop_asleep, 0.12)
    await ticks(monitor, 2)
    window = monitor.take()
    assert window.longest_stall_ms >= 120
    assert window.stalls >= 1
    # A sleeping thread is not on a CPU: the kernel, not our code, had the time.
    assert window.longest_busy_ms < 60
    assert window.busy_stalls == 0


async def test_a_busy_loop_counts_as_time_on_the_cpu(monitor: StallMonitor) -> None:
    monitor.start()
    await ticks(monitor, 2)
    monitor.take()
    asyncio.get_running_loop().call_soon(hold_loop_busy, 0.08)
    await ticks(monitor, 2)
    window = monitor.take()
    assert window.longest_busy_ms >= 80
    assert window.longest_stall_ms >= window.longest_busy_ms
    assert window.busy_stalls >= 1


async def test_each_window_starts_afresh(monitor: StallMonitor) -> None:
    monitor.start()
    await ticks(monitor, 2)
    asyncio.get_running_loop().call_soon(hold_loop_asleep, 0.1)
    await ticks(monitor, 2)
    assert monitor.take().longest_stall_ms >= 100
    await ticks(monitor, 3)
    quiet = monitor.take()
    assert quiet.stalls == 0 and quiet.longest_stall_ms < 100


def cycles(count: int) -> list[list[object]]:
    """Objects that only a collection can free: each list holds itself."""
    made: list[list[object]] = []
    for _ in range(count):
        pair: list[object] = []
        pair.append(pair)
        made.append(pair)
    return made


def test_full_collections_are_timed(monitor: StallMonitor) -> None:
    monitor.install_gc_hook()
    garbage = cycles(200_000)
    del garbage
    monitor.take()  # the collections that making them set off are not this window's
    started = time.perf_counter()
    gc.collect()
    took = (time.perf_counter() - started) * 1000
    window = monitor.take()
    assert window.gen2 == 1
    assert 0 < window.longest_gen2_ms <= took
    assert window.longest_gc_ms >= window.longest_gen2_ms
    assert window.collections >= 1 and window.gc_ms >= window.longest_gen2_ms


def test_the_policy_freezes_what_a_full_collection_found_alive(monitor: StallMonitor) -> None:
    thresholds = gc.get_threshold()
    try:
        GcPolicy(monitor, (5000, 10, 10)).apply()
        assert gc.get_threshold() == (5000, 10, 10)
        assert gc.get_freeze_count() > 0
        frozen = gc.get_freeze_count()
        kept = cycles(50_000)  # alive, so a full collection must keep and may freeze them
        gc.collect()
        assert gc.get_freeze_count() >= frozen + len(kept)
        assert monitor.window.freezes >= 2  # at start and after that collection
        # A frozen object is still freed when nothing refers to it: only cycles are kept.
        assert all(pair[0] is pair for pair in kept)
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
