"""A websocket test client that speaks the handsup protocol as the real pages do."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import websockets
from websockets.asyncio.client import ClientConnection

from server.protocol import (
    SERVER_MESSAGE,
    AudienceState,
    DisplayState,
    PresenterState,
    StateMessage,
)

Message = dict[str, Any]
STATE_OF: dict[str, type] = {
    "audience": AudienceState,
    "display": DisplayState,
    "presenter": PresenterState,
}


class Peer:
    """One connection: sends JSON, and keeps every message received for later assertions."""

    opened: ClassVar[list[Peer]] = []

    def __init__(self, connection: ClientConnection, role: str | None = None) -> None:
        self.connection = connection
        self.role = role
        self.seen: list[Message] = []
        self._cursor = 0

    @classmethod
    async def open(cls, ws_base: str, role: str, **hello: Any) -> Peer:
        """Connect as `role` and say hello (room / key / participant as given)."""
        connection = await websockets.connect(f"{ws_base}/{role}", max_size=2**22)
        peer = cls(connection, role)
        cls.opened.append(peer)
        await peer.send({"type": "hello", **hello})
        return peer

    async def send(self, message: Message | str) -> None:
        await self.connection.send(message if isinstance(message, str) else json.dumps(message))

    async def vote(self, poll: str, option: int, vote_id: str | None = None) -> str:
        vote_id = vote_id or uuid.uuid4().hex
        await self.send({"type": "vote", "poll": poll, "option": option, "vote_id": vote_id})
        return vote_id

    async def next(self, timeout: float = 5.0) -> Message:
        """The next message not yet consumed."""
        if self._cursor < len(self.seen):
            self._cursor += 1
            return self.seen[self._cursor - 1]
        raw = await asyncio.wait_for(self.connection.recv(), timeout)
        message: Message = json.loads(raw)
        # Every frame any test receives must be a message of the typed contract, the role's
        # own kind of state included.
        parsed = SERVER_MESSAGE.validate_python(message)
        if isinstance(parsed, StateMessage) and self.role is not None:
            assert type(parsed.state) is STATE_OF[self.role], (self.role, message)
        self.seen.append(message)
        self._cursor += 1
        return message

    async def until(self, match: Callable[[Message], bool], timeout: float = 5.0) -> Message:
        """Skip messages until one matches; fail after `timeout` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no matching message; last seen: {self.seen[-3:]}")
            message = await self.next(left)
            if match(message):
                return message

    async def of_type(self, kind: str, timeout: float = 5.0, **fields: Any) -> Message:
        """The next message of this type whose fields equal `fields`."""
        return await self.until(
            lambda m: m["type"] == kind and all(m.get(k) == v for k, v in fields.items()), timeout
        )

    async def state(self, timeout: float = 5.0, **where: Any) -> Message:
        """The next state whose top-level fields equal `where`."""
        message = await self.until(
            lambda m: (
                m["type"] == "state" and all(m["state"].get(k) == v for k, v in where.items())
            ),
            timeout,
        )
        state: Message = message["state"]
        return state

    def last(self, kind: str) -> Message:
        """The most recent message of this type already received."""
        return next(m for m in reversed(self.seen) if m["type"] == kind)

    async def quiet(self, seconds: float = 0.3) -> list[Message]:
        """Everything that arrives within `seconds` (to show nothing unwanted came); these stay
        unconsumed for later `next`/`until` calls."""
        cursor = self._cursor
        self._cursor = len(self.seen)
        try:
            while True:
                await self.next(seconds)
        except TimeoutError:
            pass
        self._cursor = cursor
        return self.seen[cursor:]

    async def close(self) -> None:
        await self.connection.close()

    @classmethod
    async def close_all(cls) -> None:
        """Close every connection opened so far (test teardown)."""
        peers, cls.opened = cls.opened, []
        for peer in peers:
            await peer.close()
