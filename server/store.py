"""Where accepted commands go to become durable. The in-memory store keeps them for the run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from server.commands import Command


class Store(Protocol):
    """Durable log of the commands a session accepted; `record` returns once they are safe."""

    async def record(self, commands: Sequence[Command]) -> None:
        """Make these commands durable, in order."""
        ...

    async def close(self) -> None:
        """Flush and release resources."""
        ...


class MemoryStore:
    """Keeps the log in memory: nothing survives the process. For tests and throwaway talks."""

    def __init__(self) -> None:
        self.log: list[Command] = []

    async def record(self, commands: Sequence[Command]) -> None:
        """Append to the in-memory log."""
        self.log.extend(commands)

    async def close(self) -> None:
        """Nothing to release."""
