"""What holds the event loop in the Q&A and ideas phases, in process and on CPU.

A Room, its Hub and a MemoryStore, driven as `handsup bench --kind qa,ideas` drives a server:
5,000 phones, 500 of them ask a question (propose an idea) at once, then every phone upvotes
five questions (votes for five ideas, its whole set each time), at random moments in the
window, popular ones more often (Zipf). No sockets: each phone's link takes every frame at
once (its bytes counted). Every loop callback is timed on the loop thread's CPU
(`time.thread_time`), so the figures hold on a shared machine: the longest callbacks of each
phase, by what they ran, and the CPU they took together.

    .venv/bin/python bench/boards_turns.py --audience 5000 --window 30
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from server.hub import Client, Hub
from server.protocol import CLIENT_MESSAGE, Hello
from server.room import Room
from server.session import Session
from server.store import MemoryStore
from slides import parse_deck

DECK = """\
---
qa:
  moderation: after
---

# Welcome

---
poll:
  id: ideas
  type: ideas
  ideas: 1
  votes_per_person: 5
---

# Ideas
"""
KEY = "bench-key"


class Link:
    """A socket that always takes the frame: counts bytes, keeps nothing."""

    def __init__(self) -> None:
        self.heard_at = 0.0
        self.paused_since: float | None = None
        self.bytes = 0

    def write(self, wire: bytes) -> bool:
        self.bytes += len(wire)
        return True

    def writer(self) -> Callable[[bytes], object] | None:
        return self.write

    def close(self, code: int, reason: str) -> None:
        pass

    def abort(self) -> None:
        pass


class Timings:
    """CPU of every loop callback, per phase: the longest and the total, by callback."""

    def __init__(self) -> None:
        self.phase = "setup"
        self.longest: dict[str, list[tuple[float, str]]] = defaultdict(list)
        self.total: dict[str, float] = defaultdict(float)
        self.by_name: dict[str, dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(lambda: [0.0, 0.0])
        )

    def install(self) -> None:
        run = asyncio.events.Handle._run
        timings = self

        def timed(handle: asyncio.events.Handle) -> None:
            start = time.thread_time()
            run(handle)
            spent = time.thread_time() - start
            timings.total[timings.phase] += spent
            callback = getattr(handle, "_callback", None)
            name = getattr(callback, "__qualname__", None) or repr(callback)[:80]
            counted = timings.by_name[timings.phase][name]
            counted[0] += 1
            counted[1] += spent
            if spent > 0.002:
                timings.longest[timings.phase].append((spent, name))

        asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]

    def report(self, phase: str) -> str:
        found = sorted(self.longest[phase], reverse=True)
        top = ", ".join(f"{ms * 1000:.1f} {name}" for ms, name in found[:6])
        over = {limit: sum(1 for s, _ in found if s > limit / 1000) for limit in (2, 5, 10)}
        names = sorted(self.by_name[phase].items(), key=lambda kv: -kv[1][1])[:5]
        each = "; ".join(f"{n} {c:.0f}x {t / c * 1e6:.0f} us" for n, (c, t) in names)
        return (
            f"{phase}: by callback: {each}\n"
            f"{phase}: loop CPU {self.total[phase]:.2f} s; callbacks over 2/5/10 ms: "
            f"{over[2]}/{over[5]}/{over[10]}; longest: {top}"
        )


async def phase(
    room: Room, phones: list[Client], kind: str, window: float, seed: int, timings: Timings
) -> None:
    """500 asks (ideas) at once, then five upvotes (votes) per phone over `window` seconds."""
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)

    def send(client: Client, message: dict[str, Any]) -> None:
        room.handle(client, CLIENT_MESSAGE.validate_python(message))

    timings.phase = f"{kind} asks"
    askers = phones[:500]
    for n, client in enumerate(askers):
        if kind == "qa":
            send(client, {"type": "ask", "text": f"question {n}?", "ask_id": f"a{n}"})
        else:
            idea = f"idea {n}"
            send(client, {"type": "answer", "poll": "ideas", "answer": idea, "vote_id": f"p{n}"})
    await asyncio.sleep(1.5)
    if kind == "qa":
        ids = [q.id for q in room.session.qa.ranked()]
        owner = {q.id: q.participant for q in room.session.qa.questions.values()}
    else:
        live = room.session.polls["ideas"].answers
        ids = [i.id for i in live.ideas]  # type: ignore[attr-defined]
        owner = {i.id: i.participant for i in live.ideas}  # type: ignore[attr-defined]
    weights = [1 / (rank + 1) for rank in range(len(ids))]
    timings.phase = "scheduling"
    start = loop.time() + 0.5
    for n, client in enumerate(phones):
        chosen: list[str] = []
        while len(chosen) < 5:
            pick = rng.choices(ids, weights)[0]
            if pick not in chosen and owner[pick] != client.participant:
                chosen.append(pick)
        times = sorted(rng.uniform(0, window) for _ in range(5))
        for i, (at, pick) in enumerate(zip(times, chosen, strict=True)):
            msg: dict[str, Any]
            if kind == "qa":
                msg = {"type": "upvote", "question": pick, "on": True, "upvote_id": f"u{n}-{i}"}
            else:
                msg = {"type": "answer", "poll": "ideas", "answer": chosen[: i + 1]}
                msg["vote_id"] = f"v{n}-{i}"
            loop.call_at(start + at, send, client, msg)
    await asyncio.sleep(max(0.0, start - loop.time()))
    timings.phase = kind
    await asyncio.sleep(window + 1.5)


async def main(audience: int, window: float, seed: int) -> None:
    """Both phases, each timed."""
    timings = Timings()
    timings.install()
    room = Room(
        Session(parse_deck(DECK)),
        MemoryStore(),
        Hub(),
        room_code="ROOM1",
        presenter_key=KEY,
        join_url="http://127.0.0.1:9/?room=ROOM1",
        tally_interval=0.1,
        clock=time.time,
    )

    def connect(role: str, **hello: Any) -> Client:
        client = Client(role, "127.0.0.1", Link())  # type: ignore[arg-type]
        room.admit(client, Hello(type="hello", **hello))
        return client

    boss = connect("presenter", key=KEY)
    connect("display")
    phones = [connect("audience", room="ROOM1") for _ in range(audience)]
    gc.collect()
    gc.freeze()
    gc.disable()  # the question is what handsup's own code holds the loop for
    await phase(room, phones, "qa", window, seed, timings)
    for message in ({"type": "goto", "index": 1}, {"type": "open"}):
        room.handle(boss, CLIENT_MESSAGE.validate_python(message))
    await phase(room, phones, "ideas", window, seed, timings)
    sent = sum(p.link.bytes for p in phones) / audience  # type: ignore[attr-defined]
    for name in ("qa asks", "qa", "ideas asks", "ideas"):
        print(timings.report(name))
    print(f"bytes a phone: {sent:,.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--audience", type=int, default=5000)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.audience, args.window, args.seed))
