"""The `handsup bench` subcommand: its flags here, the work in `server.bench.run`.

Kept apart so that `handsup` starts without the bench extra (picows) installed.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from server.bench.dialect import DIALECTS


def add_parser(sub: Any) -> None:
    """Register `handsup bench` on the CLI's subparsers."""
    bench = sub.add_parser("bench", help="load-test a server with simulated phones")
    bench.add_argument("--url", help="the server's base URL, e.g. http://127.0.0.1:8000")
    bench.add_argument(
        "--presenter-key",
        default=os.environ.get("HANDSUP_PRESENTER_KEY"),
        help="the server's presenter key (default: $HANDSUP_PRESENTER_KEY)",
    )
    bench.add_argument("--room", help="room code (default: the one in the presenter's welcome)")
    bench.add_argument("--audience", type=int, required=True, help="simulated phones")
    bench.add_argument("--slides", type=int, default=10, help="slide changes to time")
    bench.add_argument("--vote-window", type=float, default=5.0, help="seconds to spread votes")
    bench.add_argument(
        "--stuck", type=float, default=0.0, help="percent of phones that stop reading"
    )
    bench.add_argument(
        "--live-results", action="store_true", help="reveal the poll as it opens: live tallies"
    )
    bench.add_argument(
        "--kind",
        default="choice",
        help="poll kinds to answer after the choice vote, comma-separated: "
        "choice, words, text, scale, quiz, qa, ideas (with --spawn the deck gets one poll of "
        "each, and its Q&A on); name choice to place it (words,choice: the choice vote after "
        "the words)",
    )
    bench.add_argument(
        "--choice-window",
        type=float,
        help="seconds to spread the choice vote before the kinds (default: --vote-window); "
        "e.g. a third of it to compare words, three a phone, at the same message rate",
    )
    bench.add_argument(
        "--vocabulary", type=int, default=20_000, help="different words phones may send"
    )
    bench.add_argument(
        "--zipf", type=float, default=1.0, help="word frequency ~ 1/rank**ZIPF (0: uniform)"
    )
    bench.add_argument("--storm", action="store_true", help="drop and redial every phone")
    bench.add_argument(
        "--storm-spread",
        type=float,
        default=1.0,
        help="seconds over which the phones drop in the storm (default 1; 0: all at the same "
        "instant, then each redials with the page's backoff)",
    )
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument(
        "--spawn", action="store_true", help="start handsup serve deck.md for the run"
    )
    bench.add_argument(
        "--workers",
        type=int,
        default=2,
        help="phone processes (default 2; more if needed for 15,000 phones each at most)",
    )
    bench.add_argument(
        "--connect-timeout",
        type=float,
        help="seconds for every phone to be in sync, redialling as the page does "
        "(default: 60 + 1 per 200 phones)",
    )
    bench.add_argument(
        "--harness-nice",
        type=int,
        default=10,
        help="niceness the phone processes add to their own, so that on a shared machine the "
        "server gets a core first, as it would with the phones elsewhere (default 10; 0: the "
        "server's priority)",
    )
    bench.add_argument(
        "--serve-args",
        help="with --spawn, more flags for handsup serve, e.g. --serve-args='--workers 2' "
        "(--max-connections defaults to the audience and the screens)",
    )
    bench.add_argument(
        "--protocol", choices=sorted(DIALECTS), default="handsup", help="framing (socketio: peers)"
    )
    bench.add_argument("--label", help="name of the server in the report")
    bench.add_argument("--seed", type=int, default=1, help="random seed, for a repeatable run")
    bench.add_argument(
        "--setups",
        help="with --spawn: measure several setups side by side, each started fresh, the same "
        "scenario against each, comma-separated: one (1 worker, SQLite, no Redis), redis (the "
        "same 1 worker with the Redis hop in every command's path), workersN (N workers "
        "sharing the session through Redis, e.g. workers2), socketio (the Node socket.io "
        "peer in bench/node, socket.io framing; needs node and npm). Each Redis setup gets a "
        "fresh redis-server on loopback (appendonly, fsync every second); the server's CPU is "
        "the sum over all its processes (supervisor, workers, redis-server, node)",
    )
    bench.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="with --setups: rounds; each round runs every setup once, in the order given",
    )
    bench.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    """Run `handsup bench` (needs the `bench` extra: pip install 'handsup[bench]')."""
    try:
        from server.bench.run import main

        if args.setups:
            from server.bench.setups import main
    except ImportError as error:
        print(
            f"handsup bench: {error}; install the bench extra: pip install -e '.[bench]'",
            file=sys.stderr,
        )
        return 2
    if args.harness_nice < 0:  # only root may raise a process's priority
        print("handsup bench: --harness-nice is 0 or more", file=sys.stderr)
        return 2
    return main(args)
