"""The websocket endpoint: limits and origin checked, then parsed messages handed to the room."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import WebSocket
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from server.direct import direct_writer
from server.hub import Client, Overflow
from server.limits import ConnectionLimiter, TokenBucket
from server.protocol import CLIENT_MESSAGE, ErrorMessage, Hello, Role
from server.room import Denied, Room

ROLE_NAMES: tuple[Role, ...] = ("audience", "display", "presenter")
HELLO_TIMEOUT = 10.0  # seconds a new connection has to say hello
CLOSE_GRACE = 5.0  # seconds a closed connection has to finish its closing handshake


@dataclass(frozen=True)
class SocketPolicy:
    """What one connection may do: frame size, message rate, who it may come from."""

    max_frame: int
    rate: float
    burst: float
    flood_strikes: int
    limiter: ConnectionLimiter
    public_origin: str | None


def _error(code: str, message: str) -> str:
    return ErrorMessage(code=code, message=message).model_dump_json()


def describe(error: ValidationError) -> str:
    """A short, human account of why a message did not fit the protocol."""
    first = error.errors()[0]
    if first["type"] == "json_invalid":
        return "not valid JSON"
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def origin_allowed(origin: str | None, host: str | None, public_origin: str | None) -> bool:
    """A browser's Origin must be this server (as the page's Host, or the public URL).

    Clients that send no Origin are not browsers, so no other site is driving them.
    """
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.netloc and host and parts.netloc.lower() == host.lower():
        return True
    return public_origin is not None and origin.rstrip("/").lower() == public_origin.lower()


async def serve_socket(websocket: WebSocket, room: Room, role: Role, policy: SocketPolicy) -> None:
    """Run one client's connection until it goes away."""
    if not origin_allowed(
        websocket.headers.get("origin"), websocket.headers.get("host"), policy.public_origin
    ):
        # Refused before the handshake: a page on another site cannot hold a socket here.
        await websocket.close(4403)
        return
    address = websocket.client.host if websocket.client else "?"
    await websocket.accept()
    full = policy.limiter.admit(address, capped=role != "presenter")
    if full is not None:
        with contextlib.suppress(Exception):
            await websocket.send_text(_error("server_full", full))
            await websocket.close(1013, "try again later")
        return
    client = Client(
        role, address, websocket.send_text, _closer(websocket), direct_writer(websocket.scope)
    )
    try:
        await _converse(websocket, room, client, policy)
    finally:
        policy.limiter.release(address)
        if client.direct is not None:
            # A polite close waits for the client to read it, for ever if it never reads:
            # whatever is still open a few seconds from now is dropped.
            asyncio.get_running_loop().call_later(CLOSE_GRACE, client.direct.abort)


def _closer(websocket: WebSocket) -> Callable[[int, str], Coroutine[Any, Any, None]]:
    async def close(code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.close(code, reason), 2)

    return close


async def _converse(websocket: WebSocket, room: Room, client: Client, policy: SocketPolicy) -> None:
    loop = asyncio.get_running_loop()
    bucket = TokenBucket(policy.rate, policy.burst)
    admitted = False
    try:
        while True:
            if admitted:
                message = await websocket.receive()
            else:
                try:
                    message = await asyncio.wait_for(websocket.receive(), HELLO_TIMEOUT)
                except TimeoutError:
                    await client.close(1008, "no hello")
                    break
            if message["type"] == "websocket.disconnect":
                break
            if not bucket.allow(loop.time()):
                if bucket.strikes >= policy.flood_strikes:
                    await client.close(1008, "too many messages")
                    break
                if bucket.strikes == 1:
                    client.reply(_error("slow_down", "too many messages; some were dropped"))
                continue
            text = message.get("text")
            if text is None:
                client.reply(_error("binary", "binary frames are not accepted; send JSON text"))
                continue
            if len(text) > policy.max_frame or (
                not text.isascii() and len(text.encode()) > policy.max_frame
            ):
                limit = policy.max_frame
                client.reply(_error("too_large", f"frames are limited to {limit} bytes"))
                continue
            try:
                parsed = CLIENT_MESSAGE.validate_json(text)
            except ValidationError as error:
                client.reply(_error("bad_message", describe(error)))
                continue
            if admitted:
                await room.handle(client, parsed)
            elif not isinstance(parsed, Hello):
                client.reply(_error("hello_first", "send a hello message first"))
            else:
                try:
                    await room.admit(client, parsed)
                except Denied as denied:
                    await websocket.send_text(denied.frame)
                    await client.close(denied.close_code, str(denied))
                    break
                admitted = True
    except Overflow:
        # It is not reading, so it would never read a close frame either: drop it.
        if client.direct is not None:
            client.direct.abort()
        else:
            await client.close(1008, "not reading replies")
    except WebSocketDisconnect:
        pass
    finally:
        if admitted:
            room.leave(client)
        client.shutdown()
