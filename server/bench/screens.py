"""The presenter and the display, as the orchestrator holds them: one connection each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from picows import WSTransport

from server.bench.conn import Conn, dial
from server.bench.dialect import Dialect, Message


class Screen(Conn):
    """A presenter or display connection that keeps the latest state and every tally."""

    def __init__(self, dialect: Dialect, role: str, hello: Message) -> None:
        super().__init__(dialect)
        self.role = role
        self.hello = hello
        self.welcome: Message | None = None
        self.state: Message | None = None
        self.tallies: list[tuple[float, Message]] = []  # (arrival, tally)
        self.tally_bytes: list[int] = []  # the size of each of those frames
        self._size = 0
        self.errors: list[Message] = []
        self.questions: Message | None = None  # the latest `questions` frame
        self._news = asyncio.Event()

    def on_ready(self) -> None:
        self.send(self.hello)

    def on_text(self, transport: WSTransport, text: str, now: float) -> None:
        self._size = len(text.encode())
        super().on_text(transport, text, now)

    def on_message(self, message: Message, now: float) -> None:
        kind = message.get("type")
        if kind == "state":
            self.state = message["state"]
        elif kind == "welcome":
            self.welcome = message
        elif kind == "tally":
            self.tallies.append((now, message))
            self.tally_bytes.append(self._size)
        elif kind == "questions":
            self.questions = message
        elif kind == "error":
            self.errors.append(message)
        self._news.set()

    def on_closed(self) -> None:
        self._news.set()

    def forget_tallies(self) -> None:
        """Start counting tally frames afresh."""
        self.tallies.clear()
        self.tally_bytes.clear()

    async def until(self, check: Callable[[Screen], bool], timeout: float = 10.0) -> bool:
        """Wait until `check(self)` holds; False if it still does not after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not check(self):
            left = deadline - loop.time()
            if left <= 0 or (not self.open and self.transport is not None):
                return False
            self._news.clear()
            try:
                await asyncio.wait_for(self._news.wait(), left)
            except TimeoutError:
                return check(self)
        return True


async def open_screen(dialect: Dialect, base: str, role: str, hello: Message) -> Screen:
    """Connect a screen and wait for its welcome and first state."""
    screen = Screen(dialect, role, hello)
    await dial(screen, dialect.url(base, role))
    if not await screen.until(lambda s: s.welcome is not None and s.state is not None):
        refused = screen.errors[0] if screen.errors else {}
        raise RuntimeError(f"the {role} was not welcomed: {refused or 'no answer'}")
    return screen
