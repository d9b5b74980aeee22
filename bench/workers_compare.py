"""One worker against two workers sharing the session through Redis, side by side in one run.

Each server is started fresh (`handsup serve deck.md`, then `handsup serve deck.md --workers
2`, which starts its own redis-server), measured by `handsup bench --json` (a separate
process), and stopped. The server side's CPU is summed over every process it runs (the
supervisor, its workers, redis-server) from just before the bench starts to just after it
ends: connects, every slide change and the vote, divided by the phones. `handsup bench`'s own
CPU figure reads one process, so it is not used here.

Run: .venv/bin/python bench/workers_compare.py [--audience 2000] [--slides 20] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
SETUPS = {"1 worker": [], "2 workers + Redis": ["--workers", "2"]}


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _cpu(root: psutil.Process) -> float:
    """CPU seconds (user + system) of a process and all its descendants."""
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def measure(extra: list[str], audience: int, slides: int) -> dict[str, Any]:
    """Start a server, run the bench against it, stop it; the bench's figures and ours."""
    data = Path(tempfile.mkdtemp(prefix="handsup-workers-"))
    port, key = _free_port(), secrets.token_urlsafe(18)
    command = [
        sys.executable, "-m", "server.cli", "serve", str(ROOT / "deck.md"), "--host",
        "127.0.0.1", "--port", str(port), "--data", str(data), "--presenter-key", key,
        "--no-watch", *extra,
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        root = psutil.Process(server.pid)
        before = _cpu(root)
        bench = subprocess.run(
            [
                sys.executable, "-m", "server.cli", "bench", "--url", f"http://127.0.0.1:{port}",
                "--presenter-key", key, "--audience", str(audience), "--slides", str(slides),
                "--json",
            ],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        used = _cpu(root) - before
        result: dict[str, Any] = json.loads(bench.stdout)
        result["server_cpu_s_all_processes"] = round(used, 2)
        result["server_cpu_ms_per_phone"] = round(1000 * used / audience, 3)
        return result
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(data, ignore_errors=True)


def main() -> int:
    """Measure each setup `--repeat` times, alternating, and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--audience", type=int, default=2000)
    parser.add_argument("--slides", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in SETUPS}
    for _ in range(args.repeat):
        for name, extra in SETUPS.items():
            runs[name].append(measure(extra, args.audience, args.slides))
    print(f"{args.audience} phones, {args.slides} slide changes, one vote each")
    print("setup | fan-out p50 / p99 ms | vote ack p50 / p99 ms | counted | CPU s", end="")
    print(" | per phone ms | other load (cores)")
    for name, results in runs.items():
        for r in results:
            fan, ack = r.get("fanout_ms") or {}, r.get("vote_ack_ms") or {}
            print(
                f"{name} | {fan.get('p50')} / {fan.get('p99')} | {ack.get('p50')} / "
                f"{ack.get('p99')} | {r.get('votes_counted')}/{r.get('votes_sent')} | "
                f"{r['server_cpu_s_all_processes']} | {r['server_cpu_ms_per_phone']} | "
                f"{r.get('other_load_cores')}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
