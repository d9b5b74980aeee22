"""`handsup bench`: the whole scenario against one server, phase by phase.

connect N phones (some stuck) -> the presenter changes slides S times (fan-out latency to
every phone) -> a poll opens and every healthy phone votes once (ack latency, tally lag,
exactness) -> with `--kind`, a poll of each other kind opens in turn and every phone answers
it as that kind asks (words, a sentence, a rating, a timed quiz answer), measured against the
choice vote of the same run; `qa` and `ideas`: some phones ask (propose), then every phone
upvotes (votes for) five -> optionally every phone drops and redials (time back in sync).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shlex
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import uvloop

from server.bench import answers, boards, report, target, worker
from server.bench.dialect import DIALECTS, Dialect
from server.bench.pool import Pool
from server.bench.progress import Progress
from server.bench.screens import Screen, open_screen
from server.bench.stats import summary
from server.bench.worker import Plan, raise_fd_limit
from server.commands import Command, OpenPoll, Vote
from server.kinds.text import QUEUE, WALL
from server.kinds.words import TOP
from server.session import Session
from server.settings import Settings
from server.sqlite_store import SQLiteStore
from slides import parse_deck

PER_ADDRESS = 10_000  # phones per source address: under the server's 12,000 and the ~28,000 ports
# Phones per harness process at most: each is a descriptor, and the open-file limit here is
# 20,000 a process (38,000 phones take three processes, not two at 19,000 each).
PER_PROCESS = 15_000
SCREENS = 2  # the presenter and the display, counted by the server as connections too
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
    kinds: tuple[str, ...] = ("choice",)
    choice_window: float | None = None  # the choice vote's window, if not vote_window
    vocabulary: int = 20_000
    zipf: float = 1.0
    storm_spread: float = 1.0  # seconds over which the phones drop (0: at the same instant)
    serve_args: tuple[str, ...] = ()  # more `handsup serve` flags, with --spawn
    connect_timeout: float | None = None  # None: connect_timeout(audience)
    # The phones' processes yield a core to the server when both want one: in a hall the
    # phones are not on the server's machine, and here they share its two cores. At the
    # server's own priority (0), the loop waited for a core in a storm: longest stall 29.7
    # and 38.9 ms on the wall clock (13.2 and 16.1 on its CPU), against 11.2 and 13.4 (6.9,
    # 9.2) at nice 10, alternating runs, 2026-12-08.
    harness_nice: int = 10


def phone_processes(options: Options) -> int:
    """The harness processes: as many as asked, and enough that none holds over PER_PROCESS."""
    return max(1, min(options.audience, max(options.workers, -(-options.audience // PER_PROCESS))))


def connect_timeout(audience: int) -> float:
    """Seconds the phones have to be in sync: a minute, and more for a bigger hall (19,000
    phones took 15 s to connect on a quiet machine, 38,000 more than twice that)."""
    return 60.0 + audience / 200


def serve_flags(options: Options) -> list[str]:
    """What `--spawn` adds to `handsup serve`: `--serve-args`, and unless they set it, a
    `--max-connections` that fits the whole audience and the screens where the default does
    not (19,000 counts the screens too: 19,000 phones would leave two out, told the server
    is full). With `--workers` it is the room's cap; each worker keeps what its open-file
    limit allows."""
    flags = list(options.serve_args)
    given = any(f == "--max-connections" or f.startswith("--max-connections=") for f in flags)
    wanted = options.audience + SCREENS
    if not given and wanted > Settings.model_fields["max_connections"].default:
        flags.append(f"--max-connections={wanted + 98}")
    return flags


def source_address(phone: int) -> str:
    """Phones past each PER_ADDRESS come from the next loopback address (127.0.0.2, ...)."""
    return f"127.0.0.{1 + phone // PER_ADDRESS}"


def plans(options: Options, url: str, room: str) -> list[Plan]:
    rng = random.Random(options.seed)
    count = options.audience
    stuck = set(rng.sample(range(count), round(count * options.stuck / 100)))
    workers = phone_processes(options)
    return [
        Plan(
            number=w,
            url=url,
            dialect=options.dialect,
            room=room,
            sources=[source_address(i) for i in range(w, count, workers)],
            stuck=[i in stuck for i in range(w, count, workers)],
            seed=options.seed * 1000 + w,
            nice=options.harness_nice,
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
        # (kind, poll, what its export must hold, voters) for each poll answered in the run
        self.exports: list[tuple[str, str, Any, int]] = []
        self.no_stalls = False  # the server has no `POST /api/stalls` (a peer, an old handsup)

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
        dialled = [0] * phone_processes(opts)

        def progress(worker: int, count: int) -> None:
            dialled[worker] = count
            bar.show(sum(dialled))

        pool = Pool(plans(opts, self.server.url, room), progress)
        try:
            await self.loop_window(None)
            await self.connect(pool, bar)
            await self.loop_window("connect")
            await self.fan_out(pool, presenter)
            await self.loop_window("slides")
            if "stalled_at_slide" in result:
                self.problems.append("the healthy phones stopped getting slides: no votes run")
                poll = None
            else:
                # In the order given: a kind measured before the choice vote, or after it,
                # is measured on a room that has done more or less (alternate to see).
                poll = None
                for kind in opts.kinds:
                    if kind == "choice":
                        poll = await self.votes(pool, presenter, display)
                    elif kind in boards.KINDS:
                        await self.board_answers(pool, presenter, display, kind)
                    else:
                        await self.kind_answers(pool, presenter, display, kind)
                choice = (result.get("vote_ack_ms") or {}).get("p99")
                for figures in result.get("kinds", {}).values():
                    figures["ack_p99_vs_choice"] = _ratio(figures["ack_ms"]["p99"], choice)
                if len(self.exports) > 1:
                    await self.check_exports()
            if opts.storm and poll is not None:
                await self.loop_window(None)
                await self.storm(pool, poll)
                await self.loop_window("storm")
        finally:
            await pool.close()
            presenter.drop()
            display.drop()
        result["problems"] = self.problems
        result["ok"] = not self.problems
        return result

    async def loop_window(self, phase: str | None) -> None:
        """Read the server's loop stalls and collection pauses since the last read (its
        `POST /api/stalls`) into `result["loop"][phase]`; None: just start a new window.
        Servers without the endpoint (the peers) have no such figures."""
        if self.no_stalls:
            return
        try:
            figures = await asyncio.to_thread(_stalls, self.server.url, self.server.key)
        except (OSError, ValueError):
            self.no_stalls = True
            return
        if phase is not None:
            # With several workers, each figure is the worst of every worker that answered
            # (server.worker_stalls); each worker's own is kept under `per_worker`.
            self.result.setdefault("loop", {})[phase] = figures
            longest = ("longest_stall_ms", "longest_busy_ms", "longest_held_ms")
            for name in (*longest, "longest_gen2_ms", "longest_gen2_cpu_ms", "longest_gc_cpu_ms"):
                self.result[name] = max(self.result.get(name) or 0.0, figures.get(name) or 0.0)
            answered = figures.get("workers", 1)
            self.result["loop_workers"] = min(self.result.get("loop_workers", answered), answered)

    async def connect(self, pool: Pool, bar: Progress) -> None:
        opts, result = self.options, self.result
        started, cpu = time.monotonic(), self.server.cpu_seconds()
        timeout = opts.connect_timeout or connect_timeout(opts.audience)
        answers = await pool.ask("connect", timeout=timeout)
        result["connect_s"] = round(time.monotonic() - started, 2)
        result["connect_redials"] = sum(a["redials"] for a in answers)
        # How much lower the phones ran than the server (spawned at this process's priority).
        result["harness_nice"] = min(a["nice"] for a in answers) - os.nice(0)
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
        workers = self.server.worker_rss_mb()
        if len(workers) > 1:
            result["server_rss_per_worker_mb"] = [_round(mb) for mb in workers]
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
        firsts: list[float] = []  # the first phone's: a hop before the fan-out shows there alone
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
                firsts.append(min(times))
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
        result["first_phone_ms"] = summary(firsts)
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
        ours = {os.getpid(), *pool.pids, *(p.pid for p in self.server.processes())}
        others: dict[int, float] = {}
        for process in psutil.process_iter(["pid", "cpu_times"]):
            times = process.info["cpu_times"]
            if process.info["pid"] not in ours and times is not None:
                others[process.info["pid"]] = times.user + times.system
        return {
            "server": self.server.cpu_seconds() or 0.0,
            "server_waiting": self.server.waiting_seconds(),
            "harness": sum(a["cpu"] for a in answers) + worker.cpu_seconds(),
            "received": sum(a["received"] for a in answers),
            "others": others,
            "softirq": psutil.cpu_times().softirq,
            "wall": time.monotonic(),
        }

    def poll_slides(self, presenter: Screen, kind: str) -> list[int]:
        """Slides with a poll of this kind (`quiz`: a choice with a correct answer; `choice`: one
        without first), from the presenter's outline and poll list (both in deck order). A
        server whose state lists no polls: every poll slide, for the choice vote."""
        state = presenter.state or {}
        slides = [s["index"] for s in state.get("outline") or [] if s.get("kind") == "poll"]
        views = list((state.get("polls") or {}).values())
        if len(views) != len(slides):
            return slides if kind == "choice" else []
        pairs = list(zip(slides, views, strict=True))
        if kind == "quiz":
            return [
                i for i, v in pairs if v.get("type") == "choice" and v.get("correct") is not None
            ]
        if kind == "choice":
            plain = [i for i, v in pairs if v.get("type") == "choice" and v.get("correct") is None]
            return plain + [i for i, v in pairs if v.get("type") == "choice" and i not in plain]
        return [i for i, v in pairs if v.get("type") == kind]

    async def open_poll(self, pool: Pool, presenter: Screen, index: int) -> dict[str, Any]:
        """Show a poll's slide to every phone and open the poll afresh (and reveal it, with
        `--live-results`); the slide's poll as the deck describes it."""
        await self.command(presenter, {"type": "goto", "index": index})
        await presenter.until(lambda s: (s.state or {}).get("position") == index)
        await pool.ask("position", index=index, timeout=60.0)
        state = presenter.state or {}
        slide_poll: dict[str, Any] = (state.get("slide") or {}).get("poll") or {}
        poll = str(slide_poll.get("id"))
        status = ((state.get("polls") or {}).get(poll) or {}).get("status", "idle")
        if status != "idle":  # a used poll on a server we did not start: start it afresh
            await self.command(presenter, {"type": "reset", "poll": poll})
            await presenter.until(lambda s: _poll_status(s, poll) == "idle")
        await self.command(presenter, {"type": "open", "poll": poll})
        answers = await pool.ask("poll", poll=poll, status="open", timeout=60.0)
        await presenter.until(lambda s: _poll_status(s, poll) == "open")
        if self.options.live_results:  # phones get the tally as it moves
            await self.command(presenter, {"type": "reveal", "poll": poll})
        if sum(a["missing"] for a in answers):
            self.problems.append(f"some phones never saw poll {poll} open")
        return slide_poll

    async def votes(self, pool: Pool, presenter: Screen, display: Screen) -> str | None:
        """Open the first choice poll, let every healthy phone vote once, check every count."""
        result = self.result
        slides = self.poll_slides(presenter, "choice")
        if not slides:
            self.problems.append("the deck has no poll: no votes measured")
            return None
        slide_poll = await self.open_poll(pool, presenter, slides[0])
        poll = str(slide_poll.get("id"))
        options = len(slide_poll.get("options") or [])
        display.forget_tallies()
        await self.loop_window(None)
        cpu = self.server.cpu_seconds()
        window = self.options.choice_window or self.options.vote_window
        result["vote_window_s"] = window
        answers = await pool.ask("vote", poll=poll, options=options, window=window)
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
        await self.loop_window("choice")
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
        result["server_cpu_us_per_vote"] = _per(self.server.cpu_seconds() or 0.0, cpu or 0.0, sent)
        result["display_tallies"] = self.frames(display, poll)
        self.exports.append(("choice", poll, expected, acked))
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

    def frames(self, screen: Screen, poll: str) -> dict[str, Any]:
        """How often, and how big, this screen's tally frames for the poll were."""
        mine = [n for n, (_, t) in enumerate(screen.tallies) if t.get("poll") == poll]
        return answers.frame_rate(
            [screen.tallies[n][0] for n in mine], [screen.tally_bytes[n] for n in mine]
        )

    async def kind_answers(self, pool: Pool, presenter: Screen, display: Screen, kind: str) -> None:
        """Open the deck's poll of this kind, let every healthy phone answer it as the kind
        asks, then check the screens show exactly what was acknowledged."""
        opts = self.options
        slides = self.poll_slides(presenter, kind)
        if not slides:
            self.problems.append(f"the deck has no {kind} poll: nothing measured for it")
            return
        slide_poll = await self.open_poll(pool, presenter, slides[0])
        poll = str(slide_poll.get("id"))
        fields: dict[str, Any] = {"poll": poll, "type": kind, "window": opts.vote_window}
        timer = slide_poll.get("timer")
        if kind == "words":
            fields |= {"entries": slide_poll.get("entries", 3)}
            fields |= {"vocabulary": opts.vocabulary, "zipf": opts.zipf}
        elif kind == "text":
            fields |= {"vocabulary": opts.vocabulary, "zipf": opts.zipf}
        elif kind == "scale":
            fields |= {"min": slide_poll.get("min", 1), "max": slide_poll.get("max", 5)}
        elif kind == "quiz":
            view = (presenter.state or {}).get("poll") or {}
            if timer is None or slide_poll.get("points") is None or view.get("deadline") is None:
                self.problems.append(f"poll {poll} is not a timed, scored question")
                return
            fields |= {
                "options": len(slide_poll.get("options") or []),
                "correct": view.get("correct"),
                "deadline": view["deadline"],
                # Everyone answers in time, but for the few sent after the deadline.
                "window": max(0.0, min(opts.vote_window, float(timer) - 2.0)),
            }
        display.forget_tallies()
        presenter.forget_tallies()
        await self.loop_window(None)
        cpu = self.server.cpu_seconds()
        replies = await pool.ask("answer", **fields)
        ended_cpu = self.server.cpu_seconds()
        sent = sum(a["sent"] for a in replies)
        acked = sum(a["acked"] for a in replies)
        voters = sum(a["voters"] for a in replies)
        expected: Counter[Any] = Counter()
        for a in replies:
            expected.update(a["expected"])
        low = int(fields.get("min", 0))
        if kind == "scale":
            wanted: Any = [expected.get(p, 0) for p in range(low, int(fields["max"]) + 1)]
        elif kind == "quiz":
            wanted = [expected.get(o, 0) for o in range(int(fields["options"]))]
        else:
            wanted = expected

        def problems(tally: dict[str, Any], role: str) -> list[str]:
            if kind == "words":
                return answers.check_words(expected, voters, tally, TOP)
            if kind == "text":
                wall = QUEUE if role == "presenter" else WALL
                return answers.check_texts(expected, voters, tally, wall)
            if kind == "scale":
                return answers.check_scale(wanted, low, voters, tally)
            return answers.check_counts(wanted, voters, tally)

        def exact(screen: Screen) -> bool:
            # The newest tally only: checking a cloud costs a pass over every word sent.
            last = next((t for _, t in reversed(screen.tallies) if t["poll"] == poll), None)
            return last is not None and not problems(last, screen.role)

        watcher = display
        if not await display.until(exact, 10.0):
            watcher = presenter  # a poll whose results the display may not see yet
            await presenter.until(exact, 5.0)
        await self.loop_window(kind)
        finals = [(at, t) for at, t in watcher.tallies if t["poll"] == poll]
        shown = next(((at, t) for at, t in finals if not problems(t, watcher.role)), None)
        last_ack = max(a["last_ack"] for a in replies)
        ack_ms = [ms for a in replies for ms in a["ack_ms"]]
        figures: dict[str, Any] = {
            "poll": poll,
            "phones": sum(a["phones"] for a in replies),
            "answers_sent": sent,
            "answers_acked": acked,
            "answering_s": round(last_ack - min(a["first_sent"] for a in replies), 2),
            "voters": voters,
            "ack_ms": summary(ack_ms),
            "ack_p99_vs_choice": None,  # once the choice vote has run too
            "server_cpu_us_per_answer": _per(ended_cpu or 0.0, cpu or 0.0, sent),
            "tally_seen_by": watcher.role,
            "tally_lag_ms": (
                round(max(0.0, shown[0] - last_ack) * 1000, 2) if shown is not None else None
            ),
            "display_tallies": self.frames(display, poll),
            "presenter_tallies": self.frames(presenter, poll),
            "exact": shown is not None,
            "expected": wanted if isinstance(wanted, list) else None,
            "distinct": len(expected) if kind in ("words", "text") else None,
        }
        if finals:
            figures["tally"] = finals[-1][1]
        # Every healthy phone answers (in a quiz, all but the few sent late on purpose).
        healthy = self.result["connected"] - self.result["stuck"]
        healthy -= sum(a["late_sent"] for a in replies)
        refused = [code for a in replies for code in a["refused"]]
        unanswered = sum(a["unanswered"] for a in replies)
        per_phone = int(fields.get("entries", 1))
        if sent != acked or sent != healthy * per_phone or voters != healthy or shown is None:
            last = finals[-1][1] if finals else {}
            self.problems.append(
                f"{kind.upper()} DOES NOT ADD UP: {healthy} phones, sent {sent}, acknowledged "
                f"{acked}, {voters} answered; refused {sorted(set(refused))}, unanswered "
                f"{unanswered}; the {watcher.role}: {problems(last, watcher.role)}"
            )
        mismatched = sum(a["mismatched"] for a in replies)
        if mismatched:
            self.problems.append(f"{kind}: {mismatched} acks held other answers than were sent")
        if kind == "quiz":
            late = sum(a["late_sent"] for a in replies)
            late_refused = [c for a in replies for c in a["late_refused"]]
            figures["late_sent"], figures["late_refused"] = late, len(late_refused)
            if len(late_refused) != late or set(late_refused) - {"too_late", "poll_not_open"}:
                self.problems.append(
                    f"quiz: of {late} answers sent after the deadline {len(late_refused)} were "
                    f"refused ({sorted(set(late_refused))})"
                )
            votes = [row for a in replies for row in a["quiz"]]
            figures |= await self.check_scores(poll, votes, slide_poll, fields["correct"])
        self.result.setdefault("kinds", {})[kind] = figures
        self.exports.append((kind, poll, wanted, voters))

    async def board_answers(
        self, pool: Pool, presenter: Screen, display: Screen, kind: str
    ) -> None:
        """Q&A or an ideas board: `PROPOSALS` phones ask (propose) once, then every healthy
        phone upvotes (votes for) `VOTES` of them within the window; the display's ranking and
        the export must hold exactly the acknowledged votes."""
        opts, result = self.options, self.result
        poll = ""
        if kind == "ideas":
            slides = self.poll_slides(presenter, "ideas")
            if not slides:
                self.problems.append("the deck has no ideas poll: nothing measured for it")
                return
            poll = str((await self.open_poll(pool, presenter, slides[0])).get("id"))
        elif not (presenter.state or {}).get("qa"):
            self.problems.append("the deck takes no questions (qa:): nothing measured for it")
            return
        healthy = result["connected"] - result["stuck"]
        share = min(1.0, boards.PROPOSALS / max(1, healthy))
        fields = {"type": kind, "poll": poll, "window": opts.vote_window}
        await self.loop_window(None)  # the loop's figures for this board alone, as a kind's
        asked = await pool.ask("board", step="propose", share=share, **fields)
        # The asks (proposals) arrive all at once: their own window, apart from the votes'.
        await self.loop_window(f"{kind} asks")
        proposed = [pair for a in asked for pair in a["proposed"]]
        ids = sorted({item for _, item in proposed}, key=lambda item: int(item[1:]))
        owners = {item: who for who, item in proposed}
        display.forget_tallies()
        presenter.forget_tallies()
        before = await self.cpu(pool)
        votes = await pool.ask("board", step="vote", ids=ids, owners=owners, **fields)
        after = await self.cpu(pool)
        await self.loop_window(kind)
        cpu, ended_cpu = before["server"], after["server"]
        wall = after["wall"] - before["wall"]
        others = sum(t - before["others"].get(pid, 0.0) for pid, t in after["others"].items())
        expected: Counter[str] = Counter()
        for a in votes:
            expected.update(a["expected"])

        def shown(screen: Screen) -> list[tuple[str, int]]:
            if kind == "qa":
                top = (screen.questions or {}).get("top") or []
                return [(str(q["id"]), int(q["votes"])) for q in top]
            last = next((t for _, t in reversed(screen.tallies) if t["poll"] == poll), {})
            return [(str(i["id"]), int(i["count"])) for i in last.get("items") or []]

        def exact(screen: Screen) -> bool:
            return not boards.check_top(expected, ids, shown(screen), 20)

        on_display = await display.until(exact, 15.0)
        sent = sum(a["sent"] for a in votes)
        acked = sum(a["acked"] for a in votes)
        seconds = max((a["seconds"] for a in votes), default=0.0)
        phones = sum(a["phones"] for a in votes)
        ack_ms = summary([ms for a in votes for ms in a["ack_ms"]])
        figures: dict[str, Any] = {
            "poll": poll or None,
            "phones": phones,
            "proposals_sent": sum(a["sent"] for a in asked),
            "proposals_acked": len(ids),
            "propose_ack_ms": summary([ms for a in asked for ms in a["ack_ms"]]),
            "votes_sent": sent,
            "votes_acked": acked,
            "voting_s": round(
                max(a["last_ack"] for a in votes) - min(a["first_sent"] for a in votes), 2
            ),
            "ack_ms": ack_ms,
            "ack_p99_vs_choice": _ratio(
                ack_ms["p99"], (result.get("vote_ack_ms") or {}).get("p99")
            ),
            "server_cpu_us_per_vote": _per(ended_cpu or 0.0, cpu or 0.0, sent),
            # What each phone received while the room voted, per second: its data plan's cost.
            "bytes_per_phone_per_s": round(
                sum(a["bytes"] for a in votes) / max(1, phones) / max(seconds, 1e-9), 1
            ),
            "display_exact": on_display,
            "top": shown(display)[:3],
            # Where the machine's time went while the room voted (in cores): the server, the
            # simulated phones (parsing what they receive), everything else on the machine.
            "server_cores": round((ended_cpu - cpu) / wall, 2),
            "harness_cores": round((after["harness"] - before["harness"]) / wall, 2),
            "other_load_cores": round(max(0.0, others) / wall, 2),
            # How long the server's loop was ready to run but had no core (in cores, as above).
            "server_waiting_cores": _waited(before, after, wall),
        }
        if kind == "ideas":
            figures["display_tallies"] = self.frames(display, poll)
        problems = [] if on_display else boards.check_top(expected, ids, shown(display), 20)
        refused = [code for a in [*asked, *votes] for code in a["refused"]]
        unanswered = sum(a["unanswered"] for a in [*asked, *votes])
        mismatched = sum(a["mismatched"] for a in [*asked, *votes])
        if sent != acked or refused or unanswered or mismatched or problems:
            self.problems.append(
                f"{kind.upper()} DOES NOT ADD UP: {len(ids)} proposed; votes sent {sent}, "
                f"acknowledged {acked}; refused {sorted(set(refused))}, unanswered "
                f"{unanswered}, mismatched acks {mismatched}; the display: {problems}"
            )
        try:
            exported = await asyncio.to_thread(_export, self.server.url, self.server.key)
        except OSError as error:
            self.problems.append(f"could not download the results: {error}")
        else:
            if kind == "qa":
                held = {str(q["id"]): int(q["votes"]) for q in exported.get("questions") or []}
            else:
                found: dict[str, Any] = next((p for p in exported["polls"] if p["id"] == poll), {})
                held = {str(o["key"]): int(o["votes"]) for o in found.get("options") or []}
            wrong = boards.check_export(expected, ids, held)
            figures["export_exact"] = not wrong
            self.problems += [f"{kind}: {w}" for w in wrong]
        result.setdefault("kinds", {})[kind] = figures

    async def check_scores(
        self, poll: str, votes: list[list[Any]], slide_poll: dict[str, Any], correct: int
    ) -> dict[str, Any]:
        """Every phone's points against the scoring rule, from the server's own times in its
        log; and how long the session takes to rank everyone, as the server does for a
        leaderboard slide (`Session.standings()`: everyone sorted, ties ranked, pseudonyms),
        in this process, on the replayed session."""
        if self.server.data is None:
            return {"scores": "not checked: the server's data folder is known only with --spawn"}
        replayed = await asyncio.to_thread(_replay, self.server.data / "handsup.db")
        session, records = replayed
        opened = [c.at for c, _ in records if isinstance(c, OpenPoll) and c.poll == poll]
        logged = {c.participant: c for c, _ in records if isinstance(c, Vote) and c.poll == poll}
        points, timer = int(slide_poll["points"]), float(slide_poll["timer"])
        scores = session.scores()
        wrong: list[str] = []
        bracket = 0
        for participant, option, sent_wall, ack_wall in votes:
            vote = logged.get(participant)
            if vote is None or vote.answer != option:
                wrong.append(f"{participant[:6]}: logged {vote and vote.answer}, acked {option}")
                continue
            # The server's time of a vote lies between the phone sending it and getting the
            # ack (one clock: same machine); 1 ms of slack for the clock's adjustments.
            if not sent_wall - 0.001 <= vote.at <= ack_wall + 0.001:
                bracket += 1
            elapsed = vote.at - opened[-1]
            due = answers.expected_points(points, elapsed, timer) if option == correct else 0
            if scores.get(participant, 0) != due:
                wrong.append(f"{participant[:6]}: {scores.get(participant)} points, due {due}")
        extra = len(logged) - len(votes)
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            board = session.standings()
            timings.append((time.perf_counter() - started) * 1000)

        figures = {
            "scored": len(votes) - len(wrong),
            "points_given": sum(scores.values()),
            "full_points": sum(1 for p in scores.values() if p == points),
            "leaderboard_ms": summary(timings),
            "leaderboard_players": len(scores),
            "leaderboard_top": [s.score for s in board[:3]],
        }
        if wrong or extra or bracket or not opened:
            self.problems.append(
                f"QUIZ SCORES: {len(wrong)} of {len(votes)} wrong (e.g. {wrong[:3]}), {extra} "
                f"logged votes no phone had acked, {bracket} vote times outside send..ack"
            )
        return figures

    async def check_exports(self) -> None:
        """Each answered poll's exported results (every row, replayed from the stored log, as
        a presenter downloads them) against what the phones had acknowledged."""
        try:
            exported = await asyncio.to_thread(_export, self.server.url, self.server.key)
        except OSError as error:
            self.problems.append(f"could not download the results: {error}")
            return
        polls = {p["id"]: p for p in exported["polls"]}
        checked = []
        for kind, poll, expected, voters in self.exports:
            found = polls.get(poll)
            wrong = ["not in the export"] if found is None else []
            if found is not None:
                wrong = answers.check_export(kind, expected, voters, found)
            self.problems += [f"{kind} {poll}: {w}" for w in wrong]
            checked.append(kind)
        self.result["export_checked"] = checked

    async def storm(self, pool: Pool, poll: str) -> None:
        started, cpu = time.monotonic(), self.server.cpu_seconds()
        answers = await pool.ask("storm", spread=self.options.storm_spread, poll=poll, timeout=90.0)
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


def _ratio(value: float | None, base: float | None) -> float | None:
    return round(value / base, 2) if value is not None and base else None


def _replay(path: Path) -> tuple[Session, list[tuple[Command, dict[str, Any]]]]:
    """The newest session in a data folder, replayed from its log as the server ran it."""
    store = SQLiteStore(path)
    try:
        row = max(store.sessions(), key=lambda r: r.id)
        records = store.commands(row.id)
    finally:
        store.close_reader()
    session = Session(parse_deck(row.deck_text, row.deck_path))
    session.restore(records)
    return session, records


def _export(url: str, key: str) -> dict[str, Any]:
    """The newest session's results, as the presenter's download gives them."""

    def get(path: str) -> Any:
        # The key in a header, never in the request line (which a proxy's logs keep).
        request = urllib.request.Request(f"{url}{path}", headers={"X-Handsup-Key": key})
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.load(reply)

    newest = max(get("/api/sessions"), key=lambda s: s["id"])
    results: dict[str, Any] = get(f"/api/sessions/{newest['id']}/results.json")
    return results


def _stalls(url: str, key: str) -> dict[str, Any]:
    """The server's loop figures since the last call (server.stalls), a new window begun."""
    request = urllib.request.Request(
        f"{url}/api/stalls", method="POST", headers={"X-Handsup-Key": key}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        figures: dict[str, Any] = json.load(reply)
    return figures


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _per(after: float, before: float, count: float) -> float | None:
    return round((after - before) * 1e6 / count, 2) if count > 0 and after > before else None


async def measure(options: Options) -> dict[str, Any]:
    """Run the scenario; start and stop the server too with `--spawn`."""
    if options.spawn and set(options.kinds) - {"choice"}:
        # deck.md and a poll of each kind; the quiz question's clock outlasts the answers.
        timer = math.ceil(options.vote_window) + 2
        text = answers.kinds_deck(target.DECK.read_text(), timer)
        if set(options.kinds) & set(boards.KINDS):
            text = boards.with_boards(text)
        server = await asyncio.to_thread(
            target.spawn, target.DECK, sys.executable, text, serve_flags(options)
        )
    elif options.spawn:
        flags = serve_flags(options)
        server = await asyncio.to_thread(target.spawn, target.DECK, sys.executable, None, flags)
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


def kinds_of(given: str) -> tuple[str, ...]:
    """`--kind`'s kinds in the order they run: the choice vote first unless it is placed
    (`words,choice`: after the words); ValueError naming any kind the bench does not know."""
    named = given.split(",")
    kinds = tuple(dict.fromkeys(named if "choice" in named else ["choice", *named]))
    unknown = set(kinds) - set(answers.KINDS) - set(boards.KINDS)
    if unknown:
        raise ValueError(f"unknown kind {', '.join(sorted(unknown))}")
    return kinds


def main(args: argparse.Namespace) -> int:
    """Run the benchmark and print the figures; 1 if anything was lost or double counted."""
    if not args.spawn and not (args.url and args.presenter_key):
        print("handsup bench: give --url and --presenter-key, or --spawn", file=sys.stderr)
        return 2
    try:
        kinds = kinds_of(args.kind)
    except ValueError as error:
        print(f"handsup bench: {error}", file=sys.stderr)
        return 2
    raise_fd_limit()
    options = Options(
        url=args.url,
        key=args.presenter_key or "",
        room=args.room,
        audience=args.audience,
        slides=args.slides,
        vote_window=args.vote_window,
        choice_window=args.choice_window,
        stuck=args.stuck,
        live_results=args.live_results,
        storm=args.storm,
        spawn=args.spawn,
        workers=args.workers,
        dialect=args.protocol,
        label=args.label or ("handsup" if args.spawn else args.protocol),
        quiet=args.json,
        seed=args.seed,
        kinds=kinds,
        vocabulary=args.vocabulary,
        zipf=args.zipf,
        storm_spread=args.storm_spread,
        serve_args=tuple(shlex.split(args.serve_args or "")),
        connect_timeout=args.connect_timeout,
        harness_nice=args.harness_nice,
    )
    result = uvloop.run(measure(options))
    if args.json:
        print(json.dumps(result))
    else:
        print(report.table(result))
    for problem in result["problems"]:
        print(f"handsup bench: PROBLEM: {problem}", file=sys.stderr)
    return 0 if result["ok"] else 1


def _waited(before: dict[str, Any], after: dict[str, Any], wall: float) -> float | None:
    """The server's run-queue wait between two `cpu` readings, in cores (None if unknown)."""
    start, end = before.get("server_waiting"), after.get("server_waiting")
    if start is None or end is None or wall <= 0:
        return None
    return round((float(end) - float(start)) / wall, 3)
