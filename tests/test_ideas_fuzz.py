"""Hostile phones on an ideas board, through the real websocket path.

Hypothesis draws what a phone may send an approve-first board: ideas (any unicode, markup,
bidi and zero-width tricks, texts past the limits), vote lists (known ids, pending and unknown
ones, repeats, too many, wrong shapes), resent and reused vote ids, a second tab on the same
token, and moderation a phone may not do. After every round: no traceback; each reply was an
acknowledgement or a documented refusal; an accepted idea is exactly the cleaned text, still
pending; a phone never holds more votes than allowed, never two on one idea, never one on an
idea it may not see; nobody else's pending idea reached the hostile phone or the display; the
honest phones hold what they sent, and the board counts each person once.
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
from tests.serverproc import ServerProcess
from tests.test_kinds_fuzz import TRICKS, reply_to
from tests.test_security_limits import start_logged
from tests.test_ws_live import display, phone, presenter
from tests.wsclient import Message, Peer

DECK = Path(__file__).parent / "decks" / "ideas.md"
ROUNDS = 30
ROOM = "IFUZZ"
POLL = "vetted"  # moderation before, 2 votes, 2 ideas a person, 80 characters
VOTES, LIMIT = 2, 80
SECRET = "A pending idea nobody else may see"
SHOWN = "An approved idea <i>with markup</i>"
REFUSALS = {
    "bad_message", "bad_answer", "empty_answer", "too_long", "unknown_poll", "poll_not_shown",
    "duplicate_vote_id", "unknown_idea", "too_many_votes", "idea_limit", "forbidden",
}  # fmt: skip

texts = st.sampled_from(TRICKS) | st.text(max_size=40) | st.text(min_size=60, max_size=200)
ids = st.sampled_from(["i1", "i2", "i3", "i4", "i99", "I2", " i2", "i2\u200b", ""]) | st.text(
    max_size=8
)
answers = st.one_of(
    texts,
    st.lists(ids, max_size=4),
    st.lists(st.sampled_from(["i2"]), min_size=1, max_size=5),  # one idea, many times
    st.integers() | st.none() | st.dictionaries(st.text(max_size=3), texts, max_size=1),
)
frames = st.lists(
    st.fixed_dictionaries(
        {
            "answer": answers,
            "vote_id": st.none() | st.sampled_from(["same-a", "same-b"]),  # None: fresh
            "tab": st.booleans(),  # send from the second connection on the same token
            "moderate": st.none() | st.sampled_from(["approve", "merge", "close_proposing"]),
        }
    ),
    min_size=1,
    max_size=8,
)


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    """A server on the ideas deck; rate limits out of the way so frames reach the board."""
    log = tmp_path_factory.mktemp("ideas-fuzz") / "server-stderr.log"
    with log.open("w") as errors:
        proc, _ = start_logged(
            DECK, "--room", ROOM, "--rate", "100000", "--burst", "100000",
            "--text-rate", "100000", "--text-burst", "100000", stderr=errors,
        )  # fmt: skip
    try:
        yield proc, log
    finally:
        proc.stop()


async def answer(peer: Peer, given: Any, vote_id: str | None = None) -> Message:
    vote_id = vote_id or uuid.uuid4().hex
    await peer.send({"type": "answer", "poll": POLL, "answer": given, "vote_id": vote_id})
    return await reply_to(peer, vote_id)


async def setup_board(server: ServerProcess) -> dict[str, str]:
    """Open the board; an honest phone's idea waits for approval (i1), another's is approved
    (i2), a third votes for it. Their tokens by role."""
    boss = await presenter(server)
    await boss.send({"type": "goto", "index": 2})
    await boss.send({"type": "open"})
    await boss.until(
        lambda m: m["type"] == "state" and (m["state"]["poll"] or {}).get("status") == "open"
    )
    secret, secret_token = await phone(server)
    assert (await answer(secret, SECRET))["own"][0]["id"] == "i1"
    shown, shown_token = await phone(server)
    assert (await answer(shown, SHOWN))["own"][0]["id"] == "i2"
    await boss.send({"type": "moderate", "action": "approve", "item": "i2"})
    await boss.until(lambda m: m["type"] == "tally" and m["items"][0]["state"] == "shown")
    voter, voter_token = await phone(server)
    assert (await answer(voter, ["i2"]))["answer"] == ["i2"]
    await Peer.close_all()
    return {"secret": secret_token, "shown": shown_token, "voter": voter_token}


def votes_ok(held: Any, own: list[dict[str, Any]]) -> None:
    """What an ack says a phone holds is a set of votes it may have."""
    assert isinstance(held, list) and len(held) <= VOTES and len(set(held)) == len(held), held
    mine = {item["id"] for item in own}
    assert "i1" not in held, "a vote on someone else's pending idea"
    assert not set(held) & mine - {"i2"}, "a vote on one's own pending idea"


async def one_round(server: ServerProcess, drawn: list[dict[str, Any]]) -> tuple[int, bool]:
    """Send the drawn frames from a fresh phone and its second tab, check each reply; how
    many answers were taken, and whether the phone votes for the approved idea at the end."""
    screen = await display(server)
    hostile, token = await phone(server)
    tab, _ = await phone(server, token)
    taken = 0
    used: set[str] = set()
    latest: Any = None  # what the last new answer's ack said this person holds
    for draw in drawn:
        sender = tab if draw["tab"] else hostile
        if draw["moderate"] is not None:
            move = {"type": "moderate", "poll": POLL, "action": draw["moderate"], "item": "i1"}
            await sender.send(move | ({"into": "i2"} if draw["moderate"] == "merge" else {}))
            refusal = await sender.until(lambda m: m["type"] == "error" and m["ref"] == "moderate")
            assert refusal["code"] == "forbidden", refusal
        vote_id = draw["vote_id"] or uuid.uuid4().hex
        body = draw["answer"]
        frame = json.dumps({"type": "answer", "poll": POLL, "answer": body, "vote_id": vote_id})
        await sender.send(frame)
        reply = await reply_to(sender, vote_id)
        if reply["type"] == "error":
            assert reply["code"] in REFUSALS, reply
            continue
        own = reply.get("own") or []
        votes_ok(reply["answer"], own)
        if vote_id in used:
            # A resend, whatever it carries now, from either tab: acknowledged with what the
            # person holds, nothing counted again.
            assert reply["answer"] == latest, reply
            continue
        used.add(vote_id)
        latest = reply["answer"]
        taken += 1
        for item in own:
            assert item["state"] == "pending", "one's own idea waits for approval"
            assert len(item["text"]) <= LIMIT
            assert len(item["text"].encode()) <= LIMIT * BYTES_PER_CHARACTER
        if isinstance(body, str):
            texts = {i["text"] for i in own}
            assert mask(clean(body)) in texts, "the idea as sent, cleaned: no markup touched"
    await hostile.send({"type": "ping"})
    await hostile.of_type("pong")
    for peer in (hostile, tab, screen):
        seen = json.dumps(peer.seen, ensure_ascii=False)
        assert SECRET not in seen, "someone else's pending idea reached this screen"
    for message in screen.seen:
        for entry in message.get("items") or []:
            assert entry["state"] == "shown" and entry["id"] != "i1"
    return taken, "i2" in (latest or [])


async def honest_still(server: ServerProcess, tokens: dict[str, str], voters: int) -> None:
    """The honest phones hold what they sent; the approved idea counts each of its `voters`
    once."""
    peer, _ = await phone(server, tokens["voter"])
    assert peer.last("welcome")["votes"][POLL] == ["i2"]
    peer, _ = await phone(server, tokens["secret"])
    own = peer.last("welcome")["own"][POLL]
    assert [(i["id"], i["text"], i["state"]) for i in own] == [("i1", SECRET, "pending")]
    boss = await presenter(server)
    tally = await boss.until(lambda m: m["type"] == "tally" and m["poll"] == POLL)
    counts = {i["id"]: i["count"] for i in tally["items"] if i["state"] == "shown"}
    assert counts["i2"] == voters, "each person who votes for it, once"


@pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)
def test_hostile_phones_cannot_stack_votes_see_pending_ideas_or_moderate(
    arena: tuple[ServerProcess, Path],
) -> None:
    server, log = arena
    tokens = asyncio.run(setup_board(server))
    taken = 0
    voters = 1  # the honest voter

    @settings(
        max_examples=ROUNDS,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(drawn=frames)
    def round_(drawn: list[Any]) -> None:
        async def run() -> tuple[int, bool]:
            try:
                # Each round opens with a vote that should be taken.
                opening = {"answer": ["i2"], "vote_id": None, "tab": False, "moderate": None}
                accepted, holds = await one_round(server, [opening, *drawn])
                await honest_still(server, tokens, voters + holds)
                return accepted, holds
            finally:
                await Peer.close_all()

        nonlocal taken, voters
        accepted, holds = asyncio.run(run())
        taken += accepted
        voters += holds
        logged = log.read_text()
        assert "Traceback" not in logged and "Exception" not in logged, logged[-3000:]
        assert httpx.get(f"{server.base}/display", timeout=5).status_code == 200

    round_()
    assert taken >= ROUNDS, f"only {taken} hostile answers were taken: the fuzz missed"
