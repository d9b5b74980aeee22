"""Every kind of poll on a real server: phones answer over websockets, screens show the tally.

One server per test, the deck of every kind (tests/decks/kinds.md). What is checked is what
people in the room would see: the display shows exactly what was sent (hidden, unapproved
and listed words absent), the presenter moderates, a phone that comes back gets its answers.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kindsdeck import KINDS_PATH, KINDS_TEXT
from tests.serverproc import ServerProcess, start_server
from tests.test_ws_live import display, phone, presenter
from tests.wsclient import Message, Peer

SLIDES = {"cloud": 1, "ask": 2, "wall": 3, "rate": 4, "capital": 5}


@pytest.fixture
def kinds() -> Iterator[ServerProcess]:
    proc = start_server(KINDS_PATH)
    yield proc
    proc.stop()


@pytest.fixture(autouse=True)
async def _close_peers() -> AsyncIterator[None]:
    yield
    await Peer.close_all()


async def open_poll(boss: Peer, poll: str) -> None:
    """Go to the poll's slide, open it, and wait until the presenter sees it open."""
    await boss.send({"type": "goto", "index": SLIDES[poll]})
    await boss.send({"type": "open"})
    await boss.until(
        lambda m: m["type"] == "state" and (m["state"]["poll"] or {}).get("status") == "open"
        and m["state"]["poll"]["id"] == poll
    )  # fmt: skip


async def answer(peer: Peer, poll: str, given: Any, vote_id: str | None = None) -> Message:
    """Send an answer and return the server's reply to it (an ack or an error)."""
    vote_id = vote_id or uuid.uuid4().hex
    await peer.send({"type": "answer", "poll": poll, "answer": given, "vote_id": vote_id})
    return await peer.until(
        lambda m: m.get("vote_id") == vote_id or (m["type"] == "error" and m.get("ref") == vote_id)
    )


def tally_items(message: Message) -> list[tuple[str, int]]:
    return [(i["text"], i["count"]) for i in message.get("items") or []]


async def items_become(peer: Peer, poll: str, expected: list[tuple[str, int]]) -> Message:
    """Wait for a tally of `poll` whose (text, count) items are `expected`."""
    return await peer.until(
        lambda m: m["type"] == "tally" and m["poll"] == poll and tally_items(m) == expected
    )


def everything_seen(peer: Peer) -> str:
    return json.dumps(peer.seen, ensure_ascii=False).casefold()


async def test_word_cloud_from_phones_to_the_display(kinds: ServerProcess) -> None:
    boss = await presenter(kinds)
    screen = await display(kinds)
    await open_poll(boss, "cloud")
    ann, ann_id = await phone(kinds)
    bob, _ = await phone(kinds)
    ack = await answer(ann, "cloud", ["Listening", "trust"])
    assert ack["type"] == "vote_ack" and ack["answer"] == ["Listening", "trust"]
    ack = await answer(bob, "cloud", ["LISTENING", "Bull\u200bshit"])
    assert ack["answer"] == ["LISTENING", "Bullshit"], "stored cleaned, not masked"
    await items_become(screen, "cloud", [("Listening", 2), ("trust", 1), ("********", 1)])

    await boss.send({"type": "moderate", "action": "hide", "item": "trust"})
    await items_become(screen, "cloud", [("Listening", 2), ("********", 1)])
    hidden = await boss.until(
        lambda m: m["type"] == "tally" and any(i["state"] == "hidden" for i in m["items"])
    )
    assert {i["id"]: i["state"] for i in hidden["items"]}["trust"] == "hidden"
    assert "bullshit" not in everything_seen(screen), "a listed word never reaches the display"

    again, again_id = await phone(kinds, ann_id)
    assert again_id == ann_id
    assert again.last("welcome")["votes"] == {"cloud": ["Listening", "trust"]}


async def test_a_resent_word_is_acked_again_and_counted_once(kinds: ServerProcess) -> None:
    boss = await presenter(kinds)
    await open_poll(boss, "cloud")
    ann, _ = await phone(kinds)
    first = await answer(ann, "cloud", ["trust"], vote_id="same-id")
    second = await answer(ann, "cloud", ["trust"], vote_id="same-id")
    assert first["type"] == second["type"] == "vote_ack"
    bob, _ = await phone(kinds)
    await answer(bob, "cloud", ["data"])
    tally = await items_become(boss, "cloud", [("trust", 1), ("data", 1)])
    assert tally["voters"] == 2
    too_many = await answer(ann, "cloud", ["a", "b", "c"])
    assert too_many["code"] == "too_many_entries"


async def test_approve_first_answers_wait_for_the_presenter(kinds: ServerProcess) -> None:
    boss = await presenter(kinds)
    screen = await display(kinds)
    await open_poll(boss, "ask")
    ann, ann_id = await phone(kinds)
    text = "How do we hear from <b>people</b> who never join?"
    ack = await answer(ann, "ask", text)
    assert ack["answer"] == [text], "markup is text, kept as sent"
    pending = await boss.until(lambda m: m["type"] == "tally" and m.get("items"))
    assert [(i["id"], i["text"], i["state"]) for i in pending["items"]] == [("a1", text, "pending")]

    await boss.send({"type": "moderate", "action": "approve", "item": "a1"})
    await items_become(screen, "ask", [(text, 1)])
    earlier = [m for m in screen.seen if m["type"] == "tally" and m["poll"] == "ask"][:-1]
    assert all(not m.get("items") for m in earlier), "nothing on the display before approval"

    await boss.send({"type": "moderate", "action": "hide", "item": "a1"})
    await items_become(screen, "ask", [])
    await boss.send({"type": "moderate", "action": "approve", "item": "a9"})
    assert (await boss.of_type("error"))["code"] == "unknown_item"

    again, _ = await phone(kinds, ann_id)
    assert again.last("welcome")["votes"] == {"ask": [text]}, "hidden: still the phone's own"


async def test_the_wall_masks_listed_words_and_limits_answers(kinds: ServerProcess) -> None:
    boss = await presenter(kinds)
    screen = await display(kinds)
    await open_poll(boss, "wall")
    ann, _ = await phone(kinds)
    bob, _ = await phone(kinds)
    assert (await answer(ann, "wall", "x" * 41))["code"] == "too_long"
    assert (await answer(ann, "wall", "😀" * 40))["type"] == "vote_ack", "40 characters"
    assert (await answer(ann, "wall", "again"))["code"] == "answer_limit"
    assert (await answer(bob, "wall", "what a load of shit"))["type"] == "vote_ack"
    await items_become(screen, "wall", [("😀" * 40, 1), ("what a load of ****", 1)])
    assert "shit" not in everything_seen(screen)


async def test_a_rating_scale_shows_its_distribution(kinds: ServerProcess) -> None:
    boss = await presenter(kinds)
    screen = await display(kinds)
    await open_poll(boss, "rate")
    phones = [(await phone(kinds))[0] for _ in range(3)]
    for peer, rating in zip(phones, [2, 4, 5], strict=True):
        assert (await answer(peer, "rate", rating))["answer"] == rating
    assert (await answer(phones[0], "rate", 6))["code"] == "unknown_option"
    tally = await screen.until(lambda m: m["type"] == "tally" and m["voters"] == 3)
    assert (tally["counts"], tally["mean"], tally["median"]) == ([0, 1, 0, 1, 1], 3.67, 4.0)
    assert not [m for m in phones[0].seen if m["type"] == "tally"], "phones: not before reveal"
    await boss.send({"type": "reveal"})
    shown = await phones[0].of_type("tally")
    assert (shown["counts"], shown["mean"]) == ([0, 1, 0, 1, 1], 3.67)


async def test_a_timed_question_closes_by_itself(tmp_path: Path) -> None:
    deck = tmp_path / "timed.md"
    deck.write_text(KINDS_TEXT.replace("points: 1000, timer: 20", "points: 1000, timer: 1.5"))
    server = start_server(deck)
    try:
        boss = await presenter(server)
        screen = await display(server)
        ann, _ = await phone(server)
        await open_poll(boss, "capital")
        opened = (
            await screen.until(
                lambda m: (
                    m["type"] == "state" and (m["state"]["poll"] or {}).get("status") == "open"
                )
            )
        )["state"]["poll"]
        assert opened["deadline"] is not None
        welcome_now = ann.last("welcome")["now"]
        assert 0 < opened["deadline"] - welcome_now < 30, "the deadline is on the server's clock"
        ack = await ann.vote("capital", 1)
        assert (await ann.of_type("vote_ack", vote_id=ack))["option"] == 1
        closed = await screen.until(
            lambda m: m["type"] == "state" and m["state"]["poll"]["status"] == "closed",
            timeout=10,
        )
        assert closed["state"]["poll"]["deadline"] is None
        late = await answer(ann, "capital", 0)
        assert late["code"] in ("poll_not_open", "too_late")
    finally:
        server.stop()


async def test_a_burst_of_text_answers_is_slowed_and_the_phone_carries_on(
    kinds: ServerProcess,
) -> None:
    boss = await presenter(kinds)
    await open_poll(boss, "wall")
    ann, ann_id = await phone(kinds)
    first = uuid.uuid4().hex
    assert (await answer(ann, "wall", "hello", first))["type"] == "vote_ack"
    codes = [(await answer(ann, "wall", f"spam {n}"))["code"] for n in range(8)]
    # The burst is 6 answers: one taken, five refused by the poll, then the rate says no.
    assert codes == ["answer_limit"] * 5 + ["too_fast"] * 3
    same_person, _ = await phone(kinds, ann_id)
    assert (await answer(same_person, "wall", "from a second tab"))["code"] == "too_fast"
    assert (await answer(ann, "wall", "hello", first))["type"] == "vote_ack", "a resend: fine"
    await ann.send({"type": "ping"})
    assert (await ann.of_type("pong"))["type"] == "pong", "the connection carries on"
    bob, _ = await phone(kinds)
    assert (await answer(bob, "wall", "my turn"))["type"] == "vote_ack", "others unaffected"


async def test_a_listed_word_is_masked_on_screen_and_kept_in_the_export(tmp_path: Path) -> None:
    server = start_server(KINDS_PATH, data=tmp_path / "data")
    try:
        boss = await presenter(server)
        screen = await display(server)
        await open_poll(boss, "cloud")
        ann, _ = await phone(server)
        await answer(ann, "cloud", ["Bullshit", "trust"])
        await items_become(screen, "cloud", [("********", 1), ("trust", 1)])
        assert "bullshit" not in everything_seen(screen)
    finally:
        await Peer.close_all()
        server.stop()

    def export(kind: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "export", "--data", str(tmp_path / "data"),
             "--format", kind],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout

    results, votes = await asyncio.gather(
        asyncio.to_thread(export, "csv"), asyncio.to_thread(export, "votes-csv")
    )
    words = [r for r in csv.DictReader(io.StringIO(results)) if r["poll"] == "cloud"]
    assert [(r["text"], r["votes"]) for r in words] == [("Bullshit", "1"), ("trust", "1")]
    assert [v["text"] for v in csv.DictReader(io.StringIO(votes))] == ["Bullshit, trust"]
