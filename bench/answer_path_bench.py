"""Server CPU per answer through the room, per poll kind: parse, apply, log, acknowledge.

Run: .venv/bin/python bench/answer_path_bench.py [--phones 5000] [--repeat 4]

Each phone's answer (as `handsup bench --kind` makes them) goes through what a socket's
message goes through after its websocket frame is read: the client message parsed, the room
handling it (session, store record, ack), with a real SQLite store whose writer thread
commits in groups. Prints the event loop thread's CPU per message and the whole process's
(the writer thread included), best of `--repeat` rounds; choice is the baseline.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from server.bench import answers
from server.commands import GoTo, Join, OpenPoll
from server.hub import Client, Hub
from server.room import Room
from server.session import Session
from server.sockets import CLIENT_MESSAGE
from server.sqlite_store import SQLiteStore
from slides import parse_deck

ROOT = Path(__file__).resolve().parent.parent
POLLS = {"choice": "youtube-16-19", "words": "bench-words", "text": "bench-text"}
POLLS |= {"scale": "bench-scale"}


class Link:
    """A socket that takes every frame at once."""

    heard_at = 0.0
    paused_since = None

    def write(self, wire: bytes) -> bool:
        return True

    def writer(self) -> Any:
        return lambda wire: None

    def close(self, code: int, reason: str) -> None:
        pass

    def abort(self) -> None:
        pass


def message(kind: str, poll: str, n: int, zipf: answers.Zipf, rng: random.Random) -> bytes:
    """One phone's answer as it sends it."""
    if kind == "choice":
        sent: dict[str, Any] = {"type": "vote", "poll": poll, "option": rng.randrange(3)}
    elif kind == "words":
        sent = {"type": "answer", "poll": poll, "answer": [answers.typed(zipf.draw(rng), rng)]}
    elif kind == "text":
        sent = {"type": "answer", "poll": poll, "answer": answers.sentence(zipf, rng)}
    else:
        sent = {"type": "answer", "poll": poll, "answer": answers.rating(0, 10, rng)}
    return json.dumps({**sent, "vote_id": f"v{n}"}, separators=(",", ":")).encode()


async def run(kind: str, phones: int, folder: Path) -> tuple[float, float]:
    """(loop thread µs, process µs) per answer for `phones` answers to a poll of this kind."""
    deck = parse_deck(answers.kinds_deck((ROOT / "deck.md").read_text(), 12), "bench.md")
    store = SQLiteStore(folder / f"{kind}-{time.monotonic_ns()}.db")
    store.start("bench.md", "", None, "BENCH", "key")
    room = Room(
        Session(deck), store, Hub(), room_code="BENCH", presenter_key="key",
        join_url="http://x/", clock=time.time,
    )  # fmt: skip
    poll = POLLS[kind]
    await room.run(GoTo(room.session.polls[poll].slide))
    await room.run(OpenPoll(poll, time.time()))
    rng, zipf = random.Random(1), answers.Zipf(answers.vocabulary(20_000))
    sent = []
    for n in range(phones):
        client = Client("audience", "127.0.0.1", Link())
        client.participant = f"p{n}"
        room.session.apply(Join(client.participant))
        sent.append((client, message(kind, poll, n, zipf, rng)))
    await store.record([])
    process, thread = time.process_time(), time.thread_time()
    for client, text in sent:
        room.handle(client, CLIENT_MESSAGE.validate_json(text))
    thread = time.thread_time() - thread
    await store.record([])  # every answer committed
    process = time.process_time() - process
    await store.close()
    return thread * 1e6 / phones, process * 1e6 / phones


async def main(phones: int, repeat: int) -> None:
    best: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeat):
            for kind in POLLS:
                figures = await run(kind, phones, Path(folder))
                best[kind] = min(best.get(kind, figures), figures)
    print(f"{phones:,} answers per kind, best of {repeat}: µs of CPU per answer")
    print(f"{'kind':<7} {'loop thread':>12} {'process':>8}")
    for kind, (thread, process) in best.items():
        print(f"{kind:<7} {thread:>12.1f} {process:>8.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=4)
    args = parser.parse_args()
    uvloop.run(main(args.phones, args.repeat))
