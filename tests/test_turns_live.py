"""The per-turn input budget on a real `handsup serve`, squeezed to almost nothing.

`HANDSUP_TURN_BUDGET=0.001` (a microsecond): past the first input of each turn of the loop,
every socket with something to say waits for a later turn. Phones must notice nothing but
that: every answer, in order, nothing lost, the limits as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from server.protocol import SERVER_MESSAGE
from tests.serverproc import ServerProcess, start_server
from tests.test_security_limits import QUIZ, closed_with, connect, phone, presenter
from tests.test_ws_live import display, open_colour_poll
from tests.wsclient import Message, Peer

TINY = "0.001"  # milliseconds: one input a turn past the first


@contextlib.contextmanager
def squeezed(monkeypatch: pytest.MonkeyPatch, *extra: str) -> Iterator[ServerProcess]:
    """A server whose turns each handle about one input."""
    monkeypatch.setenv("HANDSUP_TURN_BUDGET", TINY)
    server = start_server(QUIZ, *extra)
    try:
        yield server
    finally:
        server.stop()


def waited(server: ServerProcess) -> int:
    """Socket inputs that waited for a later turn since the last call (`POST /api/stalls`)."""
    answer = httpx.post(f"{server.base}/api/stalls", params={"key": server.key}, timeout=10)
    answer.raise_for_status()
    count: int = answer.json()["deferred"]
    return count


class RawPhone:
    """A phone that writes several frames in one TCP write (as a phone back from a tunnel
    does), on websockets' sans-I/O client; every frame it reads is checked as wsclient's."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.protocol: ClientProtocol | None = None
        self.received: list[Message] = []

    @classmethod
    async def open(cls, server: ServerProcess, role: str = "audience") -> RawPhone:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        raw = cls(reader, writer)
        protocol = raw.protocol = ClientProtocol(parse_uri(f"{server.ws}/{role}"))
        protocol.send_request(protocol.connect())
        raw._flush()
        while not any(isinstance(e, Response) for e in await raw._events()):
            pass
        return raw

    def send_together(self, *messages: Message) -> None:
        """Every message in one write."""
        assert self.protocol is not None
        for message in messages:
            self.protocol.send_text(json.dumps(message).encode())
        self._flush()

    async def next_of(self, *kinds: str) -> Message:
        """The next message of one of these types (others, such as presence, are noted)."""
        while True:
            while self.received:
                message = self.received.pop(0)
                if message["type"] in kinds:
                    return message
            for event in await self._events():
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    message = json.loads(bytes(event.data))
                    SERVER_MESSAGE.validate_python(message)
                    self.received.append(message)

    def abort(self) -> None:
        """Vanish at once: a reset, not a close."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    def _flush(self) -> None:
        assert self.protocol is not None
        self.writer.write(b"".join(self.protocol.data_to_send()))

    async def _events(self) -> list[Any]:
        assert self.protocol is not None
        data = await asyncio.wait_for(self.reader.read(65536), 10)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.protocol.receive_data(data)
        return list(self.protocol.events_received())


async def test_many_phones_at_once_each_get_every_answer_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with squeezed(monkeypatch) as server:
        boss = await presenter(server)
        screen = await display(server)
        await open_colour_poll(boss)
        waited(server)
        # Forty upgrades at once (each handshake waits its turn), then each phone's hello,
        # a ping and two votes (the second changes the first) in one write, all at once.
        phones = await asyncio.gather(*(RawPhone.open(server) for _ in range(40)))

        def vote(option: int, vote_id: str) -> Message:
            return {"type": "vote", "poll": "colour", "option": option, "vote_id": vote_id}

        for number, raw in enumerate(phones):
            raw.send_together(
                {"type": "hello", "room": server.room},
                {"type": "ping"},
                vote(number % 3, f"a{number}"),
                vote((number + 1) % 3, f"b{number}"),
            )

        async def answers(raw: RawPhone) -> list[tuple[str, str | None, int | None]]:
            kinds = ("welcome", "pong", "vote_ack", "error")
            got = [await raw.next_of(*kinds) for _ in range(4)]
            return [(m["type"], m.get("vote_id"), m.get("option")) for m in got]

        for number, got in enumerate(await asyncio.gather(*(answers(raw) for raw in phones))):
            assert got == [
                ("welcome", None, None),
                ("pong", None, None),
                ("vote_ack", f"a{number}", number % 3),
                ("vote_ack", f"b{number}", (number + 1) % 3),
            ]
        # The screen counts each phone once, for its second choice: the bytes kept their order.
        expected = [sum(1 for n in range(40) if (n + 1) % 3 == option) for option in range(3)]
        tally = await screen.until(
            lambda m: m["type"] == "tally" and m["counts"] == expected, timeout=10
        )
        assert tally["voters"] == 40
        assert waited(server) > 0  # and the budget did make some wait
        for raw in phones:
            raw.writer.close()


async def test_phones_that_vanish_while_waiting_are_forgotten_and_free_their_places(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with squeezed(monkeypatch, "--max-connections", "32") as server:
        boss = await presenter(server)
        await open_colour_poll(boss)
        waited(server)
        # Thirty phones say everything at once and vanish before they are answered: some are
        # still waiting for a turn when their connection is lost.
        gone = await asyncio.gather(*(RawPhone.open(server) for _ in range(30)))
        for raw in gone:
            raw.send_together({"type": "hello", "room": server.room}, {"type": "ping"})
        for raw in gone:
            raw.abort()
        # Their places come back: thirty new phones get in under a cap of 32, and answer.
        deadline = asyncio.get_running_loop().time() + 10
        joined: list[Peer] = []
        while len(joined) < 30:
            peer = await connect(server, "audience")
            await peer.send({"type": "hello", "room": server.room})
            first = await peer.next()
            if first["type"] == "welcome":
                joined.append(peer)
                continue
            assert first["code"] == "server_full", first
            await peer.close()
            assert asyncio.get_running_loop().time() < deadline, "places were not given back"
            await asyncio.sleep(0.1)  # a retry's pause, as the page's backoff
        for peer in joined:
            await peer.send({"type": "ping"})
        for peer in joined:
            await peer.of_type("pong")
        assert waited(server) > 0


async def test_the_gate_still_refuses_what_its_limits_refuse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with squeezed(
        monkeypatch, "--max-per-address", "3", "--header-timeout", "1", "--max-header", "2048"
    ) as server:
        for _ in range(3):
            await phone(server)
        extra = await connect(server, "audience")
        error = await extra.next()
        assert error["type"] == "error" and error["code"] == "server_full", error
        assert await closed_with(extra) == 1013
        another, _ = await phone(server, local_host="127.0.0.2")  # another address gets in
        await another.send({"type": "ping"})
        await another.of_type("pong")

        async def answer_to(head: bytes, host: str) -> bytes:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(head)
            answer = await asyncio.wait_for(reader.read(4096), 10)
            writer.close()
            return answer.partition(b"\r\n")[0]

        # Headers that never end are cut at the deadline; headers too long get 431.
        slow, big = await asyncio.gather(
            answer_to(b"GET /healthz HTTP/1.1\r\nHost: x\r\n", "127.0.0.3"),
            answer_to(b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 4096 + b"\r\n", "127.0.0.4"),
        )
        assert slow.startswith(b"HTTP/1.1 408"), slow
        assert big.startswith(b"HTTP/1.1 431"), big
