"""The hub's fan-out rules, on links that keep what is written in memory.

A link here behaves like a socket with a tiny buffer: it takes `room` frames, then reports
itself full until the test drains it, as the transport's pause/resume would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from server.frames import Frame
from server.hub import SPREAD_CHUNK, Client, Hub


class BufferLink:
    """A socket with room for `room` frames before it is full."""

    def __init__(self, room: int = 1000) -> None:
        self.room = room
        self.received: list[str] = []
        self.heard_at = 0.0
        self.paused_since: float | None = None
        self.closed: tuple[int, str] | None = None
        self.aborted = False
        self.client: Client | None = None

    def _take(self, wire: bytes) -> None:
        self.received.append(wire[2:].decode())  # short frames: a two-byte header
        if len(self.received) >= self.room and self.paused_since is None:
            self.paused_since = 0.0
            if self.client is not None:
                self.client.changed()  # what Connection.pause_writing does

    def write(self, wire: bytes) -> bool:
        if self.paused_since is not None or self.closed or self.aborted:
            return False
        self._take(wire)
        return True

    def writer(self) -> Callable[[bytes], object] | None:
        if self.paused_since is not None or self.closed or self.aborted:
            return None
        return self._take

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def abort(self) -> None:
        self.aborted = True

    def drain(self, room: int = 1000) -> None:
        """The phone read everything: room again, and what waited goes out."""
        self.room = len(self.received) + room
        self.paused_since = None
        if self.client is not None:
            self.client.drain()


def joined(hub: Hub, room: int = 1000) -> tuple[Client, BufferLink]:
    link = BufferLink(room)
    client = Client("audience", "127.0.0.1", link)
    link.client = client
    hub.add(client)
    return client, link


def test_every_phone_gets_each_broadcast_once_in_order() -> None:
    hub = Hub()
    links = [joined(hub)[1] for _ in range(5)]
    for n in range(3):
        hub.broadcast(("audience",), "state", Frame(f"s{n}"))
    assert all(link.received == ["s0", "s1", "s2"] for link in links)


def test_a_full_socket_keeps_only_the_newest_frame_per_slot_and_gets_it_on_drain() -> None:
    hub = Hub()
    _, healthy = joined(hub)
    slow_client, slow = joined(hub, room=1)
    hub.broadcast(("audience",), "state", Frame("s0"))  # fills the slow socket
    for n in range(1, 4):
        hub.broadcast(("audience",), "state", Frame(f"s{n}"))
        hub.broadcast(("audience",), "tally:p", Frame(f"t{n}"))
    assert healthy.received == ["s0", "s1", "t1", "s2", "t2", "s3", "t3"]
    assert slow.received == ["s0"]
    assert slow_client.pending() == 2
    slow.drain()
    assert slow.received == ["s0", "s3", "t3"]
    hub.broadcast(("audience",), "state", Frame("s4"))  # straight out again
    assert slow.received[-1] == "s4" and slow_client.pending() == 0


def test_replies_wait_in_order_ahead_of_broadcasts() -> None:
    hub = Hub()
    client, link = joined(hub, room=1)
    client.reply("ack0")  # fills it
    client.reply("ack1")
    hub.broadcast(("audience",), "state", Frame("s1"))
    client.reply("ack2")
    link.drain()
    assert link.received == ["ack0", "ack1", "ack2", "s1"]


def test_a_phone_that_never_reads_its_replies_is_dropped() -> None:
    hub = Hub()
    client, link = joined(hub, room=1)
    for n in range(300):
        client.reply(f"ack{n}")
    assert link.aborted and client.closed
    hub.broadcast(("audience",), "state", Frame("after"))
    assert "after" not in link.received


def test_roles_hear_only_their_broadcasts_and_a_closed_client_nothing() -> None:
    hub = Hub()
    phone, phone_link = joined(hub)
    screen_link = BufferLink()
    hub.add(Client("display", "127.0.0.1", screen_link))
    hub.broadcast(("display",), "tally:p", Frame("t1"))
    phone.close(1000, "bye")
    hub.broadcast(("audience", "display"), "state", Frame("s1"))
    assert phone_link.received == [] and phone_link.closed == (1000, "bye")
    assert screen_link.received == ["t1", "s1"]
    hub.discard(phone)
    assert hub.counts() == {"audience": 0, "display": 1, "presenter": 0, "moderator": 0}


async def test_a_broadcast_to_many_phones_lets_the_loop_run_between_slices() -> None:
    """Another callback (a vote's acknowledgement, say) runs while a broadcast to a big room
    is still going out; then every phone has the frame once, and broadcasts keep their order."""
    hub = Hub(slice_size=100)
    links = [joined(hub)[1] for _ in range(1000)]
    hub.broadcast(("audience",), "state", Frame("s1"))
    # The first slice went out at once; the rest wait for the loop.
    assert sum(link.received == ["s1"] for link in links) == 100
    hub.broadcast(("audience",), "tally:p", Frame("t1"))  # after s1, to every phone
    seen_between: list[int] = []
    done = asyncio.Event()

    def meanwhile() -> None:
        seen_between.append(sum(bool(link.received) for link in links))
        done.set()

    asyncio.get_running_loop().call_soon(meanwhile)
    await done.wait()
    assert 100 <= seen_between[0] < 1000
    await until(lambda: all(len(link.received) == 2 for link in links))
    assert all(link.received == ["s1", "t1"] for link in links)


async def test_a_value_still_waiting_is_replaced_by_a_newer_one_for_its_slot() -> None:
    hub = Hub(slice_size=100)
    links = [joined(hub)[1] for _ in range(1000)]
    hub.broadcast(("audience",), "state", Frame("s1"))  # goes out over the next turns
    hub.broadcast(("audience",), "state", Frame("s2"))  # waits behind s1 ...
    hub.broadcast(("audience",), "state", Frame("s3"))  # ... and gives way to s3
    await until(lambda: all(link.received[-1:] == ["s3"] for link in links))
    assert all(link.received == ["s1", "s3"] for link in links)


async def test_a_small_room_gets_a_broadcast_at_once() -> None:
    hub = Hub(slice_size=100)
    links = [joined(hub)[1] for _ in range(100)]
    hub.broadcast(("audience",), "state", Frame("s1"))
    assert all(link.received == ["s1"] for link in links)


async def test_screens_are_not_held_up_by_a_broadcast_to_phones() -> None:
    hub = Hub(slice_size=100)
    phones = [joined(hub)[1] for _ in range(1000)]
    screen = BufferLink()
    hub.add(Client("display", "127.0.0.1", screen))
    hub.broadcast(("audience",), "tally:p", Frame("t1"))
    hub.broadcast(("display",), "tally:p", Frame("t1"))
    assert screen.received == ["t1"]  # while most phones still wait for theirs
    assert sum(bool(link.received) for link in phones) == 100
    await until(lambda: all(link.received == ["t1"] for link in phones))


async def test_a_phone_that_leaves_or_fills_mid_broadcast() -> None:
    """One that closes gets nothing more; one whose socket fills keeps the newest frame."""
    hub = Hub(slice_size=10)
    pairs = [joined(hub) for _ in range(50)]
    hub.broadcast(("audience",), "state", Frame("s1"))
    leaving, left = pairs[-1]
    leaving.close(1000, "bye")
    hub.discard(leaving)
    full_client, full = pairs[-2]
    full.paused_since = 0.0  # its socket fills (what Connection.pause_writing does)
    full_client.changed()
    full_client.reply("ack")  # waits for the socket to drain
    await until(lambda: all(link.received == ["s1"] for _, link in pairs[:-2]))
    assert left.received == []
    assert full.received == [] and full_client.pending() == 2
    full.drain()
    assert full.received == ["ack", "s1"]


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop turn until `condition` holds (the hub sends a slice a turn)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the broadcast never reached everyone")


async def test_a_spread_goes_a_chunk_a_turn_acks_go_between_and_a_newer_value_takes_over() -> None:
    hub = Hub()
    pairs = [joined(hub) for _ in range(2 * SPREAD_CHUNK + 10)]
    hub.spread(("audience",), "tally:p", Frame("t0"))
    waiting = [(c, link) for c, link in pairs if not link.received]
    assert len(waiting) == len(pairs) - SPREAD_CHUNK
    # An acknowledgement due now goes out at once, ahead of the rest of the room's list.
    client, link = waiting[0]
    client.reply(Frame("ack"))
    assert link.received == ["ack"]
    hub.spread(("audience",), "tally:p", Frame("t1"))  # newer: whoever has not got t0 gets t1
    # ...and they come first, so a room bigger than one interval's worth is not starved.
    assert sum(1 for _, link in waiting if link.received[-1:] == ["t1"]) == SPREAD_CHUNK
    for _ in range(len(pairs)):  # one loop turn per chunk; bounded, not timed
        if not hub._spreading:
            break
        await asyncio.sleep(0)
    assert not hub._spreading
    assert all(link.received[-1] == "t1" and link.received.count("t1") == 1 for _, link in pairs)
    assert sum(link.received.count("t0") for _, link in pairs) == SPREAD_CHUNK


async def test_spreads_to_different_roles_on_one_slot_do_not_cut_each_other_short() -> None:
    hub = Hub()
    phones = [joined(hub)[1] for _ in range(2 * SPREAD_CHUNK)]
    screens = []
    for _ in range(2 * SPREAD_CHUNK):
        link = BufferLink()
        client = Client("display", "127.0.0.1", link)
        link.client = client
        hub.add(client)
        screens.append(link)
    hub.spread(("audience",), "questions", Frame("phones"))
    hub.spread(("display",), "questions", Frame("screens"))
    for _ in range(8):  # one loop turn per chunk; bounded, not timed
        if not hub._spreading:
            break
        await asyncio.sleep(0)
    assert all(link.received == ["phones"] for link in phones)
    assert all(link.received == ["screens"] for link in screens)


async def test_pinging_a_quiet_hall_lets_the_loop_run_between_slices() -> None:
    """Phones that joined together fall quiet together: the keepalive pings them a slice a
    turn, another callback runs in between, and each quiet phone is pinged once; a phone
    silent past `dead` is returned to be dropped, not pinged."""
    hub = Hub(slice_size=100)
    links = [joined(hub)[1] for _ in range(1000)]
    for link in links[:10]:
        link.heard_at = -100.0  # long gone
    pinged_meanwhile: list[int] = []

    def meanwhile() -> None:
        pinged_meanwhile.append(sum(bool(link.received) for link in links))

    asyncio.get_running_loop().call_soon(meanwhile)
    gone = await hub.keep_alive(now=30.0, quiet=20.0, dead=60.0)
    assert 0 < pinged_meanwhile[0] < 990
    assert sorted(id(c.link) for c in gone) == sorted(id(link) for link in links[:10])
    assert all(link.received == [] for link in links[:10])
    assert all(len(link.received) == 1 for link in links[10:])
