"""Watch the deck file (and the files it includes) and hand each saved version to the room
(hot reload during the talk)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import watchfiles

from server.deckfile import FolderReader, read_deck_files
from server.room import Room
from server.sqlite_store import SQLiteStore
from slides import DeckError

log = logging.getLogger("handsup.watch")


def reload_deck(path: Path, room: Room, store: SQLiteStore) -> frozenset[Path]:
    """Parse the deck file again: serve it if good, else keep the last good deck and say why.

    Returns the files it was read from (the deck and what it includes), to watch them all.
    """
    reader = FolderReader(path.resolve().parent)
    try:
        source = read_deck_files(path, reader)
    except DeckError as error:
        problems = [str(problem) for problem in error.problems]
        room.deck_broken(problems)
        # The terminal says so too: the presenter may be looking at the editor, not the page.
        print("handsup: deck refused, still showing the last good version:", flush=True)
        for problem in problems:
            print(f"  {problem}", flush=True)
        return frozenset(reader.read)
    deck, text = source.deck, source.text
    room.edit_deck(deck, text)
    if store.session_id is not None:
        store.set_deck(store.session_id, text, deck.meta.title)
    print(f"handsup: deck reloaded: {len(deck.slides)} slides", flush=True)
    return source.files


async def watch_deck(
    path: Path, room: Room, store: SQLiteStore, stop: asyncio.Event, served: str | None = None
) -> None:
    """Reload on every save until `stop` is set. Watches the folder: editors often replace files.

    `served` is the deck text the server started with: a save made before the watcher was
    watching (while the server started) is caught by reading the deck once it is.
    """
    target = await asyncio.to_thread(path.resolve)
    # The files the deck includes (Slidev `src:`), all inside its folder: a save to one of
    # them reloads the deck too. Learnt by reading the deck once, then at every reload.
    included = await asyncio.to_thread(_included, path)

    def is_deck(_: watchfiles.Change, changed: str) -> bool:
        try:
            resolved = Path(changed).resolve()
        except (OSError, RuntimeError):  # a loop of symbolic links saved beside the deck
            return False
        return resolved == target or resolved in included

    # `yield_on_timeout`: the first (empty) yield says the watcher is watching.
    watching = False
    async for changes in watchfiles.awatch(
        target.parent,
        watch_filter=is_deck,
        stop_event=stop,
        debounce=200,
        step=50,
        rust_timeout=1000,
        yield_on_timeout=True,
    ):
        if not changes:
            if watching or served is None:
                watching = True
                continue
            watching = True
            if await asyncio.to_thread(_text, path) == served:
                continue  # unchanged since the server read it
        try:
            included = reload_deck(path, room, store)
        except Exception:  # a reload must never take the talk down
            log.exception("deck reload failed")


def _text(path: Path) -> str | None:
    """The deck's text as the server serves it (includes inline), or None if it cannot be read."""
    try:
        return read_deck_files(path, FolderReader(path.resolve().parent)).text
    except (DeckError, OSError):
        return None


def _included(path: Path) -> frozenset[Path]:
    """The files a deck includes; a deck without `src:` anywhere includes none (no parse)."""
    try:
        if b"src" not in path.read_bytes():
            return frozenset()
    except OSError:
        return frozenset()
    reader = FolderReader(path.resolve().parent)
    # The server started with this deck, so it parsed; if it no longer does, what was read
    # before the problem still counts.
    with contextlib.suppress(DeckError):
        read_deck_files(path, reader)
    return frozenset(reader.read)
