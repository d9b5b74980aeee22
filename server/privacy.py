"""The data notice and retention: what phones are told is kept, and deleting sessions whose
retention has passed (`handsup prune`)."""

from __future__ import annotations

from pathlib import Path

from server.sqlite_store import SessionRow, SQLiteStore
from slides import DeckError, DeckMeta, parse_deck

DAY = 86_400.0


def notice(meta: DeckMeta) -> str:
    """What this talk keeps, who sees it and for how long, in plain words; said even when the
    deck says nothing about it."""
    typed = "your answers and anything you type"
    if meta.qa is not None and not meta.qa.anonymous:
        typed += " (and a name, if you give one)"
    if meta.retention_days is not None:
        days = meta.retention_days
        kept = f"It is kept for {days} day{'s' if days != 1 else ''} after the talk, then deleted."
    else:
        kept = "It is kept on the presenter's server until they delete it."
    return (
        f"This talk keeps a random token that tells this phone apart (not who you are), {typed}. "
        "The presenter sees all of it and can export it without your token; the big screen "
        "shows totals and, once approved, what people type, never who sent it. "
        f"{kept} You can delete what you typed from this page while the talk runs."
    )


def retention_days(row: SessionRow) -> int | None:
    """The retention the session's deck asked for (None: none, or a deck that no longer parses)."""
    try:
        return parse_deck(row.deck_text, row.deck_path).meta.retention_days
    except DeckError:
        return None


def due(store: SQLiteStore, now: float) -> list[SessionRow]:
    """Sessions kept longer than their deck's retention, counted from when they started."""
    found = []
    for row in store.sessions():
        days = retention_days(row)
        if days is not None and row.started_at + days * DAY < now:
            found.append(row)
    return found


def prune(data_dir: Path, now: float) -> list[SessionRow]:
    """Delete every session past its retention (its log included); returns what went."""
    path = data_dir / "handsup.db"
    if not path.exists():
        raise LookupError(f"no handsup data in {data_dir}")
    store = SQLiteStore(path)
    try:
        gone = due(store, now)
        for row in gone:
            store.delete(row.id)
        return gone
    finally:
        store.close_reader()
