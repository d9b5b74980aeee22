"""The talk's Q&A through the room, in process: who receives what, when it is acknowledged,
and that a big room's phones are not sent the whole list on every upvote."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.protocol import SERVER_MESSAGE, UpvoteAck
from server.room import Denied, Room
from server.store import MemoryStore
from tests.test_room import KEY, FrameLink, HeldStore, connect, send, until
from tests.test_room import make_room as room_on

DECK = """\
---
qa: true
---

# Welcome

---
layout: questions
---

# Your questions
"""


def make_room(store: MemoryStore | None = None, deck: str = DECK) -> Room:
    """The room of tests/test_room.py, on this file's Q&A deck."""
    return room_on(store, deck)


async def settled(room: Room) -> None:
    """Wait until the Q&A feed has nothing left to send."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(2):
        while (handle := room.questions._handle) is not None:
            flushed = loop.create_future()  # timers due at once run in order: after the flush
            loop.call_at(handle.when(), flushed.set_result, None)
            await flushed


def latest(link: FrameLink, kind: str) -> dict[str, Any]:
    found = link.messages(kind)
    return found[-1] if found else {}


def texts(link: FrameLink) -> list[str]:
    return [q["text"] for q in latest(link, "questions").get("top", [])]


async def test_a_question_reaches_others_only_once_approved_and_is_acked_once_durable() -> None:
    store = HeldStore()
    room = make_room(store)
    boss, boss_link = connect(room, "presenter", key=KEY)
    _, screen = connect(room, "display")
    ann, ann_link = connect(room, "audience", room="ROOM1")
    _, bob_link = connect(room, "audience", room="ROOM1")
    send(room, ann, {"type": "ask", "text": "Why <script>?", "name": "Ann", "ask_id": "k1"})
    await until(boss_link, lambda: bool(latest(boss_link, "questions").get("pending")))
    assert ann_link.messages("ask_ack") == [], "acknowledged before it was durable"
    store.release()
    await until(ann_link, lambda: bool(ann_link.messages("ask_ack")))
    assert ann_link.messages("ask_ack") == [{"type": "ask_ack", "ask_id": "k1", "question": "q1"}]
    await until(ann_link, lambda: bool(latest(ann_link, "my_questions").get("asked")))
    assert latest(ann_link, "my_questions")["asked"][0]["state"] == "pending"
    # Nobody else heard of it: not the display, not another phone.
    assert texts(screen) == [] and texts(bob_link) == []
    assert all(m["top"] == [] for m in bob_link.messages("questions"))
    send(room, ann, {"type": "moderate_question", "action": "approve", "question": "q1"})
    assert latest(ann_link, "error")["code"] == "forbidden"
    send(room, boss, {"type": "moderate_question", "action": "approve", "question": "q1"})
    await until(screen, lambda: texts(screen) == ["Why <script>?"])
    await until(bob_link, lambda: texts(bob_link) == ["Why <script>?"])
    assert latest(bob_link, "questions")["top"][0]["name"] == "Ann"


async def test_two_tabs_and_replays_upvote_once_and_stay_in_step() -> None:
    room = make_room(deck=DECK.replace("qa: true", "qa: {moderation: after}"))
    ann, _ = connect(room, "audience", room="ROOM1")
    bob, bob_link = connect(room, "audience", room="ROOM1")
    _, bob_tab = connect(room, "audience", room="ROOM1", participant=bob.participant)
    send(room, ann, {"type": "ask", "text": "Upvote me", "ask_id": "k1"})
    for _ in range(3):
        send(room, bob, {"type": "upvote", "question": "q1"})
    send(room, bob, {"type": "upvote", "question": "q1", "on": True})
    await until(bob_tab, lambda: latest(bob_tab, "my_questions").get("upvoted") == ["q1"])
    assert room.session.qa.questions["q1"].votes == 1
    await until(bob_link, lambda: [q["votes"] for q in latest(bob_link, "questions")["top"]] == [1])
    send(room, bob, {"type": "upvote", "question": "q1", "on": False})
    await until(bob_tab, lambda: latest(bob_tab, "my_questions").get("upvoted") == [])
    assert room.session.qa.questions["q1"].votes == 0


async def test_a_reconnecting_phone_gets_its_own_questions_and_upvotes_back() -> None:
    room = make_room()
    boss, _ = connect(room, "presenter", key=KEY)
    ann, _ = connect(room, "audience", room="ROOM1")
    send(room, ann, {"type": "ask", "text": "Still there?", "ask_id": "k1"})
    _, again = connect(room, "audience", room="ROOM1", participant=ann.participant)
    assert [(q["text"], q["state"]) for q in latest(again, "my_questions")["asked"]] == [
        ("Still there?", "pending")
    ]
    send(room, boss, {"type": "moderate_question", "action": "dismiss", "question": "q1"})
    _, third = connect(room, "audience", room="ROOM1", participant=ann.participant)
    assert latest(third, "my_questions")["asked"][0]["state"] == "pending"  # never told


async def test_questions_are_rate_limited_per_participant_not_per_socket() -> None:
    room = make_room()
    ann, ann_link = connect(room, "audience", room="ROOM1")
    _, tab_link = connect(room, "audience", room="ROOM1", participant=ann.participant)
    tab = next(c for c in room.hub.clients["audience"] if c.link is tab_link)
    send(room, ann, {"type": "ask", "text": "One", "ask_id": "k1"})
    send(room, tab, {"type": "ask", "text": "Two", "ask_id": "k2"})
    send(room, ann, {"type": "ask", "text": "Three", "ask_id": "k3"})
    assert latest(ann_link, "error") == {
        "type": "error",
        "code": "too_fast",
        "message": "one question every ten seconds, please; wait a moment",
        "ref": "k3",
    }
    send(room, ann, {"type": "ask", "text": "One", "ask_id": "k1"})  # a resend goes through
    assert len(room.session.qa.questions) == 2
    await until(ann_link, lambda: len(ann_link.messages("ask_ack")) == 2)


async def test_an_upvote_below_the_top_twenty_sends_phones_nothing() -> None:
    room = make_room(deck=DECK.replace("qa: true", "qa: {moderation: after}"))
    _, boss_link = connect(room, "presenter", key=KEY)
    askers = [connect(room, "audience", room="ROOM1")[0] for _ in range(25)]
    for n, asker in enumerate(askers):
        room.ask_limiter.buckets.clear()
        send(room, asker, {"type": "ask", "text": f"Question {n}", "ask_id": f"k{n}"})
    _, watcher = connect(room, "audience", room="ROOM1")
    voter, voter_link = connect(room, "audience", room="ROOM1")
    for fan in (connect(room, "audience", room="ROOM1")[0] for _ in range(2)):
        for n in range(1, 21):  # the first twenty get two upvotes each
            send(room, fan, {"type": "upvote", "question": f"q{n}"})
    await until(
        boss_link,
        lambda: [q["votes"] for q in latest(boss_link, "questions")["top"]][19:21] == [2, 0],
    )
    await settled(room)  # what follows is the upvote's alone
    before = len(watcher.messages("questions"))
    send(room, voter, {"type": "upvote", "question": "q25"})  # last of 25: stays below the top
    await until(voter_link, lambda: latest(voter_link, "my_questions").get("upvoted") == ["q25"])
    await settled(room)
    assert latest(boss_link, "questions")["top"][20] == {
        "id": "q25",
        "text": "Question 24",
        "votes": 1,
        "state": "approved",
    }
    assert len(watcher.messages("questions")) == before, "an upvote far down was broadcast"
    for fan in (connect(room, "audience", room="ROOM1")[0] for _ in range(3)):
        send(room, fan, {"type": "upvote", "question": "q24"})  # three: past the twenty
    await until(watcher, lambda: texts(watcher)[:1] == ["Question 23"])
    top = latest(watcher, "questions")
    assert len(top["top"]) == 20 and top["approved"] == 25


async def test_moderators_stay_in_step_and_can_do_nothing_but_moderate() -> None:
    room = make_room()
    room.moderator_key = "mod-key"
    with pytest.raises(Denied) as wrong:
        connect(room, "moderator", key=KEY)  # the presenter's key is not a moderator's
    assert wrong.value.close_code == 4403
    mod, mod_link = connect(room, "moderator", key="mod-key")
    _, other_link = connect(room, "moderator", key="mod-key")
    _, screen = connect(room, "display")
    ann, _ = connect(room, "audience", room="ROOM1")
    assert mod_link.messages("state") == [], "a moderator gets no slides or notes"
    send(room, ann, {"type": "ask", "text": "Moderate me", "ask_id": "k1"})
    await until(other_link, lambda: bool(latest(other_link, "questions").get("pending")))
    for forbidden in ({"type": "next"}, {"type": "goto", "index": 1}, {"type": "open"}):
        send(room, mod, forbidden)
        assert latest(mod_link, "error")["code"] == "forbidden"
    assert room.session.position == 0
    send(room, mod, {"type": "moderate_question", "action": "approve", "question": "q1"})
    await until(screen, lambda: texts(screen) == ["Moderate me"])
    await until(other_link, lambda: latest(other_link, "questions").get("pending") == [])
    assert texts(other_link) == ["Moderate me"]
    assert mod_link.messages("state") == []


async def test_a_moderator_curates_typed_answers_across_the_talk_but_no_other_poll() -> None:
    deck = DECK + "\n---\npoll:\n  id: wall\n  type: text\n  moderation: before\n---\n\n# Ideas?\n"
    deck += "\n---\npoll:\n  id: colour\n---\n\n# Colour?\n\n- [ ] Red\n- [ ] Blue\n"
    room = make_room(deck=deck)
    room.moderator_key = "mod-key"
    boss, _ = connect(room, "presenter", key=KEY)
    _, screen = connect(room, "display")
    ann, _ = connect(room, "audience", room="ROOM1")
    mod, mod_link = connect(room, "moderator", key="mod-key")
    send(room, boss, {"type": "goto", "index": 2})
    send(room, boss, {"type": "open"})
    send(room, ann, {"type": "answer", "poll": "wall", "answer": "Hold it", "vote_id": "v1"})

    def wall(link: FrameLink, state: str) -> list[str]:
        tallies = [t for t in link.messages("tally") if t["poll"] == "wall"]
        items = tallies[-1].get("items", []) if tallies else []
        return [i["text"] for i in items if i["state"] == state]

    await until(mod_link, lambda: wall(mod_link, "pending") == ["Hold it"])
    assert wall(screen, "shown") == []
    send(room, mod, {"type": "moderate", "poll": "colour", "action": "hide", "item": "0"})
    assert latest(mod_link, "error")["code"] == "unknown_poll"
    send(room, mod, {"type": "moderate", "poll": "wall", "action": "approve", "item": "a1"})
    await until(screen, lambda: wall(screen, "shown") == ["Hold it"])
    assert not any(t["poll"] == "colour" for t in mod_link.messages("tally"))


async def test_an_upvote_is_acked_once_durable_and_a_resend_is_acked_and_counted_once() -> None:
    store = HeldStore()
    room = make_room(store, deck=DECK.replace("qa: true", "qa: {moderation: after}"))
    ann, ann_link = connect(room, "audience", room="ROOM1")
    bob, bob_link = connect(room, "audience", room="ROOM1")
    send(room, ann, {"type": "ask", "text": "Upvote me", "ask_id": "k1"})
    store.release()
    upvote = {"type": "upvote", "question": "q1", "upvote_id": "u1"}
    send(room, bob, upvote)
    send(room, bob, upvote)  # the phone lost its socket before the ack and sends it again
    # Everyone sees the vote at once (the room shows what it applied)...
    await until(bob_link, lambda: [q["votes"] for q in latest(bob_link, "questions")["top"]] == [1])
    # ...but the phone is told it counted only once the disk has it.
    assert bob_link.messages("upvote_ack") == [], "acknowledged before it was durable"
    assert room.session.qa.questions["q1"].votes == 1
    store.release()
    await until(bob_link, lambda: len(bob_link.messages("upvote_ack")) == 2)
    acks = bob_link.messages("upvote_ack")
    assert acks == [{"type": "upvote_ack", "upvote_id": "u1", "question": "q1", "on": True}] * 2
    assert all(type(SERVER_MESSAGE.validate_python(a)) is UpvoteAck for a in acks)
    assert room.session.qa.questions["q1"].votes == 1
    # Taking it back is acknowledged the same way; a refusal names the upvote it refuses.
    send(room, bob, {"type": "upvote", "question": "q1", "on": False, "upvote_id": "u2"})
    send(room, ann, {"type": "upvote", "question": "q1", "upvote_id": "u3"})
    store.release()
    await until(bob_link, lambda: len(bob_link.messages("upvote_ack")) == 3)
    assert bob_link.messages("upvote_ack")[-1]["on"] is False
    assert room.session.qa.questions["q1"].votes == 0
    assert latest(ann_link, "error")["ref"] == "u3"


async def test_an_upvote_without_an_id_from_an_older_phone_still_counts() -> None:
    room = make_room(deck=DECK.replace("qa: true", "qa: {moderation: after}"))
    ann, _ = connect(room, "audience", room="ROOM1")
    bob, bob_link = connect(room, "audience", room="ROOM1")
    send(room, ann, {"type": "ask", "text": "Upvote me", "ask_id": "k1"})
    send(room, bob, {"type": "upvote", "question": "q1"})
    await until(bob_link, lambda: latest(bob_link, "my_questions").get("upvoted") == ["q1"])
    assert bob_link.messages("upvote_ack") == []  # it asked for none: its list tells it
    assert room.session.qa.questions["q1"].votes == 1


async def test_an_older_phones_own_list_names_only_upvotes_already_durable() -> None:
    store = HeldStore()
    room = make_room(store, deck=DECK.replace("qa: true", "qa: {moderation: after}"))
    ann, _ = connect(room, "audience", room="ROOM1")
    bob, bob_link = connect(room, "audience", room="ROOM1")
    send(room, ann, {"type": "ask", "text": "First", "ask_id": "k1"})
    send(room, ann, {"type": "ask", "text": "Second", "ask_id": "k2"})
    store.release()
    # A phone without upvote_id learns that its upvote counted from its own list: that list
    # must not name an upvote the disk does not have yet.
    send(room, bob, {"type": "upvote", "question": "q1"})
    first = store.held[-1]
    send(room, bob, {"type": "upvote", "question": "q2"})
    first.set_result(None)  # the first upvote is durable, the second not yet
    await until(bob_link, lambda: bool(latest(bob_link, "my_questions").get("upvoted")))
    await settled(room)
    assert latest(bob_link, "my_questions")["upvoted"] == ["q1"]
    _, again = connect(room, "audience", room="ROOM1", participant=bob.participant)
    assert latest(again, "my_questions")["upvoted"] == ["q1"], "nor when it reconnects"
    store.release()
    await until(bob_link, lambda: latest(bob_link, "my_questions").get("upvoted") == ["q1", "q2"])
    _, third = connect(room, "audience", room="ROOM1", participant=bob.participant)
    assert latest(third, "my_questions")["upvoted"] == ["q1", "q2"]
