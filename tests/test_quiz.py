"""A scored quiz on a real server: points by speed, a clock the server keeps, nicknames, and a
leaderboard on the projector with each phone's own place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serverproc import ServerProcess, start_server
from tests.wsclient import Message, Peer

DECK = Path(__file__).parent / "decks" / "scored_quiz.md"


@pytest.fixture
def quiz() -> Iterator[ServerProcess]:
    proc = start_server(DECK)
    yield proc
    proc.stop()


async def joined(server: ServerProcess, nickname: str | None = None) -> Peer:
    peer = await Peer.open(server.ws, "audience", room=server.room)
    await peer.of_type("welcome", role="audience")
    if nickname is not None:
        await peer.send({"type": "nickname", "name": nickname})
        await peer.of_type("score")
    return peer


def poll_status(state: Message) -> str | None:
    poll = state.get("poll") or {}
    return poll.get("status")


async def test_a_scored_question_ranks_the_room_on_the_leaderboard(quiz: ServerProcess) -> None:
    boss = await Peer.open(quiz.ws, "presenter", key=quiz.key)
    screen = await Peer.open(quiz.ws, "display", room=quiz.room)
    ann = await joined(quiz, "Ann")
    bob = await joined(quiz, "Ann")  # the same name is made unique, not refused
    assert bob.last("score")["name"] == "Ann 2"
    cai = await joined(quiz)  # no nickname: a pseudonym on the board
    await boss.send({"type": "goto", "index": 1})
    await boss.send({"type": "open"})
    state = await screen.state(position=1)
    while poll_status(state) != "open":
        state = await screen.state(position=1)
    deadline = state["poll"]["deadline"]
    assert deadline is not None, "a timed question's deadline is in the state"
    await ann.vote("capital", 1)
    await bob.vote("capital", 0)  # wrong: no points
    await cai.vote("capital", 1)
    for peer in (ann, bob, cai):
        await peer.of_type("vote_ack")
    await boss.send({"type": "goto", "index": 3})
    board = (await screen.state(position=3))["leaderboard"]
    assert board["players"] == 3
    ranks = {row["name"]: (row["rank"], row["score"]) for row in board["top"]}
    assert ranks["Ann 2"] == (3, 0)
    # Both right answers came well inside 30 s: nearly full points (1000 within 0.5 s, at
    # least half at the deadline), more for whoever was faster.
    scored = [row for row in board["top"] if row["score"] > 0]
    assert [row["rank"] for row in scored] == [1, 2] or scored[0]["score"] == scored[1]["score"]
    assert all(500 <= row["score"] <= 1000 for row in scored)
    mine = await ann.of_type("score", name="Ann")
    assert (mine["rank"], mine["players"]) == (ranks["Ann"][0], 3)
    assert (await bob.of_type("score", name="Ann 2"))["rank"] == 3
    theirs = await cai.of_type("score")
    (pseudonym,) = set(ranks) - {"Ann", "Ann 2"}
    assert pseudonym.startswith("Player ")
    assert theirs["name"] is None and (theirs["rank"], theirs["score"]) == ranks[pseudonym]


async def test_the_server_closes_a_timed_question_and_refuses_late_answers(
    quiz: ServerProcess,
) -> None:
    boss = await Peer.open(quiz.ws, "presenter", key=quiz.key)
    ann = await joined(quiz)
    await boss.send({"type": "goto", "index": 2})
    await boss.send({"type": "open"})
    await ann.until(lambda m: m["type"] == "state" and poll_status(m["state"]) == "open")
    # Nobody closes it: the server does, at its deadline.
    await ann.until(lambda m: m["type"] == "state" and poll_status(m["state"]) == "closed")
    await ann.vote("speedy", 0)
    refusal = await ann.of_type("error")
    assert refusal["code"] == "poll_not_open"


async def test_a_resent_quiz_answer_scores_once(quiz: ServerProcess) -> None:
    boss = await Peer.open(quiz.ws, "presenter", key=quiz.key)
    ann = await joined(quiz, "Ann")
    await boss.send({"type": "goto", "index": 1})
    await boss.send({"type": "open"})
    await ann.until(lambda m: m["type"] == "state" and poll_status(m["state"]) == "open")
    vote_id = await ann.vote("capital", 1)
    await ann.of_type("vote_ack", vote_id=vote_id)
    await ann.vote("capital", 1, vote_id)
    await ann.of_type("vote_ack", vote_id=vote_id)
    # Scored questions lock the answer: another option is refused, and nothing scores twice.
    await ann.vote("capital", 0)
    assert (await ann.of_type("error"))["code"] == "vote_locked"
    await boss.send({"type": "goto", "index": 3})
    board = (await boss.state(position=3))["leaderboard"]
    assert board["players"] == 1 and 500 <= board["top"][0]["score"] <= 1000
