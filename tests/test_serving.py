"""`handsup serve` as a speaker starts it: URLs phones can reach, pages, QR codes."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.serverproc import start_server
from tests.wsclient import Peer


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


async def test_loopback_only_server_warns_and_shows_no_qr_code() -> None:
    server = start_server()
    try:
        screen = await Peer.open(server.ws, "display", room=server.room)
        state = await screen.state()
        assert "phones cannot join" in state["join"]["warning"]
        async with httpx.AsyncClient(base_url=server.base) as http:
            assert (await http.get("/qr/join.svg")).status_code == 404
    finally:
        server.stop()


async def test_public_url_is_used_for_join_link_and_qr_code() -> None:
    server = start_server(None, "--public-url", "https://talk.example.org/")  # type: ignore[arg-type]
    try:
        assert server.audience == "https://talk.example.org/?room=TESTR"
        screen = await Peer.open(server.ws, "display", room=server.room)
        join = (await screen.state())["join"]
        assert (join["url"], join["warning"]) == ("https://talk.example.org/?room=TESTR", None)
        async with httpx.AsyncClient(base_url=server.base) as http:
            answer = await http.get("/qr/join.svg")
        assert answer.status_code == 200 and answer.text.startswith("<svg")
    finally:
        server.stop()


def test_all_interfaces_prints_an_address_phones_can_reach() -> None:
    server = start_server(None, "--host", "0.0.0.0")  # type: ignore[arg-type]
    try:
        host = host_of(server.audience)
        if server.warning:
            assert "no network address" in server.warning
        else:
            assert not ipaddress.ip_address(host).is_loopback, server.audience
        assert host_of(server.presenter) == host == host_of(server.display)
    finally:
        server.stop()


def test_pages_and_presenter_key() -> None:
    server = start_server()
    try:
        with httpx.Client(base_url=server.base) as http:
            assert http.get("/").status_code == 200
            assert http.get("/display").status_code == 200
            assert http.get("/presenter", params={"key": ""}).status_code == 401
            assert http.get("/presenter", params={"key": "wrong"}).status_code == 403
            page = http.get("/presenter", params={"key": server.key})
            assert page.status_code == 200 and "<html" in page.text.lower()
            assert http.get("/qr/slide/12.svg").status_code == 200, "slide 13 is a link slide"
            assert http.get("/qr/slide/0.svg").status_code == 404, "a title slide has no link"
    finally:
        server.stop()


def test_serve_says_what_it_ignored_in_the_deck(tmp_path: Path) -> None:
    deck = tmp_path / "marp.md"
    deck.write_text("---\nmarp: true\ntheme: gaia\n---\n\n# Only slide\n", encoding="utf-8")
    server = start_server(deck)
    try:
        assert server.process.stdout is not None
        # After the URLs: the start-up warnings, then what the deck had that means nothing here.
        lines: list[str] = []
        while len(lines) < 5 and not (lines and lines[-1].startswith("deck ")):
            lines.append(server.process.stdout.readline().strip())
        assert lines[-1].endswith("ignored: theme (line 3)"), lines
    finally:
        server.stop()
