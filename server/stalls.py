"""The event loop never stalls for long: watch how long it is held, and keep the garbage
collector from being what holds it.

A vote is acknowledged by a callback on the event loop; anything that holds the loop (a
broadcast to thousands of sockets, a generation-2 collection walking every object the room
keeps) delays every phone's acknowledgement by as long. `StallMonitor` measures both: a probe
on a short timer notes the longest gap between two of its ticks (the loop could run nothing
else meanwhile), and `gc.callbacks` time every collection. `GcPolicy` keeps collections
short: long-lived objects (the modules, the deck, the replayed session, connected phones) are
frozen out of the collector's sight, right after a full collection has just proved every
one of them alive, and full collections come often enough that each walks only a few
thousand objects.

The figures are read, a window at a time, through `POST /api/stalls` (the presenter key):
`handsup bench` reads them around each of its phases.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import JSONResponse

from server import turns
from server.hub import SLICE
from server.keys import key_matches

PROBE_INTERVAL = 0.002  # seconds between probe ticks: a stall is measured to within ~3 ms
STALL = 0.020  # a gap longer than this counts as a stall (the target: none at all)
# With survivors frozen after each full collection, a collection walks only what survived
# since the last one: a full collection comes every 4 young ones, so it walks at most the
# survivors of ~4,000 allocations (~1 ms). Python's (700, 10, 10) lets ~70,000 build up (at
# 5,000 phones, 20,000-48,000 objects a full collection, 25-70 ms on this busy 2-core box
# even with the freezes); raising the thresholds makes the young collections the long ones
# instead. In process, 150,000 votes' worth of objects: the longest pause 0.7 ms against
# 4.9 ms with (1000, 5, 4) and 15.8 ms with (700, 10, 10), and less collecting in all.
THRESHOLDS = (1000, 2, 1)


@dataclass
class Window:
    """What the loop and the collector did since the window opened."""

    seconds: float = 0.0  # how long the window lasted
    longest_stall_ms: float = 0.0  # the longest gap between two probe ticks
    # The longest gap counting only the time the loop's thread was on a CPU in it: on a busy
    # machine the kernel also holds the loop, by running something else.
    longest_busy_ms: float = 0.0
    stalls: int = 0  # gaps longer than STALL
    busy_stalls: int = 0  # gaps with more than STALL of the loop thread's CPU time in them
    longest_gc_ms: float = 0.0  # the longest collection of any generation
    longest_gen2_ms: float = 0.0  # the longest full (generation-2) collection
    # The same on the collecting thread's CPU: what the collection itself cost, without the
    # time the kernel gave to other processes meanwhile.
    longest_gc_cpu_ms: float = 0.0
    longest_gen2_cpu_ms: float = 0.0
    gen2: int = 0  # full collections
    gc_ms: float = 0.0  # time spent collecting, all generations
    collections: int = 0  # collections, all generations
    freezes: int = 0  # times the survivors of a full collection were frozen
    deferred: int = 0  # socket inputs that waited for a later turn (server.turns' budget)

    def rounded(self) -> dict[str, Any]:
        """The figures with times to 0.01 ms, for JSON."""
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(self).items()}


class StallMonitor:
    """Longest loop stall and garbage collection pauses, over windows the caller opens."""

    def __init__(
        self,
        interval: float = PROBE_INTERVAL,
        clock: Callable[[], float] = time.perf_counter,
        cpu: Callable[[], float] = time.thread_time,  # called on the loop's thread
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.cpu = cpu
        self._last_cpu = 0.0
        self.window = Window()
        self._opened = clock()
        self._last_tick: float | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._gc_started: float | None = None
        self._gc_cpu_started = 0.0
        self._after_full: list[Callable[[], None]] = []
        self._installed = False

    def install_gc_hook(self) -> None:
        """Time every collection from now on (any thread's: each holds the loop too)."""
        if not self._installed:
            gc.callbacks.append(self._gc_event)
            self._installed = True

    def after_full_collection(self, action: Callable[[], None]) -> None:
        """Call `action` each time a full collection ends (GcPolicy freezes then)."""
        self._after_full.append(action)

    def start(self) -> None:
        """Start the probe on the running loop (and the collector's timing)."""
        self.install_gc_hook()
        self._last_tick, self._last_cpu = self.clock(), self.cpu()
        self._handle = asyncio.get_running_loop().call_later(self.interval, self._tick)

    def stop(self) -> None:
        """Stop the probe and stop timing collections."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._last_tick = None
        if self._installed:
            gc.callbacks.remove(self._gc_event)
            self._installed = False

    def take(self) -> Window:
        """The figures since the last `take` (or the start), and a new window opened."""
        now = self.clock()
        window, self.window = self.window, Window()
        window.seconds = now - self._opened
        self._opened = now
        return window

    def _tick(self) -> None:
        now, cpu = self.clock(), self.cpu()
        last, self._last_tick = self._last_tick, now
        last_cpu, self._last_cpu = self._last_cpu, cpu
        if last is not None:
            # Between two ticks the loop ran nothing but what held it: the gap (interval
            # included) is an upper bound on the longest stretch it could not answer a phone.
            gap = (now - last) * 1000
            busy = min(gap, (cpu - last_cpu) * 1000)
            window = self.window
            if gap > window.longest_stall_ms:
                window.longest_stall_ms = gap
            if busy > window.longest_busy_ms:
                window.longest_busy_ms = busy
            if gap > STALL * 1000:
                window.stalls += 1
                if busy > STALL * 1000:
                    window.busy_stalls += 1
        self._handle = asyncio.get_running_loop().call_later(self.interval, self._tick)

    def _gc_event(self, phase: str, info: dict[str, int]) -> None:
        # Collections never overlap (they hold the GIL), so one start time will do; the CPU
        # clock is the collecting thread's, read on that thread at both ends.
        if phase == "start":
            self._gc_started, self._gc_cpu_started = self.clock(), time.thread_time()
            return
        started, self._gc_started = self._gc_started, None
        if started is None:
            return
        took = (self.clock() - started) * 1000
        cpu = (time.thread_time() - self._gc_cpu_started) * 1000
        window = self.window
        window.collections += 1
        window.gc_ms += took
        window.longest_gc_ms = max(window.longest_gc_ms, took)
        window.longest_gc_cpu_ms = max(window.longest_gc_cpu_ms, cpu)
        if info.get("generation") == 2:
            window.gen2 += 1
            window.longest_gen2_ms = max(window.longest_gen2_ms, took)
            window.longest_gen2_cpu_ms = max(window.longest_gen2_cpu_ms, cpu)
            for action in self._after_full:
                action()


class GcPolicy:
    """Keep full collections short: freeze what a full collection found alive, raise the
    thresholds. Without it a full collection walks every object the process holds (for
    5,000 phones, tens of milliseconds each, several times during a vote)."""

    def __init__(self, monitor: StallMonitor, thresholds: tuple[int, int, int] = THRESHOLDS):
        self.monitor = monitor
        self.thresholds = thresholds

    def apply(self) -> None:
        """Collect once and freeze the survivors (the modules, the deck, the session replayed
        from the log), then freeze again after every full collection from now on.
        `HANDSUP_GC=python` in the environment leaves Python's defaults (to measure against)."""
        if os.environ.get("HANDSUP_GC") == "python":
            return
        gc.set_threshold(*self.thresholds)
        gc.collect()
        self.freeze()
        # A full collection of nothing (all is frozen) tells the collector that no old objects
        # are left: it then collects generation 2 as soon as a few have survived to it, and so
        # each full collection walks only what survived since the last one, not a hall's worth.
        gc.collect()
        self.monitor.install_gc_hook()
        self.monitor.after_full_collection(self.freeze)

    def freeze(self) -> None:
        """Move every object the collector tracks out of its sight (a few list splices).

        Called right after a full collection, when every tracked object has just been shown
        to be alive: frozen objects are still freed when their last reference goes, and only a
        cycle among them that is dropped later stays in memory (`gc.unfreeze` gives them back;
        the connections' own cycles are broken when they close, see server.connection)."""
        gc.freeze()
        self.monitor.window.freezes += 1


def fanout_slice() -> int:
    """Sockets a broadcast writes per turn of the loop (server.hub): `SLICE`, or
    `HANDSUP_FANOUT_SLICE` from the environment (0: a whole broadcast at once, to measure
    against)."""
    given = os.environ.get("HANDSUP_FANOUT_SLICE", "").strip()
    return int(given) if given.isdigit() else SLICE


def stalls_router(monitor: StallMonitor, presenter_key: str) -> APIRouter:
    """`POST /api/stalls`: the figures since the last call, and a new window started."""
    router = APIRouter()

    @router.post("/api/stalls")
    async def stalls(
        key: str | None = Query(None), x_handsup_key: str | None = Header(None)
    ) -> JSONResponse:
        given = key or x_handsup_key
        if not given:
            raise HTTPException(401, "the presenter key is required")
        if not key_matches(given, presenter_key):
            raise HTTPException(403, "wrong presenter key")
        window = monitor.take()
        window.deferred = turns.current().take_deferred()
        return JSONResponse(window.rounded())

    return router
