"""The ideas board through the room, in process: a phone proposes and votes, acknowledged once
durable with its own ideas; others see only approved ideas; a moderator (not a phone)
approves and merges; a rejoining phone gets its ideas and votes back."""

from __future__ import annotations

import asyncio
from typing import Any

from server.protocol import SERVER_MESSAGE
from tests.test_kinds_ideas import IDEAS_TEXT
from tests.test_room import KEY, FrameLink, HeldStore, connect, make_room, send, until


def board(link: FrameLink, poll: str = "vetted") -> list[tuple[str, int]]:
    """(text, votes) of the last tally of `poll` this client received, in order."""
    tallies = [t for t in link.messages("tally") if t["poll"] == poll]
    return [(i["text"], i["count"]) for i in (tallies[-1].get("items", []) if tallies else [])]


def states(link: FrameLink, poll: str = "vetted") -> dict[str, str]:
    tallies = [t for t in link.messages("tally") if t["poll"] == poll]
    return {i["text"]: i["state"] for i in (tallies[-1].get("items", []) if tallies else [])}


def valid(link: FrameLink) -> list[dict[str, Any]]:
    """Every frame the client got, each checked against the protocol."""
    for frame in link.messages():
        SERVER_MESSAGE.validate_python(frame)
    return link.messages()


async def test_an_idea_goes_from_a_phone_through_a_moderator_to_the_ranked_board() -> None:
    store = HeldStore()
    room = make_room(store, deck=IDEAS_TEXT)
    room.moderator_key = "mod-key"
    boss, _ = connect(room, "presenter", key=KEY)
    _, screen = connect(room, "display")
    ann, ann_link = connect(room, "audience", room="ROOM1")
    bob, bob_link = connect(room, "audience", room="ROOM1")
    mod, mod_link = connect(room, "moderator", key="mod-key")
    welcome = mod_link.messages("welcome")[0]
    assert welcome["polls"]["vetted"]["question"] == "What should the next pilot try?"
    send(room, boss, {"type": "goto", "index": 2})
    send(room, boss, {"type": "open"})
    store.release()
    idea = {"type": "answer", "poll": "vetted", "answer": "A pilot in a library", "vote_id": "p1"}
    send(room, ann, idea)
    await asyncio.sleep(0)
    assert ann_link.messages("vote_ack") == [], "acknowledged before it was durable"
    store.release()
    await until(ann_link, lambda: bool(ann_link.messages("vote_ack")))
    ack = ann_link.messages("vote_ack")[-1]
    assert ack["answer"] == []
    assert ack["own"] == [
        {"id": "i1", "text": "A pilot in a library", "count": 0, "state": "pending"}
    ]
    await until(mod_link, lambda: states(mod_link) == {"A pilot in a library": "pending"})
    assert board(screen) == [] and board(bob_link) == [], "pending: on no other screen"

    # A phone cannot approve, nor vote for what it may not see.
    send(room, bob, {"type": "moderate", "poll": "vetted", "action": "approve", "item": "i1"})
    assert bob_link.messages("error")[-1]["code"] == "forbidden"
    send(room, bob, {"type": "answer", "poll": "vetted", "answer": ["i1"], "vote_id": "d0"})
    assert bob_link.messages("error")[-1]["code"] == "unknown_idea"

    send(room, mod, {"type": "moderate", "poll": "vetted", "action": "approve", "item": "i1"})
    send(room, bob, {"type": "answer", "poll": "vetted", "answer": "Libraries", "vote_id": "p2"})
    send(room, mod, {"type": "moderate", "poll": "vetted", "action": "approve", "item": "i2"})
    send(room, bob, {"type": "answer", "poll": "vetted", "answer": ["i1", "i2"], "vote_id": "d1"})
    send(room, ann, {"type": "answer", "poll": "vetted", "answer": ["i2"], "vote_id": "d2"})
    store.release()
    await until(screen, lambda: board(screen) == [("Libraries", 2), ("A pilot in a library", 1)])
    await until(
        bob_link, lambda: board(bob_link) == [("A pilot in a library", 0), ("Libraries", 0)]
    )

    merge = {"type": "moderate", "poll": "vetted", "action": "merge", "item": "i2", "into": "i1"}
    send(room, mod, merge)
    send(room, mod, {"type": "moderate", "poll": "vetted", "action": "close_proposing"})
    store.release()
    await until(screen, lambda: board(screen) == [("A pilot in a library", 2)])
    await until(bob_link, lambda: bob_link.messages("tally")[-1].get("proposing") is False)
    send(room, ann, {"type": "answer", "poll": "vetted", "answer": "One more", "vote_id": "p3"})
    assert ann_link.messages("error")[-1]["code"] == "proposing_closed"

    # Bob comes back on a new connection: his votes (merged into one) and his idea return.
    room.leave(bob)
    _, again = connect(room, "audience", room="ROOM1", participant=bob.participant)
    back = again.messages("welcome")[0]
    assert back["votes"]["vetted"] == ["i1"], "voted for both: one vote, the other back"
    assert back["own"]["vetted"] == [
        {"id": "i1", "text": "Libraries", "count": 2, "state": "shown"}
    ]
    for link in (ann_link, bob_link, again, screen, mod_link):
        valid(link)


async def test_a_participant_cannot_stack_votes_from_two_tabs_or_by_resending() -> None:
    room = make_room(deck=IDEAS_TEXT)
    boss, _ = connect(room, "presenter", key=KEY)
    _, screen = connect(room, "display")
    ann, _ = connect(room, "audience", room="ROOM1")
    send(room, boss, {"type": "goto", "index": 1})
    send(room, boss, {"type": "open"})
    send(room, ann, {"type": "answer", "poll": "board", "answer": "Buses", "vote_id": "p1"})
    _, tab = connect(room, "audience", room="ROOM1", participant=ann.participant)
    second = next(iter(room.hub.clients["audience"] - {ann}))
    vote = {"type": "answer", "poll": "board", "answer": ["i1"], "vote_id": "d1"}
    for client in (ann, second, ann):
        send(room, client, vote)
    send(room, second, {**vote, "vote_id": "d2"})
    send(room, ann, {**vote, "answer": ["i1", "i1", "i1"], "vote_id": "d3"})
    await until(screen, lambda: board(screen, "board") == [("Buses", 1)])
    assert room.session.polls["board"].answers.mine(ann.participant or "") == ["i1"]
    await until(tab, lambda: len(tab.messages("vote_ack")) >= 2)
    assert board(tab, "board") == [("Buses", 0)], "phones get the ideas, not their votes"
