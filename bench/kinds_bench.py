"""What each poll kind costs the server, in process: an answer taken, a tally built and encoded.

Run: .venv/bin/python bench/kinds_bench.py [--phones 5000] [--vocabulary 20000] [--zipf 1.0]

Phones answer as `handsup bench --kind` has them answer (server/bench/answers.py), into the
session of `handsup bench --spawn`'s deck. Per kind it prints the server's CPU per answer
(`Session.apply` and the `mine` the room reads for the ack), then the time to build and
encode the tally each screen gets (a room does this for the display and the presenter up to
ten times a second while answers come in), and the frame's size; choice is the baseline.
Then the cloud's largest possible frame, and the leaderboard: `Session.scores()` and the top
10, for one scored question and for four.
`--zipf 0 --vocabulary 150000` makes nearly every word different (the cloud's worst case).
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from server.bench import answers
from server.commands import Answer, GoTo, Join, OpenPoll, Vote
from server.kinds import LivePoll, Timing
from server.kinds.words import TOP, WordsLive
from server.protocol import Role
from server.session import Session
from slides import WordsPoll, parse_deck

ROOT = Path(__file__).resolve().parent.parent
QUIZ = """
---
poll:
  id: q{n}
  points: 1000
  timer: 20
---

# Question {n}?

- [ ] A
- [x] B
- [ ] C
- [ ] D
"""


def best_ms(work: Callable[[], object], repeat: int = 15) -> float:
    """The median of `repeat` timings of `work`, in ms."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def frame(live: LivePoll[Any], role: Role) -> str:
    """The tally this role gets, encoded as the room encodes it."""
    return live.tally(role).model_dump_json(exclude_none=True)


def answers_for(
    kind: str, phones: int, args: argparse.Namespace, rng: random.Random
) -> list[tuple[str, Answer, float]]:
    """(participant, answer, seconds after opening) in the order a room would get them."""
    zipf = answers.Zipf(answers.vocabulary(args.vocabulary), args.zipf)
    out: list[tuple[str, Answer, float]] = []
    for n in range(phones):
        who = f"p{n}"
        if kind == "words":
            out += [
                (who, [typed], rng.uniform(0, 10))
                for typed, _ in answers.words_answer(zipf, 3, rng)
            ]
        elif kind == "text":
            out.append((who, answers.sentence(zipf, rng), rng.uniform(0, 10)))
        elif kind == "scale":
            out.append((who, answers.rating(0, 10, rng), rng.uniform(0, 10)))
        elif kind == "quiz":
            out.append((who, answers.quiz_choice(3, 2, rng), answers.quiz_delay(10, rng)))
        else:
            out.append((who, rng.randrange(3), rng.uniform(0, 10)))
    out.sort(key=lambda row: row[2])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=5000)
    parser.add_argument("--vocabulary", type=int, default=20_000)
    parser.add_argument("--zipf", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    deck = parse_deck(answers.kinds_deck((ROOT / "deck.md").read_text(), 12), "bench.md")
    session = Session(deck)
    for n in range(args.phones):
        session.apply(Join(f"p{n}"))
    polls = {"choice": "youtube-16-19", "words": "bench-words", "text": "bench-text"}
    polls |= {"scale": "bench-scale", "quiz": "bench-quiz"}
    print(f"{args.phones:,} phones; words from {args.vocabulary:,}, zipf {args.zipf}")
    head = ("kind", "answers", "µs/answer", "display ms", "presenter ms", "bytes")
    print("{:<7} {:>8} {:>10} {:>11} {:>13} {:>7}".format(*head))
    for kind, poll in polls.items():
        state = session.polls[poll]
        session.apply(GoTo(state.slide))
        session.apply(OpenPoll(poll, 1000.0))
        given = answers_for(kind, args.phones, args, rng)
        votes = [
            Vote(who, poll, answer, f"v{i}", 1000.0 + at)
            for i, (who, answer, at) in enumerate(given)
        ]
        live = state.answers
        started = time.perf_counter()
        for vote in votes:
            session.apply(vote)
            live.mine(vote.participant)  # the room reads it for the acknowledgement
        per_answer = (time.perf_counter() - started) * 1e6 / len(votes)
        display = best_ms(partial(frame, live, "display"))
        presenter = best_ms(partial(frame, live, "presenter"))
        size = len(frame(live, "display").encode())
        extra = f"  ({len(live.rows()):,} different)" if kind in ("words", "text") else ""
        figures = f"{per_answer:>10.1f} {display:>11.3f} {presenter:>13.3f} {size:>7,}"
        print(f"{kind:<7} {len(votes):>8,} {figures}{extra}")

    def leaderboard(session: Session) -> object:
        return heapq.nlargest(10, session.scores().items(), key=lambda item: item[1])

    # The cloud's frame when a room types the longest words the poll allows, in characters of
    # four UTF-8 bytes (NFKC-stable CJK ideographs): what a top 50 costs at its largest.
    longest = WordsLive(WordsPoll(id="bench-words", question="?"))
    for n in range(TOP):
        word = "".join(chr(0x20000 + n * 25 + i) for i in range(25))
        longest.submit(f"p{n}", longest.read([word]), Timing(None, None))
    size = len(frame(longest, "display").encode())
    print(f"cloud frame of {TOP} words of 25 four-byte characters: {size:,} bytes")
    print(f"leaderboard, 1 scored question:  {best_ms(lambda: leaderboard(session)):.2f} ms")
    quiz = parse_deck("".join(QUIZ.format(n=n) for n in range(4)).lstrip("-\n"), "quiz.md")
    four = Session(quiz)
    for n in range(args.phones):
        four.apply(Join(f"p{n}"))
    for state in list(four.polls.values()):
        four.apply(GoTo(state.slide))
        four.apply(OpenPoll(state.poll.id, 0.0))
        for n in range(args.phones):
            four.apply(
                Vote(
                    f"p{n}",
                    state.poll.id,
                    rng.randrange(4),
                    f"{state.poll.id}-{n}",
                    rng.uniform(0, 19),
                )
            )
    print(f"leaderboard, 4 scored questions: {best_ms(lambda: leaderboard(four)):.2f} ms")


if __name__ == "__main__":
    main()
