"""A simulated phone: says hello as the audience page does, follows the state, votes once.

It remembers what a phone remembers (its participant token, its vote) so that after a drop it
can check the server gave both back. Every time is `time.monotonic()`, which on Linux is one
clock for all processes, so the orchestrator can subtract its own send times from them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from picows import WSTransport

from server.bench.conn import Conn
from server.bench.dialect import Dialect, Message


class Events(Protocol):
    """What a phone tells the process running it."""

    def synced(self, phone: Phone) -> None: ...  # welcome and state received
    def changed(self, phone: Phone) -> None: ...  # a state with a new slide or poll status
    def answered(self, phone: Phone) -> None: ...  # its vote was acknowledged or refused
    def closed(self, phone: Phone) -> None: ...


@dataclass(slots=True)
class Send:
    """One answer a phone sends to a poll of some kind, and what became of it. `meant` is what
    the harness counts it as (the word a spelling stands for, the text, the point, the option);
    `at` is when it is due (monotonic); the wall-clock times bracket the server's own."""

    vote_id: str
    message: Message
    meant: Any
    at: float
    late: bool = False  # sent after a timed question's deadline: must be refused
    sent_at: float | None = None
    sent_wall: float = 0.0
    ack_at: float | None = None
    ack_wall: float = 0.0
    held: Any = None  # what the acknowledgement says the server now holds for the phone
    refused: str | None = None

    @property
    def done(self) -> bool:
        return self.ack_at is not None or self.refused is not None


class Phone(Conn):
    """One audience connection (re-used across reconnects)."""

    def __init__(
        self, events: Events, dialect: Dialect, url: str, room: str, source: str, stuck: bool
    ) -> None:
        super().__init__(dialect)
        self.events = events
        self.url = url
        self.room = room
        self.source = source
        self.stuck = stuck
        self.participant: str | None = None
        self.welcome: Message | None = None
        self.synced_at: float | None = None
        self.position: int | None = None
        self.position_at = 0.0
        self.poll: tuple[str, str] | None = None  # (poll id, status) of the current slide
        self.errors: list[str] = []
        self.fast = False  # read only the position of states (set while slides are timed)
        # The vote: what was sent, when, and the answer.
        self.vote_id: str | None = None
        self.vote_poll = ""
        self.vote_option = -1
        self.vote_sent_at = 0.0
        self.ack_at: float | None = None
        self.ack_option: int | None = None
        self.refused: str | None = None
        # Answers to the poll of the current phase, sent one after another (as the audience
        # page does: one pending answer per poll), and the next one due.
        self.script: list[Send] = []
        self.next = 0
        self.held: dict[str, Any] = {}  # poll -> what the last ack said the server holds
        # A drop: when it happened and how many redials it took.
        self.dropped_at: float | None = None
        self.dialled_at = 0.0  # when the last redial started
        self.attempt = 0

    def on_text(self, transport: WSTransport, text: str, now: float) -> None:
        # While slides are timed, a state is read for its position only: the view is
        # compact JSON with `position` first, so no need to parse the whole of it.
        prefix = self.dialect.state_prefix
        if self.fast and text.startswith(prefix):
            start = len(prefix)
            position = int(text[start : text.index(",", start)])
            if position != self.position:
                self.position = position
                self.position_at = now
                self.events.changed(self)
            return
        if text.startswith(self.dialect.ignored):
            return  # counted (bytes) by Conn, of no use to a simulated phone
        super().on_text(transport, text, now)

    def reset_connection(self) -> None:
        """Forget the per-connection state before dialling again."""
        self.welcome = None
        self.synced_at = None

    def on_ready(self) -> None:
        hello: Message = {"type": "hello", "room": self.room}
        if self.participant is not None:
            hello["participant"] = self.participant
        self.send(hello)

    def on_message(self, message: Message, now: float) -> None:
        kind = message.get("type")
        if kind == "state":
            self._state(message["state"], now)
        elif kind == "welcome":
            self.welcome = message
            self.participant = message.get("participant") or self.participant
        elif kind == "vote_ack":
            vote_id = message.get("vote_id")
            if vote_id == self.vote_id and self.ack_at is None:
                self.ack_at = now
                self.ack_option = message.get("option")
                self.events.answered(self)
            elif (send := self._pending(vote_id)) is not None:
                send.ack_at, send.ack_wall = now, time.time()
                send.held = message["answer"] if "answer" in message else message.get("option")
                if message.get("own") and isinstance(send.message.get("answer"), str):
                    send.held = message["own"][-1]["id"]  # an idea proposed: the id it got
                self.held[str(message.get("poll"))] = send.held
                self.events.answered(self)
        elif kind == "ask_ack":
            if (send := self._pending(message.get("ask_id"))) is not None:
                send.ack_at, send.ack_wall = now, time.time()
                send.held = message.get("question")
                self.events.answered(self)
        elif kind == "upvote_ack":
            if (send := self._pending(message.get("upvote_id"))) is not None and message["on"]:
                send.ack_at, send.ack_wall = now, time.time()
                send.held = message.get("question")
                self.events.answered(self)
        elif kind == "error":
            code = str(message.get("code"))
            self.errors.append(code)
            ref = message.get("ref")
            mine = self.vote_id is not None and ref == self.vote_id
            if mine and self.ack_at is None and self.refused is None:
                self.refused = code
                self.events.answered(self)
            elif (send := self._pending(ref)) is not None:
                send.refused = code
                self.events.answered(self)

    def _state(self, state: Message, now: float) -> None:
        poll = state.get("poll")
        view = (str(poll["id"]), str(poll["status"])) if poll else None
        position = state.get("position")
        changed = position != self.position or view != self.poll
        if position != self.position:
            self.position = position
            self.position_at = now
        self.poll = view
        if self.synced_at is None and self.welcome is not None:
            self.synced_at = now
            if self.stuck:
                self.pause()
            self.events.synced(self)
        if changed:
            self.events.changed(self)

    def vote(self, poll: str, option: int, vote_id: str, now: float) -> None:
        """Cast this phone's vote (once; a resend would reuse `vote_id`)."""
        self.vote_id, self.vote_poll, self.vote_option = vote_id, poll, option
        self.vote_sent_at = now
        self.send({"type": "vote", "poll": poll, "option": option, "vote_id": vote_id})

    def _pending(self, vote_id: Any) -> Send | None:
        """The script's answer in flight with this vote id, if any."""
        if 0 < self.next <= len(self.script):
            send = self.script[self.next - 1]
            if send.vote_id == vote_id and not send.done:
                return send
        return None

    def send_next(self, now: float) -> None:
        """Send the script's next answer."""
        send = self.script[self.next]
        self.next += 1
        send.sent_at, send.sent_wall = now, time.time()
        self.send(send.message)

    def on_closed(self) -> None:
        self.events.closed(self)


def start_scripts(phones: list[Phone], scripts: list[list[Send]], start: float) -> None:
    """Give each phone its script, its moments counted from `start` (monotonic). The caller
    takes `start` once every script is made: making thousands takes tens of milliseconds
    (hundreds for the ideas' votes), and answers due meanwhile would all go at once when it
    is done, a burst at the start of the window that no room sends, and that measured the
    harness instead of the server (the slowest words acknowledgements, 2026-12-08)."""
    for phone, script in zip(phones, scripts, strict=True):
        for send in script:
            send.at += start
        phone.script = script
        phone.next = 0
