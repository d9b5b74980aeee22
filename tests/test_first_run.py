"""A newcomer's first run: `handsup --version`, and a second server on a data folder already
in use refuses to start (it would write one session's log from two processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.serverproc import ROOT, start_server


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
