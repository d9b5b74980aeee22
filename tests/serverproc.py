"""A real `handsup serve` in a subprocess on a free port, as a person would start it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
DECK = ROOT / "deck.md"


@dataclass
class ServerProcess:
    """A running server: its process and the URLs it printed."""

    process: subprocess.Popen[str]
    audience: str
    display: str
    presenter: str
    key: str
    room: str
    data: Path
    temporary: bool = False
    warning: str | None = None
    port: int = 0
    limits: str = ""  # the `limits:` line of the banner
    moderator_key: str = ""  # printed when the deck takes questions
    retention: str | None = None  # printed when stored sessions are past their retention
    banner: list[str] = field(default_factory=list)  # every line printed at start-up

    @property
    def base(self) -> str:
        """Where the test reaches the server (loopback, whatever address it printed)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        if self.temporary:
            shutil.rmtree(self.data, ignore_errors=True)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


def start_server(
    deck: Path | None = DECK,
    *extra: str,
    key: str | None = "test-presenter-key",
    room: str = "TESTR",
    data: Path | None = None,
    open_files: int | tuple[int, int] | None = None,
) -> ServerProcess:
    """Start `handsup serve` on 127.0.0.1 with a free port and wait until it answers.

    `data` is the data folder; by default a new temporary one, removed when the server stops.
    `open_files` sets its limit on open files, as a laptop's `ulimit -n`: (soft, hard), or
    one number for both.
    """
    temporary = data is None
    data = Path(tempfile.mkdtemp(prefix="handsup-test-")) if data is None else data
    command = [
        sys.executable, "-m", "server.cli", "serve", str(deck or DECK), "--data", str(data),
        "--port", "0", "--room", room,
        *([] if "--host" in extra else ["--host", "127.0.0.1"]),
        *(["--presenter-key", key] if key else []), *extra,
    ]  # fmt: skip
    if open_files is not None:  # the same process (exec), under the lower limit
        soft, hard = open_files if isinstance(open_files, tuple) else (open_files, open_files)
        limit = (
            "import os, resource, sys; "
            f"resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard})); "
            "os.execv(sys.executable, sys.argv[1:])"
        )
        command = [sys.executable, "-c", limit, *command]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    urls: dict[str, str] = {}
    banner: list[str] = []
    while "data" not in urls:  # the last line printed at start-up
        line = process.stdout.readline()
        banner.append(line.rstrip("\n"))
        if not line:
            raise RuntimeError(f"server exited with {process.wait()} before printing its URLs")
        name, _, url = line.strip().partition(": ")
        if name in (
            "audience",
            "display",
            "presenter",
            "moderator",
            "retention",
            "listening",
            "limits",
            "data",
            "warning",
        ):
            urls[name] = url.strip()
    printed_key = urls["presenter"].partition("key=")[2]
    printed_room = urls["audience"].partition("room=")[2]
    server = ServerProcess(
        process, urls["audience"], urls["display"], urls["presenter"], printed_key, printed_room,
        data, temporary, urls.get("warning"), _port(urls["listening"]), urls.get("limits", ""),
        urls.get("moderator", "").partition("key=")[2], urls.get("retention"), banner,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(server.base + "/healthz", timeout=1).raise_for_status()
            return server
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                server.stop()
                raise
            time.sleep(0.05)
