"""`handsup serve`: bind a socket, print where to point each screen, run uvicorn on it."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import resource
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import uvicorn

from server.app import create_app
from server.connection import protocol_factory
from server.gate import gate_factory
from server.limits import HEADROOM
from server.lock import FolderInUse, lock_folder
from server.net import public_base_url
from server.privacy import due
from server.settings import LIMIT_FLAGS, Settings
from server.stalls import GcPolicy
from server.tallies import TYPED
from slides import DeckError

# Descriptors that are not client sockets: the listener, SQLite's three files, the event
# loop's own, the deck watcher, standard streams; and the sockets read past a cap (HEADROOM).
FD_RESERVE = 64 + HEADROOM
DEFAULT_MAX_CONNECTIONS = Settings.model_fields["max_connections"].default
_KEY_IN_URL = re.compile(r"(key=)[^&\s\"]+")
# A key in a URL (`key=…`, also inside a logged ASGI scope) or in a logged hello frame.
_KEY_ANYWHERE = re.compile(r"""(key=|"key":\s*")[^&\s"',}]+""")


class RedactKey(logging.Filter):
    """Keep the presenter key out of access logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _KEY_IN_URL.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args
            )
        return True


class RedactMessage(logging.Filter):
    """Keep the presenter key out of every other uvicorn log line: websocket paths (info),
    frames (debug, the presenter's hello) and ASGI scopes (trace)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _KEY_ANYWHERE.sub(r"\1…", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def bind(host: str, port: int, *, reuse_port: bool = False, listen: bool = True) -> socket.socket:
    """A listening socket (port 0: any free port), with a backlog fit for a hall reconnecting.

    `reuse_port`: one of a group on the same port (`--workers`, server.workers); without
    `listen` it only holds the port for the group."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(4096)
    sock.set_inheritable(True)
    return sock


def raise_open_files() -> int:
    """Raise this process's soft limit on open files as far as the hard limit allows (a
    laptop's usual 1,024 would cap a hall at about 1,000 sockets); the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # "unlimited" is not a value setrlimit takes everywhere (macOS caps at OPEN_MAX).
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    for target in (wanted, 10_240):
        if soft == resource.RLIM_INFINITY or target <= soft:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            continue
        soft = target
        break
    return int(soft) if soft != resource.RLIM_INFINITY else 1 << 20


def reserve_descriptors(count: int) -> None:
    """Grow this process's table of open files to hold `count` now, at start-up, rather than
    while a hall's phones connect. The kernel doubles the table when a new socket needs a
    slot past its end, and in a process with threads each doubling first waits for an RCU
    grace period: `accept` blocked the loop 10-20 ms at 1,024, 2,048 and 4,096 sockets
    (measured with `perf` on the connect phase at 5,000 phones, 2026-12-08: the loop's
    longest stalls there, with neither its CPU nor a wait for a core in them). The table
    never shrinks; opening the highest slot once grows it to fit, and closing it frees the
    slot. Where that fails (a limit lower than asked), it grows as it used to."""
    if count < 2:
        return
    highest = count - 1
    try:
        os.fstat(highest)
        return  # in use, so the table already holds it (and dup2 must not close it)
    except OSError:
        pass
    try:
        spare = os.open(os.devnull, os.O_RDONLY)
    except OSError:
        return
    try:
        os.dup2(spare, highest, inheritable=False)
        os.close(highest)
    except OSError:
        pass
    finally:
        os.close(spare)


def connection_budget(open_files: int, asked: int | None) -> tuple[int, str | None]:
    """`--max-connections` as asked, or the default, but never more than the open-file limit
    can hold; and a warning when that limit lowered it."""
    room = max(16, open_files - FD_RESERVE)
    wanted = asked if asked is not None else DEFAULT_MAX_CONNECTIONS
    if wanted <= room:
        return wanted, None
    return room, (
        f"the open-file limit ({open_files}) allows {room} connections, not {wanted}: "
        "raise it (ulimit -n, or LimitNOFILE= under systemd) for a bigger hall"
    )


def _limits(args: argparse.Namespace) -> dict[str, Any]:
    """Limit settings given on the command line (the rest keep their defaults)."""
    return {
        setting: getattr(args, flag)
        for flag, setting in LIMIT_FLAGS.items()
        if getattr(args, flag, None) is not None
    }


def _shown(url: str) -> str:
    """A Redis URL fit for the terminal: its password (if any) left out."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:…@{host}"))


def serve(args: argparse.Namespace) -> int:
    """Run the server until interrupted; 1 if the deck is broken or the port is taken."""
    worker = getattr(args, "worker_index", None)  # set for the processes `--workers` starts
    try:
        if getattr(args, "listen_fd", None) is not None:
            from server.workers import listener

            sock = listener(args.listen_fd)
        else:
            # `--workers`: the supervisor holds the port, each worker listens on it itself.
            several = worker is None and getattr(args, "workers", 1) > 1
            sock = bind(args.host, args.port, reuse_port=several, listen=not several)
    except OSError as error:
        print(
            f"handsup: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr
        )
        return 1
    port = sock.getsockname()[1]
    if worker is None and getattr(args, "workers", 1) > 1:
        from server.workers import supervise

        data = Path(args.data) if args.data else Path(args.deck).parent / "handsup-data"
        return supervise(args, sock, data)
    open_files = raise_open_files()
    max_connections, low = connection_budget(open_files, args.max_connections)
    reserve_descriptors(min(open_files, max_connections + FD_RESERVE))
    settings = Settings(
        deck=args.deck,
        host=args.host,
        port=port,
        public_url=args.public_url,
        presenter_key=args.presenter_key or None,
        moderator_key=args.moderator_key or None,
        room_code=args.room or None,
        data_dir=args.data,
        # `--workers` made the new session already; its workers join it.
        new_session=args.new_session and worker is None,
        # One worker watches the deck: every worker serves an edit through the log.
        watch=not args.no_watch and not worker,
        presence_every=args.presence_every,
        redis_url=getattr(args, "redis", None),
        mirror=not worker,
        trusted_proxies=frozenset(
            ip.strip() for ip in args.forwarded_allow_ips.split(",") if ip.strip()
        ),
        max_connections=max_connections,
        # Shared through Redis, `--max-connections` counts every worker's sockets together.
        room_connections=args.max_connections if getattr(args, "redis", None) else None,
        **_limits(args),
    )
    try:
        # Two servers on one folder would write one session's log from two processes (the
        # supervisor of `--workers` holds it for its workers, of which one writes).
        lock = lock_folder(settings.data_path) if worker is None else None
    except FolderInUse as error:
        print(f"handsup: {error}", file=sys.stderr)
        sock.close()
        return 1
    if settings.redis_url is not None and worker is None and settings.new_session:
        from server.redis_log import forget_session

        forget_session(settings.redis_url)
    try:
        app = create_app(settings)
    except DeckError as error:
        print(error, file=sys.stderr)
        if lock is not None:
            lock.close()
        return 1
    base, warning = public_base_url(settings.host, port, settings.public_url)
    talk = app.state.talk
    deck = talk.session.deck
    print(f"handsup: {deck.meta.title or args.deck}: {deck.summary()}")
    shared = talk.shared
    if shared is not None and settings.redis_url is not None:
        how = "joined" if talk.resumed else "created"
        print(
            f"  redis:     {how} the shared session in {_shown(settings.redis_url)} "
            f"({shared.applied} log entries, at slide {talk.session.position + 1})"
        )
    elif talk.resumed:
        print(f"  resumed session {talk.store.session_id} at slide {talk.session.position + 1}")
    print(f"  audience:  {base}/?room={talk.room_code}")
    print(f"  display:   {base}/display?room={talk.room_code}")
    # In the fragment: the browser never sends it, so no server or proxy logs it.
    print(f"  presenter: {base}/presenter#key={talk.presenter_key}")
    print(f"  results:   {base}/results#key={talk.presenter_key}")
    # A moderator has something to do when the talk takes questions or people type answers.
    typed = any(s.poll is not None and s.poll.type in TYPED for s in deck.slides)
    if deck.meta.qa is not None or typed:
        print(f"  moderator: {base}/moderate#key={app.state.room.moderator_key}")
    overdue = due(talk.store, time.time())
    if overdue:
        print(
            f"  retention: {len(overdue)} session{'s are' if len(overdue) != 1 else ' is'} past "
            f"its retention; delete with: handsup prune --data {settings.data_path}"
        )
    print(f"  listening: {args.host}:{port}")
    lowered = "; lowered to fit, see the warning" if low else ""
    print(f"  limits:    {max_connections} connections (open files: {open_files}{lowered})")
    if settings.room_connections is not None:
        print(f"             {settings.room_connections} connections on every worker together")
    print(f"  data:      {settings.data_path}")
    for problem in (warning, low, *(shared.warnings if shared is not None else [])):
        if problem:
            print(f"  warning: {problem}")
    for note in deck.warnings:  # what was ignored or dropped, so nothing vanishes silently
        print(f"  deck {note}")
    sys.stdout.flush()
    logging.getLogger("uvicorn.access").addFilter(RedactKey())
    for name in ("uvicorn.error", "uvicorn.asgi"):
        logging.getLogger(name).addFilter(RedactMessage())
    config = uvicorn.Config(
        app,
        log_level=args.log_level,
        # Upgraded sockets go to our own protocol (websockets' sans-I/O core, no ASGI): the
        # uvicorn `ws_*` settings do not apply to it. No permessage-deflate: frames here are a
        # few hundred bytes, and compression costs memory per socket and CPU per frame.
        ws=protocol_factory(app.state.endpoint),  # type: ignore[arg-type]
        # Every TCP connection is read by server.gate (uvicorn's httptools parser with limits
        # on the request's size and time, counted from accept), which hands upgrades to ws.
        http=gate_factory(app.state.doorway),  # type: ignore[arg-type]
        # A hall's sockets, not its page loads, are what is served: no Date or Server header.
        date_header=False,
        server_header=False,
        # Page loads (the wrong-key waits on /presenter and /results) believe the same proxies
        # as the sockets do, not only uvicorn's own default.
        forwarded_allow_ips=args.forwarded_allow_ips,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    # The deck is parsed and the session replayed: freeze them out of the collector's sight.
    GcPolicy(app.state.stalls).apply()
    # Server.run picks uvloop (and httptools) where installed.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    if lock is not None:
        lock.close()
    if worker is None:
        print(f"handsup: stopped; the votes are kept in {settings.data_path}", flush=True)
    return 0
