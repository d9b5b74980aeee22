"""`handsup serve --workers N`: one port, N worker processes listening on it.

The supervisor binds the port once (SO_REUSEPORT, not listening: it only holds the port) and
starts N `handsup serve` processes that each listen on it with a socket of their own; the
kernel spreads new connections evenly over them (by a hash of the client's address and port),
and a phone a full worker turns away lands on another worker's socket when it redials from
a new port. (One listening socket shared by all would go to whichever worker is idle first:
a full worker, refusing, is idle, so it took nearly every redial: 2,476 redials and 90 s to
connect 38,000 phones.) The workers share the session through
Redis: the one given with `--redis`, or a private `redis-server` it starts and watches, with
its append-only file under the data folder. A worker or redis-server that dies is started
again; the phones of a dead worker reconnect and land on the others.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from types import FrameType

from server.lock import FolderInUse, lock_folder

POLL = 0.2  # seconds between looks at the children (a supervisor, not a hot path)


MAX_BACKOFF = 10.0  # s: the longest wait before a worker that keeps dying is started again
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _with_supervisor(supervisor: int) -> None:
    """Run in each child between fork and exec: Linux sends it SIGTERM when the supervisor
    dies, however it dies. A supervisor killed with SIGKILL cannot stop its children, and
    orphaned workers would keep accepting phones on the port (each listens on it) with
    nobody restarting them, and a private redis-server would keep the data folder's socket."""
    if _LIBC is None:
        return
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before the request above took effect
        os._exit(1)


# Loaded before any fork: the child between fork and exec only makes the call.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def restart_delay(lived: float, previous: float) -> float:
    """How long to wait before starting again a worker that lived `lived` s, the last wait
    having been `previous`: at once after a long life, doubling while it keeps dying soon."""
    if lived > MAX_BACKOFF:
        return 0.0
    return min(MAX_BACKOFF, max(POLL, 2 * previous))


def redis_config(folder: Path) -> str:
    """The private redis-server's settings: loopback only (a unix socket, no TCP port), the
    append-only file written (to the kernel) before each reply and fsynced every second: an
    acknowledged vote survives redis-server being killed, not a power cut (docs/scaling.md)."""
    return "\n".join(
        [
            "port 0",
            f"unixsocket {folder / 'redis.sock'}",
            "unixsocketperm 700",
            f"dir {folder}",
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            "daemonize no",
            "loglevel warning",
            f"logfile {folder / 'redis.log'}",
            "",
        ]
    )


def start_redis(folder: Path) -> subprocess.Popen[bytes]:
    """Start the private redis-server and wait until it answers."""
    from server.redis_log import connect_sync

    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError(
            "--workers needs redis-server (Debian: apt-get install redis-server), or --redis URL"
        )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = folder / "redis.conf"
    config.write_text(redis_config(folder), encoding="utf-8")
    process = subprocess.Popen(
        [server, str(config)],
        stdin=subprocess.DEVNULL,
        preexec_fn=partial(_with_supervisor, os.getpid()),
    )
    client = connect_sync(redis_url(folder))
    deadline = time.monotonic() + 30  # a long append-only file takes a while to load
    try:
        while True:
            try:
                if client.ping():
                    return process
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server did not start; see {folder / 'redis.log'}"
                    ) from None
                time.sleep(0.05)
    finally:
        client.close()


def redis_url(folder: Path) -> str:
    """The private redis-server's address."""
    return f"unix://{folder / 'redis.sock'}?db=0"


def supervise(args: argparse.Namespace, sock: socket.socket, data: Path) -> int:
    """Run N workers on `sock` until interrupted; restart any that die."""
    try:
        lock = lock_folder(data)
    except FolderInUse as error:
        print(f"handsup: {error}", file=sys.stderr)
        return 1
    # The SQLite file every worker opens (one writes the copy of the log, all read it for the
    # results page): made and migrated once here, not by N workers racing to create tables.
    from server.sqlite_store import connect
    from server.startup import private_folder

    connect(private_folder(data)).close()
    redis_process: subprocess.Popen[bytes] | None = None
    url = args.redis
    folder = data / "redis"
    if url is None:
        try:
            redis_process = start_redis(folder)
        except RuntimeError as error:
            print(f"handsup: {error}", file=sys.stderr)
            return 1
        url = redis_url(folder)
        print(f"handsup: started a private redis-server for {args.workers} workers")
        print(f"  redis:     {url} (append-only file in {folder}, fsynced every second)")
    if args.new_session:
        from server.redis_log import forget_session

        forget_session(url)
    print(f"  workers:   {args.workers} processes share port {sock.getsockname()[1]}", flush=True)
    base = [sys.executable, "-m", "server.cli", *args.argv]
    # The URL goes in the environment, not the command line: other users can list processes,
    # and a Redis URL may hold a password.
    env = {**os.environ, "HANDSUP_REDIS_URL": url}

    def spawn(index: int) -> subprocess.Popen[bytes]:
        command = [*base, "--worker-index", str(index), "--listen-fd", str(sock.fileno())]
        # The first worker prints the banner (the URLs) and the deck reloads; the others
        # would only repeat it.
        quiet = subprocess.DEVNULL if index else None
        return subprocess.Popen(
            command,
            pass_fds=(sock.fileno(),),
            stdout=quiet,
            env=env,
            # Safe here: the supervisor runs no threads.
            preexec_fn=partial(_with_supervisor, os.getpid()),
        )

    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children = {0: spawn(0)}
    for index in range(1, args.workers):
        children[index] = spawn(index)
    # A worker that keeps dying at once (say, a deck broken on disk) is restarted less and
    # less often, up to every MAX_BACKOFF s, rather than five times a second for ever.
    started = dict.fromkeys(children, time.monotonic())
    backoff = dict.fromkeys(children, 0.0)
    due: dict[int, float] = {}
    while not stopping:
        time.sleep(POLL)
        if redis_process is not None and redis_process.poll() is not None and not stopping:
            print("handsup: the private redis-server exited; starting it again", flush=True)
            try:
                redis_process = start_redis(folder)
            except RuntimeError as error:
                print(f"handsup: {error}", file=sys.stderr, flush=True)
        now = time.monotonic()
        for index, child in list(children.items()):
            code = child.poll()
            if code is None or stopping:
                continue
            if index not in due:
                backoff[index] = restart_delay(now - started[index], backoff[index])
                due[index] = now + backoff[index]
                later = f" in {backoff[index]:.1f} s" if backoff[index] > POLL else ""
                print(f"handsup: worker {index} exited ({code}); starting it again{later}")
                sys.stdout.flush()
            if now >= due[index]:
                del due[index]
                children[index] = spawn(index)
                started[index] = now
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if redis_process is not None:
        redis_process.terminate()
        redis_process.wait(10)
    sock.close()
    lock.close()
    print(f"handsup: stopped; the votes are kept in {data}", flush=True)
    return 0


def listener(fd: int) -> socket.socket:
    """This worker's own listening socket, on the port the supervisor holds (its socket,
    passed down as `fd`, closed here: this process has no use for it)."""
    from server.serve import bind

    held = socket.socket(fileno=fd)
    host, port = held.getsockname()[:2]
    held.close()
    return bind(host, port, reuse_port=True)
