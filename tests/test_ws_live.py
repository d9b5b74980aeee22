"""The live session over real websockets against a real server process."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.serverproc import ServerProcess, start_server
from tests.wsclient import Peer

QUIZ = Path(__file__).parent / "decks" / "quiz.md"


@pytest.fixture
def quiz() -> Iterator[ServerProcess]:
    proc = start_server(QUIZ)
    yield proc
    proc.stop()


async def presenter(server: ServerProcess) -> Peer:
    peer = await Peer.open(server.ws, "presenter", key=server.key)
    await peer.of_type("welcome", role="presenter")
    return peer


async def phone(server: ServerProcess, participant: str | None = None) -> tuple[Peer, str]:
    hello = {"room": server.room} | ({"participant": participant} if participant else {})
    peer = await Peer.open(server.ws, "audience", **hello)
    welcome = await peer.of_type("welcome", role="audience")
    return peer, welcome["participant"]


async def display(server: ServerProcess) -> Peer:
    peer = await Peer.open(server.ws, "display", room=server.room)
    await peer.of_type("welcome", role="display")
    return peer


async def open_colour_poll(boss: Peer) -> None:
    await boss.send({"type": "goto", "index": 1})
    await boss.send({"type": "open"})
    await boss.until(
        lambda m: m["type"] == "state" and (m["state"]["poll"] or {}).get("status") == "open"
    )


async def test_everyone_follows_the_presenter(quiz: ServerProcess) -> None:
    boss = await presenter(quiz)
    phones = [(await phone(quiz))[0] for _ in range(3)]
    screen = await display(quiz)
    second = await presenter(quiz)
    for peer in [*phones, screen, boss, second]:
        assert (await peer.state())["position"] == 0
    await boss.send({"type": "next"})
    for peer in [*phones, screen, boss, second]:
        state = await peer.state(position=1)
        assert state["slide"]["poll"]["question"] == "Favourite colour?"
    await second.send({"type": "goto", "index": 3})
    for peer in [*phones, screen, boss]:
        assert (await peer.state(position=3))["slide"]["kind"] == "statement"
    presenter_state = boss.last("state")["state"]
    assert presenter_state["next"] is None
    assert "notes" in presenter_state and "notes" not in screen.last("state")["state"]


async def test_votes_tally_live_and_change(quiz: ServerProcess) -> None:
    boss = await presenter(quiz)
    screen = await display(quiz)
    await open_colour_poll(boss)
    ann, _ = await phone(quiz)
    bob, _ = await phone(quiz)
    first = await ann.vote("colour", 0)
    assert (await ann.of_type("vote_ack"))["vote_id"] == first
    await bob.vote("colour", 0)
    await bob.of_type("vote_ack")
    tally = await screen.until(lambda m: m["type"] == "tally" and m["voters"] == 2)
    assert tally["counts"] == [2, 0, 0]
    await ann.vote("colour", 2)
    ack = await ann.of_type("vote_ack")
    assert ack["option"] == 2
    tally = await screen.until(lambda m: m["type"] == "tally" and m["counts"] == [1, 0, 1])
    assert tally["voters"] == 2
    assert await boss.until(lambda m: m["type"] == "tally" and m["counts"] == [1, 0, 1])


async def test_audience_sees_results_only_when_revealed(quiz: ServerProcess) -> None:
    boss = await presenter(quiz)
    await open_colour_poll(boss)
    ann, _ = await phone(quiz)
    await ann.vote("colour", 1)
    await ann.of_type("vote_ack")
    unwanted = [m for m in await ann.quiet(0.4) if m["type"] == "tally"]
    assert unwanted == [], "phones get no counts before the reveal"
    state = ann.last("state")["state"]
    assert state["poll"]["correct"] is None, "the answer is secret until the reveal"
    await boss.send({"type": "reveal"})
    revealed = await ann.until(lambda m: m["type"] == "state" and m["state"]["poll"]["revealed"])
    assert revealed["state"]["poll"]["correct"] == 1
    tally = await ann.of_type("tally")
    assert tally["counts"] == [0, 1, 0]


async def test_hidden_results_keep_counts_off_the_display(quiz: ServerProcess) -> None:
    boss = await presenter(quiz)
    screen = await display(quiz)
    await boss.send({"type": "goto", "index": 2})
    await boss.send({"type": "open"})
    state = await screen.until(
        lambda m: (
            m["type"] == "state"
            and m["state"]["position"] == 2
            and m["state"]["poll"]["status"] == "open"
        )
    )
    assert state["state"]["poll"]["counts_visible"] is False
    ann, _ = await phone(quiz)
    await ann.vote("locked", 0)
    await ann.of_type("vote_ack")
    tally = await boss.until(
        lambda m: m["type"] == "tally" and m["poll"] == "locked" and m["voters"] == 1
    )
    assert tally["counts"] == [1, 0]
    shown = await screen.until(lambda m: m["type"] == "tally" and m["voters"] == 1)
    assert shown["counts"] == [], "the display learns how many voted, not what"
    assert all(m["counts"] == [] for m in screen.seen if m["type"] == "tally")
    await boss.send({"type": "reveal"})
    assert (await screen.of_type("tally", poll="locked"))["counts"] == [1, 0]


async def test_refused_votes_change_nothing(quiz: ServerProcess) -> None:
    boss = await presenter(quiz)
    ann, _ = await phone(quiz)
    await boss.send({"type": "goto", "index": 1})
    await boss.state(position=1)
    vote_id = await ann.vote("colour", 0)
    assert (await ann.of_type("error", ref=vote_id))["code"] == "poll_not_open"
    await boss.send({"type": "open"})
    await ann.until(lambda m: m["type"] == "state" and m["state"]["poll"]["status"] == "open")
    for poll, option, code in [
        ("colour", 3, "unknown_option"),
        ("ghost", 0, "unknown_poll"),
        ("locked", 0, "poll_not_open"),
    ]:
        vote_id = await ann.vote(poll, option)
        assert (await ann.of_type("error", ref=vote_id))["code"] == code
    await boss.send({"type": "close"})
    await ann.until(lambda m: m["type"] == "state" and m["state"]["poll"]["status"] == "closed")
    vote_id = await ann.vote("colour", 0)
    assert (await ann.of_type("error", ref=vote_id))["code"] == "poll_not_open"
    await boss.send({"type": "goto", "index": 2})
    await boss.send({"type": "open", "poll": "colour"})
    await boss.until(
        lambda m: (
            m["type"] == "state"
            and m["state"]["position"] == 2
            and m["state"]["polls"]["colour"]["status"] == "open"
        )
    )
    vote_id = await ann.vote("colour", 0)
    assert (await ann.of_type("error", ref=vote_id))["code"] == "poll_not_shown"
    await boss.send({"type": "reveal", "poll": "colour"})
    tally = await boss.of_type("tally", poll="colour")
    assert tally["counts"] == [0, 0, 0]


async def test_retried_vote_counts_once(quiz: ServerProcess) -> None:
    boss = await presenter(quiz)
    await open_colour_poll(boss)
    ann, _ = await phone(quiz)
    for _ in range(3):
        await ann.vote("colour", 2, vote_id="same-vote")
        assert (await ann.of_type("vote_ack"))["vote_id"] == "same-vote"
    tally = await boss.until(lambda m: m["type"] == "tally" and m["voters"] >= 1)
    assert tally["counts"] == [0, 0, 1]
    bob, _ = await phone(quiz)
    await bob.vote("colour", 0, vote_id="same-vote")
    assert (await bob.of_type("error", ref="same-vote"))["code"] == "duplicate_vote_id"


async def test_a_vote_sent_in_fragments_counts_as_one_message(quiz: ServerProcess) -> None:
    # Browsers may split a message over several websocket frames; the server joins them.
    boss = await presenter(quiz)
    await open_colour_poll(boss)
    ann, _ = await phone(quiz)
    vote = {"type": "vote", "poll": "colour", "option": 1, "vote_id": "in-pieces"}
    text = json.dumps(vote)
    await ann.connection.send(iter([text[:7], text[7:20], text[20:]]))
    assert (await ann.of_type("vote_ack"))["vote_id"] == "in-pieces"
    tally = await boss.until(lambda m: m["type"] == "tally" and m["voters"] >= 1)
    assert tally["counts"] == [0, 1, 0]


async def test_phone_reconnects_with_its_identity_and_vote(quiz: ServerProcess) -> None:
    boss = await presenter(quiz)
    await open_colour_poll(boss)
    ann, token = await phone(quiz)
    await ann.vote("colour", 1)
    await ann.of_type("vote_ack")
    await ann.close()
    again, same = await phone(quiz, participant=token)
    assert same == token
    assert again.seen[0]["votes"] == {"colour": 1}
    assert (await again.state())["position"] == 1
    await again.vote("colour", 2)
    await again.of_type("vote_ack")
    tally = await boss.until(lambda m: m["type"] == "tally" and m["counts"] == [0, 0, 1])
    assert tally["voters"] == 1, "the same person, not a second voter"


async def test_forged_participant_gets_a_new_identity(quiz: ServerProcess) -> None:
    _, token = await phone(quiz)
    _, other = await phone(quiz, participant="made-up-token")
    assert other not in ("made-up-token", token)


async def test_audience_and_display_cannot_drive(quiz: ServerProcess) -> None:
    boss = await presenter(quiz)
    ann, _ = await phone(quiz)
    screen = await display(quiz)
    commands = [
        {"type": "goto", "index": 1}, {"type": "next"}, {"type": "open", "poll": "colour"},
        {"type": "reveal", "poll": "colour"}, {"type": "blackout", "on": True},
        {"type": "join_info", "on": True}, {"type": "reset", "poll": "colour"},
    ]  # fmt: skip
    for peer in (ann, screen):
        for command in commands:
            await peer.send(command)
            error = await peer.of_type("error")
            assert error["code"] == "forbidden", command
    await screen.vote("colour", 0)
    assert (await screen.of_type("error"))["code"] == "forbidden"
    changes = [m for m in await boss.quiet(0.4) if m["type"] == "state"]
    assert changes == [] or all(m["state"]["position"] == 0 for m in changes)
    await boss.send({"type": "ping"})
    await boss.of_type("pong")
    state = await Peer.open(quiz.ws, "presenter", key=quiz.key)
    snapshot = await state.state()
    assert (snapshot["position"], snapshot["blackout"], snapshot["join"]["shown"]) == (
        0,
        False,
        False,
    )
    assert snapshot["polls"]["colour"]["status"] == "idle"


async def test_malformed_messages_get_errors_and_the_socket_stays(quiz: ServerProcess) -> None:
    ann, _ = await phone(quiz)
    bad = [
        "not json", "[]", "{}", '{"type": "dance"}', '{"type": "vote"}',
        '{"type": "vote", "poll": "colour", "option": "one", "vote_id": "x"}',
        '{"type": "vote", "poll": "colour", "option": 0, "vote_id": "x", "extra": 1}',
        '{"type": "hello", "room": "TESTR"}',
    ]  # fmt: skip
    for frame in bad:
        await ann.send(frame)
        error = await ann.of_type("error")
        assert error["message"], frame
    await ann.connection.send(b"\x00\x01binary")
    assert (await ann.of_type("error"))["code"] == "binary"
    await ann.send({"type": "ping"})
    await ann.of_type("pong")


async def test_hello_comes_first(quiz: ServerProcess) -> None:
    peer = await Peer.open(quiz.ws, "audience", room=quiz.room)
    await peer.of_type("welcome")
    from websockets.asyncio.client import connect

    async with connect(f"{quiz.ws}/audience") as raw:
        await raw.send(json.dumps({"type": "vote", "poll": "colour", "option": 0, "vote_id": "a"}))
        assert json.loads(await raw.recv())["code"] == "hello_first"


@pytest.mark.parametrize(
    ("role", "hello", "code"),
    [
        ("audience", {"room": "WRONG"}, 4404),
        ("presenter", {"key": "guess"}, 4403),
        ("presenter", {}, 4403),
    ],
)
async def test_wrong_room_or_key_is_turned_away(
    quiz: ServerProcess, role: str, hello: dict[str, str], code: int
) -> None:
    peer = await Peer.open(quiz.ws, role, **hello)
    error = await peer.of_type("error")
    assert error["code"] in ("bad_room", "bad_key")
    with pytest.raises(ConnectionClosed) as closed:
        await peer.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code


async def test_tallies_are_coalesced_and_end_exact(quiz: ServerProcess) -> None:
    boss = await presenter(quiz)
    screen = await display(quiz)
    await open_colour_poll(boss)
    phones = [(await phone(quiz))[0] for _ in range(60)]
    await asyncio.gather(*(p.vote("colour", i % 3) for i, p in enumerate(phones)))
    await asyncio.gather(*(p.of_type("vote_ack") for p in phones))
    final = await screen.until(lambda m: m["type"] == "tally" and m["voters"] == 60)
    assert final["counts"] == [20, 20, 20]
    tallies = [m for m in screen.seen if m["type"] == "tally"]
    assert len(tallies) < 60, "one tally per vote is not coalesced"


def test_schema_lists_every_message() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "server.cli", "schema"], capture_output=True, text=True, check=True
    ).stdout
    text = json.dumps(json.loads(out))
    for kind in ["hello", "vote", "goto", "next", "open", "reveal", "blackout", "join_info", "ping",
                 "welcome", "state", "tally", "presence", "vote_ack", "error", "pong"]:  # fmt: skip
        assert f'"{kind}"' in text, kind
