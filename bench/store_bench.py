"""Durable votes per second through the real Room and SQLite store: group commit vs one by one.

Run: .venv/bin/python bench/store_bench.py [--votes 20000] [--concurrency 1000]
Each simulated phone waits for its acknowledgement (the store's commit) before voting again,
exactly as the websocket handler does. Prints acknowledged durable votes per second.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from server.commands import GoTo, Join, OpenPoll, Vote
from server.hub import Hub
from server.room import Room
from server.session import Session
from server.sqlite_store import SQLiteStore
from slides import parse_deck

DECK = parse_deck("# Poll?\n\n- [ ] A\n- [ ] B\n- [ ] C\n", "bench.md")


async def run(
    votes: int, concurrency: int, group_commit: bool, where: str
) -> tuple[float, list[float]]:
    """Cast `votes` durable votes from `concurrency` phones; (votes/s, ack latencies in ms)."""
    with tempfile.TemporaryDirectory(dir=where) as folder:
        store = SQLiteStore(Path(folder) / "handsup.db", group_commit=group_commit)
        store.start("bench.md", "", None, "BENCH", "key")
        room = Room(
            Session(DECK), store, Hub(), room_code="BENCH", presenter_key="key",
            join_url="http://x/", clock=time.time,
        )  # fmt: skip
        poll = DECK.slides[0].poll
        assert poll is not None
        await room.run(GoTo(0))
        await room.run(OpenPoll(poll.id))
        people = [f"p{i}" for i in range(concurrency)]
        for person in people:
            await room.run(Join(person))
        latencies: list[float] = []
        per_phone = votes // concurrency

        async def phone(person: str) -> None:
            for n in range(per_phone):
                started = time.perf_counter()
                await room.run(Vote(person, poll.id, n % 3, f"{person}-{n}", time.time()))
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(phone(p) for p in people))
        elapsed = time.perf_counter() - started
        await store.close()
        return per_phone * concurrency / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--votes", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--unbatched-votes", type=int, default=2_000)
    parser.add_argument("--dir", default=".", help="where to put the SQLite file (a real disk)")
    args = parser.parse_args()
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    rows = [
        ("group commit", args.votes, True),
        ("one commit per vote", args.unbatched_votes, False),
    ]
    print(f"{'store':<22}{'votes':>8}{'acked/s':>12}{'p50 ms':>9}{'p99 ms':>9}")
    rates = {}
    for name, votes, batched in rows:
        rate, latencies = runner(run(votes, args.concurrency, batched, args.dir))
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(f"{name:<22}{votes:>8}{rate:>12,.0f}{statistics.median(latencies):>9.1f}{p99:>9.1f}")
        rates[name] = rate
    ratio = rates["group commit"] / rates["one commit per vote"]
    print(f"group commit acknowledges {ratio:.1f}x as many durable votes per second")


if __name__ == "__main__":
    main()
