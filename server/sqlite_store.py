"""SQLite storage in WAL mode: sessions and their command logs, with group commit.

A writer thread owns the write connection. Every `record` call queues its rows with a future;
the writer takes everything queued, writes it in one transaction, commits, and only then
resolves the futures, so a vote is acknowledged after it is durable while thousands of
concurrent votes share one commit (and one fsync).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.codec import decode, encode
from server.commands import Command, Vote
from server.store import redacted

MIGRATIONS = [
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        deck_path TEXT NOT NULL,
        deck_text TEXT NOT NULL,
        title TEXT,
        room TEXT NOT NULL,
        presenter_key TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL
    );
    CREATE TABLE log (
        seq INTEGER PRIMARY KEY,
        session INTEGER NOT NULL REFERENCES sessions(id),
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX log_by_session ON log(session, seq);
    """,
]
Row = tuple[int, float, str, str]
_STOP = object()
RETRY_PAUSE = 0.5  # seconds between attempts to commit a batch that failed
_LOG = logging.getLogger("handsup.store")


@dataclass(frozen=True)
class SessionRow:
    """One talk as stored: where its deck was, its codes and when it ran."""

    id: int
    deck_path: str
    deck_text: str
    title: str | None
    room: str
    presenter_key: str
    started_at: float
    ended_at: float | None


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the pragmas every handsup connection uses; migrates the schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: each commit is fsynced, so an acknowledged vote survives a power cut too, not only a
    # crash of the process. Group commit keeps that affordable.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    # Text someone asked to delete (or a pruned session) is overwritten, not left in free pages.
    conn.execute("PRAGMA secure_delete=ON")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version={number}; COMMIT;")
    return conn


class SQLiteStore:
    """Sessions and command logs in one SQLite file; `record` returns once rows are committed."""

    def __init__(self, path: Path, *, group_commit: bool = True) -> None:
        self.path = path
        self.group_commit = group_commit
        self.session_id: int | None = None
        self._read = connect(path)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = threading.Event()

    # Sessions (called at start-up and by the results API, off the hot path).

    def sessions(self) -> list[SessionRow]:
        """Every stored session, newest first."""
        rows = self._read.execute("SELECT * FROM sessions ORDER BY id DESC").fetchall()
        return [SessionRow(*row) for row in rows]

    def session(self, session_id: int) -> SessionRow | None:
        """One stored session, or None."""
        row = self._read.execute("SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone()
        return SessionRow(*row) if row else None

    def unfinished(self, deck_path: str) -> SessionRow | None:
        """The newest session of this deck that was not ended, to resume."""
        row = self._read.execute(
            "SELECT * FROM sessions WHERE deck_path=? AND ended_at IS NULL ORDER BY id DESC",
            (deck_path,),
        ).fetchone()
        return SessionRow(*row) if row else None

    def start(self, deck_path: str, deck_text: str, title: str | None, room: str, key: str) -> int:
        """Store a new session and make it the one `record` writes to."""
        cursor = self._read.execute(
            "INSERT INTO sessions(deck_path, deck_text, title, room, presenter_key, started_at)"
            " VALUES (?,?,?,?,?,?)",
            (deck_path, deck_text, title, room, key, time.time()),
        )
        self.session_id = int(cursor.lastrowid or 0)
        return self.session_id

    def resume(self, session_id: int, key: str) -> None:
        """Make a stored session the one `record` writes to (with its possibly new key): live
        again if it was ended (a Redis worker's copy, reopened by the worker started again)."""
        self._read.execute(
            "UPDATE sessions SET presenter_key=?, ended_at=NULL WHERE id=?", (key, session_id)
        )
        self.session_id = session_id

    def end(self, session_id: int) -> None:
        """Mark a session finished: it keeps its results but is no longer resumed."""
        self._read.execute("UPDATE sessions SET ended_at=? WHERE id=?", (time.time(), session_id))

    def delete(self, session_id: int) -> None:
        """Delete a session and everything it logged (past its retention)."""
        with self._read:
            self._read.execute("BEGIN")
            self._read.execute("DELETE FROM log WHERE session=?", (session_id,))
            self._read.execute("DELETE FROM sessions WHERE id=?", (session_id,))
        self._read.execute("VACUUM")  # the deleted text must not linger in free pages

    def redact(self, participant: str) -> None:
        """Overwrite what this participant typed in this session's log (at their request)."""
        if self.session_id is None:
            return
        rows = self._read.execute(
            "SELECT seq, kind, data FROM log WHERE session=? AND kind IN ('vote','ask','nickname')"
            " AND json_extract(data, '$.participant')=?",
            (self.session_id, participant),
        ).fetchall()
        with self._read:
            self._read.execute("BEGIN")
            for seq, kind, data in rows:
                command, extra = decode(kind, data)
                _, text = encode(redacted(command, participant), extra)
                self._read.execute("UPDATE log SET data=? WHERE seq=?", (text, seq))

    def set_deck(self, session_id: int, deck_text: str, title: str | None) -> None:
        """Remember the deck text a session now runs (after an edit), for its exports."""
        self._read.execute(
            "UPDATE sessions SET deck_text=?, title=? WHERE id=?", (deck_text, title, session_id)
        )

    def commands(self, session_id: int) -> list[tuple[Command, dict[str, Any]]]:
        """A session's recorded commands, in order, with their extra fields."""
        rows = self._read.execute(
            "SELECT kind, data FROM log WHERE session=? ORDER BY seq", (session_id,)
        )
        return [decode(kind, data) for kind, data in rows]

    # The hot path.

    def record(
        self, commands: Sequence[Command], context: Sequence[dict[str, Any] | None] = ()
    ) -> asyncio.Future[None]:
        """Queue these commands now; the future resolves once they are committed (an empty
        list: a barrier behind everything queued before)."""
        if self.session_id is None:
            raise RuntimeError("no session started or resumed")
        if self._writer is None:
            self._loop = asyncio.get_running_loop()
            self._writer = threading.Thread(target=self._write, name="handsup-writer", daemon=True)
            self._writer.start()
        now = time.time()
        rows: list[Row] = []
        for index, command in enumerate(commands):
            extra = context[index] if index < len(context) else None
            kind, data = encode(command, extra)
            at = command.at if isinstance(command, Vote) else now
            rows.append((self.session_id, at, kind, data))
        future = asyncio.get_running_loop().create_future()
        self._queue.put((rows, future))
        return future

    def _write(self) -> None:
        conn = connect(self.path)
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while self.group_commit and len(batch) < 20_000:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in batch:
                stop = True
                batch = [item for item in batch if item is not _STOP]
            error = self._commit(conn, [row for rows, _ in batch for row in rows])
            futures = [future for _, future in batch]
            if futures and self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(_settle, futures, error)
        conn.close()

    def _commit(self, conn: sqlite3.Connection, rows: list[Row]) -> sqlite3.Error | None:
        """Write one batch in one transaction. A batch that fails (disk full, I/O error) is
        tried again until it commits: nothing behind it may be acknowledged first, so acks
        wait rather than promise what is not on disk. Only a closing store gives up."""
        while True:
            try:
                conn.execute("BEGIN")
                conn.executemany("INSERT INTO log(session, at, kind, data) VALUES (?,?,?,?)", rows)
                conn.execute("COMMIT")
                return None
            except sqlite3.Error as failure:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if self._closing.is_set():
                    return failure
                _LOG.error("could not save to %s, trying again: %s", self.path, failure)
                time.sleep(RETRY_PAUSE)

    async def close(self) -> None:
        """Commit what is queued, stop the writer, close the connections."""
        if self._writer is not None:
            self._closing.set()
            self._queue.put(_STOP)
            await asyncio.to_thread(self._writer.join)
            self._writer = None
        self.close_reader()

    def close_reader(self) -> None:
        """Close the read connection (a store used only to read, e.g. by an export)."""
        self._read.close()


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
