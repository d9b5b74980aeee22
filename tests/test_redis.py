"""Several workers share one session through a real redis-server: one log, the same state
everywhere, and no acknowledged vote lost when a worker or Redis itself is killed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import redis
from playwright.sync_api import expect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from server.app import create_app
from server.codec import encode
from server.commands import GoTo, Join, OpenPoll, ResetPoll, SetBlackout, Vote
from server.log import LocalLog
from server.settings import Settings
from server.sqlite_store import SQLiteStore
from tests.browser import Devices
from tests.nginxproc import NginxProcess, start_nginx
from tests.redisproc import RedisProcess
from tests.serverproc import ROOT, ServerProcess, start_server
from tests.test_deploy_nginx import through, upstream
from tests.test_durability import QUIZ, Phone, open_poll
from tests.test_privacy import DECK as PRIVACY_DECK
from tests.test_security_limits import connect
from tests.wsclient import Peer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "redis").start()
    yield server
    server.stop()


def worker(redis: RedisProcess, data: Path, *extra: str) -> ServerProcess:
    """`handsup serve --redis` as one of several hosts would run it, with its own folder."""
    return start_server(QUIZ, "--redis", redis.url, *extra, data=data)


class Voter(Phone):
    """A phone that votes until told to stop, counting its acknowledgements."""

    acks = 0

    async def dial(self, proxy: NginxProcess) -> dict[str, int]:
        """Connect through nginx, as the page would (with its identity once it has one)."""
        self.peer = await through(proxy, "audience")
        hello = {"room": "TESTR"} | ({"participant": self.token} if self.token else {})
        await self.peer.send({"type": "hello", **hello})
        welcome = await self.peer.of_type("welcome")
        self.token = welcome["participant"]
        votes: dict[str, int] = welcome["votes"]
        return votes

    async def vote_until(self, stop: asyncio.Event, rng: random.Random) -> None:
        assert self.peer is not None
        try:
            while not stop.is_set():
                option = rng.randrange(3)
                vote_id = uuid.uuid4().hex
                self.pending = (vote_id, option)
                await self.peer.vote("colour", option, vote_id)
                ack = await self.peer.of_type("vote_ack", timeout=30, vote_id=vote_id)
                self.acked, self.pending = ack["option"], None
                self.acks += 1
        except (ConnectionClosed, TimeoutError, OSError):
            return


async def settle(phones: list[Voter], server: ServerProcess) -> dict[str, int]:
    """Reconnect each phone to `server`: it must find its acknowledged vote (or the newer one
    in flight), which it sends again; returns each participant's final vote."""
    final: dict[str, int] = {}
    for phone in phones:
        token = phone.token
        votes = await phone.connect(server)
        assert phone.token == token, "the phone kept its identity on the other worker"
        recorded = votes.get("colour")
        allowed = {phone.acked} | ({phone.pending[1]} if phone.pending else set())
        assert recorded in allowed, "an acknowledged vote came back (or the newer one in flight)"
        if phone.pending is not None:
            assert phone.peer is not None
            vote_id, option = phone.pending
            await phone.peer.vote("colour", option, vote_id)
            assert (await phone.peer.of_type("vote_ack", vote_id=vote_id))["option"] == option
            recorded = option
        assert recorded is not None
        final[token or ""] = recorded
    return final


def counts(final: dict[str, int]) -> list[int]:
    return [list(final.values()).count(option) for option in range(3)]


async def test_presenter_display_and_phones_on_two_workers_share_one_session(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    a = worker(redis_server, tmp_path / "a", "--presenter-key", "shared-key")
    b = worker(redis_server, tmp_path / "b", "--presenter-key", "other", "--room", "OTHER")
    try:
        assert (b.key, b.room) == ("shared-key", "TESTR"), "the first worker's codes, everywhere"
        boss = await open_poll(a)
        await boss.send({"type": "reveal"})
        screen = await Peer.open(b.ws, "display", room=b.room)
        await screen.until(
            lambda m: m["type"] == "state" and m["state"]["position"] == 1, timeout=10
        )
        phones = [Phone() for _ in range(12)]
        for n, phone in enumerate(phones):
            await phone.connect(a if n % 2 else b)
        for n, phone in enumerate(phones):
            assert phone.peer is not None
            await phone.peer.vote("colour", n % 3)
        for phone in phones:
            assert phone.peer is not None
            await phone.peer.of_type("vote_ack")
        expected = [4, 4, 4]
        on_a = await boss.until(lambda m: m["type"] == "tally" and m["counts"] == expected)
        on_b = await screen.until(lambda m: m["type"] == "tally" and m["counts"] == expected)
        assert on_a["voters"] == on_b["voters"] == 12
        presence = await boss.until(
            lambda m: m["type"] == "presence" and m["audience"] == 12 and m["display"] == 1,
            timeout=10,
        )
        assert presence["participants"] == 12, "presence counts the whole room, both workers"

        # A slide move on A shows on B; one phone's vote is one vote whichever worker sent it.
        first = phones[0]
        assert first.peer is not None
        vote_id = await first.peer.vote("colour", 2)
        await first.peer.of_type("vote_ack", vote_id=vote_id)
        await first.connect(a)
        assert first.peer is not None
        await first.peer.vote("colour", 2, vote_id)  # the same vote, resent to the other worker
        assert (await first.peer.of_type("vote_ack", vote_id=vote_id))["option"] == 2
        await boss.send({"type": "next"})  # two presses before either comes back: two slides
        await boss.send({"type": "next"})
        await screen.until(lambda m: m["type"] == "state" and m["state"]["position"] == 3)
        await boss.send({"type": "goto", "index": 1})
        shown = await screen.until(lambda m: m["type"] == "tally" and m["poll"] == "colour")
        assert shown["counts"] == [3, 4, 5] and shown["voters"] == 12

        # The results page of either worker has the session (each keeps a copy of the log).
        async with httpx.AsyncClient(base_url=b.base) as http:
            results = await until_results(http, [3, 4, 5])
        assert results["session"]["room"] == "TESTR"
    finally:
        await Peer.close_all()
        a.stop()
        b.stop()
    colour = next(p for p in export(tmp_path / "a")["polls"] if p["id"] == "colour")
    assert [o["votes"] for o in colour["options"]] == [3, 4, 5], "handsup export has it all"


def export(data: Path) -> dict[str, Any]:
    """`handsup export --format json` of a data folder, as a person would run it."""
    exported = subprocess.run(
        [sys.executable, "-m", "server.cli", "export", "--data", str(data), "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    results: dict[str, Any] = json.loads(exported.stdout)
    return results


async def until_results(http: httpx.AsyncClient, expected: list[int]) -> dict[str, Any]:
    """The newest session's results once its colour poll shows `expected` (the copy in the
    data folder is written just after the votes are applied, not before they are acked)."""
    key = {"X-Handsup-Key": "shared-key"}
    async with asyncio.timeout(10):
        while True:
            sessions = (await http.get("/api/sessions", headers=key)).json()
            assert len(sessions) == 1
            got = await http.get(f"/api/sessions/{sessions[0]['id']}/results.json", headers=key)
            results: dict[str, Any] = got.json()
            polls = results["polls"]
            assert isinstance(polls, list)
            colour = next(p for p in polls if p["id"] == "colour")
            if [o["votes"] for o in colour["options"]] == expected:
                return results
            await asyncio.sleep(0.05)


async def test_a_worker_killed_mid_vote_loses_no_acknowledged_vote(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    a = worker(redis_server, tmp_path / "a")
    b = worker(redis_server, tmp_path / "b")
    try:
        await open_poll(a)
        phones = [Voter() for _ in range(30)]
        for n, phone in enumerate(phones):
            await phone.connect(a if n % 3 else b)  # two thirds on A, the one to be killed
        stop = asyncio.Event()
        rng = random.Random(13)
        voting = [asyncio.create_task(p.vote_until(stop, rng)) for p in phones]
        async with asyncio.timeout(20):
            while sum(p.acks >= 2 for p in phones) < len(phones):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        a.stop(signal.SIGKILL)  # mid-vote: the phones on A have votes in flight
        stop.set()
        await asyncio.gather(*voting)
        await Peer.close_all()

        final = await settle(phones, b)
        boss = await Peer.open(b.ws, "presenter", key=b.key)
        state = await boss.state()
        assert state["position"] == 1 and state["poll"]["status"] == "open"
        tally = await boss.until(lambda m: m["type"] == "tally" and m["counts"] == counts(final))
        assert tally["voters"] == len(phones), "each phone counted once"
    finally:
        await Peer.close_all()
        a.stop()
        b.stop()


def sockets_of(server: ServerProcess) -> int:
    """Connections the server holds (through nginx: one per phone, presenter or screen)."""
    held = psutil.Process(server.process.pid).net_connections(kind="tcp")
    return sum(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == server.port for c in held)


async def test_behind_nginx_a_worker_killed_mid_vote_hands_its_phones_to_the_other(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    a = worker(redis_server, tmp_path / "a")
    b = worker(redis_server, tmp_path / "b")
    proxy = start_nginx([upstream(a), upstream(b)])
    try:
        boss = await through(proxy, "presenter")
        await boss.send({"type": "hello", "key": a.key})
        await boss.send({"type": "goto", "index": 1})
        await boss.send({"type": "open"})
        await boss.until(
            lambda m: m["type"] == "state" and (m["state"]["poll"] or {}).get("status") == "open"
        )
        phones = [Voter() for _ in range(20)]
        for phone in phones:
            await phone.dial(proxy)
        stop = asyncio.Event()
        rng = random.Random(21)
        voting = [asyncio.create_task(p.vote_until(stop, rng)) for p in phones]
        async with asyncio.timeout(20):
            while sum(p.acks >= 2 for p in phones) < len(phones):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert sockets_of(a) >= 5, "least_conn gave the worker to be killed its share"
        a.stop(signal.SIGKILL)
        stop.set()
        await asyncio.gather(*voting)
        await Peer.close_all()

        final: dict[str, int] = {}
        for phone in phones:  # each redials through nginx, which sends it to B
            token = phone.token
            votes = await phone.dial(proxy)
            assert phone.token == token, "the phone kept its identity"
            allowed = {phone.acked} | ({phone.pending[1]} if phone.pending else set())
            assert votes.get("colour") in allowed, "its acknowledged vote (or the newer one)"
            recorded = votes["colour"]
            if phone.pending is not None:
                assert phone.peer is not None
                vote_id, recorded = phone.pending
                await phone.peer.vote("colour", recorded, vote_id)
                await phone.peer.of_type("vote_ack", vote_id=vote_id)
            final[token or ""] = recorded
        boss = await through(proxy, "presenter")
        await boss.send({"type": "hello", "key": b.key})
        tally = await boss.until(lambda m: m["type"] == "tally" and m["counts"] == counts(final))
        assert tally["voters"] == len(phones), "0 acknowledged votes lost, 0 counted twice"
        screen = await through(proxy, "display")
        await screen.send({"type": "hello", "room": b.room})
        assert (await screen.state())["position"] == 1, "every screen back in sync"
    finally:
        await Peer.close_all()
        proxy.stop()
        a.stop()
        b.stop()


async def test_redis_killed_mid_vote_and_restarted_loses_no_acknowledged_vote(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    a = worker(redis_server, tmp_path / "a")
    b = worker(redis_server, tmp_path / "b")
    c: ServerProcess | None = None
    try:
        boss = await open_poll(a)
        phones = [Voter() for _ in range(20)]
        for n, phone in enumerate(phones):
            await phone.connect(a if n % 2 else b)
        stop = asyncio.Event()
        rng = random.Random(5)
        voting = [asyncio.create_task(p.vote_until(stop, rng)) for p in phones]
        async with asyncio.timeout(20):
            while sum(p.acks >= 2 for p in phones) < len(phones):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        redis_server.stop(signal.SIGKILL)
        away = await boss.of_type("notice", level="warning", timeout=10)
        assert "unreachable" in away["message"], "the presenter is told votes wait"
        before = [p.acks for p in phones]
        redis_server.start()  # on the same append-only file
        await boss.of_type("notice", level="info", timeout=15)
        async with asyncio.timeout(30):  # everything resumes, unaided: every phone acked again
            while any(p.acks <= n for p, n in zip(phones, before, strict=True)):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        stop.set()
        await asyncio.gather(*voting)
        final = {p.token or "": p.acked for p in phones if p.acked is not None}
        assert len(final) == len(phones) and all(p.pending is None for p in phones)

        # A new worker builds the session from Redis alone: every acknowledged vote is there.
        c = worker(redis_server, tmp_path / "c")
        late = await Peer.open(c.ws, "presenter", key=c.key)
        expected = counts(final)
        tally = await late.until(lambda m: m["type"] == "tally" and m["counts"] == expected)
        assert tally["voters"] == len(phones)
        await boss.until(lambda m: m["type"] == "tally" and m["counts"] == expected)
    finally:
        await Peer.close_all()
        for server in (a, b, c):
            if server is not None:
                server.stop()


async def test_while_redis_is_away_phones_and_display_say_reconnecting(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    a = worker(redis_server, tmp_path / "a")
    b = worker(redis_server, tmp_path / "b")
    try:
        await open_poll(a)
        phone = Phone()
        await phone.connect(b)
        screen = await Peer.open(a.ws, "display", room=a.room)
        await screen.of_type("welcome")
        assert phone.peer is not None

        redis_server.stop(signal.SIGKILL)
        await phone.peer.of_type("link", status="away", timeout=10)
        await screen.of_type("link", status="away", timeout=10)
        # A vote now waits: not acknowledged while Redis is away...
        await phone.peer.vote("colour", 2, "while-away")
        assert not [m for m in await phone.peer.quiet(0.5) if m["type"] == "vote_ack"]
        # ...and a phone that (re)connects meanwhile is told at once, after its welcome.
        late = Phone()
        await late.connect(b)
        assert late.peer is not None
        await late.peer.of_type("link", status="away")

        redis_server.start()  # on the same append-only file
        for peer in (phone.peer, late.peer, screen):
            await peer.of_type("link", status="back", timeout=15)
        ack = await phone.peer.of_type("vote_ack", vote_id="while-away", timeout=15)
        assert ack["option"] == 2, "the vote that waited is acknowledged once Redis is back"
    finally:
        await Peer.close_all()
        a.stop()
        b.stop()


def test_the_pages_indicator_says_reconnecting_while_redis_is_away(
    redis_server: RedisProcess, tmp_path: Path, devices: Devices
) -> None:
    a = worker(redis_server, tmp_path / "a")
    try:
        phone = devices.open(f"{a.base}/?room={a.room}", phone=True)
        french = devices.open(f"{a.base}/?room={a.room}", phone=True, locale="fr-FR")
        screen = devices.open(f"{a.base}/display?room={a.room}")
        for page, live in ((phone, "Live"), (french, "En direct"), (screen, "Live")):
            expect(page.locator("#conn")).to_have_text(live)

        redis_server.stop(signal.SIGKILL)
        expect(phone.locator("#conn")).to_have_text("Reconnecting… votes are kept")
        expect(french.locator("#conn")).to_have_text("Reconnexion… les votes sont conservés")
        expect(screen.locator("#conn")).to_have_text("Reconnecting… votes are kept")

        redis_server.start()  # back: every indicator says so, unaided
        for page, live in ((phone, "Live"), (french, "En direct"), (screen, "Live")):
            expect(page.locator("#conn")).to_have_text(live, timeout=15_000)
    finally:
        a.stop()


async def first_word(server: ServerProcess, role: str, **hello: Any) -> dict[str, Any]:
    """Connect and say hello: the server's first answer (a welcome, or why not)."""
    peer = await connect(server, role)
    with contextlib.suppress(ConnectionClosed):  # refused at the handshake: already closing
        await peer.send({"type": "hello", **hello})
    return await peer.next()


async def test_connection_limits_count_every_workers_sockets(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    limits = ("--max-connections", "6", "--max-displays", "1")
    a = worker(redis_server, tmp_path / "a", *limits)
    b = worker(redis_server, tmp_path / "b", *limits)
    try:
        boss = await Peer.open(b.ws, "presenter", key=b.key)
        screen = await Peer.open(a.ws, "display", room=a.room)
        await screen.of_type("welcome")
        phones = [Phone(), Phone()]
        for phone in phones:
            await phone.connect(a)
        await boss.until(
            lambda m: m["type"] == "presence" and (m["display"], m["audience"]) == (1, 2),
            timeout=10,
        )  # B has read A's counts from Redis

        # One display in the room, on A: B has none of its own, and still refuses a second.
        refused = await first_word(b, "display", room=b.room)
        assert (refused["type"], refused["code"]) == ("error", "server_full")
        assert "too many displays (1)" in refused["message"]

        # Six connections in the room: A holds three, B its presenter; alone, B would take
        # five phones. Room-wide it takes the two left (one, if the refused display's socket
        # is not yet released), then says the room is full.
        welcomed = 0
        while (answer := await first_word(b, "audience", room=b.room))["type"] == "welcome":
            welcomed += 1
        assert answer["code"] == "server_full" and "the room is full" in answer["message"]
        assert 1 <= welcomed <= 2, "B counted A's sockets against the room's six"

        # A phone leaves A: once B has read the new count, a phone gets in on B.
        assert phones[0].peer is not None
        await phones[0].peer.close()
        await boss.until(lambda m: m["type"] == "presence" and m["audience"] == 1 + welcomed)
        assert (await first_word(b, "audience", room=b.room))["type"] == "welcome"
    finally:
        await Peer.close_all()
        a.stop()
        b.stop()


async def test_redis_restarted_empty_is_reported_not_ignored(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    a = worker(redis_server, tmp_path / "a")
    try:
        boss = await open_poll(a)
        phone = Phone()
        await phone.connect(a)
        assert phone.peer is not None
        await phone.peer.vote("colour", 1)
        await phone.peer.of_type("vote_ack")
        redis_server.stop(signal.SIGKILL)
        redis_server.wipe()
        redis_server.start()
        notice = await boss.of_type("notice", level="error", timeout=15)
        assert notice["message"] == "the shared session log was lost"
        assert any("no longer has the session" in line for line in notice["details"])
        vote_id = await phone.peer.vote("colour", 2)
        refused = await phone.peer.of_type("error", ref=vote_id)
        assert refused["code"] == "log_lost", "nothing new is acknowledged into an empty log"
        late = await Peer.open(a.ws, "presenter", key=a.key)
        assert (await late.of_type("notice"))["level"] == "error", "a new tab is told too"
        await Peer.close_all()
        a.stop()

        # The way back (docs/scaling.md): one process on the data folder's copy of the log.
        alone = start_server(QUIZ, data=tmp_path / "a")
        try:
            boss = await Peer.open(alone.ws, "presenter", key=alone.key)
            state = await boss.state()
            assert state["position"] == 1 and state["poll"]["status"] == "open"
            assert (await boss.of_type("tally"))["counts"] == [0, 1, 0], "the vote is kept"
        finally:
            alone.stop()
    finally:
        await Peer.close_all()
        a.stop()


async def test_a_deck_saved_on_one_host_is_served_by_every_worker(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    deck = tmp_path / "talk.md"
    shutil.copy(QUIZ, deck)
    a = start_server(deck, "--redis", redis_server.url, data=tmp_path / "a")
    b = start_server(deck, "--redis", redis_server.url, "--no-watch", data=tmp_path / "b")
    c: ServerProcess | None = None
    try:
        await open_poll(a)
        boss = await Peer.open(b.ws, "presenter", key=b.key)
        phone = Phone()
        await phone.connect(b)
        assert phone.peer is not None
        await phone.peer.vote("colour", 1)
        await phone.peer.of_type("vote_ack")
        deck.write_text(deck.read_text() + "\n---\n\n# One more slide\n")
        notice = await boss.of_type("notice", timeout=10)
        assert notice["level"] == "info" and notice["message"] == "deck reloaded: 5 slides"
        state = boss.last("state")["state"]  # sent just before the notice
        assert state["total"] == 5 and state["position"] == 1 and state["poll"]["status"] == "open"
        tally = await boss.until(lambda m: m["type"] == "tally" and m["poll"] == "colour")
        assert tally["counts"] == [0, 1, 0], "votes survive the edit on the other worker"
        c = start_server(deck, "--redis", redis_server.url, "--no-watch", data=tmp_path / "c")
        late = await Peer.open(c.ws, "presenter", key=c.key)
        assert (await late.state())["total"] == 5, "a worker joining later replays the edit"
        deck.write_text(deck.read_text().replace("- [ ] Green\n", "- [ ] Red\n"))
        notice = await boss.of_type("notice", timeout=10, level="error")
        assert any("duplicate option" in line for line in notice["details"]), "told on B too"
    finally:
        await Peer.close_all()
        for server in (a, b, c):
            if server is not None:
                server.stop()


def workers_of(server: ServerProcess) -> list[psutil.Process]:
    """The worker processes a `--workers` supervisor runs."""
    found = []
    for child in psutil.Process(server.process.pid).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "--worker-index" in child.cmdline():
                found.append(child)
        except psutil.Error:  # gone meanwhile (the one just killed)
            continue
    return found


async def test_workers_without_redis_start_a_private_one_and_share_the_session(
    tmp_path: Path,
) -> None:
    server = start_server(QUIZ, "--workers", "2", data=tmp_path / "data")
    try:
        assert "handsup: started a private redis-server for 2 workers" in server.banner
        started = {p.pid for p in workers_of(server)}
        assert len(started) == 2
        boss = await open_poll(server)
        phones = [Voter() for _ in range(16)]
        for n, phone in enumerate(phones):
            await phone.connect(server)
            assert phone.peer is not None
            await phone.peer.vote("colour", n % 3)
            await phone.peer.of_type("vote_ack")
        tally = await boss.until(lambda m: m["type"] == "tally" and m["counts"] == [6, 5, 5])
        assert tally["voters"] == 16
        await boss.until(lambda m: m["type"] == "presence" and m["audience"] == 16, timeout=10)
        assert (tmp_path / "data" / "redis" / "appendonlydir").is_dir(), "its data is kept"

        # One worker killed mid-vote: its phones redial the same port, the other worker (or
        # its replacement) takes them, and no acknowledged vote is lost or counted twice.
        stop = asyncio.Event()
        rng = random.Random(3)
        voting = [asyncio.create_task(p.vote_until(stop, rng)) for p in phones]
        async with asyncio.timeout(20):
            while sum(p.acks >= 2 for p in phones) < len(phones):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert {p.pid for p in workers_of(server)} == started, "no worker died on its own"
        victim = workers_of(server)[1]
        victim.kill()
        stop.set()
        await asyncio.gather(*voting)
        await Peer.close_all()
        final = await settle(phones, server)
        boss = await Peer.open(server.ws, "presenter", key=server.key)
        tally = await boss.until(lambda m: m["type"] == "tally" and m["counts"] == counts(final))
        assert tally["voters"] == len(phones)
        async with asyncio.timeout(20):  # the supervisor starts a new one
            while len([p for p in workers_of(server) if p.pid != victim.pid]) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await Peer.close_all()
        server.stop()
    assert not (tmp_path / "data" / "redis" / "redis.sock").exists(), "redis-server stopped"


async def test_workers_and_their_redis_end_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    # A supervisor killed with SIGKILL cannot stop its children: orphaned workers would keep
    # taking phones on the port (each listens on it) with nobody to restart them, and the
    # private redis-server would hold the data folder. Linux tells them (PR_SET_PDEATHSIG).
    server = start_server(QUIZ, "--workers", "2", data=tmp_path / "data")
    workers: list[psutil.Process] = []
    keeper: list[psutil.Process] = []
    try:
        children = [p for p in psutil.Process(server.process.pid).children() if p.is_running()]
        workers = [p for p in children if "--worker-index" in p.cmdline()]
        keeper = [p for p in children if p.name().startswith("redis-server")]
        assert len(workers) == 2 and len(keeper) == 1
        phone = Voter()
        await phone.connect(server)  # a worker with a phone on it ends all the same
        server.process.kill()
        server.process.wait()
        _, alive = psutil.wait_procs([*workers, *keeper], timeout=30)
        assert alive == [], f"still running after their supervisor died: {alive}"
        with pytest.raises(OSError):  # nobody takes connections on the port any more
            await asyncio.open_connection("127.0.0.1", server.port)
    finally:
        await Peer.close_all()
        server.stop()
        for orphan in [*workers, *keeper]:  # when the test failed: leave nothing running
            with contextlib.suppress(psutil.Error):
                orphan.kill()


async def test_workers_each_listen_on_the_port_and_the_kernel_spreads_the_phones(
    tmp_path: Path,
) -> None:
    # Each worker has a listening socket of its own on the one port (SO_REUSEPORT): the
    # kernel spreads connections by a hash of the phone's address and port, so a worker that
    # is full (refusing, and so idle) does not take every redial, as it did when the workers
    # shared one socket (whichever was idle first accepted). The supervisor only holds the port.
    server = start_server(QUIZ, "--workers", "2", data=tmp_path / "data")
    try:
        workers = workers_of(server)
        assert len(workers) == 2

        def listening(process: psutil.Process) -> bool:
            return any(
                c.status == psutil.CONN_LISTEN and c.laddr.port == server.port
                for c in process.net_connections("tcp")
            )

        assert all(listening(w) for w in workers)
        assert not listening(psutil.Process(server.process.pid))
        phones = []
        for n in range(100):
            peer = await connect(server, "audience", local_host=f"127.0.0.{2 + n % 4}")
            await peer.send({"type": "hello", "room": server.room})
            await peer.of_type("welcome")
            phones.append(peer)

        def held(process: psutil.Process) -> int:
            return sum(
                1
                for c in process.net_connections("tcp")
                if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == server.port
            )

        # Binomial(100, 1/2): below 25 on one worker once in ten million runs.
        assert all(held(w) >= 25 for w in workers), [held(w) for w in workers]
    finally:
        await Peer.close_all()
        server.stop()


async def test_a_full_worker_tells_phones_so_and_their_redials_fill_the_other(
    tmp_path: Path,
) -> None:
    # Each worker holds what its open-file limit allows (here 40 sockets), the room more
    # (--max-connections 1000). 80 phones fill both: one that lands on a full worker is told
    # so (server_full, or a 503 past its headroom), never left hanging, and lands on the
    # other when it redials, as the page does. The 81st is told the server is full.
    server = start_server(
        QUIZ, "--workers", "2", "--max-connections", "1000", data=tmp_path / "data", open_files=120
    )
    refusals = 0

    async def join(n: int) -> tuple[Peer | None, str]:
        """One attempt: the peer welcomed, or None and what the server said."""
        try:
            peer = await connect(server, "audience", local_host=f"127.0.0.{2 + n % 8}")
        except InvalidStatus as refused:
            return None, f"HTTP {refused.response.status_code}"
        with contextlib.suppress(ConnectionClosed):  # told and closed at its 101 already
            await peer.send({"type": "hello", "room": server.room})
        first = await peer.next()
        if first["type"] == "welcome":
            return peer, ""
        assert first["code"] == "server_full", first
        return None, "server_full"

    try:
        assert "40 connections" in server.limits, server.limits
        for n in range(80):
            while True:
                peer, said = await join(n)
                if peer is not None:
                    break
                assert said in ("server_full", "HTTP 503"), said
                refusals += 1

        def held() -> list[int]:
            return sorted(
                sum(
                    1
                    for c in w.net_connections("tcp")
                    if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == server.port
                )
                for w in workers_of(server)
            )

        # A refused socket is told and closed, but its close may still be under way.
        async with asyncio.timeout(10):
            while held() != [40, 40]:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        for n in range(4):  # whichever worker it reaches: told, not left hanging
            peer, said = await join(80 + n)
            assert peer is None and said in ("server_full", "HTTP 503"), said
        print(f"\n80 phones into 2 x 40: {refusals} refusals on the way")
    finally:
        await Peer.close_all()
        server.stop()


def test_one_process_needs_no_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As if the redis package were not installed: importing it would fail.
    monkeypatch.setitem(sys.modules, "redis", None)
    app = create_app(Settings(deck=QUIZ, data_dir=tmp_path / "data", watch=False))
    talk = app.state.talk
    assert talk.shared is None and isinstance(app.state.room.log, LocalLog)
    talk.store.close_reader()


async def test_an_append_sent_again_after_a_lost_reply_is_applied_once(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    a = worker(redis_server, tmp_path / "a")
    client = redis.Redis(port=redis_server.port, decode_responses=True)
    try:
        boss = await Peer.open(a.ws, "presenter", key=a.key)
        await boss.state()
        sent = [
            GoTo(1), OpenPoll("colour", 1.0), Join("ann"), Vote("ann", "colour", 0, "v1", 2.0),
            ResetPoll("colour"), OpenPoll("colour", 3.0), Vote("ann", "colour", 1, "v2", 4.0),
        ]  # fmt: skip
        entries = [(n, *encode(command)) for n, command in enumerate(sent, start=1)]
        entries.append(entries[4])  # the reset again, as a worker retrying a batch sends it
        entries.append((8, *encode(SetBlackout(True))))  # then something to wait for
        for seq, kind, data in entries:
            client.xadd("handsup:log", {"k": kind, "d": data, "w": "another", "s": str(seq)})
        state = await boss.state(blackout=True)
        assert state["poll"]["status"] == "open", "one reset, not two (a second: idle)"
        tally = await boss.until(lambda m: m["type"] == "tally" and m["poll"] == "colour")
        assert (tally["counts"], tally["voters"]) == ([0, 1, 0], 1)
    finally:
        client.close()
        await Peer.close_all()
        a.stop()


async def test_what_a_phone_deletes_is_gone_from_every_workers_copy(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    deck = tmp_path / "talk.md"
    deck.write_text(PRIVACY_DECK)
    a = start_server(deck, "--redis", redis_server.url, data=tmp_path / "a")
    b = start_server(deck, "--redis", redis_server.url, "--no-watch", data=tmp_path / "b")
    try:
        boss = await Peer.open(a.ws, "presenter", key=a.key)
        await boss.send({"type": "goto", "index": 1})
        await boss.send({"type": "open"})
        ann = await Peer.open(b.ws, "audience", room=b.room)
        # The poll open on the phone's own worker: the presenter's "open" goes through the
        # log from the other worker, and may land after the slide change.
        await ann.until(
            lambda m: m["type"] == "state" and (m["state"]["poll"] or {}).get("status") == "open"
        )
        answer = {"type": "answer", "poll": "wall", "answer": "My secret idea", "vote_id": "v1"}
        await ann.send(answer)
        await ann.of_type("vote_ack")
        await ann.send({"type": "ask", "text": "My secret question", "ask_id": "k1"})
        await ann.of_type("ask_ack")
        await ann.send({"type": "forget_me"})
        await ann.of_type("forgotten")
        for data in (tmp_path / "a", tmp_path / "b"):
            await until_forgotten(data / "handsup.db", "secret")
    finally:
        await Peer.close_all()
        a.stop()
        b.stop()


async def until_forgotten(db: Path, text: str) -> None:
    """Wait until no command in the SQLite copy holds `text` (overwritten once the Forget
    is in the copy too)."""
    async with asyncio.timeout(10):
        while True:
            reader = SQLiteStore(db)
            try:
                logged = repr(reader.commands(reader.sessions()[0].id))
            finally:
                reader.close_reader()
            # The copy is written just after the entries are applied: wait for the Forget
            # (after the answer and the question, so those are in the copy too).
            if text not in logged and "Forget" in logged:
                return
            await asyncio.sleep(0.05)


async def test_redis_emptied_while_running_is_reported(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    a = worker(redis_server, tmp_path / "a")
    client = redis.Redis(port=redis_server.port)
    try:
        boss = await open_poll(a)
        client.flushall()  # no restart, no dropped connection: the epoch is what tells
        notice = await boss.of_type("notice", level="error", timeout=10)
        assert any("no longer has the session" in line for line in notice["details"])
    finally:
        client.close()
        await Peer.close_all()
        a.stop()


async def test_redis_restarted_from_an_older_file_is_reported_though_others_appended_since(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    a = worker(redis_server, tmp_path / "a")
    try:
        boss = await open_poll(a)
        phone = Phone()
        await phone.connect(a)
        assert phone.peer is not None
        await phone.peer.vote("colour", 0)
        await phone.peer.of_type("vote_ack")
        redis_server.stop()  # a clean stop: its append-only file as a backup would have it
        older = tmp_path / "older"
        shutil.copytree(redis_server.folder, older)
        redis_server.start()
        await boss.of_type("notice", level="info", timeout=15)  # back: carries on
        vote_id = await phone.peer.vote("colour", 1)
        await phone.peer.of_type("vote_ack", vote_id=vote_id)  # acknowledged, then lost:
        redis_server.stop(signal.SIGKILL)
        shutil.rmtree(redis_server.folder)
        shutil.copytree(older, redis_server.folder)
        # Before this worker is back, another appends to the older log (on a port only it
        # knows, so the order is certain): the stream's newest id is then later than any
        # this worker has seen, as it would be after a busy second elsewhere.
        other = RedisProcess(redis_server.folder).start()
        client = redis.Redis(port=other.port, decode_responses=True)
        try:
            kind, data = encode(SetBlackout(True))
            client.xadd("handsup:log", {"k": kind, "d": data, "w": "another", "s": "1"})
        finally:
            client.close()
            other.stop()
        redis_server.start()

        notice = await boss.of_type("notice", level="error", timeout=15)
        assert notice["message"] == "the shared session log was lost"
        assert any("without the newest entries" in line for line in notice["details"])
        vote_id = await phone.peer.vote("colour", 2)
        refused = await phone.peer.of_type("error", ref=vote_id)
        assert refused["code"] == "log_lost", "nothing new is acknowledged on a log that lost some"
    finally:
        await Peer.close_all()
        a.stop()


async def live_sessions(server: ServerProcess) -> list[bool]:
    """For each session in the worker's data folder, newest first: is it still live?"""
    async with httpx.AsyncClient(base_url=server.base) as http:
        got = await http.get("/api/sessions", headers={"X-Handsup-Key": server.key})
    return [s["ended_at"] is None for s in got.json()]


async def test_a_workers_copy_of_the_session_ends_when_the_worker_stops(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    key = ("--presenter-key", "shared-key")
    a = worker(redis_server, tmp_path / "a", *key)
    try:
        await open_poll(a)
        phone = Phone()
        await phone.connect(a)
        assert phone.peer is not None
        await phone.peer.vote("colour", 2)
        await phone.peer.of_type("vote_ack")
        async with httpx.AsyncClient(base_url=a.base) as http:
            await until_results(http, [0, 0, 1])
        assert await live_sessions(a) == [True]
        await Peer.close_all()
        a.stop()  # Ctrl-C
        stopped = export(tmp_path / "a")
        assert stopped["session"]["ended_at"] is not None, "export no longer calls it live"
        colour = next(p for p in stopped["polls"] if p["id"] == "colour")
        assert [o["votes"] for o in colour["options"]] == [0, 0, 1]

        # Started again on the same Redis session: the same copy, live again.
        a = worker(redis_server, tmp_path / "a", *key)
        assert await live_sessions(a) == [True], "one session, reopened"
        a.stop(signal.SIGKILL)  # killed: no chance to mark it ended...
        assert export(tmp_path / "a")["session"]["ended_at"] is None

        # ...until this folder's worker joins a new Redis session: the old copy ends then.
        a = worker(redis_server, tmp_path / "a", *key, "--new-session")
        assert await live_sessions(a) == [True, False]
    finally:
        await Peer.close_all()
        a.stop()


async def stalls_of(server: ServerProcess, http: httpx.AsyncClient) -> dict[str, Any]:
    """`POST /api/stalls` on this worker, as `handsup bench` reads it."""
    reply = await http.post(f"{server.base}/api/stalls", headers={"X-Handsup-Key": server.key})
    reply.raise_for_status()
    figures: dict[str, Any] = reply.json()
    return figures


async def test_any_worker_reports_every_workers_loop_stalls(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    # The kernel gives the bench's read to whichever worker accepts it; the answer is every
    # worker's figures (the worst of them on top), not that worker's alone.
    a = worker(redis_server, tmp_path / "a")
    b = worker(redis_server, tmp_path / "b")
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            both = await stalls_of(a, http)
            assert (both["workers"], both["asked"]) == (2, 2)
            pids = sorted(w["pid"] for w in both["per_worker"])
            assert pids == sorted([a.process.pid, b.process.pid])
            assert both["longest_stall_ms"] == max(
                w["longest_stall_ms"] for w in both["per_worker"]
            )
            # A worker that cannot answer (its loop held, here stopped outright) is left out
            # after a bounded wait, and the answer says how many were asked.
            os.kill(b.process.pid, signal.SIGSTOP)
            try:
                alone = await stalls_of(a, http)
            finally:
                os.kill(b.process.pid, signal.SIGCONT)
            assert (alone["workers"], alone["asked"]) == (1, 2)
            assert [w["pid"] for w in alone["per_worker"]] == [a.process.pid]
            again = await stalls_of(b, http)  # and asked from the other side, both again
            assert (again["workers"], again["asked"]) == (2, 2)
    finally:
        a.stop()
        b.stop()


async def test_one_process_reports_its_own_loop_stalls(tmp_path: Path) -> None:
    server = start_server(QUIZ, data=tmp_path / "data")
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            figures = await stalls_of(server, http)
        assert figures["workers"] == 1 and "per_worker" not in figures
        assert figures["longest_stall_ms"] >= figures["longest_held_ms"] > 0
    finally:
        server.stop()
