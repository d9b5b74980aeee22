"""Nothing is lost: a server killed mid-vote comes back with every acknowledged vote, once."""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed

from tests.serverproc import ServerProcess, start_server
from tests.wsclient import Peer

QUIZ = Path(__file__).parent / "decks" / "quiz.md"
PHONES = 40


class Phone:
    """A phone that remembers its identity, its acknowledged vote and any vote still in flight."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.acked: int | None = None
        self.pending: tuple[str, int] | None = None
        self.peer: Peer | None = None

    async def connect(self, server: ServerProcess) -> dict[str, int]:
        hello = {"room": server.room} | ({"participant": self.token} if self.token else {})
        self.peer = await Peer.open(server.ws, "audience", **hello)
        welcome = await self.peer.of_type("welcome")
        self.token = welcome["participant"]
        votes: dict[str, int] = welcome["votes"]
        return votes

    async def keep_voting(self, rng: random.Random) -> None:
        """Vote again and again until the connection dies."""
        assert self.peer is not None
        try:
            while True:
                option = rng.randrange(3)
                vote_id = uuid.uuid4().hex
                self.pending = (vote_id, option)
                await self.peer.vote("colour", option, vote_id)
                ack = await self.peer.of_type("vote_ack", timeout=10, vote_id=vote_id)
                self.acked, self.pending = ack["option"], None
        except (ConnectionClosed, TimeoutError, OSError):
            return


async def open_poll(server: ServerProcess) -> Peer:
    boss = await Peer.open(server.ws, "presenter", key=server.key)
    await boss.send({"type": "goto", "index": 1})
    await boss.send({"type": "open"})
    await boss.until(
        lambda m: m["type"] == "state" and (m["state"]["poll"] or {}).get("status") == "open"
    )
    return boss


def restart(server: ServerProcess, deck: Path) -> ServerProcess:
    port = server.base.rsplit(":", 1)[1]
    return start_server(deck, "--port", port, key=None, data=server.data)


async def test_sigkill_mid_vote_loses_no_acknowledged_vote(tmp_path: Path) -> None:
    server = start_server(QUIZ, data=tmp_path / "data")
    try:
        boss = await open_poll(server)
        phones = [Phone() for _ in range(PHONES)]
        for phone in phones:
            await phone.connect(server)
        rng = random.Random(7)
        voting = [asyncio.create_task(p.keep_voting(rng)) for p in phones]
        while sum(p.acked is not None for p in phones) < PHONES:  # noqa: ASYNC110 - polls phones
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # votes keep flowing; kill in the middle of them
        server.stop(signal.SIGKILL)
        await asyncio.gather(*voting)
        await Peer.close_all()
        in_flight = sum(p.pending is not None for p in phones)

        server = restart(server, QUIZ)
        assert server.key == "test-presenter-key" and server.room == "TESTR", "same codes"
        final: dict[str, int] = {}
        for phone in phones:
            votes = await phone.connect(server)
            recorded = votes.get("colour")
            allowed = {phone.acked} | ({phone.pending[1]} if phone.pending else set())
            assert recorded in allowed, (
                "an acknowledged vote came back (or the newer one in flight)"
            )
            if phone.pending is not None:
                assert phone.peer is not None
                vote_id, option = phone.pending
                await phone.peer.vote("colour", option, vote_id)
                ack = await phone.peer.of_type("vote_ack", vote_id=vote_id)
                assert ack["option"] == option
            final[phone.token or ""] = (
                votes["colour"] if phone.pending is None else phone.pending[1]
            )
        boss = await Peer.open(server.ws, "presenter", key=server.key)
        state = await boss.state()
        assert state["position"] == 1 and state["poll"]["status"] == "open"
        expected = [list(final.values()).count(i) for i in range(3)]
        tally = await boss.until(lambda m: m["type"] == "tally" and m["counts"] == expected)
        assert tally["voters"] == PHONES, f"each phone counted once ({in_flight} were in flight)"
    finally:
        server.stop()


async def test_resume_keeps_slide_polls_and_codes_and_new_session_starts_afresh(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    server = start_server(QUIZ, data=data, key=None)
    try:
        first_key, first_room = server.key, server.room
        boss = await open_poll(server)
        phone = Phone()
        await phone.connect(server)
        assert phone.peer is not None
        await phone.peer.vote("colour", 2)
        await phone.peer.of_type("vote_ack")
        await boss.send({"type": "reveal"})
        await boss.send({"type": "blackout", "on": True})
        await boss.until(lambda m: m["type"] == "state" and m["state"]["blackout"])
        await Peer.close_all()
        server.stop()

        server = start_server(QUIZ, data=data, key=None)
        assert (server.key, server.room) == (first_key, first_room)
        boss = await Peer.open(server.ws, "presenter", key=server.key)
        state = await boss.state()
        assert (state["position"], state["blackout"]) == (1, True)
        assert state["poll"]["status"] == "open" and state["poll"]["revealed"]
        assert (await boss.of_type("tally"))["counts"] == [0, 0, 1]
        await Peer.close_all()
        server.stop()

        server = start_server(QUIZ, "--new-session", data=data, key="fresh-key")
        assert server.key == "fresh-key" and server.room == "TESTR"
        boss = await Peer.open(server.ws, "presenter", key="fresh-key")
        state = await boss.state()
        assert (state["position"], state["polls"]["colour"]["status"]) == (0, "idle")
        async with httpx.AsyncClient(base_url=server.base) as http:
            listed = await http.get("/api/sessions", params={"key": "fresh-key"})
            sessions = listed.json()
            assert len(sessions) == 2
            answer = await http.get(
                f"/api/sessions/{sessions[1]['id']}/results.json",
                headers={"X-Handsup-Key": "fresh-key"},
            )
            old = answer.json()
        colour = next(p for p in old["polls"] if p["id"] == "colour")
        assert [o["votes"] for o in colour["options"]] == [0, 0, 1], "old results kept"
    finally:
        server.stop()


async def test_hot_reload_keeps_state_and_a_broken_save_keeps_the_last_good_deck(
    tmp_path: Path,
) -> None:
    deck = tmp_path / "talk.md"
    shutil.copy(QUIZ, deck)
    server = start_server(deck, data=tmp_path / "data")
    try:
        boss = await open_poll(server)
        phone = Phone()
        await phone.connect(server)
        assert phone.peer is not None
        await phone.peer.vote("colour", 1)
        await phone.peer.of_type("vote_ack")
        text = deck.read_text()
        edited = text.replace("# Locked in?", "# Really locked in?") + "\n---\n\n# One more slide\n"
        deck.write_text(edited)
        notice = await boss.of_type("notice", timeout=10)
        assert notice["level"] == "info"
        assert any("locked" in line and "changed" in line for line in notice["details"])
        state = boss.last("state")["state"]  # sent just before the notice
        assert state["total"] == 5
        assert state["position"] == 1 and state["poll"]["status"] == "open"
        tally = await boss.until(lambda m: m["type"] == "tally" and m["poll"] == "colour")
        assert tally["counts"] == [0, 1, 0], "votes of a matching poll survive the reload"

        broken = edited.replace("- [ ] Green\n", "- [ ] Red\n")
        deck.write_text(broken)
        notice = await boss.of_type("notice", timeout=10, level="error")
        reds = [n for n, text in enumerate(broken.splitlines(), start=1) if text == "- [ ] Red"]
        line = reds[1]
        assert any(f"talk.md:{line}: duplicate option" in d for d in notice["details"])
        await phone.peer.vote("colour", 0)
        assert (await phone.peer.of_type("vote_ack"))["option"] == 0, "the talk goes on"
        late = await Peer.open(server.ws, "presenter", key=server.key)
        assert (await late.of_type("notice"))["level"] == "error", "a new tab sees the error too"
        assert late.last("state")["state"]["total"] == 5

        deck.write_text(text)
        notice = await boss.of_type("notice", timeout=10, level="info")
        state = boss.last("state")["state"]
        assert (state["total"], state["slide"]["id"]) == (4, "colour")
    finally:
        server.stop()


KINDS = Path(__file__).parent / "decks" / "kinds.md"
KIND_PHONES = 20


class AnsweringPhone(Phone):
    """A phone that answers polls of any kind and remembers every acknowledged answer."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.words: list[str] = []
        self.texts: list[str] = []
        self.last_ids: dict[str, tuple[str, Any]] = {}  # poll -> (vote id, answer) acked
        self.rating: int | None = None
        self.pending_rating: tuple[str, int] | None = None

    async def answer(self, poll: str, given: Any) -> dict[str, Any]:
        assert self.peer is not None
        vote_id = uuid.uuid4().hex
        await self.peer.send({"type": "answer", "poll": poll, "answer": given, "vote_id": vote_id})
        ack = await self.peer.of_type("vote_ack", timeout=10, vote_id=vote_id)
        self.last_ids[poll] = (vote_id, given)
        return ack

    async def send_words(self) -> None:
        # Words shared across phones, so the cloud's counts add up from many people.
        for word in (f"Word{self.n % 5}", f"other{self.n % 7}", "common"):
            ack = await self.answer("cloud", [word])
            self.words.append(word)
            assert ack["answer"] == self.words

    async def send_texts(self) -> None:
        for k in range(2):
            text = f"question {k} from phone {self.n}"
            ack = await self.answer("ask", text)
            self.texts.append(text)
            assert ack["answer"] == self.texts

    async def keep_rating(self, rng: random.Random) -> None:
        """Rate again and again until the connection dies."""
        assert self.peer is not None
        try:
            while True:
                rating = rng.randint(1, 5)
                vote_id = uuid.uuid4().hex
                self.pending_rating = (vote_id, rating)
                await self.peer.send(
                    {"type": "answer", "poll": "rate", "answer": rating, "vote_id": vote_id}
                )
                ack = await self.peer.of_type("vote_ack", timeout=10, vote_id=vote_id)
                self.rating, self.pending_rating = ack["answer"], None
        except (ConnectionClosed, TimeoutError, OSError):
            return


async def show_poll(boss: Peer, index: int) -> None:
    await boss.send({"type": "goto", "index": index})
    await boss.until(lambda m: m["type"] == "state" and m["state"]["position"] == index)


async def test_sigkill_loses_no_acknowledged_answer_of_any_kind(tmp_path: Path) -> None:
    server = start_server(KINDS, data=tmp_path / "data")
    try:
        boss = await Peer.open(server.ws, "presenter", key=server.key)
        phones = [AnsweringPhone(n) for n in range(KIND_PHONES)]
        for phone in phones:
            await phone.connect(server)
        await show_poll(boss, 1)
        await boss.send({"type": "open"})
        await asyncio.gather(*(p.send_words() for p in phones))
        await boss.send({"type": "moderate", "action": "hide", "item": "common"})
        await show_poll(boss, 2)
        await boss.send({"type": "open"})
        await asyncio.gather(*(p.send_texts() for p in phones))
        for n in range(1, 6):
            await boss.send({"type": "moderate", "action": "approve", "item": f"a{n}"})
        await show_poll(boss, 4)
        await boss.send({"type": "open"})
        rng = random.Random(11)
        rating = [asyncio.create_task(p.keep_rating(rng)) for p in phones]
        while sum(p.rating is not None for p in phones) < KIND_PHONES:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # ratings keep flowing; kill in the middle of them
        server.stop(signal.SIGKILL)
        await asyncio.gather(*rating)
        await Peer.close_all()

        server = restart(server, KINDS)
        final: list[int] = []
        for phone in phones:
            votes = await phone.connect(server)
            assert votes["cloud"] == phone.words, "every acknowledged word, once"
            assert votes["ask"] == phone.texts, "every acknowledged answer, once"
            pending = phone.pending_rating
            assert votes["rate"] in {phone.rating} | ({pending[1]} if pending else set())
            assert phone.peer is not None
            for poll in ("cloud", "ask"):  # a resend after the restart counts nothing again
                vote_id, given = phone.last_ids[poll]
                await phone.peer.send(
                    {"type": "answer", "poll": poll, "answer": given, "vote_id": vote_id}
                )
                await phone.peer.of_type("vote_ack", vote_id=vote_id)
            if pending is not None:
                await phone.peer.send(
                    {"type": "answer", "poll": "rate", "answer": pending[1], "vote_id": pending[0]}
                )
                assert (await phone.peer.of_type("vote_ack", vote_id=pending[0]))["answer"] == (
                    pending[1]
                )
            final.append(votes["rate"] if pending is None else pending[1])

        boss = await Peer.open(server.ws, "presenter", key=server.key)
        state = await boss.state()
        assert state["position"] == 4 and state["poll"]["status"] == "open"
        expected = [final.count(point) for point in range(1, 6)]
        tally = await boss.until(lambda m: m["type"] == "tally" and m["counts"] == expected)
        assert tally["voters"] == KIND_PHONES

        await show_poll(boss, 1)
        words = Counter(w.casefold() for p in phones for w in p.words)
        cloud = await boss.until(lambda m: m["type"] == "tally" and m["poll"] == "cloud")
        assert {i["id"]: i["count"] for i in cloud["items"]} == dict(words)
        assert {i["id"] for i in cloud["items"] if i["state"] == "hidden"} == {"common"}

        await show_poll(boss, 2)
        ask = await boss.until(lambda m: m["type"] == "tally" and m["poll"] == "ask")
        assert sorted(i["text"] for i in ask["items"]) == sorted(t for p in phones for t in p.texts)
        approved = {i["id"] for i in ask["items"] if i["state"] == "shown"}
        assert approved == {f"a{n}" for n in range(1, 6)}, "moderation survives too"
    finally:
        server.stop()


async def test_sigkill_mid_upvotes_loses_no_acknowledged_upvote(tmp_path: Path) -> None:
    """An `upvote_ack` means durable: after kill -9, each phone's upvotes are those acked
    (or with the one still in flight), and sending that one again is acked and counted once."""
    deck = tmp_path / "qa.md"
    deck.write_text(QA.read_text().replace("qa: true", "qa: {moderation: after}"))
    server = start_server(deck, data=tmp_path / "data")
    try:
        askers = [await Peer.open(server.ws, "audience", room=server.room) for _ in range(6)]
        for n, asker in enumerate(askers):
            await asker.send({"type": "ask", "text": f"Question {n}?", "ask_id": f"k{n}"})
            await asker.of_type("ask_ack", ask_id=f"k{n}")
        questions = [f"q{n}" for n in range(1, 7)]
        voters = [Upvoter() for _ in range(20)]
        for voter in voters:
            await voter.connect(server)
        rng = random.Random(11)
        voting = [asyncio.create_task(v.keep_upvoting(questions, rng)) for v in voters]
        while sum(v.acks for v in voters) < 3 * len(voters):  # noqa: ASYNC110 - polls phones
            await asyncio.sleep(0.01)
        server.stop(signal.SIGKILL)
        await asyncio.gather(*voting)
        await Peer.close_all()

        server = restart(server, deck)
        for voter in voters:
            upvoted = set(await voter.connect(server))
            allowed = [voter.acked]
            if voter.pending is not None:
                question, on, _ = voter.pending
                allowed.append(voter.acked | {question} if on else voter.acked - {question})
            assert upvoted in allowed, "the acknowledged upvotes came back (or the one in flight)"
            if voter.pending is not None:  # the phone sends it again, same id: acked, once
                question, on, upvote_id = voter.pending
                assert voter.peer is not None
                await voter.peer.send(
                    {"type": "upvote", "question": question, "on": on, "upvote_id": upvote_id}
                )
                await voter.peer.of_type("upvote_ack", upvote_id=upvote_id)
                voter.acked = voter.acked | {question} if on else voter.acked - {question}
        expected = {q: sum(q in v.acked for v in voters) for q in questions}
        boss = await Peer.open(server.ws, "presenter", key=server.key)
        await boss.until(
            lambda m: (
                m["type"] == "questions" and {q["id"]: q["votes"] for q in m["top"]} == expected
            )
        )
    finally:
        await Peer.close_all()
        server.stop()


QA = Path(__file__).parent / "decks" / "qa.md"


class Upvoter:
    """A phone that upvotes and takes back upvotes, remembering what was acknowledged."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.acked: set[str] = set()
        self.acks = 0
        self.pending: tuple[str, bool, str] | None = None
        self.peer: Peer | None = None

    async def connect(self, server: ServerProcess) -> list[str]:
        """Say hello (as the same participant after a restart); its upvotes, as the server
        lists them."""
        hello = {"room": server.room} | ({"participant": self.token} if self.token else {})
        self.peer = await Peer.open(server.ws, "audience", **hello)
        self.token = (await self.peer.of_type("welcome"))["participant"]
        mine = await self.peer.of_type("my_questions")
        return list(mine["upvoted"])

    async def keep_upvoting(self, questions: list[str], rng: random.Random) -> None:
        """Upvote or take back, one at a time, until the connection dies."""
        assert self.peer is not None
        try:
            while True:
                question = rng.choice(questions)
                on = question not in self.acked
                upvote_id = uuid.uuid4().hex
                self.pending = (question, on, upvote_id)
                message = {"type": "upvote", "question": question, "on": on}
                await self.peer.send(message | {"upvote_id": upvote_id})
                await self.peer.of_type("upvote_ack", timeout=10, upvote_id=upvote_id)
                self.acked = self.acked | {question} if on else self.acked - {question}
                self.pending = None
                self.acks += 1
        except (ConnectionClosed, TimeoutError, OSError):
            return
