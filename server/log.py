"""The command log a room submits to: where commands are ordered, applied and made durable.

A room never applies a command itself: it submits it, and the log applies it (through the
room's `Sink` methods) in the one order every copy of the session agrees on. The local log
applies at once and writes to the room's store, as one process always has; `server.redis_log`
appends to a Redis stream first and applies each entry as it comes back, on every worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from server.commands import Ask, Command, Event, GoTo, Refused, Upvote, VoteCast
from server.protocol import ClientMessage
from server.session import Session
from server.store import Store
from slides import Deck

# What became of a submitted command: its events, or why it was refused (nothing changed).
Outcome = list[Event] | Refused
# Told the outcome (on the worker that submitted the command only) and the future that
# resolves once the command is durable: what an acknowledgement waits for.
Then = Callable[[Outcome, "asyncio.Future[None]"], None]
_LOG = logging.getLogger("handsup.log")


@dataclass(frozen=True, slots=True)
class Deferred:
    """A presenter's (or moderator's) message, made a command only as the log applies it:
    "next slide" or "open this slide's poll" mean the slide shown then, which a message
    still on its way through a shared log must not guess."""

    message: ClientMessage
    now: float


class Sink(Protocol):
    """What a log drives: the room owning the session copy and its sockets."""

    session: Session

    def resolve(self, deferred: Deferred) -> Command:
        """The command a deferred message means now; raise Refused if none."""
        ...

    def apply_command(self, command: Command) -> list[Event]:
        """Apply to the session; raise Refused having changed nothing."""
        ...

    def applied(self, command: Command, events: list[Event], durable: asyncio.Future[None]) -> None:
        """Fan out what a command changed (its events are not empty)."""
        ...

    def reload(self, deck: Deck) -> object:
        """Serve an edited deck."""
        ...

    def show_deck_problems(self, problems: list[str]) -> None:
        """Tell the presenters why a saved deck was refused."""
        ...

    def notify(
        self, level: Literal["info", "warning", "error"], message: str, details: list[str]
    ) -> None:
        """Tell the presenters something went wrong (or right)."""
        ...

    def link(self, reachable: bool) -> None:
        """Tell every screen whether the shared log is reachable (votes wait while not)."""
        ...


class CommandLog(Protocol):
    """One ordered log of commands for one session."""

    def attach(self, sink: Sink) -> None:
        """Apply to this sink from now on."""
        ...

    def submit(self, command: Command | Deferred, then: Then | None) -> None:
        """Order, apply and make durable a command; `then` hears how it went."""
        ...

    def edit_deck(self, deck: Deck, text: str) -> None:
        """Serve an edited deck on every copy of the session (in log order)."""
        ...

    def deck_refused(self, problems: list[str]) -> None:
        """A saved deck has errors: every worker's presenters are told."""
        ...

    def redact(self, participant: str) -> None:
        """Overwrite what this participant typed in the durable log (once Forget is durable)."""
        ...

    async def start(self) -> None:
        """Begin (once the event loop runs)."""
        ...

    async def close(self) -> None:
        """Stop; the room's store is closed by its owner."""
        ...


def worth_logging(events: list[Event]) -> bool:
    """Whether a command's events change the session: a resent vote (a replay) or a command
    that changed nothing needs no place in a results log."""
    return bool(events) and not (isinstance(events[0], VoteCast) and events[0].replay)


def done_future() -> asyncio.Future[None]:
    """A future already resolved (nothing to wait for)."""
    done = asyncio.get_running_loop().create_future()
    done.set_result(None)
    return done


class LocalLog:
    """One process: apply at once, then queue to the store (SQLite's group commit)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sink: Sink | None = None

    def attach(self, sink: Sink) -> None:
        """Apply to this sink."""
        self.sink = sink

    def submit(self, command: Command | Deferred, then: Then | None) -> None:
        """Apply now; the durable future is the store's."""
        assert self.sink is not None
        try:
            if isinstance(command, Deferred):
                command = self.sink.resolve(command)
            events = self.sink.apply_command(command)
        except Refused as refused:
            if then is not None:
                then(refused, done_future())
            else:
                _LOG.debug("refused: %s (%s)", command, refused.reason)
            return
        if not events:
            # Nothing changed (a known phone rejoining): nothing to log. A resent question or
            # upvote is acknowledged once the original is durable: behind everything queued.
            resent = isinstance(command, Ask | Upvote)
            durable = self.store.record([]) if resent else done_future()
        elif not worth_logging(events):
            durable = self.store.record([])  # a resent vote: once the original is durable
        else:
            extra = goto_extra(command, self.sink.session.deck)
            durable = self.store.record([command], [extra])
            self.sink.applied(command, events, durable)
        if then is not None:
            then(events, durable)

    def edit_deck(self, deck: Deck, text: str) -> None:
        """Serve it at once (the caller records the text beside the session)."""
        assert self.sink is not None
        self.sink.reload(deck)

    def deck_refused(self, problems: list[str]) -> None:
        """Tell the presenters at once."""
        assert self.sink is not None
        self.sink.show_deck_problems(problems)

    def redact(self, participant: str) -> None:
        """The store overwrites the texts."""
        self.store.redact(participant)

    async def start(self) -> None:
        """Nothing to start: the store starts its writer on first use."""

    async def close(self) -> None:
        """Nothing of its own to stop."""


def goto_extra(command: Command, deck: Deck) -> dict[str, Any] | None:
    """A slide move is logged with its slide's id, so a replay on an edited deck follows the
    slide, not the index."""
    if isinstance(command, GoTo) and 0 <= command.index < len(deck.slides):
        return {"slide": deck.slides[command.index].id}
    return None
