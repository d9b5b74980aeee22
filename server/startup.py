"""Start-up: open the store, then resume the deck's unfinished session or begin a new one."""

from __future__ import annotations

from dataclasses import dataclass

from server.session import Session
from server.settings import Settings, new_presenter_key, new_room_code
from server.sqlite_store import SQLiteStore
from slides import Deck

DB_NAME = "handsup.db"


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
    store = SQLiteStore(settings.data_path / DB_NAME)
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
