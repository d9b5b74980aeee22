"""Fan-out to websocket clients: encode once, never wait on one client, latest value per slot.

A broadcast hands one `Frame` to every client of some roles. A client that is idle and
writable gets the frame's bytes written at once (no task, no await); otherwise the frame
waits in the client's outbox, which keeps only the newest frame per slot, and a writer task
started on demand sends it when the socket can take it. So one slow phone delays nobody,
and a phone that falls behind holds at most one pending frame per slot, not a queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from server.direct import DirectWriter
from server.frames import Frame
from server.protocol import Role

ROLES: tuple[Role, ...] = ("audience", "display", "presenter")
Send = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Coroutine[Any, Any, None]]


class Overflow(Exception):
    """A client's must-deliver queue is full: it is not reading."""


class Client:
    """One connected socket: role, participant (audience), and what waits to be sent to it."""

    __slots__ = (
        "_latest", "_queue", "_writer", "address", "close", "closed", "direct", "participant",
        "queue_limit", "role", "send", "sending_since",
    )  # fmt: skip

    def __init__(
        self,
        role: Role,
        address: str,
        send: Send,
        close: Close,
        direct: DirectWriter | None = None,
        queue_limit: int = 256,
    ) -> None:
        self.role: Role = role
        self.address = address
        self.send = send
        self.close = close
        self.direct = direct
        self.participant: str | None = None
        self.queue_limit = queue_limit
        self.closed = False
        # Loop time a send started and has not finished (None while idle): finds stuck clients.
        self.sending_since: float | None = None
        self._latest: dict[str, Frame] = {}
        self._queue: deque[Frame] = deque()
        self._writer: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        """Something is waiting or being sent: new frames must queue behind it."""
        return self._writer is not None

    def offer(self, slot: str, frame: Frame) -> None:
        """Deliver the newest value for `slot`, replacing any older one still waiting."""
        if self.closed:
            return
        if self._writer is None and self.direct is not None and self.direct.write(frame.wire):
            return
        # Re-inserting keeps slots in the order they were last offered, so the newest data
        # (a state or a tally) is always the last a client receives.
        self._latest.pop(slot, None)
        self._latest[slot] = frame
        self._start_writer()

    def reply(self, frame: Frame | str) -> None:
        """Deliver a reply to this client, in order (acks, errors)."""
        if self.closed:
            return
        frame = frame if isinstance(frame, Frame) else Frame(frame)
        if self._writer is None and self.direct is not None and self.direct.write(frame.wire):
            return
        if len(self._queue) >= self.queue_limit:
            raise Overflow("client is not reading its replies")
        self._queue.append(frame)
        self._start_writer()

    def pending(self) -> int:
        """How many frames wait to be sent."""
        return len(self._queue) + len(self._latest)

    def shutdown(self) -> None:
        """Send nothing more; stop the writer."""
        self.closed = True
        self._latest.clear()
        self._queue.clear()
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None

    def _start_writer(self) -> None:
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue or self._latest:
                if self._queue:
                    frame = self._queue.popleft()
                else:
                    frame = self._latest.pop(next(iter(self._latest)))
                self.sending_since = loop.time()
                await self.send(frame.text)
                self.sending_since = None
        except Exception:  # the socket is gone; its reader will notice and clean up
            self.closed = True
        finally:
            self._writer = None


class Hub:
    """Every connected client by role, and broadcasts to roles."""

    def __init__(self) -> None:
        self.clients: dict[Role, set[Client]] = {role: set() for role in ROLES}

    def add(self, client: Client) -> None:
        """Start fanning out to this client."""
        self.clients[client.role].add(client)

    def discard(self, client: Client) -> None:
        """Stop fanning out to this client."""
        self.clients[client.role].discard(client)
        client.shutdown()

    def broadcast(self, roles: Iterable[Role], slot: str, frame: Frame) -> None:
        """Offer one already-encoded frame to every client of these roles; never waits."""
        for role in roles:
            for client in self.clients[role]:
                client.offer(slot, frame)

    def counts(self) -> dict[Role, int]:
        """Connected clients per role."""
        return {role: len(group) for role, group in self.clients.items()}

    def stuck(self, now: float, limit: float) -> list[Client]:
        """Clients whose current send has been blocked for longer than `limit` seconds."""
        found = []
        for group in self.clients.values():
            for client in group:
                since = client.sending_since
                if since is not None and now - since > limit:
                    found.append(client)
        return found
