"""The longest collector pause during a burst of answers, in process, under each GC policy.

Run: .venv/bin/python bench/gc_idle_bench.py [--audience 5000] [--words 3] [--repeat 3]

Deterministic (no sockets, no clock-driven work): a hall of `--audience` phones joined to a
session (with a per-phone stand-in for what a connection keeps, and a heap of long-lived
objects for the modules and the deck), then every phone sends `--words` word answers and one
choice vote, each decoded from JSON, applied to the session and answered with an encoded ack
as the server does, with the tallies encoded every 500 messages; what each message leaves
(a record kept for good, what waits for the store's commit every 50 messages) is a model
of the server's, not its measure. Each policy runs in a fresh
process (the collector's state is process-wide):

- python: Python's defaults, nothing frozen (`HANDSUP_GC=python`);
- eager: main's policy until 2026-12-07 (thresholds (1000, 2, 1), freeze after each full
  collection, `HANDSUP_GC=eager`);
- idle: server.stalls.GcPolicy as `handsup serve` applies it: no full collection during the
  burst unless its bound is reached; then the loop goes quiet, and the policy's probe hook
  runs the full collection it was waiting for.

Prints, per policy and run: the longest collection and the longest full collection during
the burst on the collecting thread's CPU (ms), how many full collections, all the time spent
collecting, the full collection at the idle moment after it, and what a thaw (everything
unfrozen, the whole heap walked) then costs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.bench.answers import kinds_deck  # noqa: E402
from server.commands import GoTo, Join, OpenPoll, Vote  # noqa: E402
from server.session import Session  # noqa: E402
from server.stalls import QUIET, GcPolicy, StallMonitor  # noqa: E402
from slides import parse_deck  # noqa: E402


class Phone:
    """A stand-in for what the server keeps per connection (a few objects, one cycle)."""

    def __init__(self, n: int) -> None:
        self.participant = f"p{n:06d}"
        self.sent: list[bytes] = []
        self.state = {"role": "audience", "room": "ABCDE", "seen": [n, n + 1]}
        self.me = self  # connections refer to themselves through callbacks


def hall(audience: int) -> tuple[Session, list[Phone], list[object]]:
    """The session with everyone joined, the phones, and a heap of long-lived objects."""
    deck = parse_deck(kinds_deck((ROOT / "deck.md").read_text(), 30), "deck.md")
    session = Session(deck)
    phones = [Phone(n) for n in range(audience)]
    for phone in phones:
        session.apply(Join(phone.participant))
    # Modules, the deck, caches: what start-up leaves alive (~450,000 objects in a server).
    heap: list[object] = [{"k": [n]} for n in range(150_000)]
    return session, phones, heap


def one(policy: str, audience: int, words: int) -> dict[str, Any]:
    """One burst under `policy`, in this process."""
    session, phones, heap = hall(audience)
    monitor = StallMonitor()
    keeper = GcPolicy(monitor)
    if policy != "python":
        os.environ["HANDSUP_GC"] = policy if policy == "eager" else ""
        keeper.apply()
    monitor.install_gc_hook()
    words_poll = session.polls["bench-words"]
    choice = session.polls["youtube-16-19"]
    kept: list[dict[str, object]] = []  # what the server keeps per answer (its log record)
    pending: list[tuple[object, ...]] = []  # what waits for the store's next commit
    monitor.take()
    started = time.thread_time()
    sent = 0
    for poll, rounds in ((words_poll, words), (choice, 1)):
        session.apply(GoTo(poll.slide))
        session.apply(OpenPoll(poll.poll.id, 0.0))
        for round_ in range(rounds):
            for n, phone in enumerate(phones):
                if poll is choice:
                    raw = {"type": "vote", "poll": poll.poll.id, "option": n % 3}
                else:
                    raw = {
                        "type": "answer",
                        "poll": poll.poll.id,
                        "answer": [f"w{n % 997}r{round_}"],
                    }
                message = json.loads(
                    json.dumps({**raw, "vote_id": f"{phone.participant}-{round_}"})
                )
                answer = message.get("option", message.get("answer"))
                events = session.apply(
                    Vote(phone.participant, message["poll"], answer, message["vote_id"], 1.0)
                )
                ack = json.dumps(
                    {"type": "vote_ack", "vote_id": message["vote_id"], "n": len(events)}
                )
                phone.sent = [ack.encode()]  # the last frame written, the one before freed
                kept.append({"vote_id": message["vote_id"], "events": [type(e) for e in events]})
                pending.append((message, events, phone.sent.copy))
                sent += 1
                if sent % 50 == 0:  # a commit: the acks waiting on it go out
                    pending = []
                if sent % 500 == 0:
                    json.dumps(poll.answers.tally("display"), default=str)
                if sent % 10 == 0 and policy == "idle":  # the probe's tick on a busy loop
                    keeper.tick(0.002, 0.002)
    burst = monitor.take()
    cpu = (time.thread_time() - started) * 1000
    # The loop goes quiet: the probe's hook sees a tick with no work after `QUIET` of them.
    if policy == "idle":
        keeper.tick(QUIET, 0.0)
    after = monitor.take()
    # A thaw: everything unfrozen and the whole heap walked (what a long-idle loop runs).
    if policy == "idle":
        keeper.thaw()
    thawed = monitor.take()
    del heap, kept
    return {
        "policy": policy,
        "messages": sent,
        "burst_cpu_ms": round(cpu, 1),
        "longest_gc_cpu_ms": round(burst.longest_gc_cpu_ms, 2),
        "longest_gen2_cpu_ms": round(burst.longest_gen2_cpu_ms, 2),
        "gen2": burst.gen2,
        "bound_freezes": burst.bound_freezes,
        "gc_ms": round(burst.gc_ms, 1),
        "collections": burst.collections,
        "idle_gen2_cpu_ms": round(after.longest_gen2_cpu_ms, 2),
        "idle_gen2": after.gen2,
        "thaw_cpu_ms": round(thawed.longest_gen2_cpu_ms, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audience", type=int, default=5000)
    parser.add_argument("--words", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.audience, args.words)))
        return
    print(
        "| policy | messages | longest collection (CPU ms) | longest full (CPU ms) | full "
        "collections (piles frozen at the bound) | all collecting ms (n) | "
        "at the idle moment: full (CPU ms) | a thaw (CPU ms) |"
    )
    print("| --- " * 8 + "|")
    for n in range(args.repeat):
        order = ["python", "eager", "idle"]
        for policy in order if n % 2 == 0 else order[::-1]:
            command = [sys.executable, __file__, "--one", policy, "--audience",
                       str(args.audience), "--words", str(args.words)]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            r = json.loads(done.stdout)
            print(
                f"| {r['policy']} | {r['messages']:,} | {r['longest_gc_cpu_ms']} | "
                f"{r['longest_gen2_cpu_ms']} | {r['gen2']} ({r['bound_freezes']}) | "
                f"{r['gc_ms']} ({r['collections']}) | "
                f"{r['idle_gen2_cpu_ms'] if r['idle_gen2'] else '-'} | "
                f"{r['thaw_cpu_ms'] if r['policy'] == 'idle' else '-'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
