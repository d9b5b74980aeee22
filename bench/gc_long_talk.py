"""Memory over a long talk under the GC policy: do frozen cycles pile up?

Run: .venv/bin/python bench/gc_long_talk.py [--rounds 60] [--phones 100] [--thaw-every 600]

The app served in this process on a loopback port (as tests/test_stalls_garbage.py does)
with server.stalls.GcPolicy applied as `handsup serve` applies it, its probe running on the
real loop. A talk of `--rounds` polls: for each, the presenter moves to the next poll (the
bench deck's choice, words and scale polls and ideas board in turn) and opens it; `--phones`
phones (participants from a pool three times as large, so people come back) connect, answer
and wait for their ack; every third round they also ask the Q&A a question and upvote one;
one phone a round asks to be forgotten; the poll closes; every phone leaves; then the room
is quiet for a moment (a pause in the talk, long enough for the policy's idle collection;
every tenth, long enough for a thaw if one is due). Prints every tenth round: the process's
resident memory, the objects the collector tracks (frozen, and not), and the policy's full
collections and thaws so far. At the end, everything is unfrozen and collected with
`gc.DEBUG_SAVEALL`: the cyclic garbage that freezing had kept, by module (the server's own,
the test client's, other).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import resource
import sys
import tempfile
import uuid
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402

from server.app import create_app  # noqa: E402
from server.bench.answers import kinds_deck  # noqa: E402
from server.bench.boards import with_boards  # noqa: E402
from server.connection import protocol_factory  # noqa: E402
from server.gate import gate_factory  # noqa: E402
from server.serve import bind  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.stalls import MAX_YOUNG, GcPolicy, StallMonitor  # noqa: E402
from tests.wsclient import Peer  # noqa: E402

KEY = "bench-presenter-key-long-enough"
ROOM = "ABCDE"
SERVER_SIDE = ("server.", "uvicorn.", "httptools", "websockets.server", "websockets.protocol")
PAUSE = 0.8  # seconds of quiet between two polls (the presenter talking)
LONG_PAUSE = 5.0  # every tenth poll: long enough for a thaw (server.stalls.QUIET_LONG)


def rss_mib() -> float:
    """This process's resident memory now, in MiB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def answer_for(poll: str, kind: str, n: int) -> dict[str, Any]:
    """What phone `n` sends to answer `poll` of `kind`."""
    vote_id = uuid.uuid4().hex
    if kind == "choice":
        return {"type": "vote", "poll": poll, "option": n % 3, "vote_id": vote_id}
    given: Any = {"words": [f"word{n % 37}"], "scale": 1 + n % 5}.get(kind, f"idea {n % 53}")
    return {"type": "answer", "poll": poll, "answer": given, "vote_id": vote_id}


async def visit(ws: str, who: str, poll: str, kind: str, n: int, qa: bool, forget: bool) -> Peer:
    """One phone's visit to one poll: join, answer, maybe ask and upvote, maybe be forgotten."""
    phone = await Peer.open(ws, "audience", room=ROOM, participant=who)
    await phone.of_type("welcome")
    message = answer_for(poll, kind, n)
    await phone.send(message)
    await phone.until(lambda m: m["type"] in ("vote_ack", "error"), 10)
    if qa:
        ask_id = uuid.uuid4().hex
        await phone.send({"type": "ask", "text": f"question {n} from {who}?", "ask_id": ask_id})
        acked = await phone.of_type("ask_ack", 10, ask_id=ask_id)
        upvote_id = uuid.uuid4().hex
        await phone.send({"type": "upvote", "question": acked["question"], "upvote_id": upvote_id})
        # One's own question may not take one's upvote: an error is an answer too.
        await phone.until(lambda m: m["type"] in ("upvote_ack", "error"), 10)
    if forget:
        await phone.send({"type": "forget_me"})
        await phone.of_type("forgotten", 10)
    return phone


def opened(poll: str, message: dict[str, Any]) -> bool:
    """The presenter's state shows `poll` open."""
    shown = (message["state"].get("poll") or {}) if message["type"] == "state" else {}
    return (shown.get("id"), shown.get("status")) == (poll, "open")


def counts(monitor: StallMonitor, totals: Counter[str]) -> None:
    """Add the monitor's window since the last call to `totals`."""
    window = monitor.take()
    for field in ("gen2", "idle_gen2", "bound_freezes", "thaws", "freezes"):
        totals[field] += getattr(window, field)
    totals["longest_gen2_cpu_x100"] = max(
        totals["longest_gen2_cpu_x100"], round(window.longest_gen2_cpu_ms * 100)
    )


async def talk(rounds: int, phones: int, thaw_every: float, max_young: int) -> None:
    """The whole talk; prints as it goes."""
    folder = Path(tempfile.mkdtemp(prefix="handsup-long-talk-"))
    deck = folder / "deck.md"
    deck.write_text(with_boards(kinds_deck((ROOT / "deck.md").read_text(), 30)))
    settings = Settings(
        deck=deck, data_dir=folder / "data", presenter_key=KEY, room_code=ROOM, watch=False
    )
    app = create_app(settings)
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        app,
        ws=protocol_factory(app.state.endpoint),  # type: ignore[arg-type]
        http=gate_factory(app.state.doorway),  # type: ignore[arg-type]
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn sets a flag, no event
        await asyncio.sleep(0.01)
    monitor: StallMonitor = app.state.stalls
    GcPolicy(monitor, thaw_every=thaw_every, max_young=max_young).apply()
    ws = f"ws://127.0.0.1:{sock.getsockname()[1]}/ws"
    room = app.state.room
    kinds = {
        pid: type(state.poll).__name__.removesuffix("Poll").lower()
        for pid, state in room.session.polls.items()
    }
    order = [pid for pid in kinds if kinds[pid] in ("choice", "words", "scale", "ideas")]
    boss = await Peer.open(ws, "presenter", key=KEY)
    await boss.of_type("welcome")
    totals: Counter[str] = Counter()
    monitor.take()  # start-up's collections are not the talk's
    print(
        "| round | visits | RSS MiB | tracked objects: frozen / not | full collections "
        "(idle) | piles frozen at the bound | thaws | longest full (CPU ms) |"
    )
    print("| --- " * 8 + "|")
    visits = 0
    for r, poll in zip(range(rounds), itertools.cycle(order), strict=False):
        await boss.send({"type": "goto", "index": room.session.polls[poll].slide})
        await boss.send({"type": "open"})
        await boss.until(partial(opened, poll), 10)
        pool = phones * 3
        present = [
            await visit(ws, f"p{(r * phones + n) % pool}", poll, kinds[poll], n, r % 3 == 0, n == 0)
            for n in range(phones)
        ]
        visits += phones
        await boss.send({"type": "close"})
        for phone in present:
            await phone.close()
        Peer.opened.clear()  # the test client's own memory is not the server's
        while room.hub.counts()["audience"]:  # noqa: ASYNC110 - the hub has no event for it
            await asyncio.sleep(0.01)
        boss.seen.clear()
        boss._cursor = 0
        # The presenter talks: the room is quiet; every tenth poll, for longer (a new part).
        await asyncio.sleep(LONG_PAUSE if (r + 1) % 10 == 0 else PAUSE)
        counts(monitor, totals)
        if (r + 1) % 10 == 0 or r == 0:
            unfrozen = len(gc.get_objects())
            print(
                f"| {r + 1} | {visits:,} | {rss_mib():.1f} | {gc.get_freeze_count():,} / "
                f"{unfrozen:,} | {totals['gen2']} ({totals['idle_gen2']}) | "
                f"{totals['bound_freezes']} | {totals['thaws']} | "
                f"{totals['longest_gen2_cpu_x100'] / 100} |",
                flush=True,
            )
    await boss.close()
    await Peer.close_all()
    server.should_exit = True
    await task
    gc.unfreeze()
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    found: Counter[str] = Counter()
    for thing in gc.garbage:
        module = type(thing).__module__
        side = (
            "server"
            if module.startswith(SERVER_SIDE)
            else "client"
            if module.startswith(("websockets", "tests."))
            else "other"
        )
        found[side] += 1
    gc.set_debug(0)
    kinds_found = Counter(type(thing).__qualname__ for thing in gc.garbage).most_common(8)
    gc.garbage.clear()
    print(f"\ncyclic garbage freezing had kept, at the end: {dict(found)}; most: {kinds_found}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--thaw-every", type=float, default=600.0, help="seconds; 0: never")
    parser.add_argument("--max-young", type=int, default=MAX_YOUNG, help="the policy's bound")
    args = parser.parse_args()
    import uvloop  # as `handsup serve` runs (uvicorn picks it where installed)

    uvloop.run(talk(args.rounds, args.phones, args.thaw_every or float("inf"), args.max_young))


if __name__ == "__main__":
    main()
