"""How protocol messages ride on a websocket: plain JSON text (handsup) or socket.io.

The harness speaks the handsup protocol (docs/protocol.md) to every server it measures; a
dialect only changes the framing around each message, so a socket.io peer can be measured
with exactly the same scenario.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Message = dict[str, Any]
# Messages a simulated phone never acts on (see `Dialect.ignored`).
IGNORED = ("tally", "questions", "my_questions", "presence")


@dataclass
class Decoded:
    """What one received text frame means: a protocol message, a frame to answer with, and
    whether the connection has just become ready for `hello`."""

    message: Message | None = None
    reply: str | None = None
    ready: bool = False


@dataclass(frozen=True)
class Dialect:
    """Plain handsup: `/ws/{role}`, one JSON object per text frame, ready once upgraded."""

    name: str = "handsup"
    ready_on_open: bool = True
    # How a state frame starts (compact JSON, `position` first), so a phone that only needs
    # the slide number can read it without parsing the whole view.
    state_prefix: str = '{"type":"state","state":{"position":'
    # How the frames a simulated phone never acts on start (live results, the Q&A's lists):
    # skipped unparsed. A real phone parses them on its own CPU; here thousands of phones
    # share one process, and parsing a once-a-second 2 KB list for all of them delayed the
    # acks queued behind it by 100 ms and more, which the bench then charged to the server.
    ignored: tuple[str, ...] = tuple('{"type":"' + kind + '",' for kind in IGNORED)

    def url(self, base: str, role: str) -> str:
        """The websocket URL for `role` on the server at `base` (http://host:port)."""
        return base.replace("http", "ws", 1).rstrip("/") + f"/ws/{role}"

    def encode(self, message: Message) -> str:
        """One outgoing message as a frame's text."""
        return json.dumps(message, separators=(",", ":"))

    def decode(self, text: str) -> Decoded:
        """One incoming frame's text."""
        return Decoded(message=json.loads(text))


@dataclass(frozen=True)
class SocketIO(Dialect):
    """socket.io 4 over Engine.IO 4's websocket transport, without the polling upgrade.

    `0{..}` opens the Engine.IO session, we answer `40` to join the default namespace, the
    server confirms with `40{..}`; `2`/`3` are ping/pong; a message is the event
    `42["m", {...}]`. The role rides in the query string.
    """

    name: str = "socketio"
    ready_on_open: bool = False
    state_prefix: str = '42["m",{"type":"state","state":{"position":'
    ignored: tuple[str, ...] = tuple('42["m",{"type":"' + kind + '",' for kind in IGNORED)

    def url(self, base: str, role: str) -> str:
        ws = base.replace("http", "ws", 1).rstrip("/")
        return f"{ws}/socket.io/?EIO=4&transport=websocket&role={role}"

    def encode(self, message: Message) -> str:
        return "42" + json.dumps(["m", message], separators=(",", ":"))

    def decode(self, text: str) -> Decoded:
        if text.startswith("42"):
            event = json.loads(text[2:])
            return Decoded(message=event[1])
        if text == "2":
            return Decoded(reply="3")
        if text.startswith("0"):
            return Decoded(reply="40")
        if text.startswith("40"):
            return Decoded(ready=True)
        return Decoded()


DIALECTS: dict[str, Dialect] = {"handsup": Dialect(), "socketio": SocketIO()}
