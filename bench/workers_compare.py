"""One worker against workers sharing the session through Redis, side by side in one run.

Three setups, each started fresh and measured by `handsup bench`'s own scenario (run here,
in this process, so that every figure can count the CPU of every server process):

- `1 worker`: `handsup serve deck.md`, the default (SQLite, no Redis);
- `1 worker + Redis`: `handsup serve deck.md --redis URL`: the same one process with the
  Redis hop in every command's path, so that what the hop adds is measured on its own;
- `2 workers + Redis`: `handsup serve deck.md --redis URL --workers 2`.

Each Redis setup gets a fresh redis-server (Debian's, on loopback, in a temporary folder,
`appendonly yes` with `appendfsync everysec`: the default durability), counted as part of
the server. The server's CPU is the sum over every process it runs (the supervisor, its
workers, redis-server); so the cost per phone per slide change is that CPU while slides
change, divided by the phones and the slide changes. The setups alternate, `--repeat` times.

Run: .venv/bin/python bench/workers_compare.py [--audience 5000] [--slides 20] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
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

from server.bench import run, target
from server.bench.pool import Pool
from server.bench.screens import Screen
from server.bench.stats import summary
from server.bench.worker import raise_fd_limit

ROOT = Path(__file__).resolve().parent.parent
SETUPS: dict[str, tuple[bool, list[str]]] = {  # name: (with Redis, extra serve arguments)
    "1 worker": (False, []),
    "1 worker + Redis": (True, []),
    "2 workers + Redis": (True, ["--workers", "2"]),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _tree(root: psutil.Process, extra: list[psutil.Process]) -> list[psutil.Process]:
    """A process, its descendants (workers) and the extra ones (redis-server), still alive."""
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
        assert self.process is not None
        return {p.pid for p in _tree(self.process, self.extra)}

    def cpu_seconds(self) -> float | None:
        """User + system CPU of every server process so far."""
        if self.process is None:
            return None
        total = 0.0
        for process in _tree(self.process, self.extra):
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def rss_mb(self) -> float | None:
        """Resident memory of every server process together, in MiB."""
        if self.process is None:
            return None
        total = 0
        for process in _tree(self.process, self.extra):
            try:
                total += process.memory_info().rss
            except psutil.Error:
                continue
        return total / 2**20


class _Watched:
    """The phones' pool, noting when the first phone had each slide: the Redis hop shows
    there alone, before the fan-out to thousands of phones (whose own time varies more)."""

    def __init__(self, pool: Pool, bench: Bench) -> None:
        self._pool = pool
        self._bench = bench

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    async def ask(self, what: str, **options: Any) -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = await self._pool.ask(what, **options)
        sent = self._bench.goto_sent
        if what == "position" and sent is not None:
            times = [t for a in answers for t in a["times"]]
            if times:
                self._bench.firsts.append((min(times) - sent) * 1000)
        return answers


class Bench(run.Bench):
    """`handsup bench`'s scenario; the load of other processes leaves out the server's, and
    the first phone's time to each slide is kept too."""

    goto_sent: float | None = None
    firsts: list[float]

    async def command(self, presenter: Screen, message: dict[str, Any]) -> float:
        """As the bench sends it; a slide change's time is kept."""
        sent = await super().command(presenter, message)
        self.goto_sent = sent if message.get("type") == "goto" else None
        return sent

    async def fan_out(self, pool: Pool, presenter: Screen) -> None:
        """The bench's slide changes, watching the first phone of each."""
        self.firsts = []
        await super().fan_out(_Watched(pool, self), presenter)  # type: ignore[arg-type]
        self.result["first_phone_ms"] = summary(self.firsts)
        self.goto_sent = None

    async def cpu(self, pool: Pool) -> dict[str, Any]:
        """As the bench reads it, with the workers and redis-server not counted as others."""
        figures = await super().cpu(pool)
        server = self.server
        if isinstance(server, Servers):
            for pid in server.pids():
                figures["others"].pop(pid, None)
        return figures


def _cpu_of(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server on loopback with the default durability; its URL once it answers."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
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
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"PING\r\n")
                if probe.recv(64).startswith(b"+PONG"):
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)


def serve(extra: list[str], redis_url: str | None, data: Path) -> tuple[subprocess.Popen[str], str]:
    """Start `handsup serve deck.md` (with these arguments); its process and base URL."""
    key = secrets.token_urlsafe(18)
    command = [
        sys.executable, "-m", "server.cli", "serve", str(ROOT / "deck.md"), "--host",
        "127.0.0.1", "--port", str(_free_port()), "--data", str(data),
        f"--presenter-key={key}", "--no-watch", *extra,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if redis_url is not None:
        env["HANDSUP_REDIS_URL"] = redis_url  # as --redis, kept out of the process list
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    for line in child.stdout:
        name, _, value = line.strip().partition(": ")
        if name == "display":
            return child, f"{value.strip().partition('/display')[0]}\n{key}"
    raise RuntimeError(f"handsup serve exited with {child.wait()} before printing its URLs")


def measure(name: str, audience: int, slides: int, vote_window: float, seed: int) -> dict[str, Any]:
    """Start one setup, run the bench's scenario against it, stop it."""
    with_redis, extra = SETUPS[name]
    folder = Path(tempfile.mkdtemp(prefix="handsup-workers-"))
    redis_process: subprocess.Popen[bytes] | None = None
    child: subprocess.Popen[str] | None = None
    try:
        redis_url = None
        redis_ps: list[psutil.Process] = []
        if with_redis:
            (folder / "redis").mkdir()
            redis_process, redis_url = start_redis(folder / "redis")
            redis_ps = [psutil.Process(redis_process.pid)]
        child, found = serve(extra, redis_url, folder / "data")
        url, key = found.split("\n")
        server = Servers(url, key, psutil.Process(child.pid), extra=redis_ps)
        options = run.Options(
            url=url, key=key, room=None, audience=audience, slides=slides,
            vote_window=vote_window, stuck=0.0, live_results=False, storm=False, spawn=False,
            workers=2, dialect="handsup", label=name, quiet=True, seed=seed,
        )  # fmt: skip
        result: dict[str, Any] = uvloop.run(Bench(options, server).run())
        result["server_cpu_s"] = round(server.cpu_seconds() or 0.0, 2)  # the whole run
        result["redis_cpu_s"] = round(sum(_cpu_of(p) for p in redis_ps), 2)
        return result
    finally:
        if child is not None:
            child.terminate()
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def _p(figures: dict[str, Any] | None, which: str) -> float | None:
    value = (figures or {}).get(which)
    return None if value is None else float(value)


def _diff(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a - b:+.1f}"


def main() -> int:
    """Measure each setup `--repeat` times, alternating, and print the figures side by side."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--audience", type=int, default=5000, help="simulated phones")
    parser.add_argument("--slides", type=int, default=20, help="slide changes to time")
    parser.add_argument("--vote-window", type=float, default=5.0, help="seconds to spread votes")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each setup")
    parser.add_argument("--json", action="store_true", help="print every run's figures as JSON")
    args = parser.parse_args()
    raise_fd_limit()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in SETUPS}
    for attempt in range(args.repeat):
        for name in SETUPS:
            print(f"run {attempt + 1}: {name} ...", file=sys.stderr, flush=True)
            runs[name].append(
                measure(name, args.audience, args.slides, args.vote_window, attempt + 1)
            )
    if args.json:
        print(json.dumps(runs))
        return 0
    print(f"{args.audience} phones, {args.slides} slide changes, one vote each, {args.repeat} runs")
    print(
        "setup | run | slide change p50 / p99 ms | first phone p50 / max ms"
        " | server CPU per phone per slide change us"
        " | CPU per connect ms | CPU per vote us | vote ack p50 / p99 ms | votes counted"
        " | whole run CPU s (redis-server) | other load (cores)"
    )
    for name, results in runs.items():
        for number, r in enumerate(results, 1):
            fan, ack = r.get("fanout_ms") or {}, r.get("vote_ack_ms") or {}
            first = r.get("first_phone_ms") or {}
            print(
                f"{name} | {number} | {fan.get('p50')} / {fan.get('p99')} | "
                f"{first.get('p50')} / {first.get('max')} | "
                f"{r.get('server_cpu_us_per_msg')} | {r.get('server_cpu_ms_per_connect')} | "
                f"{r.get('server_cpu_us_per_vote')} | {ack.get('p50')} / {ack.get('p99')} | "
                f"{r.get('votes_counted')}/{r.get('votes_sent')} | "
                f"{r.get('server_cpu_s')} ({r.get('redis_cpu_s')}) | {r.get('other_load_cores')}"
            )
    print("against 1 worker, run by run:")
    base = runs["1 worker"]
    for name in list(SETUPS)[1:]:
        for number, (r, one) in enumerate(zip(runs[name], base, strict=True), 1):
            cost, alone = r.get("server_cpu_us_per_msg"), one.get("server_cpu_us_per_msg")
            ratio = f"{cost / alone:.2f}x" if cost and alone else "-"
            p99 = _diff(_p(r.get("fanout_ms"), "p99"), _p(one.get("fanout_ms"), "p99"))
            p50 = _diff(_p(r.get("fanout_ms"), "p50"), _p(one.get("fanout_ms"), "p50"))
            hop = _diff(_p(r.get("first_phone_ms"), "p50"), _p(one.get("first_phone_ms"), "p50"))
            print(
                f"{name} | {number} | cost per phone per slide change {ratio} | slide change "
                f"p50 {p50} ms, p99 {p99} ms | first phone p50 {hop} ms"
            )
    problems = [p for results in runs.values() for r in results for p in r.get("problems", [])]
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
