"""The stall monitor reports what held the loop, and the GC policy freezes what it found alive.

These time our own measurement, not the server's speed: a call that holds the loop for a
known time must be reported as at least that long.
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from server.stalls import GcPolicy, StallMonitor, Window, combine

# Linux keeps, per thread, the time it waited for a core (read by the monitor).
SCHEDSTAT = Path("/proc/thread-self/schedstat").exists()


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


async def window_holding(
    monitor: StallMonitor, hold: Callable[[float], None], seconds: float
) -> Window:
    """The monitor's window around one call that holds the loop: `hold(seconds)`."""
    monitor.start()
    await ticks(monitor, 2)
    monitor.take()
    asyncio.get_running_loop().call_soon(hold, seconds)
    await ticks(monitor, 2)
    return monitor.take()


async def test_a_blocking_call_is_reported_at_least_as_long_as_it_was(
    monitor: StallMonitor,
) -> None:
    window = await window_holding(monitor, hold_loop_asleep, 0.12)
    assert window.longest_stall_ms >= 120
    assert window.stalls >= 1
    # A sleeping thread is not on a CPU: the kernel, not our code, had the time.
    assert window.longest_busy_ms < 60
    assert window.busy_stalls == 0
    # But it did not wait for a core either: the sleep is ours, and held the loop.
    assert window.longest_held_ms >= 110
    assert window.held_stalls >= 1


async def test_a_busy_loop_counts_as_time_on_the_cpu(monitor: StallMonitor) -> None:
    window = await window_holding(monitor, hold_loop_busy, 0.08)
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


def spinners(core: int, count: int) -> list[subprocess.Popen[bytes]]:
    """`count` processes that keep one core busy, at this process's priority."""
    started = []
    for _ in range(count):
        child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        os.sched_setaffinity(child.pid, {core})
        started.append(child)
    return started


async def test_waiting_for_a_core_is_told_apart_from_holding_the_loop(
    monitor: StallMonitor,
) -> None:
    # On a machine shared with other work (the bench's own phones), the kernel also holds
    # the loop, by giving its core to something else. The monitor tells that wait from
    # what the process itself held the loop for, from the kernel's own account.
    assert SCHEDSTAT
    core = min(os.sched_getaffinity(0))
    mask = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})  # this thread (the loop's) only
    busy = spinners(core, 2)
    try:
        # 60 ms of the loop's CPU on a core shared three ways: some 180 ms on the wall clock.
        window = await window_holding(monitor, hold_loop_busy, 0.06)
    finally:
        for child in busy:
            child.kill()
            child.wait()
        os.sched_setaffinity(0, mask)
    assert window.longest_busy_ms >= 55
    assert window.longest_wait_ms >= 30, "the time the core ran the others is a wait"
    assert window.longest_held_ms >= 55, "the loop's own CPU time is held, not waited"
    assert window.longest_held_ms <= window.longest_stall_ms - 30


def test_several_workers_windows_combine_into_the_worst_of_each() -> None:
    quiet = Window(seconds=2.0, longest_stall_ms=4.0, longest_wait_ms=1.0, longest_held_ms=9.0)
    quiet.stalls, quiet.deferred, quiet.gc_ms = 0, 5, 1.5
    held = Window(seconds=2.1, longest_stall_ms=30.0, longest_wait_ms=25.0, longest_held_ms=6.0)
    held.stalls, held.deferred, held.gc_ms = 1, 7, 2.0
    merged = combine([quiet.rounded(), held.rounded()])
    assert merged["longest_stall_ms"] == 30.0
    assert merged["longest_wait_ms"] == 25.0, "the wait inside that longest gap"
    assert merged["longest_held_ms"] == 9.0, "each longest is the longest of any worker"
    assert (merged["stalls"], merged["deferred"], merged["gc_ms"]) == (1, 12, 3.5)
    assert merged["seconds"] == 2.1
    assert combine([quiet.rounded()]) == quiet.rounded()


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
