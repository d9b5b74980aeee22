"""Where accepted commands go to become durable. The in-memory store keeps them for the run."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol

from server.commands import Ask, Command, SetNickname, Vote

PLACEHOLDER = "·"  # what a deleted text becomes in the log: not empty, so it still replays


def redacted(command: Command, participant: str) -> Command:
    """The command with this participant's typed text replaced by the placeholder."""
    if getattr(command, "participant", None) != participant:
        return command
    if isinstance(command, Vote) and isinstance(command.answer, str):
        return dataclasses.replace(command, answer=PLACEHOLDER)
    if isinstance(command, Vote) and isinstance(command.answer, list):
        # Distinct placeholders: a word cloud takes each of someone's words once.
        words = [f"{PLACEHOLDER}{n}" for n in range(len(command.answer))]
        return dataclasses.replace(command, answer=words)
    if isinstance(command, Ask):
        return dataclasses.replace(command, text=PLACEHOLDER, name=None)
    if isinstance(command, SetNickname):
        return dataclasses.replace(command, name=PLACEHOLDER)
    return command  # an option, a rating, an upvote: nothing typed


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

    def redact(self, participant: str) -> None:
        """Overwrite what this participant typed in the log (they asked for it to go): their
        texts become a placeholder, so a replay keeps every later id in place."""
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

    def redact(self, participant: str) -> None:
        """Overwrite this participant's texts in the in-memory log."""
        self.log = [redacted(c, participant) for c in self.log]

    async def close(self) -> None:
        """Nothing to release."""
