"""The websocket opening handshake read from uvicorn's own parse of the request.

uvicorn's httptools parser has already split an upgrade request into its method, target and
headers. Rebuilding it as bytes for websockets to parse again cost more of the server's CPU
per connection than anything else a reconnecting phone does (see docs/benchmarks.md). So a
plain, well-formed upgrade (what every browser and the bench send) is read here from that
parse, and its `101` answered with precomputed bytes. Anything unusual (a second `Connection`
header, a bad key, a body, a subprotocol asked for, …) is not judged here at all: `read`
returns None and the request goes to websockets as before, which answers it exactly as it
always did. The policy checks (path, origin, proxies, door) are the connection's either way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from websockets.http11 import MAX_NUM_HEADERS

# RFC 6455 §1.3: the value every server appends to the client's key before hashing it.
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# The whole answer but the accept value: no Date (RFC 9110 §6.6.1 leaves it optional in 1xx
# responses), no Server header (uvicorn's are off too).
SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
# `Connection` values browsers and websocket libraries send (lowercase). Anything else is
# parsed by websockets, token by token, as before.
_CONNECTION = frozenset({b"upgrade", b"keep-alive, upgrade", b"upgrade, keep-alive"})
# Headers that make a request one for websockets to judge: a body (which it refuses) or a
# subprotocol (which it negotiates: none is offered, but a malformed list is a 400).
_SLOW = frozenset({b"content-length", b"transfer-encoding", b"sec-websocket-protocol"})


@dataclass(frozen=True, slots=True)
class Upgrade:
    """What the connection needs from a well-formed upgrade request."""

    path: str
    origins: list[str]
    hosts: list[str]
    forwarded: list[str]  # each X-Forwarded-For line
    accept: bytes  # the Sec-WebSocket-Accept value


def accept_value(key: bytes) -> bytes:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


def switching(upgrade: Upgrade) -> bytes:
    """The whole `101 Switching Protocols` answer to an upgrade."""
    return SWITCHING + b"Sec-WebSocket-Accept: " + upgrade.accept + b"\r\n\r\n"


def _text(value: bytes) -> str:
    # As websockets decodes header values, so the checks see the same strings.
    return value.decode("ascii", "surrogateescape")


def read(method: str, target: bytes, headers: Sequence[tuple[bytes, bytes]]) -> Upgrade | None:
    """The upgrade in uvicorn's parse (`headers`: lowercase names, as uvicorn gives them), or
    None if anything about it is unusual and websockets must parse it instead."""
    if method != "GET" or len(headers) > MAX_NUM_HEADERS or not target.isascii():
        return None
    origins: list[str] = []
    hosts: list[str] = []
    forwarded: list[str] = []
    key = version = connection = upgrade = None
    for name, value in headers:
        if name == b"origin":
            origins.append(_text(value))
        elif name == b"host":
            hosts.append(_text(value))
        elif name == b"x-forwarded-for":
            forwarded.append(_text(value))
        elif name == b"sec-websocket-key":
            if key is not None:
                return None
            key = value
        elif name == b"sec-websocket-version":
            if version is not None:
                return None
            version = value
        elif name == b"connection":
            if connection is not None:
                return None
            connection = value.lower()
        elif name == b"upgrade":
            if upgrade is not None:
                return None
            upgrade = value.lower()
        elif name in _SLOW:
            return None
    if (
        version != b"13"
        or upgrade != b"websocket"
        or connection not in _CONNECTION
        or key is None
        or len(key) != 24
    ):
        return None
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return None
    except binascii.Error:
        return None
    return Upgrade(target.decode("ascii"), origins, hosts, forwarded, accept_value(key))
