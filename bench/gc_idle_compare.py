"""Main's eager GC policy against full collections at idle moments, back to back.

Run: .venv/bin/python bench/gc_idle_compare.py [--rounds 2] [--audience 5000]
     [--scenario words] [--scenario boards]

Each round runs each scenario twice with `handsup bench --spawn --json`, once with
`HANDSUP_GC=eager` (main's policy until 2026-12-07: Python starts full collections at
thresholds (1000, 2, 1), each frozen after) and once with the idle policy (server.stalls.GcPolicy
as `handsup serve` applies it), alternating which goes first from round to round. Scenarios:
`words` (--slides 5 --vote-window 10 --kind words,choice) and `boards` (--slides 5
--vote-window 30 --kind qa,ideas). Prints a markdown row per run: the load average at its
start, the bench's "other load" in cores, ack p50 / p99 of the choice vote and of each kind
(and the kind's p99 over the choice vote's), and per phase the longest loop stall with the
loop thread's CPU in it, the longest full collection with its CPU, how many full collections
(of them at idle moments) and piles frozen at the bound, all in ms.
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
SCENARIOS = {
    "words": ["--slides", "5", "--vote-window", "10", "--kind", "words,choice"],
    "boards": ["--slides", "5", "--vote-window", "30", "--kind", "qa,ideas"],
}


def run(audience: int, scenario: str, eager: bool) -> tuple[dict[str, Any], str]:
    """One `handsup bench --spawn` run's JSON figures, and the load average at its start."""
    env = {**os.environ, "HANDSUP_GC": "eager" if eager else ""}
    load = " ".join(f"{n:.2f}" for n in os.getloadavg())
    command = [sys.executable, "-m", "server.cli", "bench", "--spawn", "--json",
               "--audience", str(audience), *SCENARIOS[scenario]]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
    result: dict[str, Any] = json.loads(done.stdout)
    return result, load


def phase(name: str, figures: dict[str, Any]) -> str:
    """One phase's loop figures."""
    return (
        f"{name} {figures['longest_stall_ms']:.1f} ({figures['longest_busy_ms']:.1f}); "
        f"{figures['longest_gen2_ms']:.1f} ({figures['longest_gen2_cpu_ms']:.1f}) "
        f"x{figures['gen2']} [{figures.get('idle_gen2', '-')}] "
        f"f{figures.get('bound_freezes', '-')}"
    )


def row(policy: str, scenario: str, load: str, result: dict[str, Any]) -> str:
    """A markdown row for one run."""
    choice = result.get("vote_ack_ms") or {}
    kinds = [
        f"{kind} {(f.get('ack_ms') or {}).get('p50')} / {(f.get('ack_ms') or {}).get('p99')} "
        f"({f.get('ack_p99_vs_choice')}x)"
        for kind, f in (result.get("kinds") or {}).items()
    ]
    loop = result.get("loop") or {}
    cells = [
        policy,
        scenario,
        f"{load}; {result.get('other_load_cores')}",
        f"{choice.get('p50')} / {choice.get('p99')}",
        "; ".join(kinds),
        "<br>".join(phase(name, figures) for name, figures in loop.items()),
        "yes" if result.get("ok") else "NO",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audience", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    print(
        "| policy | scenario | load avg; other load (cores) | choice ack p50 / p99 ms | "
        "kind ack p50 / p99 ms (÷ choice p99) | phase: stall (CPU); full GC (CPU) xn [at "
        "idle] f(piles frozen at the bound), ms | exact |"
    )
    print("| --- " * 7 + "|")
    for n in range(args.rounds):
        for scenario in args.scenario or list(SCENARIOS):
            for eager in (True, False) if n % 2 == 0 else (False, True):
                result, load = run(args.audience, scenario, eager)
                print(row("eager" if eager else "idle", scenario, load, result), flush=True)


if __name__ == "__main__":
    main()
