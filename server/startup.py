"""Start-up: open the store, then resume the deck's unfinished session or begin a new one."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from server.keys import moderator_key
from server.log import CommandLog
from server.session import Session
from server.settings import Settings, new_presenter_key, new_room_code
from server.sqlite_store import SQLiteStore
from slides import Deck
from slides.parser import parse_deck

if TYPE_CHECKING:
    from server.redis_log import RedisLog

DB_NAME = "handsup.db"
# Which SQLite session mirrors which Redis session (by its epoch), in the data folder.
MIRROR_NAME = "redis-session.json"


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
    # Workers sharing the session through Redis: its log (None: the local log on `store`).
    log: CommandLog | None = None
    moderator_key: str | None = None
    shared: RedisLog | None = None


def open_talk(settings: Settings, deck: Deck, deck_text: str) -> Talk:
    """Resume this deck's unfinished session from the data folder, or start a new one."""
    if settings.redis_url is not None:
        return open_shared_talk(settings, deck, deck_text)
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


def open_shared_talk(settings: Settings, deck: Deck, deck_text: str) -> Talk:
    """Create the session in Redis, or join the one there and replay its log."""
    from server.redis_log import RedisLog, create_or_join

    assert settings.redis_url is not None
    store = SQLiteStore(private_folder(settings.data_path))
    key = settings.presenter_key or new_presenter_key()
    info = create_or_join(
        settings.redis_url,
        deck_text=deck_text,
        room=settings.room_code or new_room_code(),
        presenter_key=key,
        moderator_key=settings.moderator_key or moderator_key(key),
    )
    # The session's own deck: the one it started with, its edits come in its log.
    first = deck if info.created else parse_deck(info.deck_text, str(settings.deck))
    differs = not info.created and deck_text != info.deck_text
    mirror = _mirror(store, settings, info.epoch, first, info) if settings.mirror else None
    log = RedisLog(settings.redis_url, info, settings.deck, mirror)
    session = Session(first)
    log.replay(session)
    if differs and log.deck_text != deck_text:
        log.warnings.append(
            "this deck file differs from the one the shared session runs: serving the "
            "session's (a save of this file replaces it on every worker)"
        )
    return Talk(
        session,
        store,
        info.room,
        info.presenter_key,
        not info.created,
        0,
        log=log,
        moderator_key=info.moderator_key,
        shared=log,
    )


def _mirror(
    store: SQLiteStore, settings: Settings, epoch: str, deck: Deck, info: object
) -> SQLiteStore:
    """The SQLite session mirroring this Redis session: the one it was last time, else new."""
    from server.redis_log import SharedInfo

    assert isinstance(info, SharedInfo)
    path = settings.data_path / MIRROR_NAME
    known: dict[str, int] = {}
    with contextlib.suppress(FileNotFoundError, ValueError):
        known = json.loads(path.read_text(encoding="utf-8"))
    session_id = known.get(epoch)
    if session_id is not None and store.session(session_id) is not None:
        store.resume(session_id, info.presenter_key)
        return store
    # A new Redis session: this folder's copies of earlier ones are no longer anyone's (one
    # server per folder). A worker that stopped cleanly ended its copy; one killed did not.
    for older in known.values():
        row = store.session(older)
        if row is not None and row.ended_at is None:
            store.end(older)
    deck_key = str(settings.deck.resolve())
    session_id = store.start(
        deck_key, info.deck_text, deck.meta.title, info.room, info.presenter_key
    )
    known[epoch] = session_id
    path.write_text(json.dumps(known), encoding="utf-8")
    return store
