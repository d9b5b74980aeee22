"""One websocket connection: websockets' sans-I/O protocol on an asyncio transport.

uvicorn parses the HTTP request and, for an upgrade, hands the socket to the protocol class
it was given; ours is this one. It speaks straight to the room through `server.sockets`: no
ASGI task, receive queue or middleware chain per connection, so a phone costs a few
objects and its frames are written to the transport as they come (see docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, NamedTuple, cast

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from server import turns
from server.handshake import Upgrade, switching
from server.protocol import Role
from server.sockets import Conversation, Endpoint, role_of

CLOSE_GRACE = 5.0  # seconds a closing connection has to finish its closing handshake
DEAF_GRACE = 1.0  # the same after a flood: the close frame has gone out, nothing is read
# Bytes handed to the protocol at a time: a flooder's 256 KiB read is parsed a slice at a
# time, and what follows the slice in which it was cut off is never parsed at all. Honest
# reads are smaller (a vote is ~100 B). 2 KiB of pings is 341 frames: a ping-flood session
# cost the server 12 ms of CPU in all with 2 KiB slices, 36 ms with 16 KiB ones.
FEED = 2048
# Closes after which nothing the client sends matters (a flood, bytes that are not UTF-8):
# the server stops reading at once instead of parsing until the client acknowledges.
DEAF_CLOSES = frozenset({1007, 1008})
_CONTROL = (Opcode.PING, Opcode.PONG)
_ENDING = (State.CLOSING, State.CLOSED)
_LOG = logging.getLogger("handsup.sockets")


class Connection(asyncio.Protocol):
    """A websocket from handshake to close; the `Link` its `Client` writes through."""

    __slots__ = (
        "_chunks", "_close_timer", "_connections", "_conversation", "_corked", "_endpoint", "_text",
        "_turns", "_ws", "address", "heard_at", "paused_since", "slot", "transport",
    )  # fmt: skip

    def __init__(self, endpoint: Endpoint, connections: set[Any], *, opened: bool = False) -> None:
        self._endpoint = endpoint
        self._connections = connections
        # `opened`: the handshake is read from uvicorn's parse (`upgrade`), so the protocol
        # starts open; otherwise it parses the request bytes fed to it (`data_received`).
        self._ws = _protocol(endpoint, opened)
        self._conversation: Conversation | None = None
        self._chunks: list[bytes] | None = None  # a fragmented message being put together
        self._text = True  # whether the message being received is text
        self._close_timer: asyncio.TimerHandle | None = None
        # Frames held back while a read that admits the client is acted on (see `_feed`).
        self._corked: list[bytes] | None = None
        self._turns: turns.Turns | None = None  # the loop's input budget (server.turns)
        self.transport: asyncio.Transport | None = None
        self.address = "?"
        self.heard_at = 0.0  # loop time the client last sent anything (for keepalive)
        self.paused_since: float | None = None  # loop time the transport's buffer filled
        self.slot: str | None = None  # the address the limiter counts it under (server.gate)

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Adopt the socket uvicorn upgraded; its request bytes follow in data_received."""
        self.transport = cast(asyncio.Transport, transport)  # uvloop's does not subclass it
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "?"
        self.heard_at = self._endpoint.now()
        self._connections.add(self)
        self._turns = turns.current()

    def data_received(self, data: bytes) -> None:
        """Feed bytes to the protocol, act on what it parsed, send what it wants sent."""
        self.heard_at = self._endpoint.now()
        if self._turns is not None and self._turns.defer(self, data):
            return  # this turn's input budget is spent: handed back in a later turn
        if len(data) <= FEED:
            self._feed(data)
            return
        for start in range(0, len(data), FEED):
            # Once closing (cut off for flooding, say) the rest is not worth parsing.
            if not self._feed(data[start : start + FEED]) or self._ws.state in _ENDING:
                return

    def _feed(self, data: bytes) -> bool:
        """Parse and act on some bytes; False if the connection was dropped.

        Until the client is admitted, what a read makes the server send (the welcome, the
        state, a tally, the Q&A: one frame each) goes out as one write, and one segment over
        the network: a reconnect storm is mostly these. Nothing else writes to a client
        before it is admitted, so holding them back reorders nothing."""
        conversation = self._conversation
        cork = conversation is not None and not conversation.admitted
        if cork:
            self._corked = []
        self._ws.receive_data(data)
        try:
            self._act()
        except Exception:  # a bug must cost this connection, never the server
            _LOG.exception("dropping a websocket after an error")
            self._corked = None
            self._drop()
            return False
        self._flush()
        if cork:
            self._corked = None
            self._changed()  # admitted meanwhile: the hub may now write to it straight away
        return True

    def eof_received(self) -> bool | None:
        """The client half-closed: let the protocol answer, then close."""
        if self._turns is not None and self._turns.defer_eof(self):
            return True  # this turn's input budget is spent: server.turns ends it later
        transport = self.transport
        if self._ws.state is State.OPEN and transport is not None:
            # Gone without a closing handshake (a phone that lost its network, a reloaded
            # page, every phone of a reconnect storm): the protocol would fail the
            # connection (1006, which is never sent) and end the stream, at a cost a storm
            # pays thousands of times. Closing is all that answer does.
            transport.close()
            self._changed()  # no more frames for it
            return None
        self._ws.receive_eof()
        self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection: the room stops fanning out to it, its place is free."""
        self._connections.discard(self)
        self._endpoint.limiter.release(self)
        self.transport = None  # nothing may be written to it any more
        if self._turns is not None:
            self._turns.forget(self)  # bytes it kept for a later turn are not worth handling
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        conversation, self._conversation = self._conversation, None
        if conversation is not None:
            conversation.end()

    def pause_writing(self) -> None:
        """The socket buffer is full: frames wait in the client's outbox from now on."""
        self.paused_since = self._endpoint.now()
        self._changed()

    def resume_writing(self) -> None:
        """The socket drained: send what waited."""
        self.paused_since = None
        if self._conversation is not None:
            self._conversation.client.drain()  # back among the ready once all went out

    # Link: what a Client writes through.

    def write(self, wire: bytes) -> bool:
        """Write one whole frame now; False when the buffer is full or the socket is closing."""
        write = self._writable()
        if write is None:
            return False
        if self._corked is not None:
            self._corked.append(wire)
        else:
            write(wire)
        return True

    def writer(self) -> Callable[[bytes], object] | None:
        """The transport's own write while frames can go straight out (open, not full, not
        held back: see `_feed`)."""
        return None if self._corked is not None else self._writable()

    def _writable(self) -> Callable[[bytes], object] | None:
        transport = self.transport
        if (
            self.paused_since is not None
            or transport is None
            or self._ws.state is not State.OPEN
            or transport.is_closing()
        ):
            return None
        return transport.write

    def close(self, code: int, reason: str) -> None:
        """Start the closing handshake; the socket is dropped if it does not finish in time.
        After a flood or broken text, nothing more is read: the close frame goes out, then
        the end of the stream, and the socket is dropped once the grace is over."""
        if self._ws.state is State.OPEN:
            self._ws.send_close(code, reason)
            self._flush()
        transport, grace = self.transport, CLOSE_GRACE
        if code in DEAF_CLOSES and transport is not None and not transport.is_closing():
            transport.pause_reading()
            if self._turns is not None:
                self._turns.forget(self)  # nor what it kept for a later turn (nor reading again)
            if transport.can_write_eof():
                transport.write_eof()
            grace = DEAF_GRACE
            if self._close_timer is not None:  # set by the flush above, for a polite close
                self._close_timer.cancel()
                self._close_timer = None
        if self._close_timer is None and transport is not None:
            self._close_timer = asyncio.get_running_loop().call_later(grace, self.abort)

    def evict(self) -> None:
        """Make room for a newer socket (this one has not said hello): drop it at once."""
        self.abort()

    def abort(self) -> None:
        """Drop the socket at once: for a client that does not read, not even a close."""
        if self.transport is not None:
            self.transport.abort()

    def shutdown(self) -> None:
        """The server is stopping (uvicorn calls this): tell the client to come back later,
        and close without waiting for its answer, which would hold up the exit."""
        if self._ws.state is State.OPEN:
            self._ws.send_close(1012, "server restarting")
            self._flush()
        if self.transport is not None:
            self.transport.close()

    # Internals

    def _changed(self) -> None:
        if self._conversation is not None:
            self._conversation.client.changed()

    def upgrade(self, request: Upgrade) -> None:
        """Answer an upgrade read from uvicorn's parse (`server.handshake`): the same checks as
        a request websockets parsed, and the 101 from precomputed bytes."""
        verdict = self._verdict(request.path, request.origins, request.hosts, request.forwarded)
        if isinstance(verdict, _Refusal):
            # Refused as websockets refuses, by a protocol that has not opened.
            self._ws = _protocol(self._endpoint, opened=False)
            self._refuse(verdict)
            self._flush()
            return
        if self.transport is not None:
            self.transport.write(switching(request))
        self._opened(*verdict)

    def _handshake(self, request: Request) -> None:
        ws = self._ws
        headers = request.headers
        verdict = self._verdict(
            request.path,
            headers.get_all("Origin"),
            headers.get_all("Host"),
            headers.get_all("X-Forwarded-For"),
        )
        if isinstance(verdict, _Refusal):
            self._refuse(verdict)
            return
        response = ws.accept(request)
        ws.send_response(response)
        if response.status_code == 101:
            self._flush()
            # The handshake's parser holds on to the request (2-3 KiB of headers) for as long
            # as the connection lives; a fresh protocol, already open, holds nothing.
            # (uvicorn hands over the request alone, so the old one has no frames buffered.)
            self._ws = _protocol(self._endpoint, opened=True)
            self._opened(*verdict)

    def _verdict(
        self, path: str, origins: list[str], hosts: list[str], forwarded_lines: list[str]
    ) -> tuple[Role, str] | _Refusal:
        """The role and client address of an upgrade, or why it is refused."""
        if len(origins) > 1 or len(hosts) > 1:
            return _Refusal(400, "repeated Origin or Host header\n")
        role = role_of(path)
        endpoint = self._endpoint
        refusal = endpoint.refusal(
            role, origins[0] if origins else None, hosts[0] if hosts else None
        )
        if refusal is not None:
            return _Refusal(*refusal)
        assert role is not None  # refusal() turns away a path that names no role
        # Proxies may each add their own X-Forwarded-For line: together they are one list.
        forwarded = ",".join(forwarded_lines) or None
        address = endpoint.client_address(self.address, forwarded)
        wait = endpoint.door_wait(self.address, address)
        if wait > 0:
            text = "too many new connections from your address; try again\n"
            return _Refusal(429, text, max(1, round(wait)))
        return role, address

    def _refuse(self, refusal: _Refusal) -> None:
        ws = self._ws
        response = ws.reject(refusal.status, refusal.text)
        if refusal.retry_after is not None:
            response.headers["Retry-After"] = str(refusal.retry_after)
        ws.send_response(response)

    def _opened(self, role: Role, address: str) -> None:
        """The socket is open: count it under the client's address and start talking."""
        endpoint = self._endpoint
        self.address = address
        endpoint.limiter.readdress(self, address)
        self._conversation = endpoint.start(role, address, self, self)

    def _act(self) -> None:
        ws = self._ws
        for event in ws.events_received():
            if isinstance(event, Request):
                self._handshake(event)
            elif not isinstance(event, Frame):
                continue  # a server receives no responses
            elif event.opcode is Opcode.TEXT or event.opcode is Opcode.BINARY:
                self._text = event.opcode is Opcode.TEXT
                if event.fin:
                    self._message(bytes(event.data))
                else:  # the protocol limits the whole message's size, not just this frame's
                    self._chunks = [bytes(event.data)]
            elif event.opcode is Opcode.CONT and self._chunks is not None:
                self._chunks.append(bytes(event.data))
                if event.fin:
                    data, self._chunks = b"".join(self._chunks), None
                    self._message(data)
            elif event.opcode in _CONTROL and self._conversation is not None:
                self._conversation.control()

    def _message(self, data: bytes) -> None:
        # Even after the client's close frame (it may come in the same read as a vote): the
        # message was sent, so it counts. Once the server has closed, the client ignores it.
        if self._conversation is not None:
            self._conversation.receive(data if self._text else None)

    def _drop(self) -> None:
        # Called possibly before uvicorn has made this the transport's protocol, in which
        # case connection_lost would reach uvicorn's, not ours: tidy up here as well.
        transport = self.transport
        self.connection_lost(None)
        if transport is not None:
            transport.abort()

    def _flush(self) -> None:
        transport = self.transport
        if transport is None:
            return
        corked = self._corked
        if corked:  # frames written before whatever the protocol has to send now
            transport.write(corked[0] if len(corked) == 1 else b"".join(corked))
            corked.clear()
        for chunk in self._ws.data_to_send():
            if chunk:
                transport.write(chunk)
            else:  # the protocol is done with the stream: close our side
                transport.close()
        if self._ws.state is not State.OPEN:
            self._changed()  # closing: no more frames for it
        if self._ws.close_expected() and self._close_timer is None:
            self._close_timer = asyncio.get_running_loop().call_later(CLOSE_GRACE, self.abort)


class _Refusal(NamedTuple):
    """An upgrade turned away: the HTTP status, the text, and when to come back."""

    status: int
    text: str
    retry_after: int | None = None


def _protocol(endpoint: Endpoint, opened: bool) -> ServerProtocol:
    if opened:
        return ServerProtocol(state=State.OPEN, max_size=endpoint.max_size, logger=_LOG)
    return ServerProtocol(max_size=endpoint.max_size, logger=_LOG)


def protocol_factory(endpoint: Endpoint) -> Callable[..., Connection]:
    """What uvicorn's `ws` setting takes: it calls this with its config and server state."""

    def make(config: Any, server_state: Any, app_state: Any, _loop: Any = None) -> Connection:
        return Connection(endpoint, server_state.connections)

    return make
