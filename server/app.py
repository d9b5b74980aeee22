"""The app factory: settings in, a FastAPI app serving one deck's live session out."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from server.deckfile import read_deck
from server.hub import Hub
from server.keys import moderator_key
from server.limits import AnswerLimiter, ConnectionLimiter
from server.net import public_base_url
from server.pages import SecurityHeaders, page_router
from server.results_api import results_router
from server.room import Room
from server.settings import Settings
from server.sockets import ROLE_NAMES, Endpoint, SocketPolicy
from server.startup import open_talk
from server.watch import watch_deck


async def _sweep(room: Room, stuck_after: float, keepalive: float) -> None:
    """Every second, drop clients whose socket has been full longer than `stuck_after`, and
    those silent for 3 x `keepalive` (a phone switched off answers no ping); ping the quiet.
    A `keepalive` of 0 turns the pings off."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(1)
        now = loop.time()
        silent = room.hub.keep_alive(now, keepalive, 3 * keepalive) if keepalive > 0 else []
        # Neither would read a close frame: drop them.
        for client in room.hub.stuck(now, stuck_after) + silent:
            room.leave(client)
            client.link.abort()


def create_app(settings: Settings) -> FastAPI:
    """Build the app for `settings.deck`, resuming its unfinished session from the data folder.

    The deck is parsed here, so a broken deck fails at start with DeckError.
    """
    deck, text = read_deck(settings.deck)
    talk = open_talk(settings, deck, text)
    base, unreachable = public_base_url(settings.host, settings.port, settings.public_url)
    join_url = f"{base}/?room={talk.room_code}"
    room = Room(
        talk.session,
        talk.store,
        Hub(),
        room_code=talk.room_code,
        presenter_key=talk.presenter_key,
        moderator_key=settings.moderator_key or moderator_key(talk.presenter_key),
        join_url=join_url,
        join_warning=unreachable,
        tally_interval=settings.tally_interval,
        text_limiter=AnswerLimiter(settings.text_answers_per_second, settings.text_answer_burst),
        clock=time.time,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        room.start()
        tasks = [asyncio.create_task(_sweep(room, settings.stuck_after, settings.keepalive))]
        if settings.watch:
            tasks.append(asyncio.create_task(watch_deck(settings.deck, room, talk.store, stop)))
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await talk.store.close()

    app = FastAPI(title="handsup", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.room = room
    app.state.talk = talk
    app.state.settings = settings
    app.add_middleware(SecurityHeaders)

    def slide_url(index: int) -> str | None:
        slides = room.session.deck.slides
        return slides[index].url if 0 <= index < len(slides) else None

    app.include_router(
        page_router(
            settings.clients_dir,
            settings.deck.parent,
            talk.presenter_key,
            room.moderator_key,
            None if unreachable else join_url,
            slide_url,
        )
    )
    app.include_router(results_router(talk.store.path, talk.presenter_key, settings.clients_dir))
    app.mount("/static", StaticFiles(directory=settings.clients_dir), name="static")

    limiter = ConnectionLimiter(settings.max_connections, settings.max_per_address)
    public = urlsplit(settings.public_url) if settings.public_url else None

    def policy(role: str) -> SocketPolicy:
        return SocketPolicy(
            max_frame=settings.max_frame_presenter
            if role == "presenter"
            else settings.max_frame_audience,
            rate=settings.messages_per_second,
            burst=settings.message_burst,
            flood_strikes=settings.flood_strikes,
            limiter=limiter,
            public_origin=f"{public.scheme}://{public.netloc}" if public else None,
        )

    # Sockets bypass the ASGI app: `handsup serve` gives uvicorn server.connection's protocol,
    # which serves them through this endpoint.
    app.state.endpoint = Endpoint(
        room,
        {role: policy(role) for role in ROLE_NAMES},
        lambda: asyncio.get_running_loop().time(),
        settings.trusted_proxies,
    )
    return app
