"""What `handsup serve` says in its terminal while the talk runs: now and then, who is connected
(the presenter may glance at the terminal to see whether the room made it in)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from server.protocol import Role


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def connected_line(counts: Mapping[Role, int]) -> str:
    """ "handsup: 124 phones connected, 3 screens, 1 presenter" (and moderators, if any)."""
    parts = [
        _count(counts.get("audience", 0), "phone", "phones") + " connected",
        _count(counts.get("display", 0), "screen", "screens"),
        _count(counts.get("presenter", 0), "presenter", "presenters"),
    ]
    if counts.get("moderator", 0):
        parts.append(_count(counts["moderator"], "moderator", "moderators"))
    return "handsup: " + ", ".join(parts)


def _say(line: str) -> None:
    print(line, flush=True)


async def report_presence(
    counts: Callable[[], Mapping[Role, int]],
    every: float,
    say: Callable[[str], None] = _say,
) -> None:
    """Every `every` seconds, say who is connected if it changed since last said (a quiet
    terminal when nothing happens; nothing at all until someone connects)."""
    said = connected_line(counts())
    while True:
        await asyncio.sleep(every)
        line = connected_line(counts())
        if line != said:
            say(line)
            said = line
