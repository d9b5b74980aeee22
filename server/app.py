"""The app factory: settings in, a FastAPI app serving one deck's live session out."""

from __future__ import annotations

import asyncio
import contextlib
import html
import posixpath
import re
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from urllib.parse import unquote, urlsplit

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from server.deckfile import read_deck
from server.gate import Doorway
from server.hub import Hub
from server.keys import moderator_key
from server.limits import AddressGuard, AnswerLimiter, ConnectionLimiter
from server.net import public_base_url
from server.pages import KeyAttempts, SecurityHeaders, page_router
from server.results_api import results_router
from server.room import Room
from server.settings import Settings
from server.sockets import ROLE_NAMES, Endpoint, Guards, SocketPolicy
from server.stalls import StallMonitor, fanout_slice, stalls_router, take_window
from server.startup import open_talk
from server.terminal import report_presence
from server.watch import watch_deck
from server.worker_stalls import WorkerStalls
from slides import Deck

# An asset URL in the deck's rendered slides (as JSON: a quote ends it as `\"`).
_ASSET_URL = re.compile(r'/assets/([^"\\\s?#<>]+)')


def referenced_assets(deck: Deck) -> frozenset[str]:
    """Paths under the deck's folder that its slides show (normalised, as `/assets/` gets)."""
    found = _ASSET_URL.findall(deck.model_dump_json())
    return frozenset(posixpath.normpath(unquote(html.unescape(path))) for path in found)


def _assets_of(current: Callable[[], Deck]) -> Callable[[], frozenset[str]]:
    """`referenced_assets` of the deck being served, worked out again after a reload."""
    seen: list[tuple[Deck, frozenset[str]]] = []

    def referenced() -> frozenset[str]:
        deck = current()
        if not seen or seen[0][0] is not deck:
            seen[:] = [(deck, referenced_assets(deck))]
        return seen[0][1]

    return referenced


# A socket silent this many keepalive periods is dropped (nginx's timeouts sit above it:
# server/deploy.py).
DEAD_AFTER = 3


async def _sweep(
    room: Room, stuck_after: float, keepalive: float, guards: tuple[AddressGuard, ...] = ()
) -> None:
    """Every second, drop clients whose socket has been full longer than `stuck_after`, and
    those silent for 3 x `keepalive` (a phone switched off answers no ping); ping the quiet.
    A `keepalive` of 0 turns the pings off. Every minute, forget addresses with nothing
    against them."""
    loop = asyncio.get_running_loop()
    ticks = 0
    while True:
        await asyncio.sleep(1)
        now = loop.time()
        ticks += 1
        if ticks % 60 == 0:
            for guard in guards:
                guard.prune(now)
        dead = DEAD_AFTER * keepalive
        silent = await room.hub.keep_alive(now, keepalive, dead) if keepalive > 0 else []
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
        Hub(fanout_slice()),
        room_code=talk.room_code,
        presenter_key=talk.presenter_key,
        moderator_key=talk.moderator_key
        or settings.moderator_key
        or moderator_key(talk.presenter_key),
        join_url=join_url,
        join_warning=unreachable,
        tally_interval=settings.tally_interval,
        text_limiter=AnswerLimiter(settings.text_answers_per_second, settings.text_answer_burst),
        clock=time.time,
        log=talk.log,
    )
    if talk.shared is not None:
        talk.shared.share_presence(room)

    guards = Guards(
        doors=AddressGuard(settings.connect_rate, settings.connect_burst),
        keys=AddressGuard(0, 0, free=5, first_wait=1.0, max_wait=60.0, forget_after=600.0),
        max_displays=settings.max_displays,
    )

    # How long the event loop is held (`POST /api/stalls`, read by `handsup bench`).
    stalls = StallMonitor()
    # With workers sharing the session, any worker answers with every worker's figures.
    everyone = (
        WorkerStalls(talk.shared.url, talk.shared.worker, partial(take_window, stalls))
        if talk.shared is not None
        else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        await room.log.start()
        room.start()
        stalls.start()
        if everyone is not None:
            await everyone.start()
        sweep = _sweep(room, settings.stuck_after, settings.keepalive, (guards.doors, guards.keys))
        tasks = [asyncio.create_task(sweep)]
        if settings.watch:
            tasks.append(
                asyncio.create_task(watch_deck(settings.deck, room, talk.store, stop, text))
            )
        if settings.presence_every > 0:
            tasks.append(
                # Room-wide: with workers sharing a session, every worker's sockets.
                asyncio.create_task(report_presence(room.tallies.counts, settings.presence_every))
            )
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            stalls.stop()
            if everyone is not None:
                await everyone.close()
            await room.log.close()
            await talk.store.close()

    app = FastAPI(title="handsup", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.room = room
    app.state.talk = talk
    app.state.settings = settings
    app.state.stalls = stalls
    app.add_middleware(SecurityHeaders)
    app.add_middleware(KeyAttempts, keys=guards.keys)

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
            talk.room_code,
            _assets_of(lambda: room.session.deck),
        )
    )
    app.include_router(results_router(talk.store.path, talk.presenter_key, settings.clients_dir))
    app.include_router(
        stalls_router(stalls, talk.presenter_key, everyone.gather if everyone else None)
    )
    app.mount("/static", StaticFiles(directory=settings.clients_dir), name="static")

    limiter = ConnectionLimiter(
        settings.max_connections,
        settings.max_per_address,
        room_total=settings.room_connections if talk.shared is not None else None,
    )
    if talk.shared is not None:  # room-wide: the other workers' sockets count too
        limiter.elsewhere = talk.shared.elsewhere
    public = urlsplit(settings.public_url) if settings.public_url else None

    def policy(role: str) -> SocketPolicy:
        rate, burst = settings.messages_per_second, settings.message_burst
        boss = role == "presenter"
        if boss:  # its own budget, and never less than a phone's
            rate = max(rate, settings.presenter_messages_per_second)
            burst = max(burst, settings.presenter_message_burst)
        return SocketPolicy(
            max_frame=settings.max_frame_presenter if boss else settings.max_frame_audience,
            rate=rate,
            burst=burst,
            flood_strikes=settings.flood_strikes,
            limiter=limiter,
            public_origin=f"{public.scheme}://{public.netloc}" if public else None,
        )

    # Sockets bypass the ASGI app: `handsup serve` gives uvicorn server.connection's protocol,
    # which serves them through this endpoint.
    endpoint = Endpoint(
        room,
        {role: policy(role) for role in ROLE_NAMES},
        lambda: asyncio.get_running_loop().time(),
        settings.trusted_proxies,
        guards=guards,
    )
    app.state.endpoint = endpoint
    # Every TCP connection goes through server.gate first (`handsup serve` gives uvicorn its
    # factory): counted from accept, its request's head limited in size and time.
    app.state.doorway = Doorway(
        endpoint, limiter, guards.doors, settings.max_header, settings.header_timeout
    )
    return app
