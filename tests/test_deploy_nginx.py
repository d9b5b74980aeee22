"""handsup behind a real nginx: the configuration `handsup deploy nginx` prints, run by Debian's
nginx on loopback in front of real `handsup serve` processes.

What a person running a talk this way would notice: nginx takes the file; phones, the
projector and the presenter work through it; each phone is limited as itself, not as nginx;
new phones go to the emptier worker.
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from server.app import DEAD_AFTER
from server.deploy import KEEPALIVE, NginxOptions, http_part, nginx_config
from tests.nginxproc import NginxProcess, check, start_nginx
from tests.serverproc import ROOT, ServerProcess, start_server
from tests.test_security_limits import closed_with, eventually, reading
from tests.wsclient import Message, Peer

QUIZ = Path(__file__).parent / "decks" / "quiz.md"
SHIPPED = ROOT / "deploy" / "nginx.conf"
UPSTREAMS = ("127.0.0.1:8001", "127.0.0.1:8002")


def upstream(server: ServerProcess) -> str:
    return f"127.0.0.1:{server.port}"


@pytest.fixture
def quiz() -> Iterator[ServerProcess]:
    server = start_server(QUIZ)
    try:
        yield server
    finally:
        server.stop()


StartNginx = Callable[..., NginxProcess]


@pytest.fixture
def nginx() -> Iterator[StartNginx]:
    """Start nginx (`start_nginx`: upstreams, then `NginxOptions` fields); all are stopped
    after the test, and their error logs shown if it failed."""
    started: list[NginxProcess] = []

    def start(upstreams: list[str], **options: Any) -> NginxProcess:
        started.append(start_nginx(upstreams, **options))
        return started[-1]

    yield start
    for process in started:
        print(f"nginx error log:\n{process.error_log()}")
        process.stop()


async def through(
    proxy: NginxProcess,
    role: str,
    *,
    local_host: str | None = None,
    forwarded_for: str | None = None,
    browser: bool = True,
) -> Peer:
    """A websocket to `/ws/{role}` through nginx, saying nothing yet. `local_host`: connect
    from another loopback address (another device); `forwarded_for`: an X-Forwarded-For the
    client writes itself; `browser`: send an Origin as a page served through nginx would."""
    options: dict[str, Any] = {"max_size": 2**22}
    if browser:
        options["origin"] = proxy.base
    if forwarded_for is not None:
        options["additional_headers"] = {"X-Forwarded-For": forwarded_for}
    if local_host is not None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((local_host, 0))
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", proxy.port))
        options["sock"] = sock
    connection = await websockets.connect(f"{proxy.ws}/{role}", **options)
    peer = Peer(connection, role)
    Peer.opened.append(peer)
    return peer


async def phone_through(proxy: NginxProcess, room: str, **options: Any) -> Peer:
    peer = await through(proxy, "audience", **options)
    await peer.send({"type": "hello", "room": room})
    await peer.of_type("welcome", role="audience")
    return peer


async def refused_as_full(proxy: NginxProcess, **options: Any) -> str:
    peer = await through(proxy, "audience", **options)
    error = await peer.next()  # at once, before any hello
    assert error["type"] == "error" and error["code"] == "server_full", error
    assert await closed_with(peer) == 1013
    message: str = error["message"]
    return message


# The configuration itself.


def test_the_shipped_file_is_what_the_command_prints() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "server.cli", "deploy", "nginx"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == SHIPPED.read_text(), "run: handsup deploy nginx > deploy/nginx.conf"


def test_nginx_accepts_the_shipped_file_and_every_variant(tmp_path: Path) -> None:
    verdict = check(SHIPPED.read_text())
    assert verdict.returncode == 0, verdict.stderr
    assert "test is successful" in verdict.stderr
    two = ("10.0.0.1:8000", "10.0.0.2:8000")
    variants = [
        NginxOptions(upstreams=two, server_name="talk.example.org", static=ROOT / "clients"),
        NginxOptions(listen="127.0.0.1:8080", keepalive=5),
    ]
    # A folder with a space in its name (as on many laptops) is quoted, and nginx reads it.
    spaced = tmp_path / "my talk"
    spaced.mkdir()
    variants.append(
        NginxOptions(upstreams=("[::1]:8001",), static=spaced, access_log=str(spaced / "a.log"))
    )
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=talk.example.org", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    variants.append(NginxOptions(listen="443", tls_certificate=certificate, tls_key=key))
    for options in variants:
        verdict = check(nginx_config(options))
        assert verdict.returncode == 0, (options, verdict.stderr)


def test_the_http_part_fits_inside_a_distro_nginx() -> None:
    # Debian's /etc/nginx/nginx.conf sets these in http {} before including conf.d/*.conf:
    # the part must not set any of them again (nginx refuses a duplicate).
    part = subprocess.run(
        [sys.executable, "-m", "server.cli", "deploy", "nginx", "--http-only",
         "--upstream", "127.0.0.1:8001", "--upstream", "127.0.0.1:8002"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert not re.search(r"^(http|events) \{|^\s*(worker_processes|pid) ", part, re.MULTILINE)
    assert "/var/log/nginx/handsup-access.log" in part
    assert part.endswith(http_part(NginxOptions(http_only=True, upstreams=UPSTREAMS)))
    distro = f"""
pid nginx.pid;
error_log error.log;
events {{ worker_connections 768; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    types {{ text/html html; }}
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log access.log;
    gzip on;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
{part}
}}
"""
    verdict = check(distro)
    assert verdict.returncode == 0, verdict.stderr


def test_the_command_refuses_what_cannot_work() -> None:
    def run(*flags: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "server.cli", "deploy", "nginx", *flags]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)

    half = run("--tls-certificate", "/etc/ssl/cert.pem")
    assert half.returncode == 2 and "go together" in half.stderr and half.stdout == ""
    silent = run("--keepalive", "0")
    assert silent.returncode == 2 and "--keepalive" in silent.stderr and silent.stdout == ""
    assert run("--upstream", "8001").returncode == 2  # HOST:PORT
    # Nothing a flag says may become more nginx configuration.
    assert run("--upstream", "a; include /etc/x:8001").returncode == 2
    assert run("--upstream", "10.0.0.1:99999").returncode == 2
    spliced = run("--access-log", "x.log; error_log /tmp/y")
    assert spliced.returncode == 2 and "without $" in spliced.stderr and spliced.stdout == ""


def _seconds(config: str, directive: str) -> int:
    match = re.search(rf"^\s*{directive} (\d+)s;", config, re.MULTILINE)
    assert match, directive
    return int(match.group(1))


@pytest.mark.parametrize("keepalive", [KEEPALIVE, 5.0, 45.0])
def test_timeouts_sit_above_the_servers_own_drop_of_a_silent_phone(keepalive: float) -> None:
    config = nginx_config(NginxOptions(keepalive=keepalive))
    for directive in ("proxy_read_timeout", "proxy_send_timeout", "send_timeout"):
        assert _seconds(config, directive) > DEAD_AFTER * keepalive, directive
    # One balancing rule, by connections: a hall behind one NAT is one address.
    assert "least_conn;" in config and "ip_hash" not in config.replace("Never ip_hash", "")


# Through a running nginx.


async def test_phone_presenter_and_display_through_nginx(
    quiz: ServerProcess, nginx: StartNginx
) -> None:
    proxy = nginx([upstream(quiz)])
    async with httpx.AsyncClient(timeout=10) as http:
        page = await http.get(f"{proxy.base}/?room={quiz.room}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    boss = await through(proxy, "presenter")
    await boss.send({"type": "hello", "key": quiz.key})
    await boss.of_type("welcome", role="presenter")
    screen = await through(proxy, "display")
    await screen.send({"type": "hello", "room": quiz.room})
    await screen.of_type("welcome", role="display")
    phones = [await phone_through(proxy, quiz.room) for _ in range(3)]
    await boss.send({"type": "goto", "index": 1})
    await boss.send({"type": "open"})
    await boss.send({"type": "reveal"})
    for peer in phones:
        await peer.state(position=1)
    for peer, option in zip(phones, (0, 1, 1), strict=True):
        vote_id = await peer.vote("colour", option)
        assert (await peer.of_type("vote_ack", vote_id=vote_id))["option"] == option
    for screen_or_boss in (boss, screen):
        tally = await screen_or_boss.until(
            lambda m: m["type"] == "tally" and m.get("counts") == [1, 2, 0]
        )
        assert tally["voters"] == 3


def test_nginx_serves_the_static_files_while_the_workers_restart(
    quiz: ServerProcess, nginx: StartNginx
) -> None:
    proxy = nginx([upstream(quiz)], static=ROOT / "clients")
    script = httpx.get(f"{proxy.base}/static/shared/socket.js", timeout=10)
    assert script.status_code == 200
    assert script.headers["content-type"] == "application/javascript"
    assert script.text == (ROOT / "clients" / "shared" / "socket.js").read_text()
    assert script.headers["x-content-type-options"] == "nosniff"
    quiz.stop()
    # The worker is gone: the page cannot be made, but its scripts still load.
    assert httpx.get(f"{proxy.base}/?room={quiz.room}", timeout=10).status_code == 502
    again = httpx.get(f"{proxy.base}/static/shared/socket.js", timeout=10)
    assert again.status_code == 200 and again.text == script.text


async def test_behind_nginx_each_phone_is_limited_by_its_own_address(nginx: StartNginx) -> None:
    # One socket per address: through nginx, whose own address is the same for everyone,
    # the server must count each phone under the address nginx saw it come from.
    server = start_server(QUIZ, "--max-per-address", "1")
    try:
        proxy = nginx([upstream(server)])
        first = await phone_through(proxy, server.room, local_host="127.0.0.2")
        # Another device: its own allowance, though nginx connects for both.
        other = await phone_through(proxy, server.room, local_host="127.0.0.3")
        # A second socket from the first device is over its limit...
        message = await refused_as_full(proxy, local_host="127.0.0.2")
        assert "one address" in message
        # ...and naming someone else in its own X-Forwarded-For does not get it in:
        # nginx appends the address it saw, and that is the one the server believes.
        await refused_as_full(proxy, local_host="127.0.0.2", forwarded_for="198.51.100.7")
        for peer in (first, other):  # the two are untouched
            await peer.send({"type": "ping"})
            await peer.of_type("pong")
    finally:
        server.stop()


async def test_behind_nginx_each_phone_has_its_own_budget_of_new_connections(
    nginx: StartNginx,
) -> None:
    # Two new connections per address, hardly refilled: through nginx, which opens every one
    # of them from its own address, a hall of more phones than that still gets in, while a
    # device that keeps reconnecting is held back as itself.
    server = start_server(QUIZ, "--connect-burst", "2", "--connect-rate", "0.01")
    try:
        proxy = nginx([upstream(server)])
        devices = [f"127.0.0.{n}" for n in range(2, 7)]
        for device in devices:
            await phone_through(proxy, server.room, local_host=device)
        await phone_through(proxy, server.room, local_host=devices[0])
        with pytest.raises(websockets.InvalidStatus) as refused:
            await through(proxy, "audience", local_host=devices[0])
        assert refused.value.response.status_code == 429
        assert int(refused.value.response.headers["Retry-After"]) >= 1
        # Page loads through nginx do not spend the phones' budget.
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(3):
                page = await http.get(f"{proxy.base}/?room={server.room}")
                assert page.status_code == 200
        await phone_through(proxy, server.room, local_host="127.0.0.7")
    finally:
        server.stop()


async def test_straight_from_the_proxys_own_address_sockets_still_spend_a_budget() -> None:
    # 127.0.0.1 is a trusted proxy by default, so its connections are not counted when
    # accepted: a socket from it that names no one else is counted at its handshake instead.
    server = start_server(QUIZ, "--connect-burst", "2", "--connect-rate", "0.01")
    try:
        for _ in range(2):
            peer = await Peer.open(server.ws, "audience", room=server.room)
            await peer.of_type("welcome", role="audience")
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(f"{server.ws}/audience")
        assert refused.value.response.status_code == 429
    finally:
        server.stop()


async def test_least_conn_sends_new_phones_to_the_emptier_worker(nginx: StartNginx) -> None:
    a, b = start_server(QUIZ, room="TESTR"), start_server(QUIZ, room="TESTR")
    try:
        bosses = [await Peer.open(s.ws, "presenter", key=s.key) for s in (a, b)]
        for boss in bosses:
            await boss.of_type("welcome", role="presenter")

        def phones_on(boss: Peer) -> int:
            presence: list[Message] = [m for m in boss.seen if m["type"] == "presence"]
            return presence[-1]["audience"] if presence else 0

        def counts() -> tuple[int, int]:
            return phones_on(bosses[0]), phones_on(bosses[1])

        async def settle(total: int) -> tuple[int, int]:
            await eventually(lambda: sum(counts()) == total, what=f"{total} phones in all")
            return counts()

        proxy = nginx([upstream(a), upstream(b)])
        async with reading(*bosses):
            on: dict[int, list[Peer]] = {0: [], 1: []}
            for joined in range(1, 5):
                before = counts()
                peer = await phone_through(proxy, "TESTR")
                after = await settle(joined)
                on[0 if after[0] > before[0] else 1].append(peer)
            assert counts() == (2, 2), "four phones, two workers: two each"
            # The phones on the first worker leave (their worker restarted, say)...
            for peer in on[0]:
                await peer.close()
            assert await settle(2) == (0, 2)
            # ...and the next two go to it, the emptier one: not one each (round robin),
            # not all to one (ip_hash: every phone here has the same address).
            for joined in (3, 4):
                await phone_through(proxy, "TESTR")
                await settle(joined)
            assert counts() == (2, 2)
    finally:
        a.stop()
        b.stop()
