"""The SQLite store on a real file: what `record`'s future promises when writes fail.

A trigger that aborts every insert stands in for a disk that refuses writes (full, or an
I/O error): the store must keep trying, never resolve a vote's future before the vote is
on disk, and commit it once the disk takes writes again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from server.commands import Join, Vote
from server.sqlite_store import SQLiteStore

FAIL = "CREATE TRIGGER refuse BEFORE INSERT ON log BEGIN SELECT RAISE(ABORT, 'disk full'); END"


def logged(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [kind for (kind,) in db.execute("SELECT kind FROM log ORDER BY rowid")]


async def refusing(path: Path) -> SQLiteStore:
    """A store that has logged Ann's join, on a file that now refuses every insert."""
    store = SQLiteStore(path)
    store.start("deck.md", "# deck", None, "ROOMC", "key")
    await store.record([Join("ann")])
    with sqlite3.connect(path) as db:
        db.execute(FAIL)
    return store


async def test_a_failed_write_is_retried_and_nothing_resolves_before_it_commits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "handsup.db"
    store = await refusing(path)
    vote = store.record([Vote("ann", "colour", 1, "v1", 1.0)])
    barrier = store.record([])  # what a resent vote's acknowledgement waits on
    await asyncio.sleep(1.2)  # a few attempts fail meanwhile
    assert not vote.done() and not barrier.done()
    assert logged(path) == ["join"]
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER refuse")
    await asyncio.wait_for(asyncio.gather(vote, barrier), 5)
    assert logged(path) == ["join", "vote"]
    await store.close()


async def test_a_store_closing_on_a_refusing_disk_gives_up_instead_of_hanging(
    tmp_path: Path,
) -> None:
    path = tmp_path / "handsup.db"
    store = await refusing(path)
    vote = store.record([Vote("ann", "colour", 1, "v1", 1.0)])
    await asyncio.sleep(0.2)
    await asyncio.wait_for(store.close(), 5)
    assert isinstance(vote.exception(), sqlite3.Error)  # never acknowledged, so resent later
    assert logged(path) == ["join"]
