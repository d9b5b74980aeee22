"""The event loop never stalls for long: watch how long it is held, and keep the garbage
collector from being what holds it.

A vote is acknowledged by a callback on the event loop; anything that holds the loop (a
broadcast to thousands of sockets, a generation-2 collection walking every object the room
keeps) delays every phone's acknowledgement by as long. `StallMonitor` measures both: a probe
on a short timer notes the longest gap between two of its ticks (the loop could run nothing
else meanwhile), and `gc.callbacks` time every collection. `GcPolicy` keeps collections
short: long-lived objects (the modules, the deck, the replayed session, connected phones) are
frozen out of the collector's sight, right after a full collection has just proved every
one of them alive; young collections run as Python runs them, but a full collection waits
for the loop to be idle (the probe sees it do next to nothing for a while), or for a bound
on what has piled up since the last one, so that none runs in the middle of a burst.

The figures are read, a window at a time, through `POST /api/stalls` (the presenter key):
`handsup bench` reads them around each of its phases.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import JSONResponse

from server import turns
from server.hub import SLICE
from server.keys import key_matches

if TYPE_CHECKING:
    from server.worker_stalls import Gathered

PROBE_INTERVAL = 0.002  # seconds between probe ticks: a stall is measured to within ~3 ms
STALL = 0.020  # a gap longer than this counts as a stall (the target: none at all)
# The eager policy (`HANDSUP_GC=eager`, main's until 2026-12-07): Python starts every full
# collection. With survivors frozen after each, a collection walks only what survived
# since the last one: a full collection comes every 4 young ones, so it walks at most the
# survivors of ~4,000 allocations (~1 ms). Python's (700, 10, 10) lets ~70,000 build up (at
# 5,000 phones, 20,000-48,000 objects a full collection, 25-70 ms on this busy 2-core box
# even with the freezes); raising the thresholds makes the young collections the long ones
# instead. In process, 150,000 votes' worth of objects: the longest pause 0.7 ms against
# 4.9 ms with (1000, 5, 4) and 15.8 ms with (700, 10, 10), and less collecting in all.
THRESHOLDS = (1000, 2, 1)
# With full collections left to idle moments (GcPolicy), generation 2's threshold is out
# of reach: Python never starts one by itself. Young collections keep main's (1000, 2).
NEVER = 1_000_000_000
IDLE_THRESHOLDS = (1000, 2, NEVER)
# The loop is idle when, for QUIET seconds of probe ticks, its thread spent at most
# QUIET_TICK_CPU on a CPU between two ticks: the probe alone costs ~0.02 ms a tick, one vote
# ~0.2 ms, so one message handled (or a slice of a broadcast) breaks the quiet. Half a
# second: walking what piled up took 20-45 ms of CPU at 5,000 phones (after connecting,
# after the words), too long for a 50 ms lull in the middle of a burst (measured
# 2026-12-07); between two slides the room is quiet for longer.
QUIET = 0.5
QUIET_TICK_CPU = 0.00015
# The bound for a room that never goes quiet: after this many generation-1 collections since
# the last full one (each moves what survived ~3,000 allocations into generation 2;
# `gc.get_count()[2]` counts them), or this many seconds, what piled up is frozen without
# being walked (a list splice, no pause). At 5,000 phones connecting, 16 of them were ~1.3 s
# of connections (~15 ms to walk); a word cloud of 15,000 answers in 10 s ran 4-5 in all.
# The policy's own young collections (YOUNG_EVERY_CPU) count too, so a busy loop now reaches
# the bound after ~64 ms of its CPU, and each pile frozen is smaller.
# What freezing skips: a cycle in the pile that is already garbage, or dies later, waits for
# the next thaw.
MAX_YOUNG = 16
MAX_WAIT = 60.0
# Young collections on the loop's clock too, after this much of its thread's CPU: Python
# starts one when allocations outnumber deallocations by a threshold, and a room in steady
# state does not: each message a phone sends makes the websocket parser's next waiting
# objects (a generator, the frame, two lists) and frees those of its last message, so the
# count stands still while the youngest generation fills with every phone's (20,000 objects
# at 5,000 phones). When something else finally starts a collection it walks them all: 3-15
# ms in the middle of a words burst, the slowest acknowledgements (measured 2026-12-08).
# Collected every 2 ms of work, a young generation holds a few messages' worth.
YOUNG_EVERY_CPU = 0.002
# A frozen cycle that dies later is never freed (see GcPolicy.freeze): after this long without
# one, a truly idle loop (QUIET_LONG seconds of quiet ticks) unfreezes everything and runs a
# whole-heap collection, which frees such cycles (its time is in the window's figures).
THAW_EVERY = 600.0
QUIET_LONG = 2.0


@dataclass
class Window:
    """What the loop and the collector did since the window opened."""

    seconds: float = 0.0  # how long the window lasted
    longest_stall_ms: float = 0.0  # the longest gap between two probe ticks
    # The longest gap counting only the time the loop's thread was on a CPU in it: on a busy
    # machine the kernel also holds the loop, by running something else.
    longest_busy_ms: float = 0.0
    # The longest gap less the time the loop's thread waited in it for a core (runnable, but
    # the kernel ran another process): what our own process held it for, on a CPU or blocked
    # (a sleep, a lock, the GIL held by another thread). Where the kernel keeps no such
    # figure (`/proc/thread-self/schedstat`), the same as longest_stall_ms.
    longest_held_ms: float = 0.0
    longest_wait_ms: float = 0.0  # the wait for a core inside the longest gap
    stalls: int = 0  # gaps longer than STALL
    busy_stalls: int = 0  # gaps with more than STALL of the loop thread's CPU time in them
    held_stalls: int = 0  # gaps with more than STALL in them besides waiting for a core
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
    idle_gen2: int = 0  # full collections GcPolicy ran because the loop was idle
    bound_freezes: int = 0  # piles GcPolicy froze unwalked, its bound reached on a busy loop
    thaws: int = 0  # whole-heap collections after an unfreeze (GcPolicy.thaw)
    young_runs: int = 0  # young collections GcPolicy ran on the loop's clock
    deferred: int = 0  # socket inputs that waited for a later turn (server.turns' budget)

    def rounded(self) -> dict[str, Any]:
        """The figures with times to 0.01 ms, for JSON."""
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(self).items()}


class RunQueueWait:
    """The calling thread's time spent waiting for a core so far (runnable, but the kernel ran
    something else), from Linux's `/proc/thread-self/schedstat`: on a machine shared with other
    work (here, the bench's own phones) it tells a stall the kernel caused from one we did.
    Open it on the thread to be watched: the file is that thread's."""

    def __init__(self) -> None:
        try:
            self._fd: int | None = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:  # not Linux, or a kernel without schedstats: no wait is seen
            self._fd = None

    def seconds(self) -> float:
        """Seconds waited so far (0.0 where the kernel does not say)."""
        if self._fd is None:
            return 0.0
        # "run_ns wait_ns timeslices": one pread on the open file, ~2 us a probe tick.
        return int(os.pread(self._fd, 64, 0).split()[1]) / 1e9

    def close(self) -> None:
        """Close the file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class StallMonitor:
    """Longest loop stall and garbage collection pauses, over windows the caller opens."""

    def __init__(
        self,
        interval: float = PROBE_INTERVAL,
        clock: Callable[[], float] = time.perf_counter,
        cpu: Callable[[], float] = time.thread_time,  # called on the loop's thread
        waited: Callable[[], float] | None = None,  # the same; None: the kernel's schedstat
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.cpu = cpu
        self.waited = waited
        self._last_cpu = 0.0
        self._last_waited = 0.0
        self._schedstat: RunQueueWait | None = None
        self.window = Window()
        self._opened = clock()
        self._last_tick: float | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._gc_started: float | None = None
        self._gc_cpu_started = 0.0
        self._after_full: list[Callable[[], None]] = []
        self._after_tick: list[Callable[[float, float], None]] = []
        self._installed = False

    def install_gc_hook(self) -> None:
        """Time every collection from now on (any thread's: each holds the loop too)."""
        if not self._installed:
            gc.callbacks.append(self._gc_event)
            self._installed = True

    def after_full_collection(self, action: Callable[[], None]) -> None:
        """Call `action` each time a full collection ends (GcPolicy freezes then)."""
        self._after_full.append(action)

    def after_tick(self, observer: Callable[[float, float], None]) -> None:
        """Call `observer(gap, cpu)` after every probe tick: the seconds since the last tick
        and the loop thread's CPU seconds in them (IdleGcPolicy watches for quiet with it)."""
        self._after_tick.append(observer)

    def start(self) -> None:
        """Start the probe on the running loop (and the collector's timing)."""
        self.install_gc_hook()
        if self.waited is None:
            self._schedstat = RunQueueWait()  # opened here: on the loop's thread
            self.waited = self._schedstat.seconds
        self._last_tick, self._last_cpu = self.clock(), self.cpu()
        self._last_waited = self.waited()
        self._handle = asyncio.get_running_loop().call_later(self.interval, self._tick)

    def stop(self) -> None:
        """Stop the probe and stop timing collections."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._last_tick = None
        if self._schedstat is not None:
            self._schedstat.close()
            self._schedstat, self.waited = None, None
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
        assert self.waited is not None  # set by start()
        now, cpu, waited = self.clock(), self.cpu(), self.waited()
        last, self._last_tick = self._last_tick, now
        last_cpu, self._last_cpu = self._last_cpu, cpu
        last_waited, self._last_waited = self._last_waited, waited
        if last is not None:
            # Between two ticks the loop ran nothing but what held it: the gap (interval
            # included) is an upper bound on the longest stretch it could not answer a phone.
            gap = (now - last) * 1000
            busy = min(gap, (cpu - last_cpu) * 1000)
            wait = min(gap, (waited - last_waited) * 1000)
            held = gap - wait
            window = self.window
            if gap > window.longest_stall_ms:
                window.longest_stall_ms = gap
                window.longest_wait_ms = wait
            if busy > window.longest_busy_ms:
                window.longest_busy_ms = busy
            if held > window.longest_held_ms:
                window.longest_held_ms = held
            if gap > STALL * 1000:
                window.stalls += 1
                if busy > STALL * 1000:
                    window.busy_stalls += 1
                if held > STALL * 1000:
                    window.held_stalls += 1
            for observer in self._after_tick:
                observer(now - last, cpu - last_cpu)
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
    """Keep full collections out of the way of a busy room, and short.

    Young collections (generations 0 and 1, a few thousand objects each) run as Python runs
    them, and also after every `young_every_cpu` seconds of the loop's work (a room in steady
    state frees as much as it makes, which Python's count does not see); full ones never
    start by themselves. The policy runs one when the probe has seen
    the loop idle for `quiet` seconds, and freezes what it found alive, so the next walks
    only what survived since. In a room that never goes quiet, once `max_young`
    generation-1 collections (or `max_wait` seconds) have passed since the last full one,
    it runs a young collection and freezes the pile unwalked: no longer a pause than a young
    collection, but a cycle in it that is or becomes garbage stays until the next `thaw`,
    which a loop idle for `quiet_long` seconds runs at most every `thaw_every` seconds.
    Without a policy a full collection walks every object the process holds (for 5,000
    phones, tens of milliseconds each, several times during a vote); with freezes alone
    (main's policy until 2026-12-07, `HANDSUP_GC=eager`) they were short, but still came in
    the middle of a burst."""

    def __init__(
        self,
        monitor: StallMonitor,
        thresholds: tuple[int, int, int] = IDLE_THRESHOLDS,
        *,
        quiet: float = QUIET,
        quiet_tick_cpu: float = QUIET_TICK_CPU,
        max_young: int = MAX_YOUNG,
        max_wait: float = MAX_WAIT,
        thaw_every: float = THAW_EVERY,
        quiet_long: float = QUIET_LONG,
        young_every_cpu: float = YOUNG_EVERY_CPU,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.monitor = monitor
        self.thresholds = thresholds
        self.quiet = quiet
        self.quiet_tick_cpu = quiet_tick_cpu
        self.max_young = max_young
        self.max_wait = max_wait
        self.thaw_every = thaw_every
        self.quiet_long = quiet_long
        self.young_every_cpu = young_every_cpu
        self.clock = clock
        self.quiet_for = 0.0  # seconds of quiet probe ticks in a row, up to the last one
        self._busy_cpu = 0.0  # the loop thread's CPU seconds since the last young collection
        self._young_runs = 0  # young collections run by `tick`
        self._last_full = self._thawed = clock()
        # gc.get_count()[2] when the pile was last frozen unwalked (a freeze leaves it be).
        self._young_frozen = 0

    def apply(self) -> None:
        """Collect once and freeze the survivors (the modules, the deck, the session replayed
        from the log), then freeze again after every full collection from now on, and run
        full collections when the loop is idle (or the bound is reached).

        `HANDSUP_GC` in the environment, to measure against: `python` leaves Python's
        defaults; `eager` is main's policy before idle collections (thresholds (1000, 2, 1),
        Python starts every full collection, each frozen after)."""
        mode = os.environ.get("HANDSUP_GC")
        if mode == "python":
            return
        eager = mode == "eager"
        gc.set_threshold(*(THRESHOLDS if eager else self.thresholds))
        gc.collect()
        self.freeze()
        # A full collection of nothing (all is frozen) tells the collector that no old objects
        # are left: with the eager policy's reachable generation-2 threshold, it then collects
        # generation 2 as soon as a few have survived to it (Python 3.11's rule: when what
        # waits in generation 2 exceeds a quarter of what the last full one kept).
        gc.collect()
        self.monitor.install_gc_hook()
        self.monitor.after_full_collection(self._after_full)
        if not eager:
            self.monitor.after_tick(self.tick)

    def tick(self, gap: float, cpu: float) -> None:
        """The probe ticked after `gap` seconds, `cpu` of them on the loop thread's CPU: run a
        full collection if the loop has been idle long enough, or freeze the pile if the
        bound is reached."""
        quiet = cpu <= self.quiet_tick_cpu
        self.quiet_for = self.quiet_for + gap if quiet else 0.0
        if not quiet:  # (the probe's own ticks, ~0.02 ms each, are not worth a collection)
            self._busy_cpu += cpu
        if self.young_every_cpu and self._busy_cpu >= self.young_every_cpu:
            # Every other one takes generation 1 too, as Python's (1000, 2) would: what
            # survives two reaches the pile below.
            self._busy_cpu = 0.0
            self._young_runs += 1
            self.monitor.window.young_runs += 1
            gc.collect(self._young_runs % 2)
        now = self.clock()
        # Generation-1 collections since the last full collection or freeze: each moved its
        # survivors into generation 2, where only a full collection looks. None: no pile.
        count = gc.get_count()[2]
        young = count - self._young_frozen if count >= self._young_frozen else count
        window = self.monitor.window
        if self.quiet_for >= self.quiet_long and now - self._thawed >= self.thaw_every:
            self.thaw()
        elif young and self.quiet_for >= self.quiet:
            window.idle_gen2 += 1
            gc.collect()
        elif young >= self.max_young or (young and now - self._last_full >= self.max_wait):
            window.bound_freezes += 1
            # A young collection first (as short as Python's own), so that only what has
            # survived one is frozen, not the garbage the last few allocations just made.
            gc.collect(1)
            self._last_full, self._young_frozen = now, gc.get_count()[2]
            gc.freeze()
            return
        else:
            return
        self.quiet_for = 0.0  # the collection was work: the quiet starts again after it

    def thaw(self) -> None:
        """Give the collector back everything frozen and collect the whole heap (then freeze
        what it kept): frees the cycles that died after they were frozen. As long as a
        collection under Python's own policy at the same size; run only when truly idle."""
        self.monitor.window.thaws += 1
        self._thawed = self.clock()
        gc.unfreeze()
        gc.collect()

    def _after_full(self) -> None:
        self._last_full, self._young_frozen = self.clock(), 0
        self.freeze()

    def freeze(self) -> None:
        """Move every object the collector tracks out of its sight (a few list splices).

        Called right after a full collection, when every tracked object has just been shown
        to be alive: frozen objects are still freed when their last reference goes, and only a
        cycle among them that is dropped later stays in memory until the next `thaw` (the
        connections' own cycles are broken when they close, see server.connection)."""
        gc.freeze()
        self.monitor.window.freezes += 1


def fanout_slice() -> int:
    """Sockets a broadcast writes per turn of the loop (server.hub): `SLICE`, or
    `HANDSUP_FANOUT_SLICE` from the environment (0: a whole broadcast at once, to measure
    against)."""
    given = os.environ.get("HANDSUP_FANOUT_SLICE", "").strip()
    return int(given) if given.isdigit() else SLICE


def combine(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Several workers' windows (`Window.rounded()`, as they came over Redis) as one: the
    longest of each longest, the sum of each count and total, the wait for a core of the
    worker whose gap was longest."""
    merged = Window()
    for figures in windows:
        window = Window(**{f.name: figures[f.name] for f in fields(Window) if f.name in figures})
        if window.longest_stall_ms > merged.longest_stall_ms:
            merged.longest_stall_ms = window.longest_stall_ms
            merged.longest_wait_ms = window.longest_wait_ms
        for name in (f.name for f in fields(Window)):
            if name in ("longest_stall_ms", "longest_wait_ms"):
                continue
            mine, theirs = getattr(merged, name), getattr(window, name)
            longest = name.startswith("longest_") or name == "seconds"
            setattr(merged, name, max(mine, theirs) if longest else mine + theirs)
    return merged.rounded()


def take_window(monitor: StallMonitor) -> Window:
    """This process's window, taken now (a new one begins), with the inputs deferred in it."""
    window = monitor.take()
    window.deferred = turns.current().take_deferred()
    return window


Gather = Callable[[], Awaitable["Gathered"]]


def stalls_router(
    monitor: StallMonitor, presenter_key: str, gather: Gather | None = None
) -> APIRouter:
    """`POST /api/stalls`: the figures since the last call, and a new window started. With
    `gather` (server.worker_stalls: workers sharing a session), every worker's window: the
    worst of them at the top level, each one under `per_worker`, and `workers` (how many
    answered) and `asked` (how many heard the request; 0: Redis was away, this one's only)."""
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
        if gather is None:
            return JSONResponse(take_window(monitor).rounded() | {"workers": 1})
        gathered = await gather()
        figures = combine(gathered.windows)
        return JSONResponse(
            figures
            | {
                "workers": len(gathered.windows),
                "asked": gathered.asked,
                "per_worker": gathered.windows,
            }
        )

    return router
