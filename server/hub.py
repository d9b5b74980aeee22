"""Fan-out to websocket clients: encode once, never wait on one client, latest value per slot.

A broadcast hands one `Frame` to every client of some roles. A client whose socket can take
more gets the frame's bytes written at once (no task, no await); otherwise the frame waits
in the client's outbox, which keeps only the newest frame per slot, and goes out when the
socket drains. So one slow phone delays nobody, and a phone that falls behind holds at most
one pending frame per slot, not a queue.

A broadcast to more than `SLICE` sockets goes out a slice per turn of the event loop: the
first at once, the rest after whatever else is ready (acknowledgements, incoming votes), so a
state or a tally to a hall of phones never holds the loop for long. Broadcasts to one role go
out in the order they were made, each after the one before it has reached every client; one
still waiting gives way to a newer value for its slot (nobody has seen it yet).

`spread` is for slots whose newest value is all that counts and that change often (live
results, the Q&A's lists): a chunk of clients per turn, paced over the interval. It runs
beside the broadcasts, so a phone may get such a value before a state still going out to it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

from server.frames import Frame
from server.protocol import Role

ROLES: tuple[Role, ...] = ("audience", "display", "presenter", "moderator")
PING = b"\x89\x00"  # a websocket ping frame with no payload; browsers answer it themselves
REPLY_LIMIT = 256  # replies waiting for a client that is not reading before it is dropped
# Sockets written in one turn of the loop: ~9 µs each on a small server, so ~5 ms a slice.
SLICE = 500
# Clients written per turn of the event loop by `Hub.spread`: under a millisecond of writes
# (~15 µs each to a socket on loopback, the kernel's share included), so an acknowledgement
# that became due meanwhile waits for one chunk, not for the whole room. (100 held the loop
# ~1.5 ms a chunk, and with a Q&A list and the phones' own lists in the same turn, 5-13 ms:
# the Q&A's slowest upvote acknowledgements, measured 2026-12-08.)
SPREAD_CHUNK = 50
# What share of its interval a coalesced list (results, the Q&A) is spread over: a margin so
# one value is usually out before the next starts.
SPREAD_SHARE = 0.75


class Link(Protocol):
    """The connection under a client (server.connection.Connection)."""

    heard_at: float  # loop time the client last sent anything
    paused_since: float | None  # loop time its socket buffer filled; None while it drains

    def write(self, wire: bytes) -> bool:
        """Write one whole frame now; False if the socket cannot take it now."""
        ...

    def writer(self) -> Callable[[bytes], object] | None:
        """The transport's own write while frames can go straight out (open, not full)."""
        ...

    def close(self, code: int, reason: str) -> None:
        """Start a polite close."""
        ...

    def abort(self) -> None:
        """Drop the socket at once."""
        ...


class Client:
    """One connected socket: role, participant (audience), and what waits to be sent to it."""

    __slots__ = (
        "_latest", "_replies", "address", "closed", "link", "participant", "role", "watcher",
    )  # fmt: skip

    def __init__(self, role: Role, address: str, link: Link) -> None:
        self.role: Role = role
        self.address = address
        self.link = link
        self.participant: str | None = None
        self.closed = False
        # Created only for a client that falls behind: most never need them.
        self._latest: dict[str, Frame] | None = None
        self._replies: deque[Frame] | None = None
        # Told whenever the client may have started or stopped taking frames straight away.
        self.watcher: Callable[[Client], None] | None = None

    def writer(self) -> Callable[[bytes], object] | None:
        """Where a broadcast may write this client's frame at once: nothing is waiting and
        the socket can take it. None otherwise."""
        if self.closed or self._latest is not None or self._replies is not None:
            return None
        return self.link.writer()

    def changed(self) -> None:
        """The socket filled, drained or closed: tell whoever files clients by readiness."""
        if self.watcher is not None:
            self.watcher(self)

    def offer(self, slot: str, frame: Frame) -> None:
        """Deliver the newest value for `slot`, replacing any older one still waiting."""
        if self.closed:
            return
        if self._latest is None:
            if self._replies is None and self.link.write(frame.wire):
                return
            self._latest = {}
            self.changed()
        # Re-inserting keeps slots in the order they were last offered, so the newest data
        # (a state or a tally) is always the last a client receives.
        self._latest.pop(slot, None)
        self._latest[slot] = frame

    def reply(self, frame: Frame | str) -> None:
        """Deliver a reply to this client, in order (acks, errors). A client with
        `REPLY_LIMIT` replies unsent is not reading: it is dropped."""
        if self.closed:
            return
        frame = frame if isinstance(frame, Frame) else Frame(frame)
        if self._replies is None:
            if self._latest is None and self.link.write(frame.wire):
                return
            self._replies = deque()
            self.changed()
        if len(self._replies) >= REPLY_LIMIT:
            self.closed = True
            self.link.abort()  # it would never read a close frame either
            return
        self._replies.append(frame)

    def drain(self) -> None:
        """Send what waited, replies first, for as long as the socket takes it."""
        replies, latest = self._replies, self._latest
        while replies:
            if not self.link.write(replies[0].wire):
                return
            replies.popleft()
        self._replies = None
        while latest:
            slot = next(iter(latest))
            if not self.link.write(latest[slot].wire):
                return
            del latest[slot]
        self._latest = None
        self.changed()

    def pending(self) -> int:
        """How many frames wait to be sent."""
        return len(self._replies or ()) + len(self._latest or ())

    def close(self, code: int, reason: str) -> None:
        """Send nothing more and close the connection politely."""
        if self.closed:
            return
        self.closed = True
        self.changed()
        self.link.close(code, reason)

    def shutdown(self) -> None:
        """Send nothing more; forget what waits."""
        self.closed = True
        self._latest = self._replies = None
        self.changed()


@dataclass(eq=False)
class _Fanout:
    """One broadcast to one role's clients, as far as it has gone out."""

    frame: Frame
    slot: str
    ready: list[Client]  # who could take it at once
    held: list[Client]  # who was behind: offered the frame when the broadcast starts
    done: int = 0  # how many of `ready` have been written to (or skipped)
    started: bool = False  # whether the held clients have been offered it


class _Spread:
    """One value on its way to a room in chunks: the clients in order, the next one's index."""

    __slots__ = ("clients", "frame", "gap", "next")

    def __init__(self, clients: list[Client], frame: Frame, gap: float) -> None:
        self.clients = clients
        self.frame = frame
        self.gap = gap  # seconds between chunks
        self.next = 0


class Hub:
    """Every connected client by role, and broadcasts to roles."""

    def __init__(self, slice_size: int = SLICE) -> None:
        # 0: every broadcast goes out whole at once (to measure against).
        self.slice_size = slice_size
        self.clients: dict[Role, set[Client]] = {role: set() for role in ROLES}
        # Each role's clients split by readiness: a broadcast's inner loop is then nothing but
        # the transports' own writes, as cheap as fan-out gets in Python. The rest (full
        # sockets, frames waiting) go through Client.offer.
        self._ready: dict[Role, dict[Client, Callable[[bytes], object]]] = {
            role: {} for role in ROLES
        }
        self._held: dict[Role, set[Client]] = {role: set() for role in ROLES}
        # Broadcasts still going out, per role, in order; and the loop callback that goes on.
        self._going: dict[Role, deque[_Fanout]] = {role: deque() for role in ROLES}
        self._pump: asyncio.Handle | None = None
        # Per (roles, slot), the `spread` still under way (a newer value replaces it).
        self._spreading: dict[tuple[tuple[Role, ...], str], _Spread] = {}

    def add(self, client: Client) -> None:
        """Start fanning out to this client."""
        self.clients[client.role].add(client)
        client.watcher = self._refile
        self._refile(client)

    def discard(self, client: Client) -> None:
        """Stop fanning out to this client."""
        role = client.role
        self.clients[role].discard(client)
        client.watcher = None
        self._ready[role].pop(client, None)
        self._held[role].discard(client)
        client.shutdown()

    def broadcast(self, roles: Iterable[Role], slot: str, frame: Frame) -> None:
        """Offer one already-encoded frame to every client of these roles; never waits.
        A big role gets its first `SLICE` clients now and the rest over the next turns of
        the loop; a role with a broadcast still going out gets this one after it."""
        for role in roles:
            # Snapshots: a write that fills a socket moves its client to the held set, and it
            # must not be offered the same frame again; a client that joins meanwhile got the
            # newest state with its welcome.
            fanout = _Fanout(frame, slot, list(self._ready[role]), list(self._held[role]))
            going = self._going[role]
            if going:
                last = going[-1]
                if not last.started and last.slot == slot:
                    # Still waiting, so nobody has it yet: the newer value takes its place
                    # (a presenter pressing "next" fast in a big hall sends each phone the
                    # newest slide, not every one in between).
                    going[-1] = fanout
                else:
                    going.append(fanout)
                continue
            self._send(role, fanout, self.slice_size or len(fanout.ready))
            if fanout.done < len(fanout.ready):
                going.append(fanout)
                self._go_on()

    def _send(self, role: Role, fanout: _Fanout, budget: int) -> int:
        """Write `fanout` to up to `budget` more clients; how many were written to."""
        if not fanout.started:
            fanout.started = True
            for client in fanout.held:
                client.offer(fanout.slot, fanout.frame)
        ready, wire, start = self._ready[role], fanout.frame.wire, fanout.done
        end = min(len(fanout.ready), start + budget)
        for client in islice(fanout.ready, start, end):
            # A client that has since filled its socket, started closing or gone is not
            # among the ready any more: the frame waits in its outbox, or is not wanted.
            write = ready.get(client)
            if write is None:
                if not client.closed and client in self.clients[role]:
                    client.offer(fanout.slot, fanout.frame)
                continue
            try:  # noqa: SIM105 - contextlib.suppress would cost a context manager per phone
                write(wire)
            except RuntimeError:  # closed under us; connection_lost will tidy up
                pass
        fanout.done = end
        return end - start

    def _go_on(self) -> None:
        """Send the next slice on the loop's next turn; at once if no loop runs (scripts)."""
        if self._pump is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            while self._busy():
                self._slice(1 << 62)
            return
        self._pump = loop.call_soon(self._next_slice)

    def _busy(self) -> bool:
        return any(self._going.values())

    def _next_slice(self) -> None:
        self._pump = None
        self._slice(self.slice_size or 1 << 62)
        if self._busy():
            self._go_on()

    def _slice(self, budget: int) -> None:
        """Up to `budget` writes from the broadcasts going out, each role's in order."""
        for role, going in self._going.items():
            while going and budget > 0:
                fanout = going[0]
                budget -= self._send(role, fanout, budget)
                if fanout.done >= len(fanout.ready):
                    going.popleft()

    def spread(self, roles: Iterable[Role], slot: str, frame: Frame, over: float = 0.0) -> None:
        """Like `broadcast`, for a slot whose newest value is all that counts (live results, the
        Q&A's list): written to `SPREAD_CHUNK` clients at a time, the chunks evenly over `over`
        seconds (each on a later turn of the loop). Writing a 2 KB list to 5,000 phones at once
        held the loop (and the phones' side of the machine) for tens of milliseconds, and every
        acknowledgement due meanwhile waited behind it. A newer value for the slot takes over:
        first the clients the older one had not reached yet, then the rest, so a room larger
        than one interval's worth still gets every value to everyone in turn. A client that
        joins meanwhile was given the current value when admitted."""
        roles = tuple(roles)
        clients = [client for role in roles for client in self.clients[role]]
        key = (roles, slot)
        if len(clients) <= SPREAD_CHUNK:
            # A spread still going out (the room was bigger) must not follow with older news.
            self._spreading.pop(key, None)
            self.broadcast(roles, slot, frame)
            return
        unreached = self._spreading.get(key)
        if unreached is not None:
            first = [c for c in unreached.clients[unreached.next :] if not c.closed]
            ahead = set(first)
            clients = first + [c for c in clients if c not in ahead]
        chunks = -(-len(clients) // SPREAD_CHUNK)
        run = _Spread(clients, frame, over / chunks)
        self._spreading[key] = run
        self._step(key, run)

    def _step(self, key: tuple[tuple[Role, ...], str], run: _Spread) -> None:
        """Offer `run`'s value to its next chunk of clients, then schedule the next chunk; a
        run that a newer value took over (see `spread`) stops here."""
        if self._spreading.get(key) is not run:
            return  # a newer value took over the rest
        end = run.next + SPREAD_CHUNK
        for client in run.clients[run.next : end]:
            client.offer(key[1], run.frame)
        run.next = end
        if end < len(run.clients):
            asyncio.get_running_loop().call_later(run.gap, self._step, key, run)
        else:
            del self._spreading[key]

    def _refile(self, client: Client) -> None:
        role = client.role
        if client not in self.clients[role]:
            return
        write = client.writer()
        if write is None:
            self._ready[role].pop(client, None)
            self._held[role].add(client)
        else:
            self._held[role].discard(client)
            self._ready[role][client] = write

    def counts(self) -> dict[Role, int]:
        """Connected clients per role."""
        return {role: len(group) for role, group in self.clients.items()}

    def stuck(self, now: float, limit: float) -> list[Client]:
        """Clients whose socket has been full for longer than `limit` seconds."""
        found = []
        for group in self.clients.values():
            for client in group:
                since = client.link.paused_since
                if since is not None and now - since > limit:
                    found.append(client)
        return found

    async def keep_alive(self, now: float, quiet: float, dead: float) -> list[Client]:
        """Ping clients silent for `quiet` seconds; return those silent for `dead` seconds
        (a phone that left without closing: nothing answers for it).

        A big hall is walked `slice_size` clients a turn of the loop, as a broadcast is
        written: phones that joined together fall quiet together, and pinging 5,000 of them
        in one go held the loop 7-12 ms once a second. A client that leaves meanwhile is
        written nothing (its link is closed) and leaving again is harmless."""
        gone = []
        step = self.slice_size or 1 << 62
        walked = 0
        for group in list(self.clients.values()):
            for client in list(group):
                silent = now - client.link.heard_at
                if silent > dead:
                    gone.append(client)
                elif silent > quiet:
                    client.link.write(PING)
                walked += 1
                if walked % step == 0:
                    await asyncio.sleep(0)  # the next slice in a later turn
        return gone
