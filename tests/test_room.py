"""The room in process, as `websockets` tests its protocol: real Session, Hub, MemoryStore and
Tallies, with clients on in-memory links instead of sockets. Subprocess tests cover the rest."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from server.commands import Command
from server.hub import Client, Hub
from server.protocol import CLIENT_MESSAGE, Hello, Role
from server.room import Denied, Room
from server.session import Session
from server.store import MemoryStore
from slides import parse_deck
from tests.test_hub import BufferLink

DECK = """\
# Welcome

---
poll:
  id: colour
---

# Favourite colour?

- [ ] Red
- [x] Blue

---
poll:
  id: cloud
  type: words
  entries: 2
---

# One word for today?
"""
KEY = "the-key"


class FrameLink(BufferLink):
    """A link that reads whole websocket frames (any length), as JSON messages."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()

    def _take(self, wire: bytes) -> None:
        size = wire[1] & 0x7F
        header = 2 if size < 126 else 4 if size == 126 else 10
        self.received.append(wire[header:].decode())
        self.arrived.set()

    def messages(self, kind: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(text) for text in self.received]
        return [m for m in found if kind is None or m["type"] == kind]


class HeldStore(MemoryStore):
    """A store whose writes become durable only when the test says so (a slow disk)."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[asyncio.Future[None]] = []

    def record(
        self, commands: Sequence[Command], context: Sequence[dict[str, Any] | None] = ()
    ) -> asyncio.Future[None]:
        self.log.extend(commands)
        future = asyncio.get_running_loop().create_future()
        self.held.append(future)
        return future

    def release(self) -> None:
        for future in self.held:
            if not future.done():
                future.set_result(None)


def make_room(store: MemoryStore | None = None, deck: str = DECK) -> Room:
    """A room on `deck` with a fixed clock, tallies flushed every 10 ms."""
    return Room(
        Session(parse_deck(deck)),
        store or MemoryStore(),
        Hub(),
        room_code="ROOM1",
        presenter_key=KEY,
        join_url="http://127.0.0.1:9/?room=ROOM1",
        tally_interval=0.01,
        clock=lambda: 1000.0,
    )


def connect(target: Room, role: Role, **hello: Any) -> tuple[Client, FrameLink]:
    link = FrameLink()
    client = Client(role, "127.0.0.1", link)
    link.client = client
    target.admit(client, Hello(type="hello", **hello))
    return client, link


def send(room: Room, client: Client, message: dict[str, Any]) -> None:
    room.handle(client, CLIENT_MESSAGE.validate_python(message))


async def until(link: FrameLink, check: Callable[[], bool], timeout: float = 2.0) -> None:
    """Let the loop run (timers, futures) until `check()` holds, looking again whenever
    `link` receives something."""
    async with asyncio.timeout(timeout):
        while not check():
            link.arrived.clear()
            await link.arrived.wait()


async def test_a_vote_is_acknowledged_only_once_the_store_has_it() -> None:
    store = HeldStore()
    room = make_room(store)
    boss, _ = connect(room, "presenter", key=KEY)
    phone, link = connect(room, "audience", room="room1")
    send(room, boss, {"type": "goto", "index": 1})
    send(room, boss, {"type": "open"})
    send(room, phone, {"type": "vote", "poll": "colour", "option": 1, "vote_id": "v1"})
    await asyncio.sleep(0)
    assert link.messages("vote_ack") == [], "acknowledged before it was durable"
    store.release()
    await until(link, lambda: bool(link.messages("vote_ack")))
    assert link.messages("vote_ack") == [
        {"type": "vote_ack", "vote_id": "v1", "poll": "colour", "option": 1}
    ]


async def test_the_presenter_key_and_room_code_are_checked() -> None:
    room = make_room()
    with pytest.raises(Denied) as wrong_key:
        connect(room, "presenter", key="guess")
    assert wrong_key.value.close_code == 4403
    with pytest.raises(Denied) as wrong_room:
        connect(room, "audience", room="NOPE")
    assert wrong_room.value.close_code == 4404
    assert room.hub.counts() == {"audience": 0, "display": 0, "presenter": 0, "moderator": 0}


async def test_a_burst_of_votes_reaches_screens_coalesced_and_exact() -> None:
    room = make_room()
    boss, boss_link = connect(room, "presenter", key=KEY)
    phones = [connect(room, "audience", room="ROOM1") for _ in range(40)]
    send(room, boss, {"type": "goto", "index": 1})
    send(room, boss, {"type": "open"})
    for n, (phone, _) in enumerate(phones):
        send(room, phone, {"type": "vote", "poll": "colour", "option": n % 2, "vote_id": f"v{n}"})

    def final() -> bool:
        tallies = boss_link.messages("tally")
        return bool(tallies) and tallies[-1].get("counts") == [20, 20]

    await until(boss_link, final)
    assert len(boss_link.messages("tally")) < 10, "each vote sent its own tally"
    assert boss_link.messages("tally")[-1]["voters"] == 40


async def test_a_hidden_word_leaves_the_display_but_stays_with_its_sender() -> None:
    room = make_room()
    boss, boss_link = connect(room, "presenter", key=KEY)
    _, screen = connect(room, "display")
    ann, ann_link = connect(room, "audience", room="ROOM1")
    bob, _ = connect(room, "audience", room="ROOM1")
    send(room, boss, {"type": "goto", "index": 2})
    send(room, boss, {"type": "open"})
    answer = {"type": "answer", "poll": "cloud", "vote_id": "a1", "answer": ["Rude", " trust "]}
    send(room, ann, answer)
    send(room, bob, {**answer, "vote_id": "b1", "answer": ["TRUST"]})

    def words(link: FrameLink) -> dict[str, int]:
        tallies = [t for t in link.messages("tally") if t["poll"] == "cloud"]
        return {i["text"]: i["count"] for i in tallies[-1].get("items", [])} if tallies else {}

    await until(screen, lambda: words(screen) == {"Rude": 1, "trust": 2})
    assert ann_link.messages("vote_ack")[-1]["answer"] == ["Rude", "trust"]
    send(room, ann, {"type": "moderate", "action": "hide", "item": "rude"})
    assert ann_link.messages("error")[-1]["code"] == "forbidden"
    send(room, boss, {"type": "moderate", "action": "hide", "item": "rude"})
    await until(screen, lambda: words(screen) == {"trust": 2})
    presenter_items = [t for t in boss_link.messages("tally") if t["poll"] == "cloud"][-1]["items"]
    assert {"id": "rude", "text": "Rude", "count": 1, "state": "hidden"} in presenter_items
    # The sender's own words are theirs to see again, hidden or not.
    _, again = connect(room, "audience", room="ROOM1", participant=ann.participant)
    assert again.messages("welcome")[0]["votes"] == {"cloud": ["Rude", "trust"]}


async def test_an_answer_of_the_wrong_shape_is_refused_and_changes_nothing() -> None:
    room = make_room()
    boss, _ = connect(room, "presenter", key=KEY)
    phone, link = connect(room, "audience", room="ROOM1")
    send(room, boss, {"type": "goto", "index": 1})
    send(room, boss, {"type": "open"})
    send(room, phone, {"type": "answer", "poll": "colour", "answer": ["Blue"], "vote_id": "x"})
    assert link.messages("error")[-1] == {
        "type": "error",
        "code": "bad_answer",
        "message": "a choice answer is the number of an option",
        "ref": "x",
    }
    assert room.session.polls["colour"].voters == 0
