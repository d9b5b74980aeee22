"""One websocket client connection (picows, on uvloop) that speaks a dialect.

picows parses frames in Cython, so receiving a message costs the harness far less than a
pure-Python client would; what is left per message is one Python callback and a json.loads.
"""

from __future__ import annotations

import socket
import time
from typing import ClassVar

from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect
from picows.url import WSParsedURL

from server.bench.dialect import Dialect, Message

# Linux: let the kernel choose the source port at connect() time, not at bind() time, so
# binding a source address does not cap us at one ephemeral range for every destination.
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


class Conn(WSListener):
    """A connection that decodes frames and hands protocol messages to `on_message`."""

    received: ClassVar[int] = 0  # messages received by this process, for the harness's cost
    received_bytes: ClassVar[int] = 0  # their payload bytes, for what a phone's data plan pays

    def __init__(self, dialect: Dialect) -> None:
        super().__init__()
        self.dialect = dialect
        self.transport: WSTransport | None = None
        self.open = False

    # Hooks for subclasses.

    def on_ready(self) -> None:
        """The connection can carry protocol messages: say hello."""

    def on_message(self, message: Message, now: float) -> None:
        """One protocol message arrived at monotonic time `now`."""

    def on_closed(self) -> None:
        """The connection is gone."""

    # Sending.

    def send(self, message: Message) -> None:
        if self.transport is not None and self.open:
            self.transport.send(WSMsgType.TEXT, self.dialect.encode(message).encode())

    def drop(self) -> None:
        """Lose the connection abruptly (no close handshake), as a phone leaving Wi-Fi."""
        if self.transport is not None:
            self.transport.disconnect(graceful=False)

    def pause(self) -> None:
        """Stop reading: what arrives now piles up in the kernel buffers."""
        if self.transport is not None:
            self.transport.underlying_transport.pause_reading()

    # picows callbacks.

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        self.open = True
        if self.dialect.ready_on_open:
            self.on_ready()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is WSMsgType.TEXT:
            now = time.monotonic()
            Conn.received += 1
            Conn.received_bytes += frame.payload_size
            self.on_text(transport, frame.get_payload_as_utf8_text(), now)
        elif kind is WSMsgType.CLOSE:
            self.open = False
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def on_text(self, transport: WSTransport, text: str, now: float) -> None:
        """A text frame: decode it and act on it."""
        decoded = self.dialect.decode(text)
        if decoded.reply is not None:
            transport.send(WSMsgType.TEXT, decoded.reply.encode())
        if decoded.ready:
            self.on_ready()
        if decoded.message is not None:
            self.on_message(decoded.message, now)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.open = False
        self.on_closed()


async def dial(
    conn: Conn, url: str, source: str | None = None, receive_buffer: int | None = None
) -> None:
    """Connect `conn` to `url`, from the address `source` (e.g. 127.0.0.2) if given.

    `receive_buffer` shrinks the socket's kernel receive buffer (a stuck phone fills it fast).
    Raises OSError or picows' handshake error if the server does not take the connection, and
    ConnectionResetError if it drops the socket before its 101: picows then returns as if
    the handshake had succeeded, with no connection (the phone would wait for ever).
    """

    def make_socket(parsed: WSParsedURL) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if receive_buffer is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            if source is not None:
                sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                sock.bind((source, 0))
        except OSError:
            sock.close()
            raise
        return sock

    await ws_connect(
        lambda: conn,
        url,
        socket_factory=make_socket,
        websocket_handshake_timeout=30,
        read_buffer_init_size=4096,
        enable_auto_pong=True,
    )
    if not conn.open:
        raise ConnectionResetError("closed by the server during the websocket handshake")
