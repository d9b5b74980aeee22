"""Hostile rooms, limits: oversized, binary and flooding frames, connection caps, stuck phones.

Every test runs a real `handsup serve` and talks to it over real websockets, and checks what a
person would notice: the error a client is sent, the close code, whether honest phones carry on,
and what the server process still holds (sockets, memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import psutil
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from server.settings import Settings
from tests.serverproc import ROOT, ServerProcess, start_server
from tests.test_ws_live import display, open_colour_poll
from tests.wsclient import Message, Peer

QUIZ = Path(__file__).parent / "decks" / "quiz.md"
# Paragraphs long enough that every slide's state is a 14 kB frame: buffers fill fast.
_PARAGRAPH = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20


# Helpers, shared with the other security test modules.


def address(server: ServerProcess) -> tuple[str, int]:
    host, _, port = server.base.removeprefix("http://").rpartition(":")
    return host, int(port)


async def connect(
    server: ServerProcess,
    role: str,
    *,
    local_host: str | None = None,
    rcvbuf: int | None = None,
    keepalive: bool = True,
    **options: Any,
) -> Peer:
    """A websocket to `/ws/{role}` that has said nothing yet, closed at teardown.

    `local_host` binds the client end to another loopback address (another "device");
    `rcvbuf` shrinks its receive buffer, so that a client that stops reading is felt at once.
    """
    sock = None
    if local_host is not None or rcvbuf is not None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.bind((local_host or "127.0.0.1", 0))
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, address(server))
        except OSError:
            sock.close()
            raise
        options["sock"] = sock
    connection = await websockets.connect(
        f"{server.ws}/{role}",
        max_size=2**22,
        ping_interval=20 if keepalive else None,
        **options,
    )
    peer = Peer(connection)
    Peer.opened.append(peer)
    return peer


async def presenter(server: ServerProcess) -> Peer:
    peer = await Peer.open(server.ws, "presenter", key=server.key)
    await peer.of_type("welcome", role="presenter")
    return peer


async def phone(server: ServerProcess, **options: Any) -> tuple[Peer, str]:
    """A phone that has joined: the peer and its participant token."""
    hello: dict[str, Any] = {"type": "hello", "room": server.room}
    if "participant" in options:
        hello["participant"] = options.pop("participant")
    peer = await connect(server, "audience", **options)
    await peer.send(hello)
    welcome = await peer.of_type("welcome", role="audience")
    return peer, welcome["participant"]


async def closed_with(peer: Peer, timeout: float = 5.0) -> int | None:
    """Read until the server closes the socket; the close code it sent."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await peer.next(timeout)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def eventually(check: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Wait until `check()` holds (for peers being read in the background)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.02)


async def _drain(peer: Peer) -> None:
    with contextlib.suppress(ConnectionClosed):
        while True:
            await peer.next(3600)


@contextlib.asynccontextmanager
async def reading(*peers: Peer) -> AsyncIterator[None]:
    """Keep reading these peers in the background, as a healthy phone does; see `peer.seen`."""
    tasks = [asyncio.create_task(_drain(peer)) for peer in peers]
    try:
        yield
    finally:
        # Cancel until each has stopped: on Python 3.11, asyncio.wait_for can swallow a
        # cancellation that lands as a frame arrives, and the reader would then wait an hour
        # for the next frame (seen as a hung test on a loaded machine). Bounded: 5 s.
        for _ in range(50):
            running = [task for task in tasks if not task.done()]
            if not running:
                break
            for task in running:
                task.cancel()
            await asyncio.wait(running, timeout=0.1)
        assert all(task.done() for task in tasks), "a background reader would not stop"
        await asyncio.gather(*tasks, return_exceptions=True)


def latest(peer: Peer, kind: str) -> Message | None:
    return next((m for m in reversed(peer.seen) if m["type"] == kind), None)


def position(peer: Peer) -> int | None:
    state = latest(peer, "state")
    return state["state"]["position"] if state else None


def server_holds(server: ServerProcess, client_port: int) -> bool:
    """Whether the server process still has a TCP socket open to this client port."""
    return any(
        c.raddr and c.raddr.port == client_port
        for c in psutil.Process(server.process.pid).net_connections("tcp")
    )


def stop_reading(peer: Peer) -> int:
    """Make a phone stop reading (as a frozen or malicious one does); its local port."""
    peer.connection.transport.pause_reading()
    port: int = peer.connection.transport.get_extra_info("sockname")[1]
    return port


def big_deck(folder: Path, paragraphs: int = 12) -> Path:
    """Four slides of `paragraphs` paragraphs each: 12 make a 14 kB state frame."""
    deck = folder / "big.md"
    body = (_PARAGRAPH + "\n\n") * paragraphs
    deck.write_text("\n---\n\n".join(f"# Slide {i}\n\n{body}" for i in range(4)))
    return deck


@contextlib.contextmanager
def serving(deck: Path, *extra: str) -> Iterator[ServerProcess]:
    proc = start_server(deck, *extra)
    try:
        yield proc
    finally:
        proc.stop()


def start_logged(
    deck: Path, *extra: str, stderr: int | IO[str] = subprocess.STDOUT
) -> tuple[ServerProcess, list[str]]:
    """`handsup serve` as `start_server` runs it, but with its log output kept: merged into
    stdout (read it after `stop`) or written to a file. Also: the lines printed at start."""
    data = Path(tempfile.mkdtemp(prefix="handsup-test-"))
    command = [
        sys.executable, "-m", "server.cli", "serve", str(deck), "--data", str(data),
        "--host", "127.0.0.1", "--port", "0", *extra,
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    banner: list[str] = []
    urls: dict[str, str] = {}
    while "data" not in urls:
        line = process.stdout.readline()
        if not line:
            process.wait()
            process.stdout.close()
            raise RuntimeError(f"server exited before printing its URLs: {banner}")
        banner.append(line)
        name, _, url = line.strip().partition(": ")
        urls[name] = url.strip()
    server = ServerProcess(
        process=process,
        audience=urls["audience"],
        display=urls["display"],
        presenter=urls["presenter"],
        key=urls["presenter"].partition("key=")[2],
        room=urls["audience"].partition("room=")[2],
        data=data,
        temporary=True,
        port=int(
            urls.get("listening", urls["display"].partition("/display")[0]).rpartition(":")[2]
        ),
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(server.base + "/healthz", timeout=1).raise_for_status()
            return server, banner
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                server.stop()
                raise
            time.sleep(0.05)


@pytest.fixture
def quiz() -> Iterator[ServerProcess]:
    with serving(QUIZ) as proc:
        yield proc


# Frames.


async def test_frame_over_the_limit_gets_too_large_and_the_socket_stays(
    quiz: ServerProcess,
) -> None:
    boss = await presenter(quiz)
    await open_colour_poll(boss)
    ann, _ = await phone(quiz)
    await ann.send("x" * 4097)
    error = await ann.of_type("error")
    assert error["code"] == "too_large" and "4096" in error["message"]
    await ann.send("x" * 4096)
    assert (await ann.of_type("error"))["code"] == "bad_message", "at the limit: parsed"
    vote_id = await ann.vote("colour", 2)
    assert (await ann.of_type("vote_ack"))["vote_id"] == vote_id


async def test_max_frame_flag_sets_the_audience_limit() -> None:
    with serving(QUIZ, "--max-frame", "300") as server:
        ann, _ = await phone(server)
        padding = "p" * 300
        await ann.send(json.dumps({"type": "hello", "room": server.room, "x": padding}))
        error = await ann.of_type("error")
        assert error["code"] == "too_large" and "300" in error["message"]
        await ann.send({"type": "ping"})
        await ann.of_type("pong")
        # The presenter's own limit is not the phones'.
        boss = await presenter(server)
        await boss.send(json.dumps({"type": "ping", "x": padding}))
        assert (await boss.of_type("error"))["code"] == "bad_message"


async def test_frame_limit_counts_bytes_not_characters(quiz: ServerProcess) -> None:
    ann, _ = await phone(quiz)
    await ann.send("é" * 3000)  # 3000 characters, 6000 bytes
    assert (await ann.of_type("error"))["code"] == "too_large"


async def test_frame_over_the_hard_limit_closes_with_1009(quiz: ServerProcess) -> None:
    ann, _ = await phone(quiz)
    await ann.send("x" * 70_000)
    assert await closed_with(ann) == 1009
    again, _ = await phone(quiz)
    await again.send({"type": "ping"})
    await again.of_type("pong")


async def test_binary_frames_get_an_error_and_the_socket_stays(quiz: ServerProcess) -> None:
    ann, _ = await phone(quiz)
    for payload in (b"\x00\x01\x02", json.dumps({"type": "ping"}).encode(), b"\xff" * 4000):
        await ann.connection.send(payload)
        assert (await ann.of_type("error"))["code"] == "binary"
    await ann.send({"type": "ping"})
    await ann.of_type("pong")


async def test_text_that_is_not_utf8_closes_with_1007(quiz: ServerProcess) -> None:
    ann, _ = await phone(quiz)
    # websockets will not send broken text itself: write the frame under it.
    payload = b'{"type":"ping","x":"\xff\xfe"}'
    mask = b"\0\0\0\0"
    ann.connection.transport.write(bytes([0x81, 0x80 | len(payload)]) + mask + payload)
    assert await closed_with(ann) == 1007
    again, _ = await phone(quiz)  # nothing else is affected
    await again.send({"type": "ping"})
    await again.of_type("pong")


# Floods.


async def test_flood_gets_one_slow_down_then_1008_while_an_honest_phone_votes(
    quiz: ServerProcess,
) -> None:
    boss = await presenter(quiz)
    await open_colour_poll(boss)
    honest, _ = await phone(quiz)
    flooder, _ = await phone(quiz)

    async def flood() -> None:
        with contextlib.suppress(ConnectionClosed):
            for _ in range(500):
                await flooder.send({"type": "ping"})

    async def vote() -> list[Message]:
        acks = []
        for option in (0, 2, 1, 2, 1):
            vote_id = await honest.vote("colour", option)
            acks.append(await honest.of_type("vote_ack", timeout=2, vote_id=vote_id))
            await asyncio.sleep(0.12)
        return acks

    _, acks = await asyncio.gather(flood(), vote())
    assert [ack["option"] for ack in acks] == [0, 2, 1, 2, 1]
    assert await closed_with(flooder) == 1008
    errors = [m for m in flooder.seen if m["type"] == "error"]
    assert [e["code"] for e in errors] == ["slow_down"], "one warning, not one per message"
    pongs = sum(1 for m in flooder.seen if m["type"] == "pong")
    assert 25 <= pongs <= 40, "the burst allowance (30, hello included) is served, no more"
    tally = await boss.until(lambda m: m["type"] == "tally" and m["counts"] == [0, 1, 0])
    assert tally["voters"] == 1
    # The honest phone carries on after the flooder is gone.
    vote_id = await honest.vote("colour", 0)
    assert (await honest.of_type("vote_ack", vote_id=vote_id))["option"] == 0


# Connection caps.


async def _refused_as_full(server: ServerProcess, **options: Any) -> str:
    peer = await connect(server, "audience", **options)
    error = await peer.next()
    assert error["type"] == "error" and error["code"] == "server_full", error
    assert await closed_with(peer) == 1013
    message: str = error["message"]
    return message


async def _joins_soon(server: ServerProcess, **options: Any) -> Peer:
    """A phone that gets in, retrying while a closed socket's slot is being released."""
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        peer = await connect(server, "audience", **options)
        await peer.send({"type": "hello", "room": server.room})
        first = await peer.next()
        if first["type"] == "welcome":
            return peer
        assert first["code"] == "server_full", first
        with contextlib.suppress(ConnectionClosed):
            await peer.next()
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the slot of a closed connection was never released")
        await asyncio.sleep(0.1)


async def test_connections_per_address_are_capped_other_addresses_still_join() -> None:
    with serving(QUIZ, "--max-per-address", "5") as server:
        phones = [(await phone(server))[0] for _ in range(5)]
        message = await _refused_as_full(server)
        assert "one address" in message and "5" in message
        other, _ = await phone(server, local_host="127.0.0.2")
        await other.send({"type": "ping"})
        await other.of_type("pong")
        for peer in phones:  # the five are untouched
            await peer.send({"type": "ping"})
            await peer.of_type("pong")
        await phones[0].close()
        await _joins_soon(server)


async def test_behind_a_local_proxy_each_forwarded_address_is_capped_on_its_own() -> None:
    # A reverse proxy on this machine connects from 127.0.0.1 for everyone; the client it
    # names in X-Forwarded-For is who the per-address cap counts. Anyone else naming one
    # is not believed.
    with serving(QUIZ, "--max-per-address", "2") as server:

        def via_proxy(client: str) -> dict[str, Any]:
            return {"additional_headers": {"X-Forwarded-For": f"{client}, 127.0.0.1"}}

        for _ in range(2):
            await phone(server, **via_proxy("203.0.113.7"))
        await _refused_as_full(server, **via_proxy("203.0.113.7"))
        await phone(server, **via_proxy("198.51.100.9"))  # another person behind the proxy
        # Two proxies, each adding its own header line: still that one person.
        two_lines = [("X-Forwarded-For", "198.51.100.9"), ("X-Forwarded-For", "127.0.0.1")]
        await phone(server, additional_headers=two_lines)
        await _refused_as_full(server, **via_proxy("198.51.100.9"))
        # Not a trusted proxy: its own address counts, whatever it claims.
        for claimed in ("192.0.2.1", "192.0.2.2"):
            await phone(server, local_host="127.0.0.5", **via_proxy(claimed))
        await _refused_as_full(server, local_host="127.0.0.5", **via_proxy("192.0.2.3"))


async def test_connections_in_total_are_capped() -> None:
    with serving(QUIZ, "--max-connections", "4") as server:
        first = await display(server)
        for host in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
            await phone(server, local_host=host)
        message = await _refused_as_full(server, local_host="127.0.0.4")
        assert "server is full" in message and "4" in message
        await first.close()
        await _joins_soon(server, local_host="127.0.0.4")


async def test_at_the_cap_a_newcomer_is_told_full_not_a_phone_still_shaking_hands_dropped() -> None:
    # The last phones into a full hall: one has its socket (101) and is about to say hello
    # when another arrives. The newcomer must be told the server is full; the first must not
    # be dropped unexplained to make room (it would redial and drop another in turn: at
    # 19,000 phones `handsup bench` lost phones this way, told nothing).
    with serving(QUIZ, "--max-connections", "3") as server:
        await display(server)
        await phone(server, local_host="127.0.0.2")
        shaking = await connect(server, "audience", local_host="127.0.0.3")
        message = await _refused_as_full(server, local_host="127.0.0.4")
        assert "server is full" in message and "3" in message
        await shaking.send({"type": "hello", "room": server.room})
        await shaking.of_type("welcome", role="audience")


async def test_the_presenter_gets_in_when_the_hall_is_full() -> None:
    with serving(QUIZ, "--max-connections", "3") as server:
        for _ in range(3):
            await connect(server, "audience", local_host="127.0.0.2")
        boss = await Peer.open(server.ws, "presenter", key=server.key)
        assert (await boss.next())["type"] == "welcome"


def test_default_limits_admit_a_hall_behind_one_nat() -> None:
    defaults = Settings(deck=Path("deck.md"))
    assert defaults.max_per_address == 12_000, "a whole hall can share one venue NAT address"
    assert defaults.max_connections >= defaults.max_per_address
    assert (defaults.max_frame_audience, defaults.messages_per_second) == (4096, 10)
    assert (defaults.message_burst, defaults.stuck_after) == (30, 30)
    usage = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    for flag in ("--max-frame", "--rate", "--burst", "--max-connections", "--max-per-address",
                 "--stuck-after", "--max-displays", "--max-header", "--header-timeout",
                 "--connect-rate", "--connect-burst"):  # fmt: skip
        assert flag in usage, flag


# Stuck clients.


async def _burst(boss: Peer, changes: int, end: int) -> None:
    """The presenter flips between slides 1 and 2 `changes` times, then goes to `end`; returns
    once the server has handled all of it (a ping is answered after what came before it)."""
    for i in range(changes):
        await boss.send({"type": "goto", "index": 1 + i % 2})
    await boss.send({"type": "goto", "index": end})
    pongs = sum(1 for m in boss.seen if m["type"] == "pong")
    await boss.send({"type": "ping"})
    await eventually(
        lambda: sum(1 for m in boss.seen if m["type"] == "pong") > pongs, 30, "the burst"
    )


async def test_a_stuck_phone_is_dropped_and_healthy_phones_keep_up(tmp_path: Path) -> None:
    fast = ("--rate", "100000", "--burst", "100000")
    with serving(big_deck(tmp_path), "--stuck-after", "2", *fast) as server:
        boss = await presenter(server)
        phones = [(await phone(server))[0] for _ in range(3)]
        stuck, _ = await phone(server, rcvbuf=4096, keepalive=False)
        await stuck.state()
        port = stop_reading(stuck)
        try:
            async with reading(boss, *phones):
                await eventually(lambda: (latest(boss, "presence") or {}).get("audience") == 4)
                await _burst(boss, 1500, end=3)
                await eventually(
                    lambda: all(position(p) == 3 for p in phones), 2, "phones at the last slide"
                )
                await eventually(
                    lambda: (latest(boss, "presence") or {}).get("audience") == 3,
                    6,
                    "the stuck phone dropped from the count",
                )
                await eventually(lambda: not server_holds(server, port), 3, "its socket closed")
                for peer in phones:
                    await peer.send({"type": "ping"})
                await eventually(lambda: all(latest(p, "pong") for p in phones))
        finally:
            stuck.connection.transport.abort()


async def test_memory_stays_bounded_while_phones_do_not_read(tmp_path: Path) -> None:
    fast = ("--rate", "100000", "--burst", "100000")
    with serving(big_deck(tmp_path), "--stuck-after", "600", *fast) as server:
        boss = await presenter(server)
        healthy, _ = await phone(server)
        stuck = [(await phone(server, rcvbuf=4096, keepalive=False))[0] for _ in range(10)]
        for peer in stuck:
            await peer.state()
            stop_reading(peer)
        rss = psutil.Process(server.process.pid).memory_info
        try:
            async with reading(boss, healthy):
                await _burst(boss, 500, end=0)
                after_n = rss().rss
                await _burst(boss, 1500, end=3)
                after_4n = rss().rss
                await eventually(lambda: position(healthy) == 3, 2, "the healthy phone keeps up")
                presence = latest(boss, "presence")
                assert presence is not None and presence["audience"] == 11, "none was dropped"
        finally:
            for peer in stuck:
                peer.connection.transport.abort()
        growth = (after_4n - after_n) / 2**20
        assert growth < 20, f"RSS grew {growth:.1f} MB over 1500 more 14 kB slide changes"


@pytest.mark.parametrize(
    "limits",
    [
        pytest.param(("--rate", "1000000", "--burst", "1000000"), id="reply-queue-overflow"),
        pytest.param(("--rate", "100", "--burst", "100"), id="flood"),
    ],
)
async def test_a_phone_closed_for_not_reading_loses_its_socket(
    tmp_path: Path, limits: tuple[str, ...]
) -> None:
    with serving(big_deck(tmp_path, 90), "--stuck-after", "600", *limits) as server:
        boss = await presenter(server)
        rogue, _ = await phone(server, rcvbuf=4096, keepalive=False)
        await rogue.state()
        port = stop_reading(rogue)
        try:
            async with reading(boss):
                await _burst(boss, 60, end=3)  # 6 MB of slides: its buffers, kernel's too, fill
                await eventually(lambda: (latest(boss, "presence") or {}).get("audience") == 1)
                with contextlib.suppress(ConnectionClosed):
                    for _ in range(400):
                        await rogue.send({"type": "ping"})
                await eventually(
                    lambda: (latest(boss, "presence") or {}).get("audience") == 0,
                    10,
                    "the server let the rogue phone go",
                )
                await eventually(lambda: not server_holds(server, port), 7, "its socket closed")
        finally:
            rogue.connection.transport.abort()


# Phones that vanish.


async def test_a_phone_that_vanished_is_pinged_then_dropped_and_a_live_one_stays() -> None:
    # A phone switched off or out of Wi-Fi sends no close: the server pings sockets that
    # have gone quiet and drops those that answer nothing, so they do not count as present.
    with serving(QUIZ, "--keepalive", "0.5") as server:
        boss = await presenter(server)
        alive, _ = await phone(server)  # its websocket library answers pings by itself
        gone, _ = await phone(server, keepalive=False)
        port = stop_reading(gone)  # nor does it read, so it answers nothing
        async with reading(alive, boss):
            await eventually(lambda: not server_holds(server, port), 8, "silent phone dropped")
            await eventually(
                lambda: (latest(boss, "presence") or {}).get("audience") == 1,
                3,
                "the presenter sees one phone",
            )
            await alive.send({"type": "ping"})
            await eventually(lambda: latest(alive, "pong") is not None, 3, "live phone answers")
