"""The per-turn input budget (server/turns.py), in process on a real event loop.

Readers here are stand-ins for connections: each input they handle "costs" a known time on a
clock the test owns, so what one turn of the loop may handle is exact, whatever the machine.
A turn is counted by a callback that puts itself back on the loop every time it runs.
"""

from __future__ import annotations

import asyncio

import pytest

from server.turns import BUDGET, END_COST, Turns, budget_from_env

COST = 0.001  # seconds of the test's clock each input costs to handle


class Clock:
    """A clock that moves only when an input is handled."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Transport:
    """What the budget asks of a transport: pause and resume reading."""

    def __init__(self) -> None:
        self.reading = True
        self.closing = False

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_closing(self) -> bool:
        return self.closing


class TurnCounter:
    """Counts the turns of the running loop (one tick a turn)."""

    def __init__(self) -> None:
        self.turn = 0
        self._loop = asyncio.get_running_loop()
        self._stopped = False
        self._loop.call_soon(self._tick)

    def _tick(self) -> None:
        if not self._stopped:
            self.turn += 1
            self._loop.call_soon(self._tick)

    def stop(self) -> None:
        self._stopped = True


class Reader:
    """A connection's input side: handles what the budget lets through, in order."""

    def __init__(self, name: str, turns: Turns, clock: Clock, log: list[tuple[int, str, bytes]]):
        self.name = name
        self.transport: Transport | None = Transport()
        self.turns = turns
        self.clock = clock
        self.log = log
        self.counter: TurnCounter | None = None
        self.done = asyncio.Event()
        self.closed = False

    def eof_received(self) -> bool | None:
        if self.turns.defer_eof(self):  # type: ignore[arg-type]
            return True
        self.clock.now += COST
        assert self.counter is not None
        self.log.append((self.counter.turn, self.name, b"<eof>"))
        self.done.set()
        return None

    def data_received(self, data: bytes) -> None:
        if self.turns.defer(self, data):  # type: ignore[arg-type]
            return
        self.clock.now += COST
        assert self.counter is not None
        self.log.append((self.counter.turn, self.name, data))
        self.done.set()

    def lost(self) -> None:
        self.transport = None
        self.turns.forget(self)  # type: ignore[arg-type]


def readers(
    count: int, turns: Turns, clock: Clock, log: list[tuple[int, str, bytes]]
) -> list[Reader]:
    counter = TurnCounter()
    made = [Reader(f"r{i}", turns, clock, log) for i in range(count)]
    for reader in made:
        reader.counter = counter
    return made


def deliver(group: list[Reader], data: bytes) -> None:
    """Each reader gets `data` in this one turn, as the loop does for readable sockets."""
    for reader in group:
        reader.data_received(data)


def per_turn(log: list[tuple[int, str, bytes]]) -> list[int]:
    """How many inputs each turn that handled any handled, in turn order."""
    counts: dict[int, int] = {}
    for turn, _, _ in log:
        counts[turn] = counts.get(turn, 0) + 1
    return [counts[turn] for turn in sorted(counts)]


async def test_one_turn_handles_no_more_than_its_budget_and_the_rest_wait_in_order() -> None:
    clock = Clock()
    turns = Turns(budget=2.5 * COST, clock=clock)
    log: list[tuple[int, str, bytes]] = []
    group = readers(10, turns, clock, log)
    paused_after_first_turn: list[str] = []

    def all_readable_at_once() -> None:  # as the loop does when ten sockets are readable
        for reader in group:
            reader.data_received(reader.name.encode())
        paused_after_first_turn.extend(
            r.name for r in group if r.transport is not None and not r.transport.reading
        )

    asyncio.get_running_loop().call_soon(all_readable_at_once)
    await group[-1].done.wait()
    assert group[0].counter is not None
    group[0].counter.stop()
    # Within 2.5 ms: inputs that start at 0, 1 and 2 ms go, the fourth would start at 3 ms.
    assert per_turn(log) == [3, 3, 3, 1]
    assert [name for _, name, _ in log] == [r.name for r in group]  # arrival order
    assert [data for _, _, data in log] == [r.name.encode() for r in group]  # nothing lost
    # The seven that waited had stopped reading, and read again when served.
    assert paused_after_first_turn == [r.name for r in group[3:]]
    assert all(r.transport is not None and r.transport.reading for r in group)
    assert turns.waiting == 0


async def test_a_waiting_reader_keeps_its_bytes_in_order_and_newcomers_queue_behind() -> None:
    clock = Clock()
    turns = Turns(budget=0.5 * COST, clock=clock)
    log: list[tuple[int, str, bytes]] = []
    first, second, third = readers(3, turns, clock, log)

    def burst() -> None:
        first.data_received(b"a")  # the turn's first input: handled, the budget now spent
        second.data_received(b"hello")  # waits
        second.data_received(b" world")  # still waiting (bytes that were already on their way)
        third.data_received(b"x")  # waits behind

    asyncio.get_running_loop().call_soon(burst)
    await third.done.wait()
    assert [(name, data) for _, name, data in log] == [
        ("r0", b"a"),
        ("r1", b"hello world"),
        ("r2", b"x"),
    ]
    assert per_turn(log) == [1, 1, 1]  # one input past the budget each turn: input moves on


async def test_a_reader_lost_while_waiting_is_forgotten_and_the_others_are_served() -> None:
    clock = Clock()
    turns = Turns(budget=0.5 * COST, clock=clock)
    log: list[tuple[int, str, bytes]] = []
    group = readers(4, turns, clock, log)

    def burst() -> None:
        for reader in group:
            reader.data_received(reader.name.encode())
        group[1].lost()  # its peer went away while it waited
        assert turns.waiting == 2

    asyncio.get_running_loop().call_soon(burst)
    await group[3].done.wait()
    assert [name for _, name, _ in log] == ["r0", "r2", "r3"]
    assert turns.waiting == 0


async def test_ends_of_input_wait_their_turn_after_the_bytes_before_them() -> None:
    clock = Clock()
    turns = Turns(budget=1.5 * COST, clock=clock)
    log: list[tuple[int, str, bytes]] = []
    group = readers(5, turns, clock, log)
    kept_open: list[bool | None] = []

    def storm_drops() -> None:  # five phones hang up at once; one had sent a last vote
        group[0].data_received(b"vote")
        group[1].data_received(b"vote")
        group[2].data_received(b"vote")  # waits: two inputs spent the budget
        for reader in group:
            kept_open.append(reader.eof_received())

    asyncio.get_running_loop().call_soon(storm_drops)
    await group[4].done.wait()
    assert [(name, data) for _, name, data in log] == [
        ("r0", b"vote"), ("r1", b"vote"),
        ("r2", b"vote"), ("r2", b"<eof>"),  # its end after its bytes, in the same turn
        ("r0", b"<eof>"), ("r1", b"<eof>"), ("r3", b"<eof>"), ("r4", b"<eof>"),
    ]  # fmt: skip
    assert per_turn(log) == [2, 2, 2, 2]
    # Each end that waited was kept open for the budget, then closed once handled.
    assert kept_open == [True] * 5
    assert all(r.transport is not None and r.transport.closing for r in group)


class FreeEnd(Reader):
    """A reader whose end costs its turn nothing on the clock: what a socket's end costs
    comes after the turn (its close, libuv's callback, the phone leaving the room)."""

    def eof_received(self) -> bool | None:
        if self.turns.defer_eof(self):  # type: ignore[arg-type]
            return True
        assert self.counter is not None
        self.log.append((self.counter.turn, self.name, b"<eof>"))
        self.done.set()
        return None


async def test_ends_are_charged_what_they_cost_after_their_turn() -> None:
    # A storm's drop: thousands of ends in one turn, each cheap to handle there, dear after.
    clock = Clock()
    turns = Turns(budget=10.5 * END_COST, clock=clock)
    log: list[tuple[int, str, bytes]] = []
    counter = TurnCounter()
    group = [FreeEnd(f"r{i}", turns, clock, log) for i in range(30)]
    for reader in group:
        reader.counter = counter

    def drop_all() -> None:
        for reader in group:
            reader.eof_received()

    asyncio.get_running_loop().call_soon(drop_all)
    await group[-1].done.wait()
    assert [name for _, name, _ in log] == [r.name for r in group]  # in the order they ended
    assert per_turn(log) == [11, 11, 8]


async def test_a_closing_transport_is_not_queued() -> None:
    clock = Clock()
    turns = Turns(budget=0.5 * COST, clock=clock)
    log: list[tuple[int, str, bytes]] = []
    first, closing = readers(2, turns, clock, log)
    assert closing.transport is not None
    closing.transport.closing = True

    def burst() -> None:
        first.data_received(b"1")
        closing.data_received(b"2")  # nothing to pause: handled at once, as before

    asyncio.get_running_loop().call_soon(burst)
    await closing.done.wait()
    assert per_turn(log) == [2]


async def test_no_budget_handles_everything_in_the_turn_it_arrives_in() -> None:
    clock = Clock()
    turns = Turns(budget=0, clock=clock)
    log: list[tuple[int, str, bytes]] = []
    group = readers(20, turns, clock, log)

    def burst() -> None:
        for reader in group:
            reader.data_received(b".")

    asyncio.get_running_loop().call_soon(burst)
    await group[-1].done.wait()
    assert per_turn(log) == [20]


async def test_a_quiet_loop_gives_the_next_burst_a_fresh_budget() -> None:
    clock = Clock()
    turns = Turns(budget=1.5 * COST, clock=clock)
    log: list[tuple[int, str, bytes]] = []
    group = readers(4, turns, clock, log)
    loop = asyncio.get_running_loop()
    loop.call_soon(deliver, group[:2], b"1")
    await group[1].done.wait()
    clock.now += 10  # time passes with no input at all
    loop.call_soon(deliver, group[2:], b"2")
    await group[3].done.wait()
    assert per_turn(log) == [2, 2]  # the second burst was not charged for the quiet time


@pytest.mark.parametrize(
    ("given", "budget"),
    [(None, BUDGET), ("0", 0.0), ("2.5", 0.0025), ("", BUDGET), ("soon", BUDGET)],
)
def test_the_budget_comes_from_the_environment_in_milliseconds(
    monkeypatch: pytest.MonkeyPatch, given: str | None, budget: float
) -> None:
    if given is None:
        monkeypatch.delenv("HANDSUP_TURN_BUDGET", raising=False)
    else:
        monkeypatch.setenv("HANDSUP_TURN_BUDGET", given)
    assert budget_from_env() == pytest.approx(budget)
