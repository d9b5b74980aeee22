"""The server under test: started by us (`--spawn`) or found by the port it listens on."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil

DECK = Path(__file__).resolve().parent.parent.parent / "deck.md"


@dataclass
class Target:
    """Where the server is, and its process when we could find it."""

    url: str
    key: str
    process: psutil.Process | None
    note: str = ""
    _child: subprocess.Popen[str] | None = field(default=None, repr=False)
    _data: Path | None = field(default=None, repr=False)
    _deck: Path | None = field(default=None, repr=False)  # a deck folder we made

    @property
    def data(self) -> Path | None:
        """The server's data folder, when we started it."""
        return self._data

    def processes(self) -> list[psutil.Process]:
        """The server's processes: itself and, with `--workers`, its workers and redis-server."""
        if self.process is None:
            return []
        try:
            return [self.process, *self.process.children(recursive=True)]
        except psutil.Error:
            return [self.process]

    def rss_mb(self) -> float | None:
        """The server's resident memory in MiB, every process of it (None if unknown)."""
        if self.process is None:
            return None
        total = 0.0
        for process in self.processes():
            with contextlib.suppress(psutil.Error):
                total += float(process.memory_info().rss) / 2**20
        return total

    def worker_rss_mb(self) -> list[float]:
        """Each `--workers` worker's resident memory in MiB (none for a single process)."""
        sizes = []
        for process in self.processes():
            with contextlib.suppress(psutil.Error):
                if "--worker-index" in process.cmdline():
                    sizes.append(float(process.memory_info().rss) / 2**20)
        return sizes

    def send_queues(self, at_least: int = 8192) -> tuple[int, int]:
        """Connections of the server whose kernel send queue holds `at_least` bytes, and the
        bytes they hold: phones that stopped reading, seen from the server's side (Linux)."""
        port = urlsplit(self.url).port or 80
        sockets = held = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError), open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    local, state, queues = fields[1], fields[3], fields[4]
                    if state != "01" or int(local.rsplit(":", 1)[1], 16) != port:
                        continue
                    queued = int(queues.split(":")[0], 16)
                    if queued >= at_least:
                        sockets += 1
                        held += queued
        return sockets, held

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the server has used so far, every process of it (None if
        unknown). A process that ended meanwhile takes its time with it."""
        if self.process is None:
            return None
        total = 0.0
        for process in self.processes():
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += float(times.user + times.system)
        return total

    def waiting_seconds(self) -> float | None:
        """Time the server's event loop thread has spent runnable but waiting for a core (Linux
        schedstat): low CPU with slow acks and a high figure here means the server was held
        back by the machine's other work, not idle (None if unknown)."""
        if self.process is None:
            return None
        try:
            fields = Path(f"/proc/{self.process.pid}/schedstat").read_text().split()
        except OSError:
            return None
        return int(fields[1]) / 1e9

    def stop(self) -> None:
        """Stop the server if we started it, and remove its data."""
        child = self._child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if child is not None and child.stdout is not None:
            child.stdout.close()
        for folder in (self._data, self._deck):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


def listener_of(url: str) -> psutil.Process | None:
    """The process listening on the URL's port on this machine, if it can be seen."""
    port = urlsplit(url).port or 80
    with contextlib.suppress(psutil.Error):
        for conn in psutil.net_connections(kind="tcp"):
            address = conn.laddr
            if (
                conn.status == psutil.CONN_LISTEN
                and isinstance(address, tuple)
                and len(address) == 2
                and address[1] == port
                and conn.pid is not None
            ):
                process = psutil.Process(conn.pid)
                # A `--workers` worker: its supervisor stands for the whole server (the
                # workers each listen on the port; the supervisor only holds it).
                parent = process.parent()
                if "--worker-index" in process.cmdline() and parent is not None:
                    return parent
                return process
    return None


def attach(url: str, key: str) -> Target:
    """A server someone else started."""
    process = listener_of(url)
    note = "" if process else "server process not found: memory and CPU figures are missing"
    return Target(url.rstrip("/"), key, process, note)


def spawn(
    deck: Path = DECK,
    python: str = sys.executable,
    deck_text: str | None = None,
    flags: list[str] | None = None,
) -> Target:
    """Start `handsup serve DECK` on 127.0.0.1 and a free port, with a fresh data folder;
    with `deck_text`, serve that instead (written to a folder of its own); `flags` are more
    of serve's flags (`--workers 2`: the supervisor, whose first worker prints the URLs)."""
    folder = None
    if deck_text is not None:
        folder = Path(tempfile.mkdtemp(prefix="handsup-bench-deck-"))
        deck = folder / "deck.md"
        deck.write_text(deck_text)
    data = Path(tempfile.mkdtemp(prefix="handsup-bench-"))
    key = secrets.token_urlsafe(18)
    command = [
        python, "-m", "server.cli", "serve", str(deck), "--host", "127.0.0.1", "--port", "0",
        "--data", str(data), f"--presenter-key={key}", *(flags or []),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    for line in child.stdout:
        name, _, value = line.strip().partition(": ")
        if name == "display":
            url = value.strip().partition("/display")[0]
            process = psutil.Process(child.pid)
            return Target(url, key, process, _child=child, _data=data, _deck=folder)
    code = child.wait()
    for made in (data, folder):
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
    raise RuntimeError(f"handsup serve exited with {code} before printing its URLs")
