"""Where accepted commands go to become durable. The in-memory store keeps them for the run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from server.commands import Command


class Store(Protocol):
    """Durable log of the commands a session accepted; `record` returns once they are safe."""

    async def record(
        self, commands: Sequence[Command], context: Sequence[dict[str, Any] | None] = ()
    ) -> None:
        """Make these commands durable, in order; `context` adds fields to store beside each
        (a slide move's slide id). An empty list waits until all earlier records are durable."""
        ...

    async def close(self) -> None:
        """Flush and release resources."""
        ...


class MemoryStore:
    """Keeps the log in memory: nothing survives the process. For tests and throwaway talks."""

    def __init__(self) -> None:
        self.log: list[Command] = []

    async def record(
        self, commands: Sequence[Command], context: Sequence[dict[str, Any] | None] = ()
    ) -> None:
        """Append to the in-memory log."""
        self.log.extend(commands)

    async def close(self) -> None:
        """Nothing to release."""
