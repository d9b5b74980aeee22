"""Hostile rooms, access: who may connect, what needs the key, what is never shown or logged.

Real `handsup serve` processes; pages fetched over HTTP (raw sockets where a client library
would tidy the path), websockets from the audience's side and from other websites' side.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import stat
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from server.deckfile import load_deck
from tests.serverproc import DECK, ROOT, ServerProcess, start_server
from tests.test_security_limits import (
    QUIZ,
    address,
    closed_with,
    connect,
    display,
    eventually,
    latest,
    open_colour_poll,
    phone,
    position,
    presenter,
    reading,
    serving,
    start_logged,
)
from tests.wsclient import Message, Peer

CLIENTS = ROOT / "clients"
PAGES = {"/": "audience", "/display": "display", "/presenter": "presenter"}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """The default deck with a random presenter key, as a presenter would start it."""
    proc = start_server(DECK, key=None)
    yield proc
    proc.stop()


@pytest.fixture
def quiz() -> Iterator[ServerProcess]:
    with serving(QUIZ) as proc:
        yield proc


def raw_get(server: ServerProcess, target: str) -> tuple[int, dict[str, str], bytes]:
    """GET exactly this request target (no client-side tidying of `..` or `%2e`)."""
    host, port = address(server)
    with socket.create_connection((host, port), timeout=5) as sock:
        request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in lines)}
    return int(status_line.split()[1]), headers, body


def csp(header: str) -> dict[str, list[str]]:
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


# Origin: other websites cannot hold a socket here.

EVIL_ORIGINS = [
    "http://evil.example",
    "https://evil.example",
    "null",
    "{base}.evil.example",
    "http://{hostport}@evil.example",
    "http://evil.example/{hostport}",
]


@pytest.mark.parametrize("role", ["presenter", "audience", "display"])
@pytest.mark.parametrize("origin", EVIL_ORIGINS)
async def test_other_sites_are_refused_before_the_handshake(
    server: ServerProcess, role: str, origin: str
) -> None:
    host, port = address(server)
    origin = origin.format(base=server.base, hostport=f"{host}:{port}")
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(f"{server.ws}/{role}", origin=origin)  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403


async def test_the_pages_own_origin_and_non_browsers_are_accepted(server: ServerProcess) -> None:
    own: Any = server.base
    for origin in (own, None):
        boss = await connect(server, "presenter", origin=origin)
        await boss.send({"type": "hello", "key": server.key})
        assert (await boss.next())["type"] == "welcome"
        ann = await connect(server, "audience", origin=origin)
        await ann.send({"type": "hello", "room": server.room})
        assert (await ann.next())["type"] == "welcome"
        screen = await connect(server, "display", origin=origin)
        await screen.send({"type": "hello", "room": server.room})
        assert (await screen.next())["type"] == "welcome"
    # No Origin is no free pass: the key is still needed.
    stranger = await connect(server, "presenter")
    await stranger.send({"type": "hello"})
    assert (await stranger.next())["code"] == "bad_key"
    assert await closed_with(stranger) == 4403


def _raw_upgrade(server: ServerProcess, extra_headers: str) -> bytes:
    """A websocket upgrade with hand-written headers; the server's first answer."""
    host, port = address(server)
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(
            (
                f"GET /ws/audience HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                f"Sec-WebSocket-Version: 13\r\n{extra_headers}\r\n"
            ).encode()
        )
        data = b""
        while b"\r\n\r\n" not in data and (chunk := sock.recv(4096)):
            data += chunk
        return data


async def test_a_repeated_origin_is_refused_and_the_server_carries_on() -> None:
    # Two Origin lines could smuggle another site past the check: refused outright, and
    # (a bug this caught) without the connection being leaked or the server hurt.
    with serving(QUIZ) as server:
        await _repeated_origin(server)


async def _repeated_origin(server: ServerProcess) -> None:
    for _ in range(3):
        answer = _raw_upgrade(server, f"Origin: {server.base}\r\nOrigin: http://evil.example\r\n")
        assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
    assert _raw_upgrade(server, f"Origin: {server.base}\r\n").startswith(b"HTTP/1.1 101")
    ann, _ = await phone(server)
    await ann.send({"type": "ping"})
    await ann.of_type("pong")
    stopping = asyncio.get_running_loop().time()
    server.stop()  # nothing leaked holds up the exit (uvicorn would wait for it)
    assert asyncio.get_running_loop().time() - stopping < 1.5


async def test_the_public_url_origin_is_accepted() -> None:
    with serving(QUIZ, "--public-url", "http://talk.example.org") as server:
        public: Any = "http://talk.example.org"
        boss = await connect(server, "presenter", origin=public)
        await boss.send({"type": "hello", "key": server.key})
        assert (await boss.next())["type"] == "welcome"
        ann = await connect(server, "audience", origin=public)
        await ann.send({"type": "hello", "room": server.room})
        assert (await ann.next())["type"] == "welcome"
        for evil in ("http://talk.example.org.evil.example", "http://evil.example"):
            with pytest.raises(InvalidStatus) as refused:
                await websockets.connect(f"{server.ws}/audience", origin=evil)  # type: ignore[arg-type]
            assert refused.value.response.status_code == 403


# The presenter key.


def test_presenter_page_needs_the_key(server: ServerProcess) -> None:
    base = server.base
    # Asked for bare, as the printed link (#key=…) asks for it: the page, which holds no secret.
    assert httpx.get(f"{base}/presenter").status_code == 200
    assert httpx.get(f"{base}/presenter", params={"key": ""}).status_code == 401
    for wrong in ("guess", server.key[:-1], server.key + "x", server.key.upper()):
        assert httpx.get(f"{base}/presenter", params={"key": wrong}).status_code == 403, wrong
    assert httpx.get(f"{base}/presenter", params={"key": server.key}).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/api/sessions", "/api/sessions/1/results.json", "/api/sessions/1/results.csv", "/results"],
)
def test_results_need_the_key(server: ServerProcess, path: str) -> None:
    url = server.base + path
    # The page, asked for bare (the printed link's #key=… is not sent), holds no results.
    assert httpx.get(url).status_code == (200 if path == "/results" else 401)
    assert httpx.get(url, params={"key": ""}).status_code == 401
    assert httpx.get(url, params={"key": "guess"}).status_code == 403
    if path.startswith("/api/"):
        assert httpx.get(url, headers={"X-Handsup-Key": "guess"}).status_code == 403
        assert httpx.get(url, headers={"X-Handsup-Key": server.key}).status_code == 200
    assert httpx.get(url, params={"key": server.key}).status_code == 200


def _public_files() -> list[str]:
    return sorted(
        path.relative_to(CLIENTS).as_posix() for path in CLIENTS.rglob("*") if path.is_file()
    )


def test_nothing_public_carries_the_key(server: ServerProcess) -> None:
    checked = []
    for route, name in PAGES.items():
        if route != "/presenter" and (CLIENTS / name / "index.html").is_file():
            checked.append(route)
    files = _public_files()
    checked += [f"/static/{name}" for name in files] + ["/qr/join.svg", "/healthz"]
    for route in checked:
        answer = httpx.get(server.base + route)
        # On loopback there is no join QR code (phones could not reach it): 404 is right.
        assert answer.status_code == 200 or route == "/qr/join.svg", route
        assert server.key not in answer.text and "presenter?key" not in answer.text, route
    assert files, "clients/ has files to serve"


def _drive(deck: Path) -> list[Message]:
    """Presenter commands that walk through every slide, opening and revealing every poll."""
    commands: list[Message] = [{"type": "join_info", "on": True}, {"type": "blackout", "on": True}]
    commands.append({"type": "blackout", "on": False})
    for slide in load_deck(deck).slides:
        commands.append({"type": "goto", "index": slide.index})
        if slide.poll:
            for step in ("open", "close", "reveal", "hide"):
                commands.append({"type": step})
    return commands


@pytest.mark.parametrize("deck", [DECK, QUIZ], ids=["deck.md", "quiz.md"])
async def test_screens_and_phones_never_see_key_notes_or_unrevealed_answers(deck: Path) -> None:
    notes = [slide.notes for slide in load_deck(deck).slides if slide.notes]
    with serving(deck, "--rate", "10000", "--burst", "10000") as server:
        boss = await presenter(server)
        screen = await display(server)
        ann, _ = await phone(server)
        commands = _drive(deck)
        async with reading(boss, screen, ann):
            for command in commands:
                await boss.send(command)
            await boss.send({"type": "ping"})
            await eventually(lambda: latest(boss, "pong") is not None, 10)
            last = load_deck(deck).slides[-1].index
            await eventually(lambda: position(screen) == last and position(ann) == last)
        for peer in (screen, ann):
            states = [m["state"] for m in peer.seen if m["type"] == "state"]
            assert len(states) > len(load_deck(deck).slides) / 2
            for state in states:
                assert "notes" not in state and "outline" not in state and "polls" not in state
                poll = state["poll"]
                if poll is not None and not poll["revealed"]:
                    assert poll["correct"] is None, "the answer before the reveal"
            text = "\n".join(json.dumps(m, ensure_ascii=False) for m in peer.seen)
            assert server.key not in text and "presenter?key" not in text
            for note in notes:
                assert note not in text, note
        if deck == QUIZ:  # it marks a correct answer: it did reach the presenter, and revealed
            presenter_text = json.dumps(boss.seen)
            assert '"correct": 1' in presenter_text and notes == []


def _rest_of_output(server: ServerProcess) -> str:
    """Stop the server and read everything it wrote after its banner."""
    assert server.process.stdout is not None
    server.process.send_signal(signal.SIGTERM)
    try:
        rest = server.process.stdout.read()
    finally:
        server.stop()
    return rest


async def _use_the_key(server: ServerProcess, in_socket_url: bool) -> None:
    base, key = server.base, server.key
    async with httpx.AsyncClient(base_url=base) as http:
        for path in ("/presenter", "/results", "/api/sessions", "/api/sessions/1/results.csv"):
            await http.get(path, params={"key": key})
            await http.get(path, params={"x": "1", "key": key, "y": "2"})
        await http.get("/api/sessions", headers={"X-Handsup-Key": key})
    boss = await presenter(server)
    await boss.send({"type": "hello", "key": key})
    await boss.of_type("error", ref="hello")
    if in_socket_url:
        peer = await Peer.open(f"{server.ws}", f"presenter?key={key}", key=key)
        await peer.of_type("welcome")


@pytest.mark.parametrize(
    ("level", "in_socket_url"),
    [
        ("info", False),
        pytest.param(
            "debug",
            False,
        ),
        pytest.param(
            "info",
            True,
            id="info-key-in-socket-url",
        ),
        pytest.param(
            "trace",
            False,
        ),
    ],
)
async def test_logs_never_show_the_key(level: str, in_socket_url: bool) -> None:
    server, banner = start_logged(QUIZ, "--log-level", level)
    try:
        assert any("presenter#key=" in line for line in banner), "printed once, for the presenter"
        await _use_the_key(server, in_socket_url)
        await Peer.close_all()
        await asyncio.sleep(0.2)
    finally:
        output = _rest_of_output(server)
    assert "/presenter?key=…" in output or level != "info", output[-2000:]
    assert server.key not in output


# Roles: only the presenter drives.

PRESENTER_COMMANDS: list[Message] = [
    {"type": "goto", "index": 1}, {"type": "next"}, {"type": "prev"},
    {"type": "open"}, {"type": "open", "poll": "colour"}, {"type": "close", "poll": "colour"},
    {"type": "reveal", "poll": "colour"}, {"type": "hide", "poll": "colour"},
    {"type": "reset", "poll": "colour"}, {"type": "blackout", "on": True},
    {"type": "join_info", "on": True},
]  # fmt: skip


async def test_audience_and_display_cannot_change_anything(quiz: ServerProcess) -> None:
    boss = await presenter(quiz)
    await open_colour_poll(boss)
    voter, _ = await phone(quiz)
    await voter.vote("colour", 1)
    await voter.of_type("vote_ack")
    ann, _ = await phone(quiz)
    screen = await display(quiz)
    # The key in an audience or display hello changes nothing: the role is the socket's.
    keyed = await connect(quiz, "audience")
    await keyed.send({"type": "hello", "room": quiz.room, "key": quiz.key})
    await keyed.of_type("welcome", role="audience")
    keyed_screen = await connect(quiz, "display")
    await keyed_screen.send({"type": "hello", "key": quiz.key})
    await keyed_screen.of_type("welcome", role="display")
    for peer in (ann, screen, keyed, keyed_screen):
        for command in PRESENTER_COMMANDS:
            await peer.send(command)
            assert (await peer.of_type("error", ref=command["type"]))["code"] == "forbidden"
    await screen.vote("colour", 0)
    assert (await screen.of_type("error"))["code"] == "forbidden"
    fresh = await presenter(quiz)
    state = await fresh.state()
    assert (state["position"], state["blackout"], state["join"]["shown"]) == (1, False, False)
    assert state["polls"]["colour"] | {"counts_visible": True} == {
        "id": "colour", "type": "choice", "status": "open", "revealed": False,
        "change_vote": True, "results": "live", "counts_visible": True, "correct": 1,
        "deadline": None,
    }  # fmt: skip
    assert (await fresh.of_type("tally"))["counts"] == [0, 1, 0]


async def test_a_made_up_token_gets_a_fresh_identity_and_cannot_touch_a_vote(
    quiz: ServerProcess,
) -> None:
    boss = await presenter(quiz)
    await open_colour_poll(boss)
    owner, token = await phone(quiz)
    vote_id = await owner.vote("colour", 1)
    await owner.of_type("vote_ack", vote_id=vote_id)
    for made_up in ("made-up-token", token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 64):
        impostor, identity = await phone(quiz, participant=made_up)
        assert identity not in (made_up, token) and len(identity) >= 24
        assert impostor.seen[0]["votes"] == {}, "no one else's votes are shown"
        await impostor.vote("colour", 2, vote_id=vote_id)  # the owner's vote id: refused
        assert (await impostor.of_type("error", ref=vote_id))["code"] == "duplicate_vote_id"
        await impostor.vote("colour", 2)
        await impostor.of_type("vote_ack")
    for malformed in ("../../etc", "x" * 65, "", "tok en"):
        peer = await connect(quiz, "audience")
        await peer.send({"type": "hello", "room": quiz.room, "participant": malformed})
        assert (await peer.of_type("error"))["code"] == "bad_message", malformed
    again, same = await phone(quiz, participant=token)
    assert same == token and again.seen[0]["votes"] == {"colour": 1}
    tally = await boss.until(lambda m: m["type"] == "tally" and m["voters"] == 4)
    assert tally["counts"] == [0, 1, 3]


# Headers.

HEADER_ROUTES = ["/", "/display", "/presenter?key={key}", "/results?key={key}", "/qr/join.svg",
                 "/healthz", "/no-such-page"]  # fmt: skip


@pytest.mark.parametrize("route", HEADER_ROUTES)
def test_security_headers(server: ServerProcess, route: str) -> None:
    path = route.partition("?")[0]
    answer = httpx.get(server.base + route.format(key=server.key))
    assert answer.status_code in (200, 404), route
    headers = answer.headers
    policy = csp(headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"], "no inline or eval'd script, no other hosts"
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "set-cookie" not in headers, "no cookies; if ever added: HttpOnly and SameSite"
    if path in PAGES or path == "/results":
        assert headers["cache-control"] == "no-store"


# Deck assets.


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))
        )

    header = struct.pack("!IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png()
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A deck folder with images, a symlink out, notes and the deck; secrets beside it."""
    root = tmp_path_factory.mktemp("assets")
    folder = root / "deck"
    (folder / "img" / "dir.png").mkdir(parents=True)
    (root / "outside").mkdir()
    (folder / "img" / "ok.png").write_bytes(PNG)
    (folder / "img" / "unused.png").write_bytes(PNG)  # in the folder, but on no slide
    (folder / "img" / "pic.svg").write_bytes(SVG)
    (root / "secret.png").write_bytes(PNG)
    (root / "outside" / "outside.png").write_bytes(PNG)
    (folder / "notes.txt").write_text("private notes")
    (folder / "img" / "link.png").symlink_to(Path("..", "..", "outside", "outside.png"))
    (folder / "img" / "alias.png").symlink_to("ok.png")
    deck = folder / "talk.md"
    # Every image the tests ask for is on a slide (even those that must not be served), so
    # that each is refused for what it is, not merely for being unused.
    shown = ("ok.png", "alias.png", "pic.svg", "link.png", "dir.png", "missing.png")
    images = "\n\n".join(f"![{name}](img/{name})" for name in shown)
    deck.write_text(f"# Pictures\n\n{images}\n\n???\nnotes about the talk\n")
    with serving(deck) as proc:
        yield proc


def test_deck_images_are_served(assets: ServerProcess) -> None:
    for target in ("/assets/img/ok.png", "/assets/img/alias.png", "/assets/./img/ok.png"):
        status, headers, body = raw_get(assets, target)
        assert (status, headers["content-type"], body) == (200, "image/png", PNG), target


def test_svg_assets_are_sandboxed(assets: ServerProcess) -> None:
    status, headers, body = raw_get(assets, "/assets/img/pic.svg")
    assert (status, headers["content-type"], body) == (200, "image/svg+xml", SVG)
    policy = csp(headers["content-security-policy"])
    assert "sandbox" in policy and policy["default-src"] == ["'none'"]
    assert "script-src" not in policy, "scripts fall back to default-src 'none'"
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "target",
    [
        "/assets/../secret.png",
        "/assets/%2e%2e/secret.png",
        "/assets/..%2fsecret.png",
        "/assets/%2e%2e%2fsecret.png",
        "/assets/img/../../secret.png",
        "/assets/img/%2e%2e/%2e%2e/secret.png",
        "/assets/..%5csecret.png",
        "/assets//etc/passwd",
        "/assets/%2fetc%2fpasswd",
        "/assets/img/link.png",
        "/assets/talk.md",
        "/assets/notes.txt",
        "/assets/img/dir.png",
        "/assets/img/missing.png",
        "/assets/img/unused.png",
        "/assets/",
        pytest.param("/assets/img/ok.png%00.md"),
        pytest.param("/assets/%00.png"),
    ],
)
def test_nothing_but_images_inside_the_deck_folder(assets: ServerProcess, target: str) -> None:
    status, _, body = raw_get(assets, target)
    assert status == 404, target
    assert b"private notes" not in body and b"PNG" not in body and b"root:" not in body


def test_the_data_folder_is_private(tmp_path: Path) -> None:
    # It holds the presenter key: other users of the machine may not read it, whatever the
    # umask (the usual 022 would make it 0755 / 0644).
    data = tmp_path / "new" / "handsup-data"
    server = start_server(data=data)
    try:
        httpx.get(f"{server.base}/healthz").raise_for_status()
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        files = sorted(data.iterdir())
        assert {"handsup.db", "handsup.db-wal"} <= {path.name for path in files}
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    finally:
        server.stop()
