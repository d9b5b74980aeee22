"""A newcomer's first run: `handsup --version`, `--help` with every default, a second server on
a data folder already in use refuses to start (it would write one session's log from two
processes), and the terminal says what happens once the server runs."""

from __future__ import annotations

import argparse
import asyncio
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from server.cli import build_parser
from server.settings import LIMIT_FLAGS
from tests.serverproc import DECK, ROOT, ServerProcess, start_server
from tests.wsclient import Peer


def handsup(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version_is_printed() -> None:
    done = handsup("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("handsup ") and done.stdout.split()[1][0].isdigit()


def test_a_second_server_on_a_folder_in_use_refuses_then_starts_once_it_is_free(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    first = start_server(data=data)
    try:
        second = handsup(
            "serve", "deck.md", "--data", str(data), "--port", "0", "--host", "127.0.0.1"
        )
        assert second.returncode == 1
        assert f"{data} is in use by a running handsup server" in second.stderr
        assert f"process {first.process.pid}" in second.stderr
        assert "audience:" not in second.stdout  # it never got as far as printing URLs
    finally:
        first.stop()
    # Stopped (the kernel drops the lock even after kill -9): the folder is free again.
    again = start_server(data=data)
    again.stop()


def read_until(server: ServerProcess, wanted: str, timeout: float = 30) -> list[str]:
    """Lines the server prints after its URLs, up to the first that contains `wanted`."""
    lines: queue.Queue[str] = queue.Queue()
    stdout = server.process.stdout
    assert stdout is not None

    def pump() -> None:
        for line in stdout:
            lines.put(line.rstrip("\n"))
            if wanted in line:
                return

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while not seen or wanted not in seen[-1]:
        seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
    return seen


def test_the_terminal_says_when_the_deck_is_reloaded_or_refused_and_when_it_stops(
    tmp_path: Path,
) -> None:
    deck = tmp_path / "deck.md"
    deck.write_text("# One\n\n---\n\n# Two\n", encoding="utf-8")
    server = start_server(deck, data=tmp_path / "data")
    try:
        deck.write_text("---\nquizz: true\n---\n\n# One\n", encoding="utf-8")
        refused = read_until(server, "unknown deck option")
        assert "handsup: deck refused, still showing the last good version:" in refused
        deck.write_text("# One\n\n---\n\n# Two\n\n---\n\n# Three\n", encoding="utf-8")
        assert read_until(server, "deck reloaded")[-1] == "handsup: deck reloaded: 3 slides"
        server.process.send_signal(signal.SIGINT)
        assert read_until(server, "stopped")[-1] == (
            f"handsup: stopped; the votes are kept in {tmp_path / 'data'}"
        )
    finally:
        server.stop()


def option_help(text: str, flag: str) -> str:
    """The lines of `--help` output that describe `flag` (its line and the wrapped help after)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"\s+(-\w+ \S+, )?{flag}\b", line))
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = [lines[start]]
    for line in lines[start + 1 :]:
        stripped = line.lstrip()
        if not stripped or (stripped.startswith("-") and len(line) - len(stripped) <= indent):
            break
        block.append(line)
    return " ".join(part.strip() for part in block)


def test_help_says_every_options_default() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    checked = 0
    for name, command in [("", parser), *commands.choices.items()]:
        shown = handsup(*([name] if name else []), "--help")
        assert shown.returncode == 0, shown.stderr
        for action in command._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            has_default = action.default not in (None, False, argparse.SUPPRESS)
            if not (has_default or action.dest in LIMIT_FLAGS or action.dest == "max_connections"):
                continue
            described = option_help(shown.stdout, action.option_strings[-1])
            assert "default" in described, (
                f"handsup {name} {action.option_strings[-1]}: {described}"
            )
            checked += 1
    assert checked >= 25
    serve = handsup("serve", "--help").stdout
    assert "(default: 8000" in option_help(serve, "--port")
    assert "(default: 8192)" in option_help(serve, "--max-header")
    assert "(default: 0.5)" in option_help(serve, "--text-rate")
    assert "(default: 10)" in option_help(handsup("bench", "--help").stdout, "--slides")


async def test_the_terminal_says_now_and_then_how_many_phones_are_connected(
    tmp_path: Path,
) -> None:
    server = start_server(DECK, "--presence-every", "0.1", data=tmp_path / "data")
    try:
        phones = [await Peer.open(server.ws, "audience", room=server.room) for _ in range(3)]
        screen = await Peer.open(server.ws, "display", room=server.room)
        presenter = await Peer.open(server.ws, "presenter", key=server.key)
        for peer in [*phones, screen, presenter]:
            await peer.state()
        # Lines printed while they were connecting count fewer; this one comes once all are in.
        said = await asyncio.to_thread(read_until, server, "3 phones connected, 1 screen, 1 pre")
        assert said[-1] == "handsup: 3 phones connected, 1 screen, 1 presenter"
        await phones[0].close()
        said = await asyncio.to_thread(read_until, server, "2 phones")
        assert said[-1] == "handsup: 2 phones connected, 1 screen, 1 presenter"
    finally:
        await Peer.close_all()
        server.stop()
