"""Where accepted commands go to become durable. The in-memory store keeps them for the run."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from server.commands import Command


class Store(Protocol):
    """Durable log of the commands a session accepted; `record` queues them in call order and
    returns a future that resolves once they are safe."""

    def record(
        self, commands: Sequence[Command], context: Sequence[dict[str, Any] | None] = ()
    ) -> asyncio.Future[None]:
        """Queue these commands to be made durable, in order; the future resolves once they
        are. `context` adds fields to store beside each (a slide move's slide id). An empty
        list resolves once all earlier records are durable. Call it from the event loop."""
        ...

    async def close(self) -> None:
        """Flush and release resources."""
        ...


class MemoryStore:
    """Keeps the log in memory: nothing survives the process. For tests and throwaway talks."""

    def __init__(self) -> None:
        self.log: list[Command] = []

    def record(
        self, commands: Sequence[Command], context: Sequence[dict[str, Any] | None] = ()
    ) -> asyncio.Future[None]:
        """Append to the in-memory log: safe at once."""
        self.log.extend(commands)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def close(self) -> None:
        """Nothing to release."""
