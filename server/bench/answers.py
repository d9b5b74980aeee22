"""What simulated phones answer to each kind of poll, and the checks that the room counted it.

Phones answer as people do: words from a Zipf-like vocabulary (a few words are on everybody's
lips, most are said once or twice), typed in any case, sometimes with stray spaces, full-width
letters or a zero-width space pasted in; short sentences; ratings leaning to one end; quiz
answers mostly right and mostly in the first seconds. Every entry knows the word it stands for
(its canonical spelling), so counts are checked against what was meant, not against the
server's own normalisation. The checks are pure functions that return problems (empty: exact).
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections import Counter
from statistics import median
from typing import Any

KINDS = ("choice", "words", "text", "scale", "quiz")

# The head of the vocabulary: words a room says about listening and engagement. Lowercase,
# NFKC-stable, and unchanged by case-folding their upper-case form (no ß), so each one is what
# the server's normalisation must turn every variant of it into.
HEAD = """
listening trust community open honest respect empathy feedback dialogue curiosity
patience transparency participation conversation inclusion connection engagement
collaboration understanding attention questions sharing learning support change voices
people together care clarity humility openness responsiveness accountability
co-design "being heard" "two-way" "taking part" "open data" "say thank you" café naïve
élan über façade 信頼 сообщество social online youtube wikis blogs twitter forums
surveys reviews ratings comments likes videos stories data evidence action impact
outcomes "quick wins" scale reach time budget culture leadership risk fear "red tape"
silos jargon "too slow" noise trolls privacy consent safety fairness access digital
mobile apps email newsletter events workshops "town hall" consultation citizens users
customers partners teams staff managers experts volunteers "young people" parents
"""
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "shi", "vo", "de", "pa",
             "li", "mo", "ze", "fu", "ri", "no", "be", "ga", "to", "su")  # fmt: skip
TEMPLATES = (
    "I liked the part about {a}.",
    "More about {a} and {b}, please.",
    "How do we measure {a}?",
    "What does {a} mean for {b}?",
    "We tried {a} last year and it was hard.",
    "Could you share the slides on {a}?",
    "Is {a} the same as {b}?",
    "{A} matters more than {b} to us.",
    "Who decides about {a} in a team like ours?",
    "Thank you, the bit on {a} was new to me.",
)
ZERO_WIDTH_SPACE = "\u200b"


def vocabulary(size: int) -> list[str]:
    """`size` distinct words: the head, then made-up words of two to five syllables."""
    words = [w.strip('"') for w in _split_quoted(HEAD)]
    for length in (2, 3, 4, 5):
        for parts in itertools.product(SYLLABLES, repeat=length):
            if len(words) >= size:
                return words[:size]
            words.append("".join(parts))
    return words


def _split_quoted(text: str) -> list[str]:
    out: list[str] = []
    for i, chunk in enumerate(text.split('"')):
        out += chunk.split() if i % 2 == 0 else [chunk]
    return out


class Zipf:
    """Draws words with probability proportional to 1 / rank**exponent."""

    def __init__(self, words: list[str], exponent: float = 1.0) -> None:
        self.words = words
        self.cumulative = list(
            itertools.accumulate(1 / r**exponent for r in range(1, len(words) + 1))
        )

    def draw(self, rng: random.Random) -> str:
        at = rng.random() * self.cumulative[-1]
        return self.words[min(bisect.bisect_left(self.cumulative, at), len(self.words) - 1)]


def full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms (NFKC maps them back)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def typed(word: str, rng: random.Random) -> str:
    """The word as someone might type it: case, stray spaces, pasted oddities."""
    roll = rng.random()
    if roll < 0.60:
        return word
    if roll < 0.82:
        return word[:1].upper() + word[1:]
    if roll < 0.87:
        return word.upper()
    if roll < 0.93:
        return f"  {word.replace(' ', '  ')} "
    if roll < 0.97:
        return full_width(word)
    middle = max(1, len(word) // 2)
    return word[:middle] + ZERO_WIDTH_SPACE + word[middle:]


def words_answer(zipf: Zipf, entries: int, rng: random.Random) -> list[tuple[str, str]]:
    """One phone's entries as (what it sends, the word it means). Draws are independent, so a
    phone may send the same word twice in different spellings: it must count once."""
    out = []
    for _ in range(entries):
        word = zipf.draw(rng)
        out.append((typed(word, rng), word))
    return out


def sentence(zipf: Zipf, rng: random.Random) -> str:
    """A short, already clean answer to an open question."""
    a, b = zipf.draw(rng), zipf.draw(rng)
    text = rng.choice(TEMPLATES).format(a=a, b=b, A=a[:1].upper() + a[1:])
    return text[:280]


def rating(low: int, high: int, rng: random.Random) -> int:
    """A point of the scale, leaning towards the top (as satisfaction ratings do)."""
    points = list(range(low, high + 1))
    return rng.choices(points, weights=[1 + i * i for i in range(len(points))])[0]


def quiz_choice(options: int, correct: int, rng: random.Random) -> int:
    """Right six times in ten, otherwise any wrong option."""
    if rng.random() < 0.6:
        return correct
    return rng.choice([o for o in range(options) if o != correct] or [correct])


def quiz_delay(window: float, rng: random.Random) -> float:
    """Seconds after the question opens: a burst in the first seconds, a tail to the window
    (beta(2, 5): most answers come at about a fifth of it)."""
    return window * rng.betavariate(2, 5)


# The scoring rule, written here from the issue rather than imported from the server:
# full points within 0.5 s, then linearly down to half points at the deadline.
def expected_points(points: int, elapsed: float, limit: float) -> int:
    """Points for a correct answer `elapsed` seconds after the question opened."""
    if elapsed <= 0.5:
        return points
    late = min(elapsed - 0.5, limit - 0.5) / max(limit - 0.5, 1e-9)
    return round(points * (1 - late / 2))


# Checks: each returns the problems found, an empty list when the tally is exact.


def check_counts(counts: list[int], voters: int, tally: dict[str, Any]) -> list[str]:
    """A choice or scale tally against what the phones had acknowledged."""
    problems = []
    if tally.get("voters") != voters:
        problems.append(f"voters {tally.get('voters')} != {voters} acknowledged")
    if tally.get("counts") != counts:
        problems.append(f"counts {tally.get('counts')} != {counts} acknowledged")
    return problems


def check_scale(counts: list[int], low: int, voters: int, tally: dict[str, Any]) -> list[str]:
    """Counts per point, and the mean and median computed from them."""
    problems = check_counts(counts, voters, tally)
    values = [low + i for i, n in enumerate(counts) for _ in range(n)]
    mean = round(sum(values) / len(values), 2) if values else None
    middle = float(median(values)) if values else None
    if tally.get("mean") != mean or tally.get("median") != middle:
        problems.append(
            f"mean / median {tally.get('mean')} / {tally.get('median')} != {mean} / {middle}"
        )
    return problems


def check_words(expected: Counter[str], voters: int, tally: dict[str, Any], top: int) -> list[str]:
    """A cloud (the top `top` words) against the words the phones meant: every word shown has
    its exact count, none is missing that outranks a shown one, none is there twice."""
    problems = []
    if tally.get("voters") != voters:
        problems.append(f"voters {tally.get('voters')} != {voters} acknowledged")
    items = [i for i in tally.get("items") or [] if i.get("state", "shown") == "shown"]
    ids = [i["id"] for i in items]
    if len(set(ids)) != len(ids):
        problems.append("a word is in the cloud twice")
    wrong = [
        (i["id"], i["count"], expected.get(i["id"], 0))
        for i in items
        if i["count"] != expected.get(i["id"], 0)
    ]
    if wrong:
        problems.append(f"{len(wrong)} words miscounted, e.g. (word, shown, sent) {wrong[:3]}")
    if len(items) != min(top, len(expected)):
        problems.append(f"{len(items)} words shown, expected {min(top, len(expected))}")
    if items and len(expected) > len(items):
        lowest = min(i["count"] for i in items)
        shown = set(ids)
        left_out = max(n for w, n in expected.items() if w not in shown)
        if left_out > lowest:
            problems.append(f"a word sent {left_out} times is missing; one shown has {lowest}")
    return problems


def check_texts(expected: Counter[str], voters: int, tally: dict[str, Any], wall: int) -> list[str]:
    """A wall of answers: as many as it holds, each one an answer a phone sent."""
    problems = []
    if tally.get("voters") != voters:
        problems.append(f"voters {tally.get('voters')} != {voters} acknowledged")
    items = tally.get("items") or []
    if len(items) != min(wall, sum(expected.values())):
        problems.append(f"{len(items)} answers shown, expected {min(wall, sum(expected.values()))}")
    strange = Counter(i["text"] for i in items) - expected
    if strange:
        problems.append(f"{sum(strange.values())} answers shown that no phone sent")
    return problems


def check_export(kind: str, expected: Any, voters: int, poll: dict[str, Any]) -> list[str]:
    """A poll's exported results (every row, from the stored log) against the phones' answers:
    votes per option or point (a list), per word or per answer text (a Counter)."""
    problems = []
    if poll.get("voters") != voters:
        problems.append(f"export: voters {poll.get('voters')} != {voters} acknowledged")
    rows = poll.get("options") or []
    if kind in ("choice", "quiz", "scale"):
        got: Any = [row["votes"] for row in rows]
    elif kind == "words":
        got = Counter({row["key"]: row["votes"] for row in rows})
        if len(rows) != len(got) or any(row["hidden"] for row in rows):
            problems.append("export: a word twice, or hidden")
    else:
        got = Counter(row["text"] for row in rows)
    if got != expected:
        if isinstance(expected, Counter):
            diff = (got - expected) + (expected - got)
            problems.append(
                f"export: {len(diff)} {kind} rows differ, e.g. {list(diff.items())[:3]}"
            )
        else:
            problems.append(f"export: votes {got} != {expected} acknowledged")
    return problems


def frame_rate(times: list[float], sizes: list[int]) -> dict[str, Any]:
    """Tally frames a screen got: how many, how many a second from the first to the last and
    at most in any one second, the smallest gap between two, and the largest in bytes."""
    most = low = 0
    for high, at in enumerate(times):
        while at - times[low] >= 1.0:
            low += 1
        most = max(most, high - low + 1)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    span = times[-1] - times[0] if times else 0.0
    return {
        "frames": len(times),
        "mean_per_s": round((len(times) - 1) / span, 1) if span > 0 else None,
        "most_per_s": most,
        "min_gap_ms": round(min(gaps) * 1000, 1) if gaps else None,
        "max_bytes": max(sizes, default=0),
        "last_bytes": sizes[-1] if sizes else 0,
    }


# The polls `handsup bench --spawn --kind ...` adds after deck.md's slides: one of each kind.
# The quiz question's timer is set to outlast the window phones answer in.
KINDS_DECK = """
---
poll:
  id: bench-words
  type: words
  entries: 3
  max_length: 25
---

# One word for what listening to a room means?

---
poll:
  id: bench-text
  type: text
---

# What would you ask the people who never come to a consultation?

---
poll:
  id: bench-scale
  type: scale
  min: 0
  max: 10
---

# How likely are you to recommend this talk to a colleague?

---
poll:
  id: bench-quiz
  points: 1000
  timer: {timer}
---

# How many 16-19 year olds regularly watch videos from YouTube?

- [ ] 33%
- [ ] 66%
- [x] 75%

Source: Forrester for DIUS, Aug 2008
"""


def kinds_deck(base: str, timer: int) -> str:
    """A deck: `base` (deck.md) with a poll of each kind added at the end."""
    return base.rstrip("\n") + "\n" + KINDS_DECK.format(timer=timer)
