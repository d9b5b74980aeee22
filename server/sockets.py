"""The websocket endpoint: one connection per client, parsed messages handed to the room."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import WebSocket
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from server.hub import Client, Overflow
from server.protocol import CLIENT_MESSAGE, ErrorMessage, Hello, Role
from server.room import Denied, Room

ROLE_NAMES: tuple[Role, ...] = ("audience", "display", "presenter")


def _error(code: str, message: str) -> str:
    return ErrorMessage(code=code, message=message).model_dump_json()


def describe(error: ValidationError) -> str:
    """A short, human account of why a message did not fit the protocol."""
    first = error.errors()[0]
    if first["type"] == "json_invalid":
        return "not valid JSON"
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


async def serve_socket(websocket: WebSocket, room: Room, role: Role, max_frame: int) -> None:
    """Run one client's connection until it goes away."""
    await websocket.accept()
    loop = asyncio.get_running_loop()
    address = websocket.client.host if websocket.client else "?"

    async def close(code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.close(code, reason), 2)

    client = Client(role, address, close)

    async def send(frame: str) -> None:
        await websocket.send_text(frame)

    writer = loop.create_task(client.outbox.drain(send, loop.time))
    admitted = False
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                client.outbox.push(
                    _error("binary", "binary frames are not accepted; send JSON text")
                )
                continue
            if len(text) > max_frame:
                client.outbox.push(_error("too_large", f"frames are limited to {max_frame} bytes"))
                continue
            try:
                parsed = CLIENT_MESSAGE.validate_json(text)
            except ValidationError as error:
                client.outbox.push(_error("bad_message", describe(error)))
                continue
            if admitted:
                await room.handle(client, parsed)
            elif not isinstance(parsed, Hello):
                client.outbox.push(_error("hello_first", "send a hello message first"))
            else:
                try:
                    await room.admit(client, parsed)
                except Denied as denied:
                    await websocket.send_text(denied.frame)
                    await close(denied.close_code, str(denied))
                    break
                admitted = True
    except Overflow:
        await close(1008, "not reading replies")
    except WebSocketDisconnect:
        pass
    finally:
        if admitted:
            room.leave(client)
        client.outbox.close()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
