"""The worker processes, seen from the orchestrator: start them, ask them all, collect answers."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from server.bench import worker
from server.bench.worker import Answer, Plan


class Pool:
    """Worker processes (spawned, not forked) and a queue of answers from each."""

    def __init__(self, plans: list[Plan], on_progress: Callable[[int, int], None]) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        self.answers: list[asyncio.Queue[Answer]] = []
        self.on_progress = on_progress
        for plan in plans:
            mine, theirs = context.Pipe()
            process = context.Process(target=worker.main, args=(theirs, plan), daemon=True)
            process.start()
            theirs.close()
            self.pipes.append(mine)
            self.processes.append(process)
            self.answers.append(asyncio.Queue())
        # A thread per pipe reads it blocking (an event loop's reader would make the pipe
        # non-blocking, and a large answer would then arrive in pieces).
        loop = asyncio.get_running_loop()
        self.readers = [
            threading.Thread(target=self._read, args=(loop, n), daemon=True)
            for n in range(len(self.pipes))
        ]
        for reader in self.readers:
            reader.start()

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def _read(self, loop: asyncio.AbstractEventLoop, number: int) -> None:
        pipe = self.pipes[number]
        while True:
            try:
                answer: Answer = pipe.recv()
            except (EOFError, OSError):
                loop.call_soon_threadsafe(self._deliver, number, {"kind": "died"})
                return
            loop.call_soon_threadsafe(self._deliver, number, answer)
            if answer["kind"] == "close":
                return

    def _deliver(self, number: int, answer: Answer) -> None:
        if answer["kind"] == "progress":
            self.on_progress(number, answer["dialled"])
        else:
            self.answers[number].put_nowait(answer)

    def tell(self, kind: str, **fields: Any) -> None:
        """Send a command to every worker."""
        for pipe in self.pipes:
            pipe.send({"kind": kind, **fields})

    async def gather(self, kind: str) -> list[Answer]:
        """Each worker's next answer, which must be of this kind."""
        answers = []
        for queue in self.answers:
            answer = await queue.get()
            if "failure" in answer:
                raise RuntimeError(f"worker failed:\n{answer['failure']}")
            if answer["kind"] != kind:
                raise RuntimeError(f"a worker answered {answer['kind']!r}, expected {kind!r}")
            answers.append(answer)
        return answers

    async def ask(self, kind: str, **fields: Any) -> list[Answer]:
        self.tell(kind, **fields)
        return await self.gather(kind)

    async def close(self) -> None:
        """Close every phone and let the processes end."""
        with contextlib.suppress(TimeoutError, RuntimeError):
            await asyncio.wait_for(self.ask("close"), 10)
        for process in self.processes:
            await asyncio.to_thread(process.join, 5)
            if process.is_alive():
                process.kill()
        for pipe in self.pipes:
            pipe.close()
