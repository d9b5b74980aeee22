"""`handsup bench --kind qa|ideas`: a room that talks back. Some phones ask a question (or
propose an idea), then every phone upvotes five questions (or puts its five votes on ideas)
within the window; the room must count every acknowledged vote exactly.

Phones do it as the audience page does: one message at a time, the next once the last is
acknowledged (an ask by `ask_ack`, an upvote by `upvote_ack`, an idea or a vote by
`vote_ack`). An ideas phone sends its whole set of votes each time, one
idea more each time. Popular questions and ideas draw more votes (Zipf over their order).
Worker side (`phase`) and the orchestrator's checks (pure functions returning problems).
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

from server.bench import answers
from server.bench.conn import Conn
from server.bench.phone import Phone, Send, start_scripts

if TYPE_CHECKING:
    from server.bench.worker import Worker

KINDS = ("qa", "ideas")
VOTES = 5  # upvotes (or idea votes) per phone
PROPOSALS = 500  # questions (or ideas) in the room

# The ideas board `handsup bench --spawn --kind ideas` adds to the deck (one idea a phone,
# five votes each); `--kind qa` turns the deck's Q&A on, shown as asked (no approval step:
# 500 approvals would measure the moderator, not the room).
IDEAS_DECK = """
---
poll:
  id: bench-ideas
  type: ideas
  ideas: 1
  votes_per_person: 5
---

# How could we reach the people who never come to a consultation?
"""


def with_boards(deck: str) -> str:
    """The deck with an ideas board at the end and its Q&A on (moderation after)."""
    head, sep, rest = deck.partition("---\n")
    if not head and sep and "\nqa:" not in rest.split("\n---", 1)[0]:
        deck = "---\nqa:\n  moderation: after\n" + rest
    return deck.rstrip("\n") + "\n" + IDEAS_DECK


def ask_message(kind: str, poll: str, text: str, ref: str) -> dict[str, Any]:
    """What a phone sends to ask a question or propose an idea."""
    if kind == "qa":
        return {"type": "ask", "text": text, "ask_id": ref}
    return {"type": "answer", "poll": poll, "answer": text, "vote_id": ref}


async def phase(worker: Worker, command: dict[str, Any]) -> None:
    """Run one step on this worker's healthy phones: `propose` (the first `share` of them
    ask or propose once) or `vote` (every phone votes for `VOTES` of `ids`, not its own)."""
    kind, step, poll, window = command["type"], command["step"], command["poll"], command["window"]
    rng = worker.rng
    phones = worker.healthy
    scripts: list[list[Send]] = []
    if step == "propose":
        count = min(len(phones), round(command["share"] * len(phones)))
        zipf = answers.Zipf(answers.vocabulary(2000), 1.0)
        for n in range(len(phones)):
            if n >= count:
                scripts.append([])
                continue
            text = f"{answers.sentence(zipf, rng)[:200]} (#{worker.plan.number}-{n})"
            ref = uuid.UUID(int=rng.getrandbits(128)).hex
            scripts.append([Send(ref, ask_message(kind, poll, text, ref), text, 0.0)])
    else:
        ids: list[str] = command["ids"]
        owners: dict[str, str] = command["owners"]
        # The top of the list draws the most votes (weights 1/rank, summed once: the draws
        # are those of `rng.choices(ids, weights)`, at a fraction of the cost).
        cumulative = list(itertools.accumulate(1 / rank for rank in range(1, len(ids) + 1)))
        theirs: dict[str, set[str]] = {}
        for item, who in owners.items():
            theirs.setdefault(who, set()).add(item)
        for phone in phones:
            mine = theirs.get(phone.participant or "", set())
            chosen: list[str] = []
            while len(chosen) < min(VOTES, len(ids) - len(mine)):
                pick = rng.choices(ids, cum_weights=cumulative)[0]
                if pick not in chosen and pick not in mine:
                    chosen.append(pick)
            times = sorted(rng.uniform(0.0, window) for _ in chosen)
            script = []
            for n, (pick, at) in enumerate(zip(chosen, times, strict=True)):
                ref = uuid.UUID(int=rng.getrandbits(128)).hex
                if kind == "qa":
                    message: dict[str, Any] = {"type": "upvote", "question": pick,
                                               "upvote_id": ref}  # fmt: skip
                else:
                    message = {"type": "answer", "poll": poll, "answer": chosen[: n + 1],
                               "vote_id": ref}  # fmt: skip
                script.append(Send(ref, message, pick, at))
            scripts.append(script)
    start = time.monotonic()
    start_scripts(phones, scripts, start)
    busy = [p for p in phones if p.script]
    bytes_before = Conn.received_bytes
    for phone in busy:
        worker.due_later(phone)
    ends = max((s.at for p in busy for s in p.script), default=start)
    wait = await worker.wait_for(
        busy,
        lambda p: all(s.done for s in p.script),
        lambda p: 0.0,
        ends - time.monotonic() + 30.0,
    )
    ended = time.monotonic()
    # The bytes phones received while the step ran: what it costs each phone's data plan.
    received = Conn.received_bytes - bytes_before
    worker.send({"kind": "board", **outcome(kind, step, phones, busy, len(wait.pending)),
                 "bytes": received, "seconds": ended - start})  # fmt: skip


def held_ok(kind: str, step: str, send: Send, sofar: list[str]) -> bool:
    """Whether an acknowledgement says the server holds what the phone sent."""
    if step == "propose":
        return isinstance(send.held, str) and bool(send.held)
    if kind == "ideas":
        return bool(send.held == sofar)
    return bool(send.held == send.meant)  # the upvote_ack names the question upvoted


def outcome(
    kind: str, step: str, phones: list[Phone], busy: list[Phone], unanswered: int
) -> dict[str, Any]:
    """What a step came to: counts, timings, and what the room must now show."""
    sends = [s for p in busy for s in p.script]
    acked = [s for s in sends if s.ack_at is not None]
    expected: Counter[str] = Counter()
    proposed: list[list[str]] = []
    mismatched = 0
    for phone in busy:
        sofar: list[str] = []
        for send in phone.script:
            if send.ack_at is None:
                continue
            if step == "vote":
                sofar.append(send.meant)
                expected[send.meant] += 1
            else:
                proposed.append([str(phone.participant), str(send.held)])
            mismatched += not held_ok(kind, step, send, sofar)
    return {
        "phones": len(phones),
        "sent": sum(1 for s in sends if s.sent_at is not None),
        "acked": len(acked),
        "refused": [s.refused for s in sends if s.refused is not None],
        "unanswered": unanswered,
        "ack_ms": [((s.ack_at or 0.0) - (s.sent_at or 0.0)) * 1000 for s in acked],
        "first_sent": min((s.sent_at for s in sends if s.sent_at is not None), default=0.0),
        "last_ack": max((s.ack_at or 0.0 for s in acked), default=0.0),
        "mismatched": mismatched,
        "expected": dict(expected),
        "proposed": proposed,
    }


# Orchestrator checks.


def ranked(expected: Counter[str], ids: list[str]) -> list[tuple[str, int]]:
    """Every proposed item with its votes, as the room ranks them: most votes first, then
    the earliest (ids are in the order they were taken)."""
    order = {item: n for n, item in enumerate(ids)}
    return sorted(((i, expected.get(i, 0)) for i in ids), key=lambda p: (-p[1], order[p[0]]))


def check_top(
    expected: Counter[str], ids: list[str], shown: list[tuple[str, int]], top: int
) -> list[str]:
    """A screen's ranked list (id, votes) against the acknowledged votes: the same items, in
    the same order, with the same counts."""
    want = ranked(expected, ids)[:top]
    if shown == want:
        return []
    wrong = [(s, w) for s, w in zip(shown, want, strict=False) if s != w]
    return [f"{len(shown)} shown vs {len(want)} due; first differences (shown, due) {wrong[:3]}"]


def check_export(expected: Counter[str], ids: list[str], exported: dict[str, int]) -> list[str]:
    """Every item's votes in the export against the acknowledged ones."""
    want = {i: expected.get(i, 0) for i in ids}
    if exported == want:
        return []
    diff = {i: (exported.get(i), want.get(i)) for i in set(want) | set(exported)
            if exported.get(i) != want.get(i)}  # fmt: skip
    return [
        f"export: {len(diff)} items differ (exported, acknowledged), e.g. {list(diff.items())[:3]}"
    ]
