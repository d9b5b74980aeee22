"""The floor: the least a Python server can do for the same scenario.

uvloop, a websocket upgrade done by hand, and fan-out as one pre-built frame written to every
transport in a plain loop, with no task, no await and no per-client encoding. It speaks enough
of the handsup protocol for `handsup bench` (hello -> welcome + state, goto -> state to all,
vote -> vote_ack, tally to the display), with the same session rules and the same JSON
(bench/peerlogic.py). Whatever handsup spends above this floor is its own overhead.

Run: .venv/bin/python bench/floor_server.py [--port 0] [--key K]
Prints `ready: http://127.0.0.1:PORT key=K` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import struct
import sys
from typing import Any

import uvloop
from peerlogic import ROLES, Talk

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TALLY_INTERVAL = 0.1


def frame(text: str, opcode: int = 0x1) -> bytes:
    """A server-to-client frame (FIN set, unmasked)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        return struct.pack("!BB", 0x80 | opcode, size) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", 0x80 | opcode, 126, size) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, size) + payload


def unmask(mask: bytes, data: bytes) -> bytes:
    size = len(data)
    key = int.from_bytes((mask * (size // 4 + 1))[:size], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(size, "big")


class Room:
    """Every open transport by role, and the talk they share."""

    def __init__(self, talk: Talk) -> None:
        self.talk = talk
        self.clients: dict[str, set[asyncio.Transport]] = {role: set() for role in ROLES}
        self.dirty: set[str] = set()
        self.flush_at = 0.0
        self.flush_handle: asyncio.TimerHandle | None = None

    def broadcast_state(self) -> None:
        for role in ROLES:
            wire = frame(self.talk.state_text(role))
            for transport in self.clients[role]:
                transport.write(wire)

    def mark_tally(self, poll: str) -> None:
        self.dirty.add(poll)
        if self.flush_handle is None:
            loop = asyncio.get_running_loop()
            when = max(loop.time(), self.flush_at + TALLY_INTERVAL)
            self.flush_handle = loop.call_at(when, self.flush)

    def flush(self) -> None:
        self.flush_handle = None
        self.flush_at = asyncio.get_running_loop().time()
        dirty, self.dirty = self.dirty, set()
        for poll in dirty:
            wire = frame(self.talk.tally_text(poll))
            for role in self.talk.tally_roles(poll):
                for transport in self.clients[role]:
                    transport.write(wire)


class Socket(asyncio.Protocol):
    """One connection: the HTTP upgrade, then masked client frames in, whole frames out."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.upgraded = False
        self.role = ""
        self.participant: str | None = None
        self.admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if self.admitted and self.transport is not None:
            self.room.clients[self.role].discard(self.transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded and not self.upgrade():
            return
        self.frames()

    def upgrade(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4 :]
        lines = head.split("\r\n")
        path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else ""
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        role = path.removeprefix("/ws/").split("?")[0]
        key = headers.get("sec-websocket-key")
        assert self.transport is not None
        if role not in ROLES or key is None:
            self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            self.transport.close()
            return False
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
        )
        self.role = role
        self.upgraded = True
        return True

    def frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            size, at = second & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    break
                size, at = struct.unpack("!H", buffer[2:4])[0], 4
            elif size == 127:
                if len(buffer) < 10:
                    break
                size, at = struct.unpack("!Q", buffer[2:10])[0], 10
            masked = second & 0x80
            if len(buffer) < at + (4 if masked else 0) + size:
                break
            mask = buffer[at : at + 4] if masked else b""
            at += 4 if masked else 0
            payload = buffer[at : at + size]
            buffer = buffer[at + size :]
            self.on_frame(first & 0x0F, unmask(mask, payload) if masked else payload)
        self.buffer = buffer

    def on_frame(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if opcode == 0x8:
            self.transport.write(frame("", 0x8)[:1] + b"\x00")
            self.transport.close()
        elif opcode == 0x9:
            self.transport.write(b"\x8a" + bytes([len(payload)]) + payload)
        elif opcode == 0x1:
            self.on_message(json.loads(payload))

    def send(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(frame(text))

    def on_message(self, message: dict[str, Any]) -> None:
        talk = self.room.talk
        if not self.admitted:
            frames, self.participant, admitted = talk.hello(self.role, message)
            for text in frames:
                self.send(text)
            if not admitted:
                assert self.transport is not None
                self.transport.close()
                return
            self.admitted = True
            assert self.transport is not None
            self.room.clients[self.role].add(self.transport)
            return
        outcome = talk.handle(self.role, self.participant, message)
        for text in outcome.replies:
            self.send(text)
        if outcome.restate:
            self.room.broadcast_state()
        if outcome.tally:
            self.room.mark_tally(outcome.tally)


async def serve(port: int, key: str) -> None:
    room = Room(Talk(key=key))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Socket(room), "127.0.0.1", port, backlog=4096)
    bound = server.sockets[0].getsockname()[1]
    print(f"ready: http://127.0.0.1:{bound} key={key}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", default="peer-key")
    args = parser.parse_args()
    try:
        uvloop.run(serve(args.port, args.key))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
