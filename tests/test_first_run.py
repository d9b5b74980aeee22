"""A newcomer's first run: `handsup --version`, and a second server on a data folder already
in use refuses to start (it would write one session's log from two processes)."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.serverproc import ROOT, ServerProcess, start_server


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
