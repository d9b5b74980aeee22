"""`handsup bench`: the whole scenario against one server, phase by phase.

connect N phones (some stuck) -> the presenter changes slides S times (fan-out latency to
every phone) -> a poll opens and every healthy phone votes once (ack latency, tally lag,
exactness) -> optionally every phone drops and redials (time back in sync).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from typing import Any

import psutil
import uvloop

from server.bench import report, target, worker
from server.bench.dialect import DIALECTS, Dialect
from server.bench.pool import Pool
from server.bench.progress import Progress
from server.bench.screens import Screen, open_screen
from server.bench.stats import summary
from server.bench.worker import Plan, raise_fd_limit

PER_ADDRESS = 10_000  # phones per source address: under the server's 12,000 and the ~28,000 ports
COMMAND_GAP = 0.15  # seconds between presenter commands: under its 10 a second


@dataclass(frozen=True)
class Options:
    url: str | None
    key: str
    room: str | None
    audience: int
    slides: int
    vote_window: float
    stuck: float
    live_results: bool
    storm: bool
    spawn: bool
    workers: int
    dialect: str
    label: str
    quiet: bool
    seed: int


def source_address(phone: int) -> str:
    """Phones past each PER_ADDRESS come from the next loopback address (127.0.0.2, ...)."""
    return f"127.0.0.{1 + phone // PER_ADDRESS}"


def plans(options: Options, url: str, room: str) -> list[Plan]:
    rng = random.Random(options.seed)
    count = options.audience
    stuck = set(rng.sample(range(count), round(count * options.stuck / 100)))
    workers = max(1, min(options.workers, count))
    return [
        Plan(
            number=w,
            url=url,
            dialect=options.dialect,
            room=room,
            sources=[source_address(i) for i in range(w, count, workers)],
            stuck=[i in stuck for i in range(w, count, workers)],
            seed=options.seed * 1000 + w,
        )
        for w in range(workers)
    ]


class Bench:
    """One run: the server, the two screens, the worker pool and the figures so far."""

    def __init__(self, options: Options, server: target.Target) -> None:
        self.options = options
        self.server = server
        self.dialect: Dialect = DIALECTS[options.dialect]
        self.result: dict[str, Any] = {"server": options.label, "audience": options.audience}
        self.problems: list[str] = []
        self.last_command = 0.0

    async def command(self, presenter: Screen, message: dict[str, Any]) -> float:
        """Send a presenter command (paced); return the monotonic time it was sent."""
        wait = self.last_command + COMMAND_GAP - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        sent = time.monotonic()
        presenter.send(message)
        self.last_command = sent
        return sent

    async def run(self) -> dict[str, Any]:
        opts, result = self.options, self.result
        presenter = await open_screen(
            self.dialect, self.server.url, "presenter", {"type": "hello", "key": self.server.key}
        )
        display = await open_screen(
            self.dialect, self.server.url, "display", {"type": "hello", "key": self.server.key}
        )
        assert presenter.welcome is not None
        room = opts.room or str(presenter.welcome.get("room"))
        result["server_rss_before_mb"] = _round(self.server.rss_mb())
        bar = Progress("connecting phones", opts.audience, enabled=not opts.quiet)
        dialled = [0] * max(1, min(opts.workers, opts.audience))

        def progress(worker: int, count: int) -> None:
            dialled[worker] = count
            bar.show(sum(dialled))

        pool = Pool(plans(opts, self.server.url, room), progress)
        try:
            await self.connect(pool, bar)
            await self.fan_out(pool, presenter)
            if "stalled_at_slide" in result:
                self.problems.append("the healthy phones stopped getting slides: no votes run")
                poll = None
            else:
                poll = await self.votes(pool, presenter, display)
            if opts.storm and poll is not None:
                await self.storm(pool, poll)
        finally:
            await pool.close()
            presenter.drop()
            display.drop()
        result["problems"] = self.problems
        result["ok"] = not self.problems
        return result

    async def connect(self, pool: Pool, bar: Progress) -> None:
        opts, result = self.options, self.result
        started, cpu = time.monotonic(), self.server.cpu_seconds()
        answers = await pool.ask("connect", timeout=120.0)
        result["connect_s"] = round(time.monotonic() - started, 2)
        synced = sum(a["synced"] for a in answers)
        result["server_cpu_ms_per_connect"] = _per(
            self.server.cpu_seconds() or 0.0, cpu or 0.0, synced * 1000
        )
        bar.finish(synced)
        result["connected"] = synced
        result["stuck"] = sum(a["stuck"] for a in answers)
        failed = sum(a["failed"] for a in answers)
        if failed or synced != opts.audience:
            errors = sorted({e for a in answers for e in a["errors"]})
            self.problems.append(f"{failed} of {opts.audience} phones did not connect: {errors}")
        await asyncio.sleep(0.5)  # let the server settle before reading its memory
        after = self.server.rss_mb()
        before = result["server_rss_before_mb"]
        result["server_rss_mb"] = _round(after)
        result["rss_per_conn_kib"] = (
            round((after - before) * 1024 / synced, 2)
            if after is not None and before is not None and synced
            else None
        )

    async def fan_out(self, pool: Pool, presenter: Screen) -> None:
        opts, result = self.options, self.result
        state = presenter.state or {}
        total = int(state.get("total", 0))
        outline = state.get("outline") or []
        polls = {s["index"] for s in outline if s.get("kind") == "poll"}
        candidates = [i for i in range(total) if i not in polls] or list(range(total))
        position = state.get("position")
        start = candidates.index(position) + 1 if position in candidates else 0
        latencies: list[float] = []
        lasts: list[float] = []
        healthy = result["connected"] - result["stuck"]
        # With stuck phones, memory is sampled as their buffers fill, and a server whose
        # healthy phones stop getting slides (it waits on a stuck one) is not waited on long.
        timeout = 10.0 if opts.stuck else 60.0
        memory: list[float | None] = []
        await pool.ask("fast", on=True)
        before = await self.cpu(pool)
        for step in range(opts.slides):
            index = candidates[(start + step) % len(candidates)]
            sent = await self.command(presenter, {"type": "goto", "index": index})
            answers = await pool.ask("position", index=index, timeout=timeout)
            times = [(t - sent) * 1000 for a in answers for t in a["times"]]
            missing = sum(a["missing"] for a in answers)
            latencies.extend(times)
            if times:
                lasts.append(max(times))
            if opts.stuck and step % 25 == 0:
                memory.append(_round(self.server.rss_mb()))
            if missing:
                self.problems.append(f"slide {index}: {missing} phones never got the state")
                if opts.stuck:
                    result["stalled_at_slide"] = step + 1
                    break
        after = await self.cpu(pool)
        await pool.ask("fast", on=False)
        if opts.stuck:
            memory.append(_round(self.server.rss_mb()))
            result["rss_during_slides_mb"] = memory
            sockets, held = self.server.send_queues()
            result["full_send_queues"] = sockets
            result["send_queued_kib"] = round(held / 1024, 1)
        result["slides"] = len(lasts)
        result["fanout_ms"] = summary(latencies)
        result["fanout_last_ms"] = [round(t, 2) for t in lasts]
        middle = sorted(lasts)[len(lasts) // 2] if lasts else None
        result["fanout_us_per_conn"] = (
            round(middle * 1000 / healthy, 2) if middle is not None and healthy else None
        )
        delivered = healthy * opts.slides
        result["server_cpu_us_per_msg"] = _per(after["server"], before["server"], delivered)
        result["harness_cpu_us_per_msg"] = _per(
            after["harness"], before["harness"], after["received"] - before["received"]
        )
        result["harness_workers"] = len(pool.pipes)
        # Other processes busy on the machine while slides were timed (in cores): not us, not
        # the server. Above ~0.1 the figures are disturbed.
        wall = after["wall"] - before["wall"]
        # Processes that ended meanwhile are not counted; new ones count from zero.
        others = sum(t - before["others"].get(pid, 0.0) for pid, t in after["others"].items())
        result["other_load_cores"] = round(max(0.0, others) / wall, 2)
        result["softirq_cores"] = round((after["softirq"] - before["softirq"]) / wall, 2)

    async def cpu(self, pool: Pool) -> dict[str, Any]:
        answers = await pool.ask("stats")
        ours = {os.getpid(), *pool.pids}
        if self.server.process is not None:
            ours.add(self.server.process.pid)
        others: dict[int, float] = {}
        for process in psutil.process_iter(["pid", "cpu_times"]):
            times = process.info["cpu_times"]
            if process.info["pid"] not in ours and times is not None:
                others[process.info["pid"]] = times.user + times.system
        return {
            "server": self.server.cpu_seconds() or 0.0,
            "harness": sum(a["cpu"] for a in answers) + worker.cpu_seconds(),
            "received": sum(a["received"] for a in answers),
            "others": others,
            "softirq": psutil.cpu_times().softirq,
            "wall": time.monotonic(),
        }

    async def votes(self, pool: Pool, presenter: Screen, display: Screen) -> str | None:
        """Open the first poll, let every healthy phone vote once, check every count."""
        result = self.result
        outline = (presenter.state or {}).get("outline") or []
        index = next((s["index"] for s in outline if s.get("kind") == "poll"), None)
        if index is None:
            self.problems.append("the deck has no poll: no votes measured")
            return None
        await self.command(presenter, {"type": "goto", "index": index})
        await presenter.until(lambda s: (s.state or {}).get("position") == index)
        answers = await pool.ask("position", index=index, timeout=60.0)
        state = presenter.state or {}
        slide_poll = (state.get("slide") or {}).get("poll") or {}
        poll = str(slide_poll.get("id"))
        options = len(slide_poll.get("options") or [])
        status = ((state.get("polls") or {}).get(poll) or {}).get("status", "idle")
        if status != "idle":  # a used poll on a server we did not start: start it afresh
            await self.command(presenter, {"type": "reset", "poll": poll})
            await presenter.until(lambda s: _poll_status(s, poll) == "idle")
        await self.command(presenter, {"type": "open", "poll": poll})
        answers = await pool.ask("poll", poll=poll, status="open", timeout=60.0)
        if self.options.live_results:  # phones get the tally as it moves
            await self.command(presenter, {"type": "reveal", "poll": poll})
        if sum(a["missing"] for a in answers):
            self.problems.append("some phones never saw the poll open")
        display.tallies.clear()
        answers = await pool.ask(
            "vote", poll=poll, options=options, window=self.options.vote_window
        )
        sent = sum(a["sent"] for a in answers)
        acked = sum(a["acked"] for a in answers)
        expected = [0] * options
        for a in answers:
            for option, count in a["counts"].items():
                if 0 <= option < options:
                    expected[option] += count
        last_ack = max(a["last_ack"] for a in answers)

        def exact(screen: Screen) -> bool:
            return any(
                t["poll"] == poll and t["voters"] == acked and t["counts"] == expected
                for _, t in screen.tallies
            )

        watcher = display
        if not await display.until(exact, 10.0):
            watcher = presenter  # a poll whose results the display may not see yet
            await presenter.until(exact, 5.0)
        finals = [(at, t) for at, t in watcher.tallies if t["poll"] == poll]
        shown = next(((at, t) for at, t in finals if t["voters"] == acked), None)
        final: dict[str, Any] = finals[-1][1] if finals else {"voters": 0, "counts": []}
        result["votes_sent"] = sent
        result["votes_acked"] = acked
        result["votes_counted"] = int(final["voters"])
        result["tally_counts"] = final["counts"]
        result["acked_counts"] = expected
        result["tally_seen_by"] = watcher.role
        result["vote_ack_ms"] = summary([ms for a in answers for ms in a["ack_ms"]])
        result["tally_lag_ms"] = (
            round(max(0.0, shown[0] - last_ack) * 1000, 2) if shown is not None else None
        )
        refused = [code for a in answers for code in a["refused"]]
        unanswered = sum(a["unanswered"] for a in answers)
        mismatched = sum(a["mismatched"] for a in answers)
        healthy = result["connected"] - result["stuck"]
        if not (sent == acked == result["votes_counted"] == healthy) or final["counts"] != expected:
            self.problems.append(
                f"VOTES DO NOT ADD UP: {healthy} phones, sent {sent}, acknowledged {acked}, "
                f"counted {result['votes_counted']}; counts acked {expected} vs tally "
                f"{final['counts']}; refused {sorted(set(refused))}, unanswered {unanswered}"
            )
        if mismatched:
            self.problems.append(f"{mismatched} acks recorded another option than was voted")
        return poll

    async def storm(self, pool: Pool, poll: str) -> None:
        started, cpu = time.monotonic(), self.server.cpu_seconds()
        answers = await pool.ask("storm", spread=1.0, poll=poll, timeout=90.0)
        ended = self.server.cpu_seconds() or 0.0
        phones = sum(a["phones"] for a in answers)
        back = sum(a["back"] for a in answers)
        kept = sum(a["token_kept"] for a in answers)
        votes = sum(a["vote_kept"] for a in answers)
        self.result["storm"] = {
            "phones": phones,
            "back": back,
            "duration_s": round(time.monotonic() - started, 2),
            "sync_ms": summary([ms for a in answers for ms in a["sync_ms"]]),
            "resync_ms": summary([ms for a in answers for ms in a["resync_ms"]]),
            "token_kept": kept,
            "vote_kept": votes,
            "redials": sum(a["redials"] for a in answers),
            "server_cpu_ms_per_reconnect": _per(ended, cpu or 0.0, back * 1000),
        }
        if not phones == back == kept == votes:
            self.problems.append(
                f"STORM: {phones} dropped, {back} back in sync, {kept} kept their token, "
                f"{votes} got their vote back"
            )


def _poll_status(screen: Screen, poll: str) -> str | None:
    polls = (screen.state or {}).get("polls") or {}
    status = (polls.get(poll) or {}).get("status")
    return None if status is None else str(status)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _per(after: float, before: float, count: float) -> float | None:
    return round((after - before) * 1e6 / count, 2) if count > 0 and after > before else None


async def measure(options: Options) -> dict[str, Any]:
    """Run the scenario; start and stop the server too with `--spawn`."""
    if options.spawn:
        server = await asyncio.to_thread(target.spawn)
    else:
        assert options.url is not None
        server = target.attach(options.url, options.key)
    try:
        result = await Bench(options, server).run()
    finally:
        await asyncio.to_thread(server.stop)
    result["url"] = server.url
    if server.note:
        result["note"] = server.note
    return result


def main(args: argparse.Namespace) -> int:
    """Run the benchmark and print the figures; 1 if anything was lost or double counted."""
    if not args.spawn and not (args.url and args.presenter_key):
        print("handsup bench: give --url and --presenter-key, or --spawn", file=sys.stderr)
        return 2
    raise_fd_limit()
    options = Options(
        url=args.url,
        key=args.presenter_key or "",
        room=args.room,
        audience=args.audience,
        slides=args.slides,
        vote_window=args.vote_window,
        stuck=args.stuck,
        live_results=args.live_results,
        storm=args.storm,
        spawn=args.spawn,
        workers=args.workers,
        dialect=args.protocol,
        label=args.label or ("handsup" if args.spawn else args.protocol),
        quiet=args.json,
        seed=args.seed,
    )
    result = uvloop.run(measure(options))
    if args.json:
        print(json.dumps(result))
    else:
        print(report.table(result))
    for problem in result["problems"]:
        print(f"handsup bench: PROBLEM: {problem}", file=sys.stderr)
    return 0 if result["ok"] else 1
