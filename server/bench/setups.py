"""`handsup bench --spawn --setups one,redis,workers2,socketio`: several setups side by side.

Each setup is started fresh, measured by the bench's own scenario (`server.bench.run`, with
every option given: slides, votes, kinds, storm...), and stopped; the setups run in the order
given, and that round is made `--repeat` times, so that a disturbance of the shared machine
hits one sample, not one setup:

- `one`: `handsup serve deck.md`, the default (one process, SQLite, no Redis);
- `redis`: the same one process with `--redis URL`: the Redis hop in every command's path,
  measured on its own;
- `workersN`: `--redis URL --workers N`, N workers sharing the session through Redis;
- `socketio`: the Node socket.io peer (bench/node/server.js), spoken to in socket.io framing,
  the yardstick of issue 13's reconnect storm.

Each Redis setup gets a fresh redis-server (Debian's, on loopback, in a temporary folder,
`appendonly yes` with `appendfsync everysec`: the default durability), counted as part of the
server: every CPU figure is the sum over every process the server runs (the supervisor, its
workers, redis-server; node for the peer).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import uvloop

from server.bench import answers, boards, run, target
from server.bench.pool import Pool
from server.bench.worker import raise_fd_limit

ROOT = target.DECK.parent
NODE_DIR = ROOT / "bench" / "node"
BASE = "one"  # the setup every other one's cost is compared with, round by round
PEER = "socketio"  # the setup whose storm figures handsup's are compared with


class Unavailable(Exception):
    """A setup this machine cannot run (a program missing): skipped, and said why."""


@dataclass(frozen=True)
class Setup:
    """One way of running the server, as named in `--setups`."""

    name: str
    label: str
    workers: int = 1  # handsup processes
    redis: bool = False
    peer: bool = False  # the Node socket.io peer, not handsup


def parse(text: str) -> list[Setup]:
    """The setups named in `--setups` (ValueError for a name that is none)."""
    found: list[Setup] = []
    for name in (n.strip() for n in text.split(",")):
        match = re.fullmatch(r"workers([1-9][0-9]*)", name)
        if name == BASE:
            found.append(Setup(name, "1 worker"))
        elif name == "redis":
            found.append(Setup(name, "1 worker + Redis", redis=True))
        elif match:
            count = int(match.group(1))
            label = f"{count} worker{'s' if count > 1 else ''} + Redis"
            found.append(Setup(name, label, workers=count, redis=True))
        elif name == PEER:
            found.append(Setup(name, "socket.io (Node)", peer=True))
        else:
            raise ValueError(f"unknown setup {name!r} (one, redis, workersN, socketio)")
    if len({s.name for s in found}) != len(found):
        raise ValueError("a setup is named twice")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _tree(root: psutil.Process, extra: list[psutil.Process]) -> list[psutil.Process]:
    """A process, its descendants (workers) and the extra ones (redis-server)."""
    try:
        found = [root, *root.children(recursive=True)]
    except psutil.Error:
        found = []
    return found + extra


@dataclass
class Servers(target.Target):
    """The server under test as every process it runs: CPU and memory are their sums."""

    extra: list[psutil.Process] = field(default_factory=list)

    def pids(self) -> set[int]:
        """Every process of the server now."""
        if self.process is None:
            return set()
        return {p.pid for p in _tree(self.process, self.extra)}

    def cpu_seconds(self) -> float | None:
        """User + system CPU of every server process so far."""
        if self.process is None:
            return None
        total = 0.0
        for process in _tree(self.process, self.extra):
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def rss_mb(self) -> float | None:
        """Resident memory of every server process together, in MiB."""
        if self.process is None:
            return None
        total = 0
        for process in _tree(self.process, self.extra):
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return total / 2**20


class Bench(run.Bench):
    """The bench's scenario; the load of other processes leaves out every server process."""

    async def cpu(self, pool: Pool) -> dict[str, Any]:
        """As the bench reads it, the workers and redis-server not counted as others."""
        figures = await super().cpu(pool)
        if isinstance(self.server, Servers):
            for pid in self.server.pids():
                figures["others"].pop(pid, None)
        return figures

    async def storm(self, pool: Pool, poll: str) -> None:
        """The bench's storm, counting the connection attempts the kernel dropped meanwhile
        because a listen queue was full: each costs its phone a SYN retransmit (1 s, then 3 s),
        which no server CPU figure shows. Machine-wide (any listener), hence `machine_`."""
        before = listen_drops()
        await super().storm(pool, poll)
        after = listen_drops()
        if "storm" in self.result and before is not None and after is not None:
            self.result["storm"]["machine_listen_drops"] = after - before


def listen_drops() -> int | None:
    """SYNs the kernel dropped because a listen queue overflowed, since boot (Linux's
    TcpExt ListenDrops in /proc/net/netstat; None where there is no such file)."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            row = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(row["ListenDrops"]) if "ListenDrops" in row else None
    return None


def _cpu_of(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server on loopback with the default durability; its URL once it answers."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable("redis-server is not installed (apt-get install redis-server)")
    folder.mkdir(parents=True)
    port = _free_port()
    process = subprocess.Popen(
        [
            binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--logfile", str(folder / "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while True:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=1) as probe,
        ):
            probe.sendall(b"PING\r\n")
            if probe.recv(64).startswith(b"+PONG"):
                return process, f"redis://127.0.0.1:{port}/0"
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)  # polling a starting process: nothing to wait on but its port


def _started(child: subprocess.Popen[str], log: Path, what: str) -> str:
    """The base URL a starting server prints (`display: URL/display` or `ready: URL ...`)."""
    assert child.stdout is not None
    for line in child.stdout:
        name, _, value = line.strip().partition(": ")
        if name == "display":
            return value.strip().partition("/display")[0]
        if name == "ready":
            return value.split()[0]
    code = child.wait()
    raise RuntimeError(f"{what} exited with {code} before it was ready: {log.read_text()[-2000:]}")


def _popen(command: list[str], folder: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    with (folder / "stderr.log").open("w") as log:  # the child holds its own copy
        return subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True, env=env
        )


def start_handsup(
    setup: Setup, deck: Path, folder: Path, redis_url: str | None
) -> tuple[subprocess.Popen[str], str, str]:
    """`handsup serve DECK` as the setup asks; its process, base URL and presenter key."""
    key = secrets.token_urlsafe(18)
    command = [
        sys.executable, "-m", "server.cli", "serve", str(deck), "--host", "127.0.0.1",
        "--port", str(_free_port()), "--data", str(folder / "data"), f"--presenter-key={key}",
        "--no-watch",
    ]  # fmt: skip
    if setup.workers > 1:
        command += ["--workers", str(setup.workers)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if redis_url is not None:
        env["HANDSUP_REDIS_URL"] = redis_url  # as --redis, kept out of the process list
    child = _popen(command, folder, env)
    try:
        return child, _started(child, folder / "stderr.log", "handsup serve"), key
    except BaseException:
        _stop(child)
        raise


def prepare_node(folder: Path) -> tuple[str, Path]:
    """What the socket.io peer needs: its modules (`npm ci` once, into a cache outside the
    work tree, keyed by the lock file) and the deck's views (bench/node_deck.py) in `folder`.
    Returns NODE_PATH and the deck file; Unavailable if node or npm is missing or fails."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
        raise Unavailable(f"{missing} not installed (apt-get install nodejs npm)")
    lock = (NODE_DIR / "package-lock.json").read_bytes()
    modules = NODE_DIR / "node_modules"
    if not (modules / "socket.io").exists():  # not installed by bench/compare.py: our cache
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        place = cache / "handsup" / f"socketio-peer-{hashlib.sha256(lock).hexdigest()[:12]}"
        modules = place / "node_modules"
        if not (modules / "socket.io").exists():
            place.mkdir(parents=True, exist_ok=True)
            for name in ("package.json", "package-lock.json"):
                shutil.copy(NODE_DIR / name, place / name)
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--silent"],
                cwd=place, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            if done.returncode != 0:
                raise Unavailable(f"npm ci failed: {(done.stderr or done.stdout)[-500:]}")
    views = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "node_deck.py")],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    deck = folder / "deck.json"
    deck.write_text(views)
    return str(modules), deck


def start_peer(node_path: str, deck: Path, folder: Path) -> tuple[subprocess.Popen[str], str, str]:
    """`node bench/node/server.js`; its process, base URL and key."""
    key = secrets.token_hex(12)  # hex: never a leading "-" for its argument parser
    command = ["node", str(NODE_DIR / "server.js"), "--key", key, "--deck", str(deck)]
    child = _popen(command, folder, {**os.environ, "NODE_PATH": node_path})
    try:
        return child, _started(child, folder / "stderr.log", "node server.js"), key
    except BaseException:
        _stop(child)
        raise


def _stop(child: subprocess.Popen[Any]) -> None:
    """Stop a process we started and whatever it started (a supervisor's workers)."""
    try:
        family = psutil.Process(child.pid).children(recursive=True)
    except psutil.Error:
        family = []
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    for process in family:  # left behind by a supervisor that did not stop them
        with contextlib.suppress(psutil.Error):
            process.kill()
    if child.stdout is not None:
        child.stdout.close()


def measure(
    setup: Setup, options: run.Options, deck: Path, node: tuple[str, Path] | None
) -> dict[str, Any]:
    """Start one setup, run the bench's scenario against it, stop it."""
    folder = Path(tempfile.mkdtemp(prefix=f"handsup-setup-{setup.name}-"))
    started: list[subprocess.Popen[Any]] = []
    try:
        redis_url, redis_ps = None, []
        if setup.redis:
            redis, redis_url = start_redis(folder / "redis")
            started.append(redis)
            redis_ps = [psutil.Process(redis.pid)]
        if setup.peer:
            assert node is not None
            child, url, key = start_peer(*node, folder)
        else:
            child, url, key = start_handsup(setup, deck, folder, redis_url)
        started.append(child)
        # Quiz scores are checked against the SQLite log: only where the log is.
        data = folder / "data" if not (setup.redis or setup.peer) else None
        server = Servers(url, key, psutil.Process(child.pid), _data=data, extra=redis_ps)
        kinds = ("choice",) if setup.peer else options.kinds  # the peer has only the vote
        mine = dataclasses.replace(
            options, url=url, key=key, label=setup.label, kinds=kinds,
            dialect="socketio" if setup.peer else "handsup",
        )  # fmt: skip
        bench = Bench(mine, server)
        # The peer has no `POST /api/stalls`, and leaves the request unanswered: not asked.
        bench.no_stalls = setup.peer
        result: dict[str, Any] = uvloop.run(bench.run())
        result["server_cpu_s"] = round(server.cpu_seconds() or 0.0, 2)  # the whole run
        result["redis_cpu_s"] = round(_cpu_of(redis_ps), 2) if redis_ps else None
        if setup.workers > 1 and result.get("loop_workers", setup.workers) < setup.workers:
            # Each read of `POST /api/stalls` gathers every worker's window through Redis; a
            # worker that did not answer within its wait is missing from some phase.
            result["loop_note"] = "loop stalls: not every worker answered every read"
        if setup.peer and set(options.kinds) - {"choice"}:
            result["note"] = "the socket.io peer has only the choice vote: no other kinds"
        return result
    finally:
        for process in reversed(started):
            _stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def _deck(options: run.Options, folder: Path) -> Path:
    """deck.md, or with `--kind` deck.md and a poll of each kind (as `handsup bench --spawn`)."""
    if not set(options.kinds) - {"choice"}:
        return target.DECK
    text = answers.kinds_deck(target.DECK.read_text(), math.ceil(options.vote_window) + 2)
    if set(options.kinds) & set(boards.KINDS):
        text = boards.with_boards(text)
    deck = folder / "deck.md"
    deck.write_text(text)
    return deck


def compare(samples: list[dict[str, Any]]) -> None:
    """Each sample against the same round's 1 worker (cost per phone per slide change) and
    the same round's socket.io peer (storm p99), in place."""
    by_round: dict[tuple[str, int], dict[str, Any]] = {(s["setup"], s["round"]): s for s in samples}
    for sample in samples:
        one = by_round.get((BASE, sample["round"]))
        cost = sample.get("server_cpu_us_per_msg")
        alone = (one or {}).get("server_cpu_us_per_msg")
        sample["cost_vs_one"] = round(cost / alone, 2) if cost and alone else None
        for name in ("fanout_ms", "first_phone_ms"):
            mine, base = _p(sample, name, "p50"), _p(one, name, "p50")
            sample[f"{name}_p50_vs_one"] = _minus(mine, base)
        sample["fanout_ms_p99_vs_one"] = _minus(
            _p(sample, "fanout_ms", "p99"), _p(one, "fanout_ms", "p99")
        )
        peer = by_round.get((PEER, sample["round"]))
        if "storm" in sample and peer is not None and "storm" in peer:
            mine_p99 = _p(sample.get("storm"), "sync_ms", "p99")
            theirs = _p(peer.get("storm"), "sync_ms", "p99")
            sample["storm_p99_vs_socketio_ms"] = _minus(mine_p99, theirs)
            sample["storm_no_later_than_socketio"] = (
                mine_p99 <= theirs if mine_p99 is not None and theirs is not None else None
            )


def _p(figures: dict[str, Any] | None, name: str, which: str) -> float | None:
    value = ((figures or {}).get(name) or {}).get(which)
    return None if value is None else float(value)


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 2)


def _pair(figures: dict[str, Any] | None, unit: str = "") -> str:
    figures = figures or {}
    return f"{_num(figures.get('p50'))} / {_num(figures.get('p99'))}{unit}"


def _num(value: Any) -> str:
    return "-" if value is None else f"{value}"


COLUMNS = (
    "setup | round | slide change p50 / p99 ms | first phone's slide p50 ms | server CPU per "
    "phone per slide change µs | vs 1 worker | CPU per connect ms | CPU per vote µs | vote ack "
    "p50 / p99 ms | votes counted / sent | storm p99: drop→in sync / redial→in sync ms (SYNs "
    "dropped) | longest loop stall / less waits for a core ms | whole run CPU s (redis-server) "
    "| other load cores"
)


def table(report: dict[str, Any]) -> str:
    """The samples side by side, one row each (a Markdown table), and what was skipped."""
    lines = [
        f"{report['audience']} phones, {report['slides']} slide changes, one vote each within "
        f"{report['vote_window']} s, {report['rounds']} round(s) of: "
        + ", ".join(s["label"] for s in report["setups"]),
        "",
        f"| {COLUMNS} |",
        "|" + " --- |" * (COLUMNS.count("|") + 1),
    ]
    labels = {s["name"]: s["label"] for s in report["setups"]}
    for name in labels:
        for s in (s for s in report["samples"] if s["setup"] == name):
            storm = s.get("storm") or {}
            storm_text = (
                f"{_num(_p(storm, 'sync_ms', 'p99'))} / {_num(_p(storm, 'resync_ms', 'p99'))}"
                f" ({_num(storm.get('machine_listen_drops'))})"
                if storm
                else "-"
            )
            stall = f"{_num(s.get('longest_stall_ms'))} / {_num(s.get('longest_held_ms'))}" + (
                " *" if s.get("loop_note") else ""
            )
            redis = f" ({s['redis_cpu_s']})" if s.get("redis_cpu_s") is not None else ""
            cells = [
                labels[name], str(s["round"]), _pair(s.get("fanout_ms")),
                _num((s.get("first_phone_ms") or {}).get("p50")),
                _num(s.get("server_cpu_us_per_msg")),
                "-" if s.get("cost_vs_one") is None else f"{s['cost_vs_one']}x",
                _num(s.get("server_cpu_ms_per_connect")), _num(s.get("server_cpu_us_per_vote")),
                _pair(s.get("vote_ack_ms")),
                f"{_num(s.get('votes_counted'))} / {_num(s.get('votes_sent'))}",
                storm_text, stall,
                f"{_num(s.get('server_cpu_s'))}{redis}", _num(s.get("other_load_cores")),
            ]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if any(s.get("loop_note") for s in report["samples"]):
        lines.append(
            "* several workers: not every worker answered every read of its loop's figures "
            "(the worst of those that did)"
        )
    if any("storm" in s for s in report["samples"]):
        lines.append(
            "SYNs dropped: connection attempts the kernel dropped during the storm because a "
            "listen queue was full (the whole machine's); each costs a phone a 1 s or 3 s retry"
        )
    against = [s for s in report["samples"] if s["setup"] != BASE and s.get("cost_vs_one")]
    if against:
        lines += [
            "",
            "Against the 1 worker of the same round (slide change p50, p99; first phone p50):",
        ]
        for s in against:
            lines.append(
                f"- {labels[s['setup']]}, round {s['round']}: cost per phone per slide change "
                f"{s['cost_vs_one']}x; slide change {_signed(s.get('fanout_ms_p50_vs_one'))}, "
                f"{_signed(s.get('fanout_ms_p99_vs_one'))} ms; first phone "
                f"{_signed(s.get('first_phone_ms_p50_vs_one'))} ms"
            )
    storms = [s for s in report["samples"] if s.get("storm_p99_vs_socketio_ms") is not None]
    storms = [s for s in storms if s["setup"] != PEER]
    if storms:
        lines += ["", "Storm (drop→in sync p99) against socket.io in the same round:"]
        for s in storms:
            verdict = "no later" if s["storm_no_later_than_socketio"] else "LATER"
            lines.append(
                f"- {labels[s['setup']]}, round {s['round']}: "
                f"{_signed(s['storm_p99_vs_socketio_ms'])} ms ({verdict})"
            )
    for name, why in report["skipped"].items():
        lines.append(f"SKIPPED {name}: {why}")
    return "\n".join(lines)


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}"


def main(args: argparse.Namespace) -> int:
    """Measure each setup `--repeat` times, alternating; print them side by side."""
    if not args.spawn:
        print("handsup bench: --setups starts each setup itself: give --spawn", file=sys.stderr)
        return 2
    try:
        setups = parse(args.setups)
    except ValueError as error:
        print(f"handsup bench: --setups: {error}", file=sys.stderr)
        return 2
    if args.repeat < 1:
        print("handsup bench: --repeat must be at least 1", file=sys.stderr)
        return 2
    try:
        kinds = run.kinds_of(args.kind)
    except ValueError as error:
        print(f"handsup bench: {error}", file=sys.stderr)
        return 2
    raise_fd_limit()
    options = run.Options(
        url=None, key="", room=None, audience=args.audience, slides=args.slides,
        vote_window=args.vote_window, choice_window=args.choice_window, stuck=args.stuck,
        live_results=args.live_results, storm=args.storm, spawn=True, workers=args.workers,
        dialect="handsup", label="", quiet=True, seed=args.seed, kinds=kinds,
        vocabulary=args.vocabulary, zipf=args.zipf, storm_spread=args.storm_spread,
        harness_nice=args.harness_nice,
    )  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="handsup-setups-"))
    skipped: dict[str, str] = {}
    samples: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        deck = _deck(options, folder)
        node = None
        if any(s.peer for s in setups):
            try:
                node = prepare_node(folder)
            except Unavailable as error:
                skipped[PEER] = str(error)
        if any(s.redis for s in setups) and shutil.which("redis-server") is None:
            for s in setups:
                if s.redis:
                    skipped[s.name] = "redis-server is not installed (apt-get install redis-server)"
        for name, why in skipped.items():
            print(f"handsup bench: SKIPPING {name}: {why}", file=sys.stderr, flush=True)
        for number in range(1, args.repeat + 1):
            for setup in (s for s in setups if s.name not in skipped):
                _say(f"round {number}: {setup.label} ...")
                try:
                    result = measure(setup, options, deck, node)
                except (RuntimeError, OSError, subprocess.SubprocessError) as error:
                    result = {"ok": False, "problems": [f"could not run: {error}"]}
                result = {"setup": setup.name, "round": number, **result}
                samples.append(result)
                problems += [f"{setup.label}, round {number}: {p}" for p in result["problems"]]
                _say(f"  {_line(result)}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    compare(samples)
    report = {
        "setups": [{"name": s.name, "label": s.label} for s in setups],
        "rounds": args.repeat,
        "audience": args.audience,
        "slides": args.slides,
        "vote_window": args.vote_window,
        "storm_spread_s": args.storm_spread if args.storm else None,
        "samples": samples,
        "skipped": skipped,
        "problems": problems,
        "ok": not problems,
    }
    print(json.dumps(report) if args.json else table(report))
    for problem in problems:
        print(f"handsup bench: PROBLEM: {problem}", file=sys.stderr)
    return 0 if report["ok"] else 1


def _say(text: str) -> None:
    """Progress, on stderr: stdout holds only the table (or the one JSON object)."""
    print(text, file=sys.stderr, flush=True)


def _line(result: dict[str, Any]) -> str:
    return (
        f"slide change p99 {_p(result, 'fanout_ms', 'p99')} ms, "
        f"{_num(result.get('votes_counted'))} votes counted, ok={result.get('ok')}"
    )
