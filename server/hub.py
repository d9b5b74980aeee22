"""Fan-out to websocket clients: encode once, never wait on one client, latest value per slot.

Each client has an `Outbox` drained by its own writer task. A broadcast only drops a frame
into every outbox (no awaits), so one slow phone cannot delay anyone else; a client that
falls behind keeps just the newest frame per slot instead of a growing queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from server.protocol import Role

ROLES: tuple[Role, ...] = ("audience", "display", "presenter")


class Overflow(Exception):
    """A client's must-deliver queue is full: it is not reading."""


class Outbox:
    """Pending frames for one client: a short FIFO of replies, then latest-value slots."""

    __slots__ = ("_latest", "_limit", "_queue", "_wake", "closed", "sending_since")

    def __init__(self, limit: int = 256) -> None:
        self._latest: dict[str, str] = {}
        self._queue: deque[str] = deque()
        self._limit = limit
        self._wake = asyncio.Event()
        self.closed = False
        # Loop time a send started and has not finished (None while idle): finds stuck clients.
        self.sending_since: float | None = None

    def offer(self, slot: str, frame: str) -> None:
        """Replace whatever is pending in `slot` with this newer frame, now last in line."""
        # Re-inserting keeps slots in the order they were last offered, so the newest data
        # (a state or a tally) is always the last a client receives.
        self._latest.pop(slot, None)
        self._latest[slot] = frame
        self._wake.set()

    def push(self, frame: str) -> None:
        """Queue a frame that must be delivered in order (a reply to this client)."""
        if len(self._queue) >= self._limit:
            raise Overflow("client is not reading its replies")
        self._queue.append(frame)
        self._wake.set()

    def close(self) -> None:
        """Stop the writer after what it is sending now."""
        self.closed = True
        self._wake.set()

    def pending(self) -> int:
        """How many frames wait to be sent."""
        return len(self._queue) + len(self._latest)

    async def drain(
        self, send: Callable[[str], Awaitable[None]], clock: Callable[[], float]
    ) -> None:
        """Send pending frames until closed: replies first, then each slot's newest frame."""
        while not self.closed:
            await self._wake.wait()
            self._wake.clear()
            while not self.closed and (self._queue or self._latest):
                if self._queue:
                    frame = self._queue.popleft()
                else:
                    slot = next(iter(self._latest))
                    frame = self._latest.pop(slot)
                self.sending_since = clock()
                await send(frame)
                self.sending_since = None


class Client:
    """One connected socket: its role, participant (audience) and outbox."""

    __slots__ = ("address", "close", "outbox", "participant", "role")

    def __init__(
        self, role: Role, address: str, close: Callable[[int, str], Coroutine[Any, Any, None]]
    ) -> None:
        self.role: Role = role
        self.participant: str | None = None
        self.outbox = Outbox()
        self.address = address
        self.close = close


class Hub:
    """Every connected client by role, and broadcasts to a role encoded once."""

    def __init__(self) -> None:
        self.clients: dict[Role, set[Client]] = {role: set() for role in ROLES}

    def add(self, client: Client) -> None:
        """Start fanning out to this client."""
        self.clients[client.role].add(client)

    def discard(self, client: Client) -> None:
        """Stop fanning out to this client."""
        self.clients[client.role].discard(client)
        client.outbox.close()

    def broadcast(self, roles: Iterable[Role], slot: str, frame: str) -> None:
        """Offer one already-encoded frame to every client of these roles; never waits."""
        for role in roles:
            for client in self.clients[role]:
                client.outbox.offer(slot, frame)

    def counts(self) -> dict[Role, int]:
        """Connected clients per role."""
        return {role: len(group) for role, group in self.clients.items()}

    def stuck(self, now: float, limit: float) -> list[Client]:
        """Clients whose current send has been blocked for longer than `limit` seconds."""
        found = []
        for group in self.clients.values():
            for client in group:
                since = client.outbox.sending_since
                if since is not None and now - since > limit:
                    found.append(client)
        return found
