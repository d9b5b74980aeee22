"""Writing pre-built websocket frames straight to a connection's transport.

uvicorn lets an app choose its websocket protocol class. Ours is uvicorn's sans-I/O protocol,
plus one thing: it puts a `DirectWriter` in the ASGI scope's extensions, so a broadcast can
write the same frame bytes to thousands of transports without building a frame, an ASGI
message and a coroutine per client. Whenever the connection is not plainly open and
writable, `write` declines and the caller falls back to the ordinary ASGI send.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

EXTENSION = "handsup.direct"


class DirectWriter:
    """Writes whole frames to one connection while it is open and its buffer is not full."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    def write(self, wire: bytes) -> bool:
        """Write the frame now if that is safe; False means use the ordinary send instead."""
        protocol = self._protocol
        transport = protocol.transport
        if (
            protocol.close_sent
            or not protocol.writable.is_set()
            or protocol.conn.state is not State.OPEN
            or transport.is_closing()
        ):
            return False
        transport.write(wire)
        return True

    def abort(self) -> None:
        """Drop the connection at once: for a client stuck so long that a close would hang."""
        self._protocol.transport.abort()


class DirectWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol, offering a DirectWriter to the app."""

    async def run_asgi(self) -> None:
        scope: Any = self.scope
        scope["extensions"][EXTENSION] = DirectWriter(self)
        await super().run_asgi()


def direct_writer(scope: Any) -> DirectWriter | None:
    """The connection's DirectWriter, if the server runs our protocol class."""
    writer = scope.get("extensions", {}).get(EXTENSION)
    return writer if isinstance(writer, DirectWriter) else None
