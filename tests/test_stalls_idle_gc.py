"""Full collections wait for an idle loop (server.stalls.GcPolicy), within a bound.

The policy is driven by hand here: each `tick(gap, cpu)` is what the stall monitor's probe
reports after one of its ticks (the seconds since the last, and the loop thread's CPU
seconds in them), and the clock is a counter the test moves. The collector is real: the
monitor's hook counts every full collection it runs, whoever starts it.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from server.stalls import GcPolicy, StallMonitor

BUSY = (0.002, 0.002)  # a tick after which the loop's thread was on a CPU the whole time
QUIET = (0.01, 0.0)  # a tick with nothing done between


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monitor(monkeypatch: pytest.MonkeyPatch) -> Iterator[StallMonitor]:
    monkeypatch.delenv("HANDSUP_GC", raising=False)
    thresholds = gc.get_threshold()
    watched = StallMonitor()
    yield watched
    watched.stop()
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def policy(monitor: StallMonitor, clock: Clock, **bounds: float) -> GcPolicy:
    """The policy as `handsup serve` applies it, its bounds out of reach unless given."""
    given: dict[str, float] = {"max_young": 10**9, "max_wait": 10**9, "thaw_every": 10**9}
    keeper = GcPolicy(monitor, clock=clock, quiet=0.05, quiet_long=1.0, **(given | bounds))  # type: ignore[arg-type]
    keeper.apply()
    monitor.take()  # the collections `apply` ran are not the test's
    return keeper


def burst(keeper: GcPolicy, messages: int = 30_000) -> list[list[object]]:
    """A busy loop: containers that stay alive (what a room keeps of its answers), enough of
    them for Python to run many young collections, the probe seeing a busy loop meanwhile."""
    kept: list[list[object]] = []
    for n in range(messages):
        kept.append([n])
        if n % 1000 == 0:
            keeper.tick(*BUSY)
    return kept


def test_no_full_collection_runs_while_the_loop_is_busy(monitor: StallMonitor) -> None:
    keeper = policy(monitor, Clock())
    kept = burst(keeper)
    window = monitor.take()
    assert gc.get_count()[2] >= 5  # young collections ran and promoted survivors
    assert window.collections >= 20
    assert window.gen2 == 0
    assert len(kept) == 30_000


def test_main_s_eager_policy_would_have_collected_in_that_burst(
    monitor: StallMonitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the test above tells apart: the same burst under HANDSUP_GC=eager.
    monkeypatch.setenv("HANDSUP_GC", "eager")
    keeper = policy(monitor, Clock())
    burst(keeper)
    assert monitor.take().gen2 >= 1


def test_a_full_collection_runs_once_the_loop_has_been_idle(monitor: StallMonitor) -> None:
    keeper = policy(monitor, Clock())
    kept = burst(keeper)
    for _ in range(4):  # 40 ms of quiet: not yet
        keeper.tick(*QUIET)
    assert monitor.window.gen2 == 0
    frozen = gc.get_freeze_count()
    keeper.tick(*QUIET)  # 50 ms
    window = monitor.take()
    assert (window.gen2, window.idle_gen2, window.bound_freezes) == (1, 1, 0)
    # What it found alive is frozen, and nothing is left for another collection to walk.
    assert gc.get_freeze_count() >= frozen + len(kept)
    assert gc.get_count()[2] == 0
    for _ in range(20):
        keeper.tick(*QUIET)
    assert monitor.take().gen2 == 0


def test_work_on_the_loop_starts_the_quiet_afresh(monitor: StallMonitor) -> None:
    keeper = policy(monitor, Clock())
    burst(keeper)
    for _ in range(4):
        keeper.tick(*QUIET)
    keeper.tick(0.002, 0.0005)  # a message handled: half a millisecond of work
    for _ in range(4):
        keeper.tick(*QUIET)
    assert monitor.window.gen2 == 0
    keeper.tick(*QUIET)
    assert monitor.window.gen2 == 1


def test_a_room_that_never_goes_quiet_has_its_pile_frozen_at_the_bound(
    monitor: StallMonitor,
) -> None:
    keeper = policy(monitor, Clock(), max_young=5)
    burst(keeper, 8_000)  # a few young collections: under the bound
    assert 0 < gc.get_count()[2] < 5
    assert monitor.window.bound_freezes == 0
    frozen = gc.get_freeze_count()
    kept = burst(keeper, 30_000)
    window = monitor.take()
    # Frozen as it was, unwalked: no full collection, no pause for one.
    assert window.bound_freezes >= 1 and window.gen2 == 0
    assert gc.get_freeze_count() > frozen + 5_000 and len(kept) == 30_000
    # What piled up since is still collected at the next quiet moment, and only that.
    for _ in range(5):
        keeper.tick(*QUIET)
    assert monitor.take().idle_gen2 == (1 if gc.get_count()[2] == 0 else 0)


def test_garbage_just_made_is_not_frozen_with_the_pile(monitor: StallMonitor) -> None:
    keeper = policy(monitor, Clock())
    burst(keeper, 8_000)
    assert gc.get_count()[2] >= 1
    keeper.max_young = 1  # the bound is reached at the next tick
    node = Node()
    gone = weakref.ref(node)
    del node  # garbage now, in the youngest generation: no young collection has seen it yet
    keeper.tick(*BUSY)
    assert monitor.take().bound_freezes == 1
    gc.collect()  # frozen, it would stay; a young collection before the freeze freed it
    assert gone() is None


def test_or_after_the_longest_wait(monitor: StallMonitor) -> None:
    clock = Clock()
    keeper = policy(monitor, clock, max_wait=60)
    burst(keeper, 8_000)
    clock.now += 59
    keeper.tick(*BUSY)
    assert monitor.window.bound_freezes == 0
    clock.now += 1
    keeper.tick(*BUSY)
    assert monitor.take().bound_freezes == 1
    keeper.tick(*BUSY)  # the pile is gone: nothing to freeze until young collections run
    assert monitor.take().bound_freezes == 0


class Node:
    """An object in a cycle (it refers to itself)."""

    def __init__(self) -> None:
        self.me = self


def test_a_cycle_that_dies_frozen_is_freed_when_the_loop_is_long_idle(
    monitor: StallMonitor,
) -> None:
    clock = Clock()
    keeper = policy(monitor, clock, thaw_every=600)
    node = Node()
    gone = weakref.ref(node)
    burst(keeper)
    for _ in range(5):
        keeper.tick(*QUIET)
    assert monitor.take().idle_gen2 == 1  # the node was alive: it is frozen now
    del node
    gc.collect()  # a full collection does not see frozen objects
    assert gone() is not None
    clock.now += 600
    for _ in range(99):  # 0.99 s of quiet: idle, but not long enough to walk the whole heap
        keeper.tick(*QUIET)
    assert monitor.window.thaws == 0 and gone() is not None
    keeper.tick(*QUIET)
    assert monitor.take().thaws == 1
    assert gone() is None
    clock.now += 599  # not again before `thaw_every`
    for _ in range(200):
        keeper.tick(*QUIET)
    assert monitor.take().thaws == 0


def steady(keeper: GcPolicy, phones: int = 5000, messages: int = 20_000) -> int:
    """A room in steady state: each message replaces what its phone kept of the last one (as
    the websocket parser's waiting objects are), so as many objects are freed as are made,
    and Python's own count never starts a young collection. The probe sees a busy loop. The
    objects the young generations hold at the end."""
    kept: list[list[int]] = [[n] for n in range(phones)]
    gc.collect()
    for n in range(messages):
        kept[n % phones] = [n]
        if n % 100 == 0:
            keeper.tick(*BUSY)
    return len(gc.get_objects(generation=0)) + len(gc.get_objects(generation=1))


def test_young_collections_keep_up_with_a_room_that_frees_what_it_makes(
    monitor: StallMonitor,
) -> None:
    keeper = policy(monitor, Clock())
    young = steady(keeper)
    # A few ticks' worth, not every phone's: the next young collection walks little.
    assert young < 1000
    assert monitor.take().young_runs >= 100


def test_without_them_the_young_generation_holds_every_phone(monitor: StallMonitor) -> None:
    # What the test above tells apart: the policy's clock off, Python's count alone.
    keeper = policy(monitor, Clock(), young_every_cpu=0)
    assert steady(keeper) >= 5000
    assert monitor.take().young_runs == 0


def test_a_quiet_loop_runs_no_young_collections(monitor: StallMonitor) -> None:
    keeper = policy(monitor, Clock())
    for _ in range(1000):  # two seconds of ticks with only the probe's own work in them
        keeper.tick(0.002, 0.00002)
    assert monitor.take().young_runs == 0
