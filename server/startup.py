"""Start-up: open the store, then resume the deck's unfinished session or begin a new one."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from server.session import Session
from server.settings import Settings, new_presenter_key, new_room_code
from server.sqlite_store import SQLiteStore
from slides import Deck

DB_NAME = "handsup.db"


def private_folder(folder: Path) -> Path:
    """Make the data folder and its database readable by this user only (0700 / 0600): it
    holds the presenter key. SQLite gives its -wal and -shm files the database's mode."""
    created = not folder.exists()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    db = folder / DB_NAME
    if created or db.exists():  # a folder someone chose and handsup never used: left alone
        folder.chmod(0o700)
    os.close(os.open(db, os.O_CREAT | os.O_WRONLY, 0o600))
    for path in (db, folder / f"{DB_NAME}-wal", folder / f"{DB_NAME}-shm"):
        with contextlib.suppress(FileNotFoundError):
            path.chmod(0o600)
    return db


@dataclass
class Talk:
    """The session to serve, its store and codes, and whether it was resumed."""

    session: Session
    store: SQLiteStore
    room_code: str
    presenter_key: str
    resumed: bool
    skipped: int


def open_talk(settings: Settings, deck: Deck, deck_text: str) -> Talk:
    """Resume this deck's unfinished session from the data folder, or start a new one."""
    store = SQLiteStore(private_folder(settings.data_path))
    deck_key = str(settings.deck.resolve())
    unfinished = store.unfinished(deck_key)
    session = Session(deck)
    if unfinished is not None and settings.new_session:
        store.end(unfinished.id)
        unfinished = None
    if unfinished is not None:
        key = settings.presenter_key or unfinished.presenter_key
        store.resume(unfinished.id, key)
        store.set_deck(unfinished.id, deck_text, deck.meta.title)
        skipped = session.restore(store.commands(unfinished.id))
        return Talk(session, store, unfinished.room, key, True, skipped)
    room = settings.room_code or new_room_code()
    key = settings.presenter_key or new_presenter_key()
    store.start(deck_key, deck_text, deck.meta.title, room, key)
    return Talk(session, store, room, key, False, 0)
