"""A real nginx (Debian's) in front of handsup servers: its own prefix folder, a free port on
loopback, the configuration `handsup deploy nginx` prints. Reusable with any upstreams."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.deploy import NginxOptions, nginx_config

# Debian puts it in /usr/sbin, which is not on every user's PATH.
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# Enough for a test's few hundred sockets, without 2 x 40,960 connections' worth of memory.
TEST_WORKER_CONNECTIONS = 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _prefix() -> Path:
    """A fresh prefix folder nginx's workers can use: they run as `nobody` when the suite runs
    as root, so it must be open to them (pytest's tmp_path is not)."""
    prefix = Path(tempfile.mkdtemp(prefix="handsup-nginx-"))
    prefix.chmod(0o755)
    return prefix


def _on_free_ports(config: str) -> str:
    """The configuration with each `listen` moved to a free loopback port: `nginx -t` binds
    what it listens on, and port 80 or 443 needs root and may be taken (a system nginx)."""
    return re.sub(
        r"^(\s*listen )\S+?( ssl)?;",
        lambda m: f"{m.group(1)}127.0.0.1:{_free_port()}{m.group(2) or ''};",
        config,
        flags=re.MULTILINE,
    )


def check(config: str) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on a whole configuration, in a throwaway prefix, listening on free loopback
    ports whatever it says: its verdict and output."""
    prefix = _prefix()
    try:
        path = prefix / "nginx.conf"
        path.write_text(_on_free_ports(config))
        return subprocess.run(
            [NGINX, "-t", "-c", str(path), "-p", f"{prefix}/"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


@dataclass
class NginxProcess:
    """A running nginx: where to reach it, its prefix folder and configuration."""

    process: subprocess.Popen[str]
    prefix: Path
    port: int
    config: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Fast shutdown (SIGTERM: open websockets are cut), then remove the prefix."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.prefix, ignore_errors=True)


def start_nginx(upstreams: Sequence[str], **options: Any) -> NginxProcess:
    """Start nginx on a free loopback port in front of `upstreams` (HOST:PORT each) and wait
    until it accepts connections. `options` are further `NginxOptions` fields."""
    options.setdefault("worker_connections", TEST_WORKER_CONNECTIONS)
    for _ in range(3):  # another process may take the free port before nginx binds it
        prefix, port = _prefix(), _free_port()
        config = nginx_config(
            NginxOptions(listen=f"127.0.0.1:{port}", upstreams=tuple(upstreams), **options)
        )
        (prefix / "nginx.conf").write_text(config)
        # What nginx says before it opens its error log goes to a file too (never a pipe
        # nobody reads).
        with (prefix / "stderr.log").open("w") as stderr:
            process = subprocess.Popen(
                [NGINX, "-c", str(prefix / "nginx.conf"), "-p", f"{prefix}/", "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                text=True,
                env={**os.environ, "LC_ALL": "C"},
            )
        nginx = NginxProcess(process, prefix, port, config)
        deadline = time.monotonic() + 15
        while process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return nginx
            time.sleep(0.05)  # polling for the port to open: nginx prints nothing when ready
        log = nginx.error_log() + (prefix / "stderr.log").read_text(errors="replace")
        nginx.stop()
        if "Address already in use" not in log:
            raise RuntimeError(f"nginx did not start:\n{log}")
    raise RuntimeError("nginx found no free port")


@contextlib.contextmanager
def running_nginx(upstreams: Sequence[str], **options: Any) -> Iterator[NginxProcess]:
    """`start_nginx`, stopped afterwards (its error log shown if the body failed)."""
    nginx = start_nginx(upstreams, **options)
    try:
        yield nginx
    except BaseException:
        print(f"nginx error log:\n{nginx.error_log()}")
        raise
    finally:
        nginx.stop()
