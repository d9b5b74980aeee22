"""A phone's whole visit (connect, vote, leave) leaves no cyclic garbage in the server.

`handsup serve` freezes what a full collection finds alive (server.stalls.GcPolicy): a cycle
that is dropped after that is never freed. So the paths a hall of phones takes must free
their objects by reference counting alone. Served in this process (the same app, gate and
websocket protocol `handsup serve` runs) so the collector's leftovers can be inspected.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from server.app import create_app
from server.connection import protocol_factory
from server.gate import gate_factory
from server.serve import bind
from server.settings import Settings
from tests.serverproc import DECK
from tests.wsclient import Peer

KEY = "test-presenter-key-long-enough"
ROOM = "ABCDE"
# The server's own code and the libraries it serves through; the test's client is not one.
SERVER_SIDE = ("server.", "uvicorn.", "httptools", "websockets.server", "websockets.protocol")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, str]]:
    """The app on a free loopback port in this process; its websocket base URL."""
    settings = Settings(
        deck=DECK, data_dir=tmp_path, presenter_key=KEY, room_code=ROOM, watch=False
    )
    app = create_app(settings)
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        app,
        ws=protocol_factory(app.state.endpoint),  # type: ignore[arg-type]
        http=gate_factory(app.state.doorway),  # type: ignore[arg-type]
        log_level="warning",
        timeout_graceful_shutdown=2,  # as `handsup serve`
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn sets a flag, no event
        await asyncio.sleep(0.01)  # uvicorn has no event to wait on for this
    yield app, f"ws://127.0.0.1:{sock.getsockname()[1]}/ws"
    await Peer.close_all()
    server.should_exit = True
    await task


async def visit(ws: str, poll: str, option: int) -> Peer:
    """A phone joins, votes and has its vote acknowledged."""
    phone = await Peer.open(ws, "audience", room=ROOM)
    await phone.of_type("welcome")
    vote_id = await phone.vote(poll, option)
    await phone.of_type("vote_ack", vote_id=vote_id)
    return phone


def server_garbage() -> list[str]:
    """Types of the server's objects that only the collector could free, since the last call."""
    gc.collect()
    found = sorted(
        {
            f"{type(thing).__module__}.{type(thing).__qualname__}"
            for thing in gc.garbage
            if type(thing).__module__.startswith(SERVER_SIDE)
        }
    )
    gc.garbage.clear()
    return found


async def test_connecting_voting_and_leaving_leave_no_cycles(
    served: tuple[FastAPI, str],
) -> None:
    app, ws = served
    room = app.state.room
    boss = await Peer.open(ws, "presenter", key=KEY)
    await boss.send({"type": "goto", "index": 1})
    await boss.send({"type": "open"})
    state = await boss.until(
        lambda m: m["type"] == "state" and (m["state"]["poll"] or {}).get("status") == "open"
    )
    poll = state["state"]["poll"]["id"]
    await boss.close()  # the poll stays open (unread, its frames would hold up its close)
    await (await visit(ws, poll, 0)).close()  # the first visit imports and caches things
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # keep what a collection finds, to look at it
    try:
        phones = [await visit(ws, poll, n % 2) for n in range(20)]
        assert server_garbage() == []
        for phone in phones:
            await phone.close()
        while room.hub.counts()["audience"]:  # noqa: ASYNC110 - the hub has no event for it
            await asyncio.sleep(0.01)  # the server notices each close in its own time
        assert server_garbage() == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
