"""A worker process: runs many phones on one uvloop loop and carries out the orchestrator's
commands (connect, wait for a slide, vote, storm), answering each with what it measured.

Commands and answers are dicts over a multiprocessing pipe. Phones report by callbacks; a
`Wait` collects, for a set of phones, the moment each one met a condition, so no phase polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import resource
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import uvloop

from server.bench import answers, backoff, boards
from server.bench.conn import Conn, dial
from server.bench.dialect import DIALECTS
from server.bench.phone import Phone, Send, start_scripts

Answer = dict[str, Any]
STUCK_RECEIVE_BUFFER = 4096  # a phone that stopped reading: its kernel buffer fills quickly
DIALLING = 64  # phones of one process dialling at once (each until its 101 or failure)
# Seconds one dial may take, TCP connect and handshake together: picows' own handshake
# timeout (30 s, in dial) does not cover the TCP connect of a socket we made. A little
# longer than that one, which fires first once connected and closes its socket itself.
ATTEMPT = 35.0


@dataclass(frozen=True)
class Plan:
    """What one worker runs: which phones, from which addresses, against which server."""

    number: int
    url: str
    dialect: str
    room: str
    sources: list[str]  # one source address per phone
    stuck: list[bool]  # per phone: stops reading once welcomed
    seed: int
    nice: int = 0  # added to the process's niceness (Options.harness_nice)


@dataclass
class Wait:
    """Phones still to meet `done(phone)`; `times` holds when each one that did met it."""

    done: Callable[[Phone], bool]
    stamp: Callable[[Phone], float]
    pending: set[Phone]
    future: asyncio.Future[None]
    times: list[float] = field(default_factory=list)

    def check(self, phone: Phone) -> None:
        if phone in self.pending and self.done(phone):
            self.pending.discard(phone)
            self.times.append(self.stamp(phone))
            if not self.pending and not self.future.done():
                self.future.set_result(None)

    def drop(self, phone: Phone) -> None:
        """This phone will not get there (e.g. its vote could not be sent)."""
        self.pending.discard(phone)
        if not self.pending and not self.future.done():
            self.future.set_result(None)


def raise_fd_limit() -> int:
    """Raise this process's open-files soft limit to the hard limit; return the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Worker:
    """The phones of one process and the command loop that drives them."""

    def __init__(self, pipe: Connection, plan: Plan) -> None:
        self.pipe = pipe
        self.plan = plan
        self.rng = random.Random(plan.seed)
        dialect = DIALECTS[plan.dialect]
        url = dialect.url(plan.url, "audience")
        self.phones = [
            Phone(self, dialect, url, plan.room, source, stuck)
            for source, stuck in zip(plan.sources, plan.stuck, strict=True)
        ]
        self.waits: list[Wait] = []
        self.storming = False
        self.lost: list[Phone] = []  # healthy phones the server closed outside a storm
        self.tasks: set[asyncio.Task[None]] = set()
        self.stop = asyncio.Event()
        # Phones dialling in the connect phase: resolved True once in sync, False if closed.
        self.joining: dict[Phone, asyncio.Future[bool]] = {}
        self.redials = 0

    @property
    def healthy(self) -> list[Phone]:
        return [p for p in self.phones if not p.stuck and p.synced_at is not None and p.open]

    # Phone events.

    def synced(self, phone: Phone) -> None:
        joined = self.joining.get(phone)
        if joined is not None and not joined.done():
            joined.set_result(True)
        for wait in self.waits:
            wait.check(phone)

    def changed(self, phone: Phone) -> None:
        for wait in self.waits:
            wait.check(phone)

    def answered(self, phone: Phone) -> None:
        for wait in self.waits:
            wait.check(phone)
        script = phone.script  # the next answer goes once the last one is answered
        if 0 < phone.next < len(script) and script[phone.next - 1].done:
            self._due_later(phone)

    def closed(self, phone: Phone) -> None:
        joined = self.joining.get(phone)
        if joined is not None and not joined.done():
            joined.set_result(False)
            return
        if self.storming and not phone.stuck and phone.dropped_at is not None:
            self._redial_later(phone)
            return
        if not phone.stuck and phone.synced_at is not None:
            self.lost.append(phone)
        for wait in self.waits:
            wait.drop(phone)

    # Plumbing.

    def send(self, answer: Answer) -> None:
        answer.setdefault("worker", self.plan.number)
        self.pipe.send(answer)

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read commands (blocking, in a thread) and hand each to the loop."""
        while True:
            try:
                command = self.pipe.recv()
            except (EOFError, OSError):
                loop.call_soon_threadsafe(self.stop.set)
                return
            loop.call_soon_threadsafe(self.spawn, self.handle(command))
            if command["kind"] == "close":
                return

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        threading.Thread(target=self._read, args=(loop,), daemon=True).start()
        await self.stop.wait()

    async def wait_for(
        self,
        phones: list[Phone],
        done: Callable[[Phone], bool],
        stamp: Callable[[Phone], float],
        timeout: float,
    ) -> Wait:
        wait = Wait(done, stamp, set(phones), asyncio.get_running_loop().create_future())
        self.waits.append(wait)
        for phone in phones:
            wait.check(phone)
        if wait.pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(wait.future), timeout)
        self.waits.remove(wait)
        return wait

    async def handle(self, command: Answer) -> None:
        try:
            await self._handle(command)
        except Exception:
            self.send({"kind": command["kind"], "failure": traceback.format_exc()})

    async def _handle(self, command: Answer) -> None:
        kind = command["kind"]
        if kind == "connect":
            await self.connect(command["timeout"])
        elif kind == "position":
            await self.await_position(command["index"], command["timeout"])
        elif kind == "poll":
            await self.await_poll(command["poll"], command["status"], command["timeout"])
        elif kind == "vote":
            await self.vote(command["poll"], command["options"], command["window"])
        elif kind == "answer":
            await self.answer(command)
        elif kind == "board":
            await boards.phase(self, command)
        elif kind == "storm":
            await self.storm(command["spread"], command["poll"], command["timeout"])
        elif kind == "fast":
            for phone in self.phones:
                phone.fast = command["on"]
            self.send({"kind": "fast"})
        elif kind == "stats":
            self.send({"kind": "stats", "cpu": cpu_seconds(), "received": Conn.received})
        elif kind == "close":
            self.storming = False
            for phone in self.phones:
                if phone.transport is not None and phone.open:
                    phone.transport.disconnect(graceful=False)
            self.send({"kind": "close"})
            self.stop.set()

    # Phases.

    async def connect(self, timeout: float) -> None:
        """Dial every phone (a bounded number at a time) and wait for welcome + state.

        As the audience page does, a phone that is refused, dropped or told to go away before
        it is in sync dials again with the page's backoff, until `timeout` seconds from now;
        one still out then is reported with the last reason it was given."""
        deadline = time.monotonic() + timeout
        gate = asyncio.Semaphore(DIALLING)
        reasons: Counter[str] = Counter()
        done = 0

        async def one(phone: Phone) -> None:
            nonlocal done
            attempt, reason, dialled = 0, "", False
            while True:
                seen = len(phone.errors)
                joined = asyncio.get_running_loop().create_future()
                self.joining[phone] = joined
                try:
                    async with gate:
                        phone.reset_connection()
                        left = deadline - time.monotonic()
                        await asyncio.wait_for(
                            dial(
                                phone,
                                phone.url,
                                phone.source,
                                STUCK_RECEIVE_BUFFER if phone.stuck else None,
                            ),
                            max(0.1, min(ATTEMPT, left)),
                        )
                    if not dialled:  # counted once, at its first dial answered
                        dialled = True
                        done += 1
                    left = deadline - time.monotonic()
                    if left > 0 and await asyncio.wait_for(joined, left):
                        return
                    reason = "closed before its welcome and state"
                except TimeoutError:
                    reason = "no answer in time"
                except Exception as error:  # refused, reset, handshake failed
                    reason = f"{type(error).__name__}: {error}"
                finally:
                    self.joining.pop(phone, None)
                if len(phone.errors) > seen:  # the server said why (server_full, slow_down)
                    reason = f"error {phone.errors[-1]}"
                pause = backoff.delay(attempt, self.rng)
                attempt += 1
                if time.monotonic() + pause >= deadline:
                    reasons[reason] += 1
                    return
                await asyncio.sleep(pause)
                self.redials += 1

        progress = asyncio.get_running_loop().create_task(self._progress(lambda: done))
        await asyncio.gather(*(one(phone) for phone in self.phones))
        progress.cancel()
        synced = sum(1 for p in self.phones if p.synced_at is not None and p.open)
        self.send(
            {
                "kind": "connect",
                "synced": synced,
                "stuck": sum(1 for p in self.phones if p.stuck and p.synced_at is not None),
                "failed": len(self.phones) - synced,
                "errors": [f"{n} x {why}" for why, n in reasons.most_common(5)],
                "redials": self.redials,
                "nice": os.nice(0),  # this process's niceness, as the kernel has it
            }
        )

    async def _progress(self, count: Callable[[], int]) -> None:
        """Tell the orchestrator how many phones have dialled: on a change, and once a second
        regardless. The bar draws at most ten times a second, so the last change of two
        processes reporting together could go undrawn, and a bar that had stopped short
        (18,835 of 19,000 while all had dialled) looked like dials that never returned."""
        last, ticks = -1, 0
        while True:
            now = count()
            if now != last or ticks % 5 == 0:
                self.send({"kind": "progress", "dialled": now})
                last = now
            ticks += 1
            await asyncio.sleep(0.2)

    async def await_position(self, index: int, timeout: float) -> None:
        """Wait until every healthy phone is on slide `index`; answer when each got there."""
        wait = await self.wait_for(
            self.healthy, lambda p: p.position == index, lambda p: p.position_at, timeout
        )
        self.send({"kind": "position", "times": wait.times, "missing": len(wait.pending)})

    async def await_poll(self, poll: str, status: str, timeout: float) -> None:
        wait = await self.wait_for(
            self.healthy, lambda p: p.poll == (poll, status), lambda p: p.position_at, timeout
        )
        self.send({"kind": "poll", "missing": len(wait.pending)})

    async def vote(self, poll: str, options: int, window: float) -> None:
        """Every healthy phone votes once at a random moment in the window; wait for answers."""
        loop = asyncio.get_running_loop()
        phones = self.healthy
        for phone in phones:
            option = self.rng.randrange(options)
            vote_id = uuid.UUID(int=self.rng.getrandbits(128)).hex
            loop.call_later(self.rng.uniform(0.0, window), _cast, phone, poll, option, vote_id)
        wait = await self.wait_for(
            phones,
            lambda p: p.ack_at is not None or p.refused is not None,
            lambda p: p.ack_at or 0.0,
            window + 30.0,
        )
        acked = [p for p in phones if p.ack_at is not None]
        counts: dict[int, int] = {}
        for phone in acked:
            option = phone.ack_option if phone.ack_option is not None else -1
            counts[option] = counts.get(option, 0) + 1
        self.send(
            {
                "kind": "vote",
                "sent": sum(1 for p in phones if p.vote_id is not None),
                "acked": len(acked),
                "refused": [p.refused for p in phones if p.refused is not None],
                "unanswered": len(wait.pending),
                "ack_ms": [((p.ack_at or 0.0) - p.vote_sent_at) * 1000 for p in acked],
                "last_ack": max((p.ack_at or 0.0 for p in acked), default=0.0),
                "mismatched": sum(1 for p in acked if p.ack_option != p.vote_option),
                "counts": counts,
            }
        )

    async def answer(self, command: Answer) -> None:
        """Every healthy phone answers the poll as its kind asks (words one at a time, as the
        audience page sends them, each after the last was acknowledged), within the window;
        answer what was acknowledged, refused, and what the room should now show."""
        kind = command["type"]
        phones = self.healthy
        late: set[int] = set()
        if kind == "quiz" and phones:
            late = set(self.rng.sample(range(len(phones)), math.ceil(len(phones) / 100)))
        zipf = None
        if kind in ("words", "text"):
            words = answers.vocabulary(command["vocabulary"])
            zipf = answers.Zipf(words, command["zipf"])
        scripts = [self._script(command, number in late, zipf) for number in range(len(phones))]
        start = time.monotonic()
        start_scripts(phones, scripts, start)
        for phone in phones:
            self._due_later(phone)
        ends = max((s.at for p in phones for s in p.script), default=start)
        wait = await self.wait_for(
            phones,
            lambda p: all(s.done for s in p.script),
            lambda p: max((s.ack_at or 0.0 for s in p.script), default=0.0),
            ends - time.monotonic() + 30.0,
        )
        self.send({"kind": "answer", **_outcome(kind, phones, len(wait.pending))})

    def _script(self, command: Answer, late: bool, zipf: answers.Zipf | None) -> list[Send]:
        """One phone's answers to the poll, each with the moment it is due, in seconds from
        the start of the window (see `start_scripts`)."""
        rng, kind, poll, window = self.rng, command["type"], command["poll"], command["window"]

        def send(answer: Any, meant: Any, at: float) -> Send:
            vote_id = uuid.UUID(int=rng.getrandbits(128)).hex
            if kind == "quiz":  # a quiz question is a choice: a `vote`, as phones send it
                message = {"type": "vote", "poll": poll, "option": answer, "vote_id": vote_id}
            else:
                message = {"type": "answer", "poll": poll, "answer": answer, "vote_id": vote_id}
            return Send(vote_id, message, meant, at, late=late)

        if kind == "words":  # one word a message, as the audience page sends them
            assert zipf is not None
            entries = answers.words_answer(zipf, command["entries"], rng)
            times = sorted(rng.uniform(0.0, window) for _ in entries)
            pairs = zip(entries, times, strict=True)
            return [send([typed], word, at) for (typed, word), at in pairs]
        if kind == "text":
            assert zipf is not None
            text = answers.sentence(zipf, rng)
            return [send(text, text, rng.uniform(0.0, window))]
        if kind == "scale":
            point = answers.rating(command["min"], command["max"], rng)
            return [send(point, point, rng.uniform(0.0, window))]
        option = answers.quiz_choice(command["options"], command["correct"], rng)
        at = answers.quiz_delay(window, rng)
        if late:  # after the server's deadline (wall clock), by a margin no clock jitter covers
            at = command["deadline"] + 0.3 - time.time()  # (the window starts later still)
        return [send(option, option, at)]

    def due_later(self, phone: Phone) -> None:
        """Send the phone's next answer when it is due (for the Q&A and ideas phases)."""
        self._due_later(phone)

    def _due_later(self, phone: Phone) -> None:
        """Send the phone's next answer when it is due."""
        delay = max(0.0, phone.script[phone.next].at - time.monotonic())
        asyncio.get_running_loop().call_later(delay, _send_next, phone)

    async def storm(self, spread: float, poll: str, timeout: float) -> None:
        """Every healthy phone drops within `spread` seconds and redials with backoff; answer
        how long each took to be back in sync, and whether its token and vote came back."""
        loop = asyncio.get_running_loop()
        phones = self.healthy
        tokens = {phone: phone.participant for phone in phones}
        self.storming = True

        def drop(phone: Phone) -> None:
            phone.dropped_at = time.monotonic()
            phone.attempt = 0
            phone.reset_connection()
            phone.drop()

        for phone in phones:
            loop.call_later(self.rng.uniform(0.0, spread), drop, phone)
        wait = await self.wait_for(
            phones,
            lambda p: p.dropped_at is not None and p.synced_at is not None and p.open,
            lambda p: ((p.synced_at or 0.0) - (p.dropped_at or 0.0)) * 1000,
            spread + timeout,
        )
        self.storming = False
        back = [p for p in phones if p not in wait.pending]
        self.send(
            {
                "kind": "storm",
                "phones": len(phones),
                "back": len(back),
                "sync_ms": wait.times,
                "resync_ms": [((p.synced_at or 0.0) - p.dialled_at) * 1000 for p in back],
                "token_kept": sum(
                    1 for p in back if p.welcome and p.welcome.get("participant") == tokens[p]
                ),
                # Its vote, and with --kind its answer to every other poll, as last acked.
                "vote_kept": sum(
                    1
                    for p in back
                    if p.welcome
                    and p.welcome.get("votes", {}).get(poll) == p.ack_option
                    and all(p.welcome["votes"].get(k) == held for k, held in p.held.items())
                ),
                "redials": sum(p.attempt for p in back),
            }
        )

    def _redial_later(self, phone: Phone) -> None:
        pause = backoff.delay(phone.attempt, self.rng)
        phone.attempt += 1
        asyncio.get_running_loop().call_later(pause, lambda: self.spawn(self._redial(phone)))

    async def _redial(self, phone: Phone) -> None:
        if not self.storming:
            return
        phone.reset_connection()
        phone.dialled_at = time.monotonic()
        try:
            await dial(phone, phone.url, phone.source)
        except Exception:
            self._redial_later(phone)


def _cast(phone: Phone, poll: str, option: int, vote_id: str) -> None:
    phone.vote(poll, option, vote_id, time.monotonic())


def _send_next(phone: Phone) -> None:
    if phone.open:
        phone.send_next(time.monotonic())


def _outcome(kind: str, phones: list[Phone], unanswered: int) -> Answer:
    """What the phones' answers came to: counts, timings, and what the room must now show
    (per word, text, point or option, only what was acknowledged; a phone's same word twice
    counts once)."""
    sends = [s for p in phones for s in p.script]
    on_time = [s for s in sends if not s.late]
    acked = [s for s in on_time if s.ack_at is not None]
    expected: Counter[Any] = Counter()
    mismatched = voters = 0
    quiz = []
    for phone in phones:
        held: list[Any] = []  # what the server should hold for the phone after each ack
        for send in phone.script:
            if send.ack_at is None or send.late:
                continue
            if kind == "text" or send.meant not in held:  # the same word twice counts once
                held.append(send.meant)
                expected[send.meant] += 1
            if kind == "words":  # the server holds each word as typed (cleaned)
                mismatched += not (isinstance(send.held, list) and len(send.held) == len(held))
            elif kind == "text":
                mismatched += send.held != held
            else:
                mismatched += send.held != send.meant
            if kind == "quiz":
                quiz.append([phone.participant, send.meant, send.sent_wall, send.ack_wall])
        voters += bool(held)
    late = [s for s in sends if s.late]
    return {
        "phones": len(phones),
        "sent": sum(1 for s in on_time if s.sent_at is not None),
        "acked": len(acked),
        "refused": [s.refused for s in on_time if s.refused is not None],
        "unanswered": unanswered,
        "late_sent": sum(1 for s in late if s.sent_at is not None),
        "late_refused": [s.refused for s in late if s.refused is not None],
        "late_acked": sum(1 for s in late if s.ack_at is not None),
        "ack_ms": [((s.ack_at or 0.0) - (s.sent_at or 0.0)) * 1000 for s in acked],
        "first_sent": min((s.sent_at for s in on_time if s.sent_at is not None), default=0.0),
        "last_ack": max((s.ack_at or 0.0 for s in acked), default=0.0),
        "voters": voters,
        "mismatched": mismatched,
        "expected": dict(expected),
        "quiz": quiz,
    }


def main(pipe: Connection, plan: Plan) -> None:
    """Entry point of a worker process."""
    if plan.nice:
        os.nice(plan.nice)  # see Options.harness_nice
    raise_fd_limit()
    uvloop.run(Worker(pipe, plan).serve())
