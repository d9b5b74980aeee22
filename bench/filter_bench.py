"""Profanity filters for text on screens, measured: how fast, how many languages, how careful.

Runs every candidate it can import (install one per virtual environment: two versions of
better-profanity cannot share one) on the same audience text: 15,000 short word-cloud entries
and 1,000 open answers of 280 characters, a fixed share of them carrying a listed word. It
prints one line per candidate: the time to load its list, to mask the entries and the answers,
whether it masked the listed words, and the innocent words it wrongly masked.

    python bench/filter_bench.py            # the candidates importable here
    python bench/filter_bench.py --json     # the same, one JSON object per line
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import random
import time
from collections.abc import Callable

Masker = Callable[[str], str]

# Words of a talk about listening, and a few listed in every English list we tried.
PLAIN = [
    *("listening", "trust", "open", "data", "people", "voice", "question", "answer"),
    *("community", "local", "council", "budget", "youth", "digital", "engagement", "idea"),
    *("consultation", "better", "together", "change", "city", "park", "school", "transport"),
    *("health", "safety", "housing", "culture", "future", "honest", "respect", "share"),
]
LISTED = ["shit", "fuck", "bullshit", "asshole", "bitch"]
# Innocent words that naive substring filters mask (the Scunthorpe problem).
INNOCENT = ["Scunthorpe", "classic", "assessment", "Sussex", "cocktail", "therapist", "grape"]


def entries(count: int, rng: random.Random) -> list[str]:
    """Word-cloud entries of one to three words; one in twenty has a listed word."""
    out = []
    for n in range(count):
        words = rng.choices(PLAIN + INNOCENT, k=rng.randint(1, 3))
        if n % 20 == 0:
            words[rng.randrange(len(words))] = rng.choice(LISTED)
        out.append(" ".join(words))
    return out


def answers(count: int, rng: random.Random) -> list[str]:
    """Open answers of 280 characters; one in ten has a listed word."""
    out = []
    for n in range(count):
        words: list[str] = []
        while len(" ".join(words)) < 280:
            words.append(rng.choice(PLAIN + INNOCENT))
        if n % 10 == 0:
            words[rng.randrange(len(words))] = rng.choice(LISTED)
        out.append(" ".join(words)[:280])
    return out


def better_profanity() -> Masker:
    from better_profanity import profanity  # type: ignore[import-not-found]

    profanity.load_censor_words()
    return profanity.censor  # type: ignore[no-any-return]


def better_profanity_fast() -> Masker:
    from better_profanity_fast import profanity  # type: ignore[import-not-found]

    profanity.load_censor_words()  # its singleton starts with an empty list
    return profanity.censor  # type: ignore[no-any-return]


def better_profanity_rs() -> Masker:
    from better_profanity_rs import profanity  # type: ignore[import-not-found]

    profanity.load_censor_words()
    return profanity.censor  # type: ignore[no-any-return]


def glin_profanity() -> Masker:
    from glin_profanity import Filter  # type: ignore[import-not-found]

    engine = Filter({"all_languages": True, "replace_with": "*"})
    return lambda text: engine.check_profanity(text).get("processed_text") or text


def profanex() -> Masker:
    from profanex import Filter  # type: ignore[import-not-found]

    return Filter.from_defaults().clean  # type: ignore[no-any-return]


def profanityfilter() -> Masker:
    from profanityfilter import ProfanityFilter  # type: ignore[import-not-found]

    return ProfanityFilter().censor  # type: ignore[no-any-return]


def pyobscenity() -> Masker:
    from pyobscenity import censor  # type: ignore[import-not-found]

    return censor  # type: ignore[no-any-return]


CANDIDATES: dict[str, tuple[str, Callable[[], Masker]]] = {
    "better-profanity": ("better_profanity", better_profanity),
    "better-profanity-fast": ("better_profanity_fast", better_profanity_fast),
    "better-profanity-rs": ("better_profanity_rs", better_profanity_rs),
    "glin-profanity": ("glin_profanity", glin_profanity),
    "profanex": ("profanex", profanex),
    "profanityfilter": ("profanityfilter", profanityfilter),
    "pyobscenity": ("pyobscenity", pyobscenity),
}


def measure(name: str, load: Callable[[], Masker]) -> dict[str, object]:
    """Time one candidate on the same texts as every other."""
    started = time.perf_counter()
    mask = load()
    setup = time.perf_counter() - started
    rng = random.Random(11)
    short, long = entries(15_000, rng), answers(1_000, rng)
    mask(short[0])  # anything lazy happens outside the timings
    started = time.perf_counter()
    for text in short:
        mask(text)
    short_s = time.perf_counter() - started
    started = time.perf_counter()
    for text in long:
        mask(text)
    long_s = time.perf_counter() - started
    return {
        "candidate": name,
        "version": importlib.metadata.version(name),
        "setup_s": round(setup, 3),
        "entries_15k_s": round(short_s, 3),
        "answers_1k_s": round(long_s, 3),
        "masks_listed": sum(mask(f"it is {w} really") != f"it is {w} really" for w in LISTED),
        "wrongly_masked": [word for word in INNOCENT if mask(word) != word],
    }


def main() -> None:
    """Measure every candidate that imports here; print a line for each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    for name, (module, load) in CANDIDATES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        row = measure(name, load)
        if args.json:
            print(json.dumps(row))
        else:
            print(
                f"{row['candidate']:<22} {row['version']:<8} setup {row['setup_s']:>7.3f} s  "
                f"15k entries {row['entries_15k_s']:>8.3f} s  "
                f"1k answers {row['answers_1k_s']:>8.3f} s  "
                f"listed masked {row['masks_listed']}/{len(LISTED)}  "
                f"wrongly masked {row['wrongly_masked']}"
            )


if __name__ == "__main__":
    main()
