"""Hostile text through the real websocket path, for every kind that takes text.

Hypothesis draws answers (any unicode, markup, bidi and zero-width tricks, texts past the
limits in characters and in bytes, wrong shapes), poll ids, vote ids and moderation items,
and a fresh hostile phone sends them to a real server while honest phones' answers stand.
After every round: the server logged no traceback and still serves its pages; every reply
was an acknowledgement or a documented refusal; an accepted text is exactly the cleaned text
sent (markup kept as text, never interpreted or escaped), within the poll's limits in
characters and bytes; the display received only JSON, with nothing but shown items; and the
honest phones still hold exactly what they sent.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.text import BYTES_PER_CHARACTER, clean, mask
from tests.kindsdeck import KINDS, KINDS_PATH
from tests.serverproc import ServerProcess
from tests.test_security_limits import start_logged
from tests.test_ws_live import display, phone, presenter
from tests.wsclient import Message, Peer

ROUNDS = 40
ROOM = "KFUZZ"
SLIDES = {"cloud": 1, "ask": 2, "wall": 3}
HONEST: dict[str, list[Any]] = {
    "cloud": [["trust", "<b>bold</b>"], ["data"]],
    "ask": ["A question with <i>markup</i>?", "Another one"],
    "wall": ["hello wall", "&lt;not an entity&gt;"],
}
# Refusals a hostile answer may get; any other code (or none) is a finding.
REFUSALS = {
    "bad_message", "bad_answer", "empty_answer", "too_long", "too_many_entries",
    "answer_limit", "too_large", "unknown_poll", "poll_not_shown", "poll_not_open",
    "duplicate_vote_id", "unknown_option", "unknown_item", "unknown_action",
}  # fmt: skip

TRICKS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
    "\u202egnp.exe", "tr\u200bust", "\u2066trust\u2069", "\ufeff", "\u200b\u200c\u200d",
    "e\u0301" * 30, "😀" * 26, "👩‍👩‍👧‍👦" * 10, "x" * 281, "TRUST", "&amp;",
    "\uff54\uff52\uff55\uff53\uff54",
    "{{7*7}}", "${7*7}", "\x00\x01\x1b[31m", "a\nb\r\nc\td", "\ud800", "🏳️‍🌈" * 40, "ß" * 25,
]  # fmt: skip
texts = (
    st.sampled_from(TRICKS)
    | st.text(max_size=60)
    | st.text(st.characters(codec="utf-8"), min_size=20, max_size=400)
)
# Mostly text, so that many answers get past the shape checks to the limits and the counts.
answers = st.one_of(
    texts,
    texts,
    st.lists(texts, min_size=1, max_size=4),
    st.lists(texts, max_size=12),
    st.integers(min_value=-(2**40), max_value=2**40)
    | st.none()
    | st.booleans()
    | st.floats()
    | st.dictionaries(st.text(max_size=5), texts, max_size=2),
)
polls = st.sampled_from([*SLIDES, "rate", "capital"]) | st.text(max_size=70)
vote_ids = st.uuids().map(lambda u: u.hex) | st.text(max_size=70)
# Mostly answers to the poll on screen, with a fresh or a drawn vote id; some to other polls.
frames = st.lists(
    st.fixed_dictionaries(
        {
            "poll": st.none() | st.none() | polls,  # None: the poll on screen
            "answer": answers,
            "vote_id": st.none() | vote_ids,  # None: a fresh, valid one
        }
    ),
    min_size=1,
    max_size=8,
)
# Each round opens with a short text that should be taken, so the hostile rest is checked
# against a poll that holds the hostile phone's answers too.
opening = st.text(st.characters(categories=["L", "N", "P", "S", "Zs"]), max_size=15).map(
    lambda s: "x" + s
)
# Never an item that exists: a word as counted never holds a zero-width space, nor an answer id.
items = st.text(max_size=310).map(lambda s: "\u200b" + s)


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    """A server with every kind; rate limits out of the way so frames reach the parser."""
    log = tmp_path_factory.mktemp("kinds-fuzz") / "server-stderr.log"
    with log.open("w") as errors:
        proc, _ = start_logged(
            KINDS_PATH, "--room", ROOM, "--rate", "100000", "--burst", "100000",
            "--text-rate", "100000", "--text-burst", "100000", stderr=errors,
        )  # fmt: skip
    try:
        yield proc, log
    finally:
        proc.stop()


async def reply_to(peer: Peer, vote_id: str) -> Message:
    return await peer.until(
        lambda m: (
            (m["type"] == "vote_ack" and m["vote_id"] == vote_id)
            or (m["type"] == "error" and m.get("ref") in (vote_id, None))
        )
    )


def limit_of(poll: str) -> int:
    found = next(p for s in KINDS.slides if (p := s.poll) is not None and p.id == poll)
    return int(found.max_length)  # type: ignore[attr-defined]


def within(text: str, limit: int) -> bool:
    return len(text) <= limit and len(text.encode()) <= limit * BYTES_PER_CHARACTER


async def setup_poll(server: ServerProcess, poll: str) -> list[str]:
    """Show and open `poll`; honest phones answer. Their tokens."""
    boss = await presenter(server)
    await boss.send({"type": "goto", "index": SLIDES[poll]})
    await boss.send({"type": "open"})
    await boss.until(
        lambda m: m["type"] == "state" and (m["state"]["poll"] or {}).get("status") == "open"
    )
    tokens = []
    for sent in HONEST[poll]:
        peer, token = await phone(server)
        vote_id = uuid.uuid4().hex
        await peer.send({"type": "answer", "poll": poll, "answer": sent, "vote_id": vote_id})
        assert (await reply_to(peer, vote_id))["type"] == "vote_ack"
        tokens.append(token)
    await Peer.close_all()
    return tokens


async def one_round(
    server: ServerProcess, poll: str, drawn: list[dict[str, Any]], item: str
) -> int:
    """Send the drawn answers from a fresh phone, check each reply; how many were taken."""
    screen = await display(server)
    hostile, _ = await phone(server)
    boss = await presenter(server)
    limit = limit_of(poll)
    taken = 0
    used: set[str] = set()
    latest: Any = None  # what the last new answer's ack said this phone holds
    for draw in drawn:
        target = draw["poll"] if draw["poll"] is not None else poll
        vote_id = draw["vote_id"] if draw["vote_id"] is not None else uuid.uuid4().hex
        body = draw["answer"]
        frame = json.dumps({"type": "answer", "poll": target, "answer": body, "vote_id": vote_id})
        await hostile.send(frame)
        reply = await reply_to(hostile, vote_id)
        if reply["type"] == "error":
            assert reply["code"] in REFUSALS, reply
            continue
        assert target == poll, "only the open poll on screen takes answers"
        held = reply["answer"]
        if vote_id in used:
            # A vote id taken before is a resend, whatever it carries now: acknowledged with
            # what the poll already holds, never counted again.
            assert held == latest, reply
            continue
        used.add(vote_id)
        latest = held
        taken += 1
        if poll == "cloud":
            sent = [body] if isinstance(body, str) else body
            assert isinstance(held, list) and all(within(w, limit) for w in held)
            assert {clean(w).casefold() for w in sent} <= {w.casefold() for w in held}
        else:
            assert held[-1] == clean(body), "the text as sent, cleaned: no markup touched"
            assert within(held[-1], limit)
    # The presenter moderates something that is not there: refused, nothing changes.
    await boss.send({"type": "moderate", "poll": poll, "action": "hide", "item": item})
    refusal = await boss.of_type("error")
    assert refusal["code"] in ("unknown_item", "bad_message"), refusal
    # The display: only JSON (Peer parses every frame), only shown items, masked.
    await boss.send({"type": "ping"})
    await boss.of_type("pong")
    for message in screen.seen:
        for entry in message.get("items") or []:
            assert entry["state"] == "shown" and entry["text"] == mask(entry["text"])
    return taken


async def honest_still(server: ServerProcess, poll: str, tokens: list[str]) -> None:
    for token, sent in zip(tokens, HONEST[poll], strict=True):
        peer, again = await phone(server, token)
        assert again == token
        held = peer.last("welcome")["votes"][poll]
        assert held == (sent if isinstance(sent, list) else [sent]), "untouched by others"


@pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)
@pytest.mark.parametrize("poll", list(SLIDES))
def test_hostile_text_changes_nobody_elses_answers_and_is_only_ever_text(
    arena: tuple[ServerProcess, Path], poll: str
) -> None:
    server, log = arena
    tokens = asyncio.run(setup_poll(server, poll))
    taken = 0

    @settings(
        max_examples=ROUNDS,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(first=opening, drawn=frames, item=items)
    def round_(first: str, drawn: list[Any], item: str) -> None:
        async def run() -> int:
            try:
                opening_answer = {"poll": None, "answer": first, "vote_id": None}
                accepted = await one_round(server, poll, [opening_answer, *drawn], item)
                await honest_still(server, poll, tokens)
                return accepted
            finally:
                await Peer.close_all()

        nonlocal taken
        taken += asyncio.run(run())
        logged = log.read_text()
        assert "Traceback" not in logged and "Exception" not in logged, logged[-3000:]
        page = httpx.get(f"{server.base}/display", timeout=5)
        assert page.status_code == 200

    round_()
    assert taken >= ROUNDS // 2, f"only {taken} hostile answers were taken: the fuzz missed"
