"""The talk's Q&A on a real server over websockets: a hostile room (other tabs, replayed
frames, phones trying to approve or peek) and a kill -9 that loses nothing acknowledged."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.serverproc import start_server
from tests.test_durability import restart
from tests.test_ws_live import display, phone, presenter
from tests.wsclient import Message, Peer

DECK = Path(__file__).parent / "decks" / "qa.md"


@pytest.fixture(autouse=True)
async def _close_peers() -> AsyncIterator[None]:
    yield
    await Peer.close_all()


async def ask(peer: Peer, text: str, ask_id: str) -> Message:
    """Ask and return the server's reply to it (an ack or an error)."""
    await peer.send({"type": "ask", "text": text, "ask_id": ask_id})
    return await peer.until(lambda m: m.get("ask_id") == ask_id or m.get("ref") == ask_id)


def top(message: Message) -> list[tuple[str, int]]:
    return [(q["text"], q["votes"]) for q in message["top"]]


async def test_a_hostile_room_cannot_peek_approve_or_upvote_twice(tmp_path: Path) -> None:
    server = start_server(DECK, data=tmp_path / "data")
    try:
        boss = await presenter(server)
        screen = await display(server)
        ann, _ = await phone(server)
        bob, bob_id = await phone(server)
        bob_tab, _ = await phone(server, bob_id)
        ack = await ask(ann, "What <img src=x onerror=alert(1)> is kept?", "k1")
        assert ack == {"type": "ask_ack", "ask_id": "k1", "question": "q1"}
        await boss.until(lambda m: m["type"] == "questions" and bool(m.get("pending")))
        # Others cannot see it, upvote it or approve it.
        await bob.send({"type": "upvote", "question": "q1"})
        assert (await bob.of_type("error"))["code"] == "unknown_question"
        await bob.send({"type": "moderate_question", "action": "approve", "question": "q1"})
        assert (await bob.of_type("error"))["code"] == "forbidden"
        for peer in (bob, bob_tab, screen):
            assert "onerror" not in str([m for m in peer.seen if m["type"] != "error"])
        await boss.send({"type": "moderate_question", "action": "approve", "question": "q1"})
        shown = await screen.until(lambda m: m["type"] == "questions" and bool(m["top"]))
        assert top(shown) == [("What <img src=x onerror=alert(1)> is kept?", 0)]
        # Two tabs, a replayed frame and a reconnect: one upvote.
        upvote = {"type": "upvote", "question": "q1"}
        for peer in (bob, bob_tab, bob, bob_tab):
            await peer.send(upvote)
        await bob.close()
        again, _ = await phone(server, bob_id)
        await again.send(upvote)
        mine = await again.until(lambda m: m["type"] == "my_questions" and bool(m["upvoted"]))
        assert mine["upvoted"] == ["q1"]
        await screen.until(
            lambda m: m["type"] == "questions" and top(m) == [(shown["top"][0]["text"], 1)]
        )
        await ann.send(upvote)
        assert (await ann.of_type("error"))["code"] == "own_question"
        later = await screen.quiet(0.3)
        assert all(top(m)[0][1] == 1 for m in later if m["type"] == "questions")
    finally:
        server.stop()


async def test_kill_9_keeps_every_acknowledged_question_and_upvote(tmp_path: Path) -> None:
    server = start_server(DECK, data=tmp_path / "data")
    try:
        boss = await presenter(server)
        ann, ann_id = await phone(server)
        assert (await ask(ann, "Kept after a crash?", "k1"))["type"] == "ask_ack"
        assert (await ask(ann, "And this one?", "k2"))["type"] == "ask_ack"
        for question in ("q1", "q2"):
            await boss.send(
                {"type": "moderate_question", "action": "approve", "question": question}
            )
        await boss.send({"type": "moderate_question", "action": "pin", "question": "q2"})
        await boss.until(
            lambda m: m["type"] == "questions" and (m.get("pinned") or {}).get("id") == "q2"
        )
        voters = []
        for _ in range(3):
            peer, token = await phone(server)
            await peer.send({"type": "upvote", "question": "q1"})
            await peer.until(lambda m: m["type"] == "my_questions" and m["upvoted"] == ["q1"])
            voters.append(token)
        server.stop(signal.SIGKILL)
        await Peer.close_all()

        server = restart(server, DECK)
        screen = await display(server)
        board = await screen.of_type("questions")
        assert top(board) == [("Kept after a crash?", 3), ("And this one?", 0)]
        assert board["pinned"]["id"] == "q2"
        back, _ = await phone(server, ann_id)
        mine = await back.of_type("my_questions")
        assert [q["text"] for q in mine["asked"]] == ["Kept after a crash?", "And this one?"]
        voter, _ = await phone(server, voters[0])
        assert (await voter.of_type("my_questions"))["upvoted"] == ["q1"]
        # A question resent after the crash with its id is the same question, not a new one.
        assert (await ask(back, "Kept after a crash?", "k1"))["question"] == "q1"
        # The export has every question with its moderation, askers under anonymous ids.
        headers = {"X-Handsup-Key": server.key}
        async with httpx.AsyncClient(base_url=server.base, headers=headers) as http:
            session = (await http.get("/api/sessions")).json()[0]["id"]
            exported = (await http.get(f"/api/sessions/{session}/results.json")).json()
            table = (await http.get(f"/api/sessions/{session}/results.questions.csv")).text
        exported = exported["questions"]
        assert [(q["text"], q["votes"], q["state"], q["pinned"]) for q in exported] == [
            ("Kept after a crash?", 3, "approved", False),
            ("And this one?", 0, "approved", True),
        ]
        assert ann_id not in str(exported) and exported[0]["participant"].startswith("p-")
        assert table.startswith("question,text,name,upvotes,state,pinned,participant,at\n")
        assert "Kept after a crash?,,3,approved,no," in table
    finally:
        server.stop()
