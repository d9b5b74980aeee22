"""Every TCP connection before it is a websocket: uvicorn's HTTP parser, with a door keeper.

uvicorn (httptools) reads page loads and upgrade requests; this subclass adds what it lacks
against a hostile hall:

- each socket is counted from the moment it is accepted (`ConnectionLimiter.arrive`), so
  half-sent requests count against the per-address and total caps, and the oldest socket
  still waiting is dropped to make room for a new one (not one just upgraded: see limits);
- each address has a budget of new connections, and waits after offences (`AddressGuard`);
  a refused socket gets a one-line 429 or 503 and is closed, nothing else is read from it;
- a request's line and headers must fit in `max_head` bytes (else 431) and arrive within
  `head_timeout` seconds (else 408). Without these, httptools joins a never-ending header
  chunk by chunk (CPU that grows with the square of its size) and holds all of it.

An upgrade request is handed to `server.connection.Connection` with its place in the count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server import handshake, turns
from server.connection import Connection
from server.limits import AddressGuard, ConnectionLimiter
from server.sockets import Endpoint

# Seconds a refused request's sender has to read the answer while what it still sends is
# thrown away unparsed; closing with its bytes unread would reset the connection, and the
# answer (431, 408) would be lost with it.
LINGER = 1.0
REFUSALS = {
    408: b"408 Request Timeout",
    429: b"429 Too Many Requests",
    431: b"431 Request Header Fields Too Large",
    503: b"503 Service Unavailable",
}


@dataclass(frozen=True)
class Doorway:
    """What every gate shares: the limits, the per-address memory and the websocket side."""

    endpoint: Endpoint
    limiter: ConnectionLimiter
    doors: AddressGuard
    max_head: int  # bytes of request line and headers
    head_timeout: float  # seconds for the request line and headers


def refusal(status: int, text: str, retry_after: float | None = None) -> bytes:
    """A whole HTTP response that ends the connection."""
    body = text.encode()
    retry = b"" if retry_after is None else b"retry-after: %d\r\n" % max(1, round(retry_after))
    return (
        b"HTTP/1.1 " + REFUSALS[status] + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: %d\r\nconnection: close\r\n" % len(body) + retry + b"\r\n" + body
    )


class Gate(HttpToolsProtocol):
    """One accepted TCP connection while it speaks HTTP (see the module docstring)."""

    def __init__(self, doorway: Doorway, **uvicorn: Any) -> None:
        super().__init__(**uvicorn)
        self._doorway = doorway
        self.slot: str | None = None
        self.address = "?"
        self._head = 0  # bytes of the current request's line and headers read so far
        self._heads = 0  # requests whose line and headers were read in full
        self._in_body = False
        self._refused = False
        self._deadline: asyncio.TimerHandle | None = None
        self._turns = turns.current()  # the loop's input budget

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Count the socket, or refuse it before reading a byte."""
        super().connection_made(transport)
        doorway = self._doorway
        self.address = self.client[0] if self.client else "?"
        # A trusted proxy (nginx) connects for everyone: its sockets are counted against the
        # client it names, at the handshake (Endpoint.door_wait), not against the proxy here.
        trusted = doorway.endpoint.trusts(self.address)
        wait = 0.0 if trusted else doorway.doors.connect(self.address, self.loop.time())
        if wait > 0:
            text = "too many new connections from your address; try again shortly\n"
            self._turn_away(429, text, wait)
            return
        full = doorway.limiter.arrive(self, self.address, self.loop.time())
        if full is not None:
            self._turn_away(503, full + "\n", 5)
            return
        self._deadline = self.loop.call_later(doorway.head_timeout, self._too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        """Give back the socket's place."""
        self._stop_deadline()
        self._turns.forget(self)
        self._doorway.limiter.release(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse, but never more than `max_head` bytes of one request's line and headers."""
        if self._refused or self.slot is None:
            return  # refused: what it sends is not parsed
        if self._turns.defer(self, data):
            return  # this turn's input budget is spent: handed back in a later turn
        if self._in_body:
            super().data_received(data)
            return
        left = self._doorway.max_head - self._head
        if len(data) <= left:
            self._head += len(data)
            super().data_received(data)
            return
        # Parse up to the limit; if the headers end within it, the rest is a body (or the
        # next request) and is read as usual.
        heads = self._heads
        super().data_received(data[:left])
        if self.slot is None or self.transport.is_closing():
            return
        if self._heads != heads:
            self.data_received(data[left:])
        else:
            limit = self._doorway.max_head
            self._refuse(431, f"request line and headers are limited to {limit} bytes\n")
            self._doorway.doors.offend(self.address, self.loop.time())

    def evict(self) -> None:
        """Drop the socket at once to make room for a newer one."""
        self._stop_deadline()
        self.transport.abort()

    # httptools callbacks

    def on_message_begin(self) -> None:
        """A request starts: its headers must arrive in time."""
        super().on_message_begin()
        if self._deadline is None and self.slot is not None:
            self._deadline = self.loop.call_later(self._doorway.head_timeout, self._too_slow)

    def on_headers_complete(self) -> None:
        """The request's head is in: no deadline for the rest, a fresh count for the next."""
        self._stop_deadline()
        self._head = 0
        self._heads += 1
        self._in_body = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """Back to reading a request line."""
        self._in_body = False
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        """Hand the socket, and its place in the count, to a websocket connection.

        A plain upgrade is answered from what httptools parsed (`server.handshake`); any
        other is rebuilt, as uvicorn's own does, for websockets to parse and answer. Bytes
        after the request are not kept (a browser waits for the 101)."""
        self._stop_deadline()
        self.connections.discard(self)
        endpoint = self._doorway.endpoint
        method, headers = self.scope["method"], self.headers  # the scope's own list
        upgrade = handshake.read(method, self.url, headers)
        connection = Connection(endpoint, self.server_state.connections, opened=upgrade is not None)
        self._doorway.limiter.replace(self, connection, self.loop.time())
        connection.connection_made(self.transport)
        if upgrade is not None:
            connection.upgrade(upgrade)
        else:
            output = [method.encode(), b" ", self.url, b" HTTP/1.1\r\n"]
            for name, value in headers:
                output += [name, b": ", value, b"\r\n"]
            output.append(b"\r\n")
            connection.data_received(b"".join(output))
        self.transport.set_protocol(connection)
        # The parser holds this gate's callbacks, a cycle only a collection would free: drop
        # it, and the gate goes as soon as it returns (no cyclic garbage per connection).
        self.parser = None  # type: ignore[assignment]

    # Internals

    def _too_slow(self) -> None:
        self._deadline = None
        if self.slot is None or self.transport.is_closing():
            return
        self._refuse(408, "the request took too long to arrive\n")
        self._doorway.doors.offend(self.address, self.loop.time())

    def _turn_away(self, status: int, text: str, retry_after: float) -> None:
        """Refuse a socket just accepted: one write and a close, nothing read, nothing kept
        (a connection flood must cost the server as little as possible)."""
        self._refused = True
        self.connections.discard(self)
        transport = self.transport
        transport.pause_reading()
        transport.write(refusal(status, text, retry_after))
        transport.close()

    def _refuse(self, status: int, text: str) -> None:
        """Answer a request that broke a limit, and end the connection (see LINGER)."""
        self._stop_deadline()
        self._refused = True
        transport = self.transport
        transport.write(refusal(status, text))
        if transport.can_write_eof():
            transport.write_eof()
        self.loop.call_later(LINGER, transport.abort)

    def _stop_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


def gate_factory(doorway: Doorway) -> Callable[..., Gate]:
    """What uvicorn's `http` setting takes: it calls this with its config and server state."""

    def make(**uvicorn: Any) -> Gate:
        return Gate(doorway, **uvicorn)

    return make
