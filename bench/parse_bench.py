"""Time the deck parser: a generated 500-slide deck and the seed deck.md, parsed N times each.

Run: .venv/bin/python bench/parse_bench.py [--runs N] [--slides S]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from slides import parse_deck

ROOT = Path(__file__).resolve().parent.parent

_SLIDES: list[Callable[[int], str]] = [
    lambda n: f"# Section {n}\n\n<!-- Notes for section {n}. -->\n",
    lambda n: (
        f"---\npoll:\n  id: q{n}\n---\n\n# Question {n}: how many of these are true?\n\n"
        f"- [ ] 10%\n- [x] 40%\n- [ ] 55%\n- [ ] None of them ({n})\n\n"
        "Source: Forrester for DIUS, Aug 2008\n\n<!-- Ask the room. -->\n"
    ),
    lambda n: f"Statement number {n}: social media = conversations\n",
    lambda n: f"# Reasons {n}\n\n" + "".join(f"- Reason **{i}** of slide {n}\n" for i in range(6)),
    lambda n: f"# Lessons {n}\n\n" + "".join(f"{i}. Lesson {i}\n" for i in range(1, 6)),
    lambda n: f"# Vision {n}\n\n> Better conversations make better policy ({n}).\n\nDIUS\n",
    lambda n: (
        f"---\nlayout: grid\n---\n\n# Ways {n}\n\n## Listening\nReading blogs\n\n"
        "## Sharing\nPublishing data\n\n## Conversing\nForums\n\n## Collaborating\nDrafting\n"
    ),
    lambda n: f"---\nlayout: steps\n---\n\n## Need {n}\n\n## Access\n\n## Capability\n",
    lambda n: f"# Visit {n}\n\n[example.org/{n}](https://example.org/{n})\n\nNote: Show it.\n",
    lambda n: f"# Chart {n}\n\n![Chart {n}](images/chart-{n}.png)\n",
    lambda n: f"# Code {n}\n\n```python\nprint({n})\n---\n```\n\nSome text with `code`.\n",
]


def generated_deck(count: int) -> str:
    """A deck of `count` slides cycling through every kind, polls included."""
    front = "---\ntitle: Benchmark\ndefaults:\n  poll:\n    results: hidden\n---\n\n"
    slides = [_SLIDES[n % len(_SLIDES)](n) for n in range(count)]
    body = slides[0]
    for slide in slides[1:]:
        # A slide with its own option block brings its opening `---`.
        body += "\n" + (slide if slide.startswith("---\n") else "---\n\n" + slide)
    return front + body


def measure(name: str, text: str, runs: int) -> None:
    deck = parse_deck(text, file=name)  # warm up, and check it parses
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        parse_deck(text, file=name)
        times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    p90 = statistics.quantiles(times, n=10, method="inclusive")[-1]
    polls = sum(1 for slide in deck.slides if slide.poll)
    print(
        f"{name}: {len(deck.slides)} slides ({polls} polls), {len(text) / 1024:.0f} KiB, "
        f"{runs} runs: median {median:.2f} ms, p90 {p90:.2f} ms, "
        f"{len(deck.slides) / (median / 1000):,.0f} slides/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=30, help="parses per deck (default 30)")
    parser.add_argument("--slides", type=int, default=500, help="generated deck size")
    args = parser.parse_args()
    text = generated_deck(args.slides)
    measure(f"generated-{args.slides}.md", text, args.runs)
    measure("deck.md", (ROOT / "deck.md").read_text(encoding="utf-8"), args.runs * 10)


if __name__ == "__main__":
    main()
