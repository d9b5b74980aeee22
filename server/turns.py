"""A budget for the socket input one turn of the event loop handles.

The loop hands a turn every socket that became readable (uvloop: up to 1,024 epoll events,
and again while the list comes back full), and each one's `data_received` used to do all its
work at once: an upgrade's handshake, a vote's handling. After a reconnect storm or a burst of
answers thousands are readable together, and the probe timer, every acknowledgement the
store's commit queued and every other callback waited behind all of them (seconds, after a
storm at 5,000 phones; see docs/benchmarks.md).

With a budget, once the current turn has spent more than `budget` seconds since its first
input, a socket that has more to say keeps the bytes it just got, stops reading
(`pause_reading`) and queues; the next turn (a `call_soon` callback: it runs before the loop
polls again) starts a fresh budget and hands the queued sockets their kept bytes in arrival
order while the budget lasts, each reading again (`resume_reading`) as it is served. One
socket's bytes keep their order (a socket that is queued is paused, and whatever still
reaches it is kept behind what it had). Every turn serves at least one input, so input
always moves on.

The end of a socket's input (`eof_received`) can wait the same way (`defer_eof`): after a
storm's drop, thousands of ends arrive in one turn, each a websocket failing and a phone
leaving the room.

A protocol takes part with one line at the top of its `data_received`
(`if turns.defer(self, data): return`), optionally one in its `eof_received`, and one in its
`connection_lost` (`turns.forget(self)`); server.connection (data and ends) and server.gate
(data) do.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Protocol

# Seconds of input handling one turn may do before the rest waits for the next one. At ~0.4
# ms an upgrade, 5 ms is a dozen handshakes; the probe (server.stalls, every 2 ms) and the
# commits' acknowledgements then wait one budget, not a whole storm's worth.
BUDGET = 0.005
# What an end of input costs after the turn that handles it, charged to that turn's budget
# up front: the socket's close (the kernel's FIN), libuv's close callback on the next turn,
# and `connection_lost` (the phone leaving the room). Measured in a storm at 5,000 phones
# (2026-12-08): ~20 µs an end in all, of which the turn itself saw ~5, so a budget of 5 ms
# closed 600-1,100 sockets and the turn after held the loop 12-25 ms on its CPU.
END_COST = 0.000015


class Reader(Protocol):
    """A protocol whose input can wait: its transport and its `data_received`."""

    @property
    def transport(self) -> asyncio.Transport | None: ...

    def data_received(self, data: bytes) -> None: ...

    def eof_received(self) -> bool | None: ...


def budget_from_env() -> float:
    """`BUDGET`, or `HANDSUP_TURN_BUDGET` milliseconds from the environment (0: no budget,
    every input handled in the turn it arrives in, to measure against)."""
    given = os.environ.get("HANDSUP_TURN_BUDGET", "").strip()
    try:
        return max(0.0, float(given) / 1000) if given else BUDGET
    except ValueError:
        return BUDGET


class Turns:
    """The input budget of one event loop (see the module docstring)."""

    def __init__(
        self, budget: float = BUDGET, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.budget = budget  # seconds; 0: off
        self.clock = clock
        self._started: float | None = None  # when this turn's input started; None: no input yet
        self._queue: deque[Reader] = deque()  # in arrival order; a forgotten one is skipped
        self._kept: dict[Reader, bytes] = {}  # the bytes each queued reader waits to handle
        self._ended: set[Reader] = set()  # queued readers whose peer has half-closed
        self._serving: Reader | None = None  # the reader being handed its kept bytes
        self.deferred = 0  # inputs (and ends) that waited for a later turn, since `take_deferred`

    @property
    def waiting(self) -> int:
        """Readers queued with bytes kept for a later turn."""
        return len(self._kept)

    def defer(self, reader: Reader, data: bytes) -> bool:
        """Whether `reader` must leave `data` for a later turn (True: kept here, the reader's
        transport paused) or handle it now (False)."""
        if self.budget <= 0 or reader is self._serving:
            return False
        kept = self._kept.get(reader)
        if kept is not None:  # still queued: what came since goes behind what it had
            self._kept[reader] = kept + data
            return True
        if self._room_for(0.0):
            return False
        transport = reader.transport
        if transport is None or transport.is_closing():
            return False  # nothing to pause; what it sent is handled as before
        transport.pause_reading()
        self._wait(reader, data)
        return True

    def defer_eof(self, reader: Reader) -> bool:
        """Whether `reader` must leave the end of its input for a later turn (True: its
        `eof_received` is called then, and its transport closed unless that says to keep it
        open) or handle it now (False). After a storm, thousands of phones' ends arrive in
        one turn: each costs a websocket's failure and a goodbye to the room."""
        if self.budget <= 0 or reader is self._serving:
            return False
        if reader in self._kept:
            self._ended.add(reader)  # after the bytes it kept
            return True
        if self._room_for(END_COST):  # what this end costs after the turn
            return False
        self._ended.add(reader)
        self._wait(reader, b"")
        return True

    def _room_for(self, after: float) -> bool:
        """Whether this turn's budget has room for one more input, which costs `after`
        seconds past what the turn's clock sees (charged now). The turn's first input always
        has: it starts the clock, and schedules the next turn."""
        started = self._started
        if started is None:
            self._started = self.clock() - after
            asyncio.get_running_loop().call_soon(self._next_turn)
            return True
        if not self._kept and self.clock() - started <= self.budget:
            self._started = started - after
            return True
        return False

    def _wait(self, reader: Reader, data: bytes) -> None:
        """Queue `reader` with the bytes it keeps for a later turn."""
        self._kept[reader] = data
        self._queue.append(reader)
        self.deferred += 1

    def take_deferred(self) -> int:
        """Inputs that waited for a later turn since the last call (for `POST /api/stalls`)."""
        deferred, self.deferred = self.deferred, 0
        return deferred

    def forget(self, reader: Reader) -> None:
        """`reader`'s connection is gone: drop what it kept (its place in the queue is
        skipped)."""
        self._kept.pop(reader, None)
        self._ended.discard(reader)

    def _next_turn(self) -> None:
        """A new turn: a fresh budget, spent first on the readers that waited."""
        if not self._kept:
            self._queue.clear()
            self._started = None  # the next input starts the clock (and schedules this)
            return
        self._started = start = self.clock()
        asyncio.get_running_loop().call_soon(self._next_turn)
        queue, kept, clock, budget = self._queue, self._kept, self.clock, self.budget
        served = False
        while queue and (not served or clock() - start <= budget):
            reader = queue.popleft()
            data = kept.pop(reader, None)
            if data is None:
                continue  # forgotten: its connection was lost while it waited
            served = True
            transport = reader.transport
            if transport is None:
                continue
            ended = reader in self._ended
            if ended:
                self._ended.discard(reader)
                start -= END_COST  # what this end costs after the turn (see END_COST)
            # Reading again before handling: if handling stops it (a flood's deaf close),
            # that stands. Nothing new arrives before this callback returns. (Past the end
            # of its input there is nothing to read.)
            if not ended and not transport.is_closing():
                transport.resume_reading()
            self._serving = reader
            try:
                if data:
                    reader.data_received(data)
                if ended and reader.transport is not None and not reader.eof_received():
                    transport.close()  # as the loop does when eof_received says not to keep it
            finally:
                self._serving = None
        self._started = start  # inputs later in this turn spend what is left


_PER_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Turns] = weakref.WeakKeyDictionary()


def current() -> Turns:
    """The running loop's `Turns` (made on first use, with `budget_from_env()`)."""
    loop = asyncio.get_running_loop()
    turns = _PER_LOOP.get(loop)
    if turns is None:
        turns = _PER_LOOP[loop] = Turns(budget_from_env())
    return turns
