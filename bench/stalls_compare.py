"""Loop stalls and acknowledgement tails before and after the stall work, back to back.

Run: .venv/bin/python bench/stalls_compare.py [--audience 5000] [--rounds 2] [--window 5]

Each round runs `handsup bench --spawn --kind ...` twice, once with Python's garbage
collector and whole broadcasts (`HANDSUP_GC=python HANDSUP_FANOUT_SLICE=0`: how handsup ran
before) and once as handsup runs now, the two in alternating order from round to round; and
alternately with the choice vote before the words and after them, so that neither the order
of the servers nor the order of the kinds in a run favours one side. Prints a markdown row
per run: ack p50 / p99 of the choice vote and of the words (each phone sends 3), their
ratio, and per phase the longest loop stall, the longest generation-2 collection with how
many there were, and the longest collection of any generation: each as wall time and, in
brackets, the loop's (collecting) thread's CPU time in it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BEFORE = {"HANDSUP_GC": "python", "HANDSUP_FANOUT_SLICE": "0"}


def run(audience: int, window: float, kinds: str, before: bool) -> dict[str, Any]:
    """One `handsup bench --spawn` run's JSON figures."""
    env = {**os.environ, **(BEFORE if before else {})}
    command = [
        sys.executable, "-m", "server.cli", "bench", "--spawn", "--json",
        "--audience", str(audience), "--slides", "5", "--vote-window", str(window),
        "--kind", kinds,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def phase(figures: dict[str, Any] | None) -> str:
    if not figures:
        return "-"
    return (
        f"{figures['longest_stall_ms']:.0f} ({figures['longest_busy_ms']:.0f}); "
        f"{figures['longest_gen2_ms']:.0f} ({figures['longest_gen2_cpu_ms']:.0f}) "
        f"x{figures['gen2']}; {figures['longest_gc_ms']:.0f} ({figures['longest_gc_cpu_ms']:.0f})"
    )


def row(name: str, order: str, result: dict[str, Any]) -> str:
    choice = result.get("vote_ack_ms") or {}
    words = (result.get("kinds") or {}).get("words") or {}
    ack = words.get("ack_ms") or {}
    loop = result.get("loop") or {}
    load = os.getloadavg()[0]
    cells = [
        name,
        order,
        f"{result.get('other_load_cores')}, {load:.1f}",
        f"{(result.get('fanout_ms') or {}).get('p99')}",
        f"{choice.get('p50')} / {choice.get('p99')}",
        f"{ack.get('p50')} / {ack.get('p99')}",
        f"{words.get('ack_p99_vs_choice')}x",
        *(phase(loop.get(p)) for p in ("connect", "slides", "choice", "words")),
        "yes" if result.get("ok") else "NO",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audience", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--choice-only", action="store_true", help="no words: the vote alone")
    args = parser.parse_args()
    print(
        "| server | order | other load, load avg | slide p99 ms | choice ack p50 / p99 ms | "
        "words ack p50 / p99 ms | words ÷ choice p99 | connect: stall (on CPU); gen-2 (on CPU) xn; "
        "any GC (on CPU), ms | slides | choice | words | exact |"
    )
    print("| --- " * 12 + "|")
    for n in range(args.rounds):
        kinds = "words" if n % 2 == 0 else "words,choice"
        order = "choice, words" if n % 2 == 0 else "words, choice"
        if args.choice_only:
            kinds = order = "choice"
        sides = [True, False] if n % 2 == 0 else [False, True]
        for before in sides:
            result = run(args.audience, args.window, kinds, before)
            print(row("before" if before else "after", order, result), flush=True)


if __name__ == "__main__":
    main()
