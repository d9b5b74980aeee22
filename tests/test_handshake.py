"""The opening handshake answered from uvicorn's parse (`server.handshake`): a plain upgrade is
accepted with the right `Sec-WebSocket-Accept`, and every request it does not take, or that
the room refuses, gets the answer it got when websockets parsed every request."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.streams import StreamReader
from websockets.uri import parse_uri

from server import handshake, turns
from server.connection import Connection
from server.limits import ConnectionLimiter
from server.sockets import Endpoint
from tests.serverproc import ServerProcess
from tests.test_security_limits import QUIZ, address, phone, presenter, serving
from tests.test_ws_live import open_colour_poll

# RFC 6455 §1.3's example: this key must be answered with this accept value.
RFC_KEY, RFC_ACCEPT = "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
# What Chromium sends for `new WebSocket(...)` (its own key; cookies and such left out).
CHROMIUM = [
    (b"host", b"127.0.0.1:8000"),
    (b"connection", b"Upgrade"),
    (b"pragma", b"no-cache"),
    (b"cache-control", b"no-cache"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36"),
    (b"upgrade", b"websocket"),
    (b"origin", b"http://127.0.0.1:8000"),
    (b"sec-websocket-version", b"13"),
    (b"accept-encoding", b"gzip, deflate, br"),
    (b"accept-language", b"en-GB,en;q=0.9"),
    (b"sec-websocket-key", RFC_KEY.encode()),
    (b"sec-websocket-extensions", b"permessage-deflate; client_max_window_bits"),
]


def test_a_browsers_upgrade_is_read_from_the_parse() -> None:
    upgrade = handshake.read("GET", b"/ws/audience?x=1", CHROMIUM)
    assert upgrade is not None
    assert upgrade.path == "/ws/audience?x=1"
    assert upgrade.origins == ["http://127.0.0.1:8000"]
    assert upgrade.hosts == ["127.0.0.1:8000"]
    assert upgrade.accept == RFC_ACCEPT.encode()
    # Firefox's Connection value is read too.
    firefox = [(n, b"keep-alive, Upgrade" if n == b"connection" else v) for n, v in CHROMIUM]
    assert handshake.read("GET", b"/ws/audience", firefox) is not None


@pytest.mark.parametrize(
    ("method", "changed", "added"),
    [
        ("POST", {}, []),
        ("GET", {b"sec-websocket-key": b"not base64 at all!!!!!!!"}, []),
        ("GET", {b"sec-websocket-key": b"c2hvcnQ="}, []),  # 5 bytes, not 16
        ("GET", {b"sec-websocket-version": b"8"}, []),
        ("GET", {b"connection": b"Upgrade, HTTP2-Settings"}, []),
        ("GET", {}, [(b"sec-websocket-key", RFC_KEY.encode())]),  # two keys
        ("GET", {}, [(b"sec-websocket-version", b"13")]),  # two versions
        ("GET", {}, [(b"content-length", b"5")]),  # a body
        ("GET", {}, [(b"transfer-encoding", b"chunked")]),
        ("GET", {}, [(b"sec-websocket-protocol", b"chat")]),  # a subprotocol to negotiate
    ],
)
def test_anything_unusual_is_left_to_websockets(
    method: str, changed: dict[bytes, bytes], added: list[tuple[bytes, bytes]]
) -> None:
    headers = [(name, changed.get(name, value)) for name, value in CHROMIUM] + added
    assert handshake.read(method, b"/ws/audience", headers) is None


def test_a_target_that_is_not_ascii_is_left_to_websockets() -> None:
    assert handshake.read("GET", "/ws/audïence".encode(), CHROMIUM) is None


# Live: a real `handsup serve`, raw requests, the server's answer.


def _answer(server: ServerProcess, request: bytes) -> bytes:
    """Send a hand-written request; the server's answer up to the end of its head."""
    with socket.create_connection(address(server), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data and (chunk := sock.recv(4096)):
            data += chunk
        return data


def _request(
    server: ServerProcess, path: str = "/ws/audience", /, **headers: str | list[str]
) -> bytes:
    """An upgrade request; each keyword replaces a header (underscores for dashes), "" drops
    it, and a list of values repeats it."""
    host, port = address(server)
    fields: dict[str, str | list[str]] = {
        "Host": f"{host}:{port}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": RFC_KEY,
        "Sec-WebSocket-Version": "13",
        "Origin": server.base,
    }
    for name, value in headers.items():
        fields[name.replace("_", "-")] = value
    lines = [f"GET {path} HTTP/1.1"]
    for name, value in fields.items():
        for one in [value] if isinstance(value, str) else value:
            if one:
                lines.append(f"{name}: {one}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _websockets_status(request: bytes) -> int:
    """The status websockets itself answers a request with (before the room's own checks)."""
    reader = StreamReader()
    reader.feed_data(request)
    parser = Request.parse(reader.read_line)
    try:
        next(parser)
    except StopIteration as done:
        parsed = done.value
    else:
        raise AssertionError("the request is incomplete")
    return ServerProtocol().accept(parsed).status_code


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving(QUIZ) as running:
        yield running


def test_a_plain_upgrade_gets_the_rfcs_accept_value(server: ServerProcess) -> None:
    answer = _answer(server, _request(server))
    head = answer.split(b"\r\n\r\n")[0].decode().split("\r\n")
    assert head[0] == "HTTP/1.1 101 Switching Protocols"
    fields = {name.lower(): value for name, _, value in (line.partition(": ") for line in head[1:])}
    assert fields["sec-websocket-accept"] == RFC_ACCEPT
    assert fields["upgrade"].lower() == "websocket"
    assert fields["connection"].lower() == "upgrade"
    assert "sec-websocket-protocol" not in fields  # none offered, none chosen


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Sec_WebSocket_Key": "not base64 at all!!!!!!!"}, 400),
        ({"Sec_WebSocket_Key": "c2hvcnQ="}, 400),
        ({"Sec_WebSocket_Key": ""}, 400),
        ({"Sec_WebSocket_Key": [RFC_KEY, RFC_KEY]}, 400),
        ({"Sec_WebSocket_Version": "8"}, 400),
        ({"Sec_WebSocket_Version": ""}, 400),
        ({"Sec_WebSocket_Version": ["13", "13"]}, 400),
    ],
)
def test_a_bad_key_or_version_gets_websockets_own_answer(
    server: ServerProcess, headers: dict[str, str | list[str]], status: int
) -> None:
    request = _request(server, **headers)
    assert _websockets_status(request) == status
    assert _answer(server, request).startswith(f"HTTP/1.1 {status} ".encode())


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/ws/audience", {"Origin": "http://evil.example"}, 403),
        ("/ws/nobody", {}, 404),
        ("/ws/audience", {"Host": ["a.example", "b.example"]}, 400),
        # The same room checks for a request websockets parses (two Connection lines).
        ("/ws/audience", {"Origin": "http://evil.example", "Connection": ["Upgrade"] * 2}, 403),
        ("/ws/nobody", {"Connection": ["Upgrade"] * 2}, 404),
    ],
)
def test_the_rooms_checks_refuse_with_the_same_statuses(
    server: ServerProcess, path: str, headers: dict[str, str | list[str]], status: int
) -> None:
    answer = _answer(server, _request(server, path, **headers))
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:80]


def test_an_upgrade_websockets_parses_still_opens(server: ServerProcess) -> None:
    # Two Connection lines and a subprotocol asked for: not read from the parse, but opened.
    request = _request(server, Connection=["keep-alive", "Upgrade"], Sec_WebSocket_Protocol="x")
    answer = _answer(server, request)
    assert answer.startswith(b"HTTP/1.1 101 "), answer[:80]
    assert f"Sec-WebSocket-Accept: {RFC_ACCEPT}".encode() in answer


async def test_phones_join_and_rejoin_through_the_quick_handshake(server: ServerProcess) -> None:
    peer, token = await phone(server)
    await peer.send({"type": "ping"})
    await peer.of_type("pong")
    again, same = await phone(server, participant=token)
    assert same == token
    await asyncio.gather(peer.close(), again.close())


# The frames that admit a client go out together (`Connection._feed`): still in order, and
# whatever the same read asks for after the hello comes after them.


def _open_raw(server: ServerProcess, role: str) -> tuple[socket.socket, ClientProtocol]:
    """A websocket on a plain socket, driven by websockets' sans-I/O client: the test decides
    which frames share one write."""
    sock = socket.create_connection(address(server), timeout=5)
    client = ClientProtocol(parse_uri(f"{server.ws}/{role}"))
    client.send_request(client.connect())
    sock.sendall(b"".join(client.data_to_send()))
    while not isinstance(client.handshake_exc, Exception) and client.state is State.CONNECTING:
        client.receive_data(sock.recv(65536))
    assert client.state is State.OPEN, client.handshake_exc
    client.events_received()  # the 101
    return sock, client


def _send_together(sock: socket.socket, client: ClientProtocol, *messages: dict[str, Any]) -> None:
    for message in messages:
        client.send_text(json.dumps(message).encode())
    sock.sendall(b"".join(client.data_to_send()))


def _read_until(
    sock: socket.socket, client: ClientProtocol, done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """Every message received until `done` says the list is complete."""
    got: list[dict[str, Any]] = []
    while not done(got):
        client.receive_data(sock.recv(65536))
        for event in client.events_received():
            if isinstance(event, WsFrame) and event.opcode is Opcode.TEXT:
                got.append(json.loads(bytes(event.data)))
    return got


def _types(got: list[dict[str, Any]]) -> list[str]:
    return [message["type"] for message in got]


async def test_a_presenters_hello_and_next_in_one_read_arrive_in_order(
    server: ServerProcess,
) -> None:
    sock, client = _open_raw(server, "presenter")
    with sock:
        _send_together(
            sock,
            client,
            {"type": "hello", "key": server.key},
            {"type": "goto", "index": 1},
            {"type": "ping"},
        )
        got = _read_until(sock, client, lambda got: "pong" in _types(got))
        states = [m["state"]["position"] for m in got if m["type"] == "state"]
        assert _types(got)[0] == "welcome"
        # The snapshot first, then the slide the same read moved to, then the pong.
        assert states[0] == 0 and states[-1] == 1, got
        assert _types(got).index("state") < _types(got).index("pong")
        _send_together(sock, client, {"type": "goto", "index": 0})
        got = _read_until(sock, client, lambda got: "state" in _types(got))
        assert [m["state"]["position"] for m in got if m["type"] == "state"] == [0]


async def test_a_phones_hello_and_vote_in_one_read_are_welcomed_then_acknowledged(
    server: ServerProcess,
) -> None:
    boss = await presenter(server)
    await open_colour_poll(boss)
    sock, client = _open_raw(server, "audience")
    with sock:
        vote = {"type": "vote", "poll": "colour", "option": 2, "vote_id": "pipelined-1"}
        _send_together(sock, client, {"type": "hello", "room": server.room}, vote)
        got = _read_until(sock, client, lambda got: "vote_ack" in _types(got))
        assert _types(got)[:2] == ["welcome", "state"]
        assert got[0]["votes"] == {}
        ack = got[_types(got).index("vote_ack")]
        assert (ack["vote_id"], ack["option"]) == ("pipelined-1", 2)
        token = got[0]["participant"]
    # The same phone, back: its vote is in its welcome.
    _, again = await phone(server, participant=token)
    assert again == token


async def test_phones_gone_without_a_closing_handshake_leave_and_come_back() -> None:
    # A reconnect storm in small: phones drop (the end of the stream, no close frame), the
    # presenter sees them gone, they redial with their tokens and get their identity back.
    with serving(QUIZ) as server:
        boss = await presenter(server)

        async def audience(count: int) -> None:
            await boss.until(lambda m: m["type"] == "presence" and m["audience"] == count)

        raw = [_open_raw(server, "audience") for _ in range(3)]
        dropped: list[str] = []
        for sock, client in raw:
            _send_together(sock, client, {"type": "hello", "room": server.room})
            got = _read_until(sock, client, lambda got: "state" in _types(got))
            dropped.append(got[0]["participant"])
        await audience(3)
        for sock, _ in raw:
            sock.shutdown(socket.SHUT_WR)  # the end of the stream, without a close frame
            assert sock.recv(65536) == b"", "the server closes its side without a word"
            sock.close()
        await audience(0)
        await boss.send({"type": "goto", "index": 1})  # a broadcast after they left hurts nobody
        await boss.state(position=1)
        back = [await phone(server, participant=token) for token in dropped]
        assert [token for _, token in back] == dropped
        await audience(3)


class _Transport(asyncio.Transport):
    """Just enough of a transport for a connection that is about to be dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 50000) if name == "peername" else default

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


async def test_a_phone_gone_without_a_closing_handshake_leaves_no_garbage_to_collect() -> None:
    # In a reconnect storm thousands of phones go this way at once. Failing each through the
    # protocol left a cycle (the protocol, its parser, an EOFError and its traceback) for the
    # collector: full collections walking them stalled the loop, and cycles among objects
    # already frozen by the GC policy (server.stalls) were never freed at all.
    endpoint = SimpleNamespace(
        max_size=65536, now=lambda: 0.0, limiter=ConnectionLimiter(total=10, per_address=10)
    )
    transport = _Transport()
    turns.current()  # the loop's input budget exists before the count (it lives as long)
    gc.collect()
    gc.disable()
    try:
        connection = Connection(cast(Endpoint, endpoint), set(), opened=True)
        connection.connection_made(transport)
        connection.eof_received()
        assert transport.closed, "the server ends its side at once"
        connection.connection_lost(None)
        del connection
        assert gc.collect() == 0
    finally:
        gc.enable()
