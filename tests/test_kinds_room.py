"""In process, as `websockets` tests its protocol: the room acknowledges an answer of every
kind only once the store says it is durable, and a resend waits for the original."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from server.commands import Command
from server.hub import Client, Hub
from server.protocol import CLIENT_MESSAGE
from server.room import Room
from server.session import Session
from tests.kindsdeck import KINDS


class HeldStore:
    """A store whose writes become durable only when the test says so."""

    def __init__(self) -> None:
        self.waiting: list[tuple[list[Command], asyncio.Future[None]]] = []

    def record(
        self, commands: Sequence[Command], context: Sequence[dict[str, Any] | None] = ()
    ) -> asyncio.Future[None]:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((list(commands), future))
        return future

    def commit(self) -> None:
        """Everything recorded so far is on disk now."""
        for _, future in self.waiting:
            if not future.done():
                future.set_result(None)

    async def close(self) -> None:
        self.commit()


class Wire:
    """A link that keeps every frame the client was sent."""

    heard_at = 0.0
    paused_since = None

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def write(self, wire: bytes) -> bool:
        # A websocket text frame: header, then the JSON (short frames: 2 or 4 header bytes).
        payload = wire[2:] if wire[1] < 126 else wire[4:]
        self.frames.append(json.loads(payload))
        return True

    def writer(self) -> Callable[[bytes], object] | None:
        return self.write

    def close(self, code: int, reason: str) -> None:
        pass

    def abort(self) -> None:
        pass

    def acks(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == "vote_ack"]


def send(room: Room, client: Client, message: dict[str, Any]) -> None:
    room.handle(client, CLIENT_MESSAGE.validate_python(message))


@pytest.mark.parametrize(
    ("poll", "given", "held"),
    [
        ("cloud", ["trust", "Data"], ["trust", "Data"]),
        ("ask", "a question", ["a question"]),
        ("rate", 4, 4),
        ("capital", 1, 1),
    ],
)
async def test_an_answer_is_acknowledged_only_once_durable(
    poll: str, given: Any, held: Any
) -> None:
    store = HeldStore()
    room = Room(
        Session(KINDS), store, Hub(), room_code="ROOMK", presenter_key="key",
        join_url="http://test/", clock=lambda: 1.0,
    )  # fmt: skip
    boss, phone = Client("presenter", "a", Wire()), Client("audience", "b", Wire())
    room.admit(boss, CLIENT_MESSAGE.validate_python({"type": "hello", "key": "key"}))
    room.admit(phone, CLIENT_MESSAGE.validate_python({"type": "hello", "room": "ROOMK"}))
    slide = room.session.polls[poll].slide
    send(room, boss, {"type": "goto", "index": slide})
    send(room, boss, {"type": "open"})
    store.commit()
    answer = {"type": "answer", "poll": poll, "answer": given, "vote_id": "v1"}
    send(room, phone, answer)
    send(room, phone, answer)  # resent before the first is durable
    await asyncio.sleep(0)
    wire = phone.link
    assert isinstance(wire, Wire)
    assert wire.acks() == [], "nothing acknowledged before the disk has it"
    assert room.session.polls[poll].answers.mine(phone.participant or "") == held
    store.commit()
    await asyncio.sleep(0)
    acks = wire.acks()
    assert [(a["vote_id"], a.get("answer", a.get("option"))) for a in acks] == [
        ("v1", held),
        ("v1", held),
    ]
    assert room.session.polls[poll].answers.voters == 1, "counted once"
