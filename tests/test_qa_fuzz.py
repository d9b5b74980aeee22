"""Hostile frames at the talk's Q&A on a real server (hypothesis): odd asks, upvotes, moderation
and deletions from phones that are not the moderator. Whatever they send, the server stays up,
an honest question's upvotes count each participant once, nothing pending reaches anyone else,
and nobody but the presenter approves."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.serverproc import ServerProcess
from tests.test_security_fuzz import json_values, odd_text
from tests.test_security_limits import start_logged
from tests.test_ws_live import phone, presenter
from tests.wsclient import Peer

DECK = Path(__file__).parent / "decks" / "qa.md"
ROUNDS = 40


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    """The Q&A deck with one honest question, approved; and the server's error log."""
    log = tmp_path_factory.mktemp("qa-fuzz") / "server-stderr.log"
    with log.open("w") as errors:
        proc, _ = start_logged(DECK, "--rate", "100000", "--burst", "100000", stderr=errors)

    async def setup() -> None:
        boss = await presenter(proc)
        asker, _ = await phone(proc)
        await asker.send({"type": "ask", "text": "Honest question", "ask_id": "honest"})
        await asker.of_type("ask_ack")
        await boss.send({"type": "moderate_question", "action": "approve", "question": "q1"})
        await boss.until(lambda m: m["type"] == "questions" and m["approved"] == 1)
        await Peer.close_all()

    try:
        asyncio.run(setup())
        yield proc, log
    finally:
        proc.stop()


question_ids = st.sampled_from(["q1", "q2", "q9999", "Q1", "q1 ", ""]) | odd_text
frame = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("ask"), "text": odd_text | json_values, "ask_id": odd_text},
        optional={"name": odd_text | json_values},
    ),
    st.fixed_dictionaries(
        {"type": st.just("upvote"), "question": question_ids},
        optional={"on": st.booleans() | json_values},
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("moderate_question"),
            "action": st.sampled_from(["approve", "pin", "answer", "dismiss", "delete"]),
            "question": question_ids,
        }
    ),
    st.sampled_from(
        [
            {"type": "upvote", "question": "q1"},
            {"type": "upvote", "question": "q1", "on": True},
            {"type": "forget_me"},
            {"type": "questions_overlay", "on": True},
        ]
    ),
)


async def one_round(server: ServerProcess, frames: list[Any]) -> tuple[int, list[str]]:
    """Send the frames from a fresh hostile phone (and a second tab of it); return the honest
    question's upvotes and the question ids an honest phone that joins afterwards can see."""
    hostile, token = await phone(server)
    tab, _ = await phone(server, token)
    for n, message in enumerate(frames):
        await (hostile if n % 2 else tab).send(json.dumps(message))
    await hostile.send({"type": "ping"})
    await hostile.of_type("pong", timeout=10)
    await tab.send({"type": "ping"})
    await tab.of_type("pong", timeout=10)
    honest, _ = await phone(server)
    board = await honest.of_type("questions")
    assert all(item["id"] == "q1" for item in board["top"]), board
    for message in hostile.seen + tab.seen:
        if message["type"] == "my_questions":
            assert {q["id"] for q in message["asked"]} <= {f"q{n}" for n in range(2, 10_000)}, (
                "a phone was sent someone else's question as its own"
            )
    return board["top"][0]["votes"], [item["id"] for item in board["top"]]


@pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)
def test_hostile_phones_cannot_approve_peek_or_upvote_twice(
    arena: tuple[ServerProcess, Path],
) -> None:
    server, log = arena
    upvoters = 0
    seen_votes = 0

    @settings(
        max_examples=ROUNDS,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(frames=st.lists(frame, min_size=1, max_size=12))
    def round_(frames: list[Any]) -> None:
        nonlocal upvoters, seen_votes

        async def run() -> tuple[int, list[str]]:
            try:
                return await one_round(server, frames)
            finally:
                await Peer.close_all()

        votes, _ = asyncio.run(run())
        logged = log.read_text()
        assert "Traceback" not in logged and "Exception" not in logged, logged[-3000:]
        # Each hostile phone is one participant: the honest question gains at most one upvote.
        assert votes - seen_votes in (0, 1)
        upvoters += votes - seen_votes
        seen_votes = votes

    round_()
    assert upvoters > 0, "no round upvoted the honest question: the fuzz missed its aim"
