"""The app factory: settings in, a FastAPI app serving one deck's live session out."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI, WebSocket
from fastapi.staticfiles import StaticFiles

from server.deckfile import load_deck
from server.hub import Hub
from server.net import public_base_url
from server.pages import SecurityHeaders, page_router
from server.room import Room
from server.session import Session
from server.settings import Settings
from server.sockets import ROLE_NAMES, serve_socket
from server.store import MemoryStore, Store


async def _sweep_stuck(room: Room, limit: float) -> None:
    """Every second, drop clients whose send has been blocked longer than `limit`."""
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()
    while True:
        await asyncio.sleep(1)
        for client in room.hub.stuck(loop.time(), limit):
            room.leave(client)
            task = loop.create_task(client.close(1008, "too slow"))
            closing.add(task)
            task.add_done_callback(closing.discard)


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """Build the app for `settings.deck`; the deck is parsed now, so errors surface at start."""
    deck = load_deck(settings.deck)
    base, _ = public_base_url(settings.host, settings.port, settings.public_url)
    join_url = f"{base}/?room={settings.room_code}"
    room = Room(
        Session(deck),
        store or MemoryStore(),
        Hub(),
        room_code=settings.room_code,
        presenter_key=settings.presenter_key,
        join_url=join_url,
        tally_interval=settings.tally_interval,
        clock=time.time,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_sweep_stuck(room, settings.stuck_after))
        try:
            yield
        finally:
            sweeper.cancel()
            await room.store.close()

    app = FastAPI(title="handsup", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.room = room
    app.state.settings = settings
    app.add_middleware(SecurityHeaders)
    slide_urls = [slide.url for slide in deck.slides]
    app.include_router(
        page_router(
            settings.clients_dir, settings.deck.parent, settings.presenter_key, join_url, slide_urls
        )
    )
    app.mount("/static", StaticFiles(directory=settings.clients_dir), name="static")

    @app.websocket("/ws/{role}")
    async def socket(websocket: WebSocket, role: str) -> None:
        if role not in ROLE_NAMES:
            await websocket.close(4404)
            return
        limit = settings.max_frame_presenter if role == "presenter" else settings.max_frame_audience
        await serve_socket(websocket, room, role, limit)

    return app
