"""Watch the deck file and hand each saved version to the room (hot reload during the talk)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import watchfiles

from server.deckfile import read_deck
from server.room import Room
from server.sqlite_store import SQLiteStore
from slides import DeckError

log = logging.getLogger("handsup.watch")


def reload_deck(path: Path, room: Room, store: SQLiteStore) -> None:
    """Parse the deck file again: serve it if good, else keep the last good deck and say why."""
    try:
        deck, text = read_deck(path)
    except DeckError as error:
        problems = [str(problem) for problem in error.problems]
        room.deck_broken(problems)
        # The terminal says so too: the presenter may be looking at the editor, not the page.
        print("handsup: deck refused, still showing the last good version:", flush=True)
        for problem in problems:
            print(f"  {problem}", flush=True)
        return
    room.edit_deck(deck, text)
    if store.session_id is not None:
        store.set_deck(store.session_id, text, deck.meta.title)
    print(f"handsup: deck reloaded: {len(deck.slides)} slides", flush=True)


async def watch_deck(path: Path, room: Room, store: SQLiteStore, stop: asyncio.Event) -> None:
    """Reload on every save until `stop` is set. Watches the folder: editors often replace files."""
    target = await asyncio.to_thread(path.resolve)

    def is_deck(_: watchfiles.Change, changed: str) -> bool:
        return Path(changed).resolve() == target

    async for _ in watchfiles.awatch(
        target.parent, watch_filter=is_deck, stop_event=stop, debounce=200, step=50
    ):
        try:
            reload_deck(path, room, store)
        except Exception:  # a reload must never take the talk down
            log.exception("deck reload failed")
