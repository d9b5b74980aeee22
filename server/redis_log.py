"""The command log in Redis: several workers (processes, hosts) share one live session.

Log first. A worker appends each command to one Redis stream (XADD, pipelined in submission
order by a single writer task) and applies nothing itself; every worker, the submitter
included, reads the stream in order (XREAD BLOCK from its last id) and applies each entry to
its own copy of the session, fanning the events out to its own sockets. The submitter tells
the phone how it went when its own entry comes back, and acknowledges once its XADD has been
answered (Redis answers once the entry is written to its append-only file: in the kernel,
fsynced as `appendfsync` says; docs/scaling.md). Every copy applies the
same commands in the same order, so shared state cannot fork.

Keys (one session per Redis database): `handsup:epoch` (who created the session: changes if
Redis loses its data), `handsup:session` (deck, room code, keys, as JSON), `handsup:log` (the
stream), `handsup:presence` (each worker's connection counts).

The `redis` package is imported here only, and this module only when `--redis` or
`--workers` is given: the one-process default needs neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from server.codec import decode, encode
from server.commands import Command, Event, Forget, Refused
from server.dispatch import presenter_command
from server.hub import ROLES
from server.log import Deferred, Sink, Then, done_future, goto_extra, worth_logging
from server.protocol import CLIENT_MESSAGE, Role
from server.session import Session
from server.sqlite_store import SQLiteStore
from slides import Deck, DeckError
from slides.parser import parse_deck

if TYPE_CHECKING:
    import redis
    import redis.asyncio

    from server.room import Room

KEY_EPOCH = "handsup:epoch"
KEY_SESSION = "handsup:session"
KEY_LOG = "handsup:log"
KEY_PRESENCE = "handsup:presence"
DECK = "deck"  # the kind of a log entry carrying an edited deck's text
REFUSED = "deck_refused"  # a saved deck with errors: its problems, for every presenter
PRESENTER = "presenter"  # a presenter's message, resolved as it is applied (log.Deferred)
BATCH = 2000  # entries per XADD pipeline and per XREAD
PRESENCE_EVERY = 1.0  # seconds between publishing this worker's counts
PRESENCE_STALE = 5.0  # a worker silent this long is gone (killed): its counts no longer count
BLOCK_MS = 2000  # how long one XREAD waits for new entries (well under the socket timeout)
SOCKET_TIMEOUT = 10.0  # seconds for a reply (an XREAD that blocks included)
CONNECT_TIMEOUT = 2.0
RETRY = (0.1, 0.2, 0.5, 1.0)  # pauses while Redis is away, then the last one again
_LOG = logging.getLogger("handsup.redis")
# Append a batch only to this session's log, and only while the log still holds what this
# worker knows was in it: a Redis that lost its data (and the epoch with it) must not get the
# tail of a log whose head is gone, nor one restarted from an older append-only file or
# snapshot (same epoch, the newest entries gone). ARGV[2] is the newest entry this worker has
# applied or had acknowledged: if the stream no longer has it, entries were lost. Checked in
# the script, atomic with the XADDs: another worker's appends since the restart (new ids,
# later than the lost ones) cannot make the check pass, as comparing the stream's length or
# newest id from outside could. One round trip; returns the id of the last entry added.
APPEND = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('HANDSUP_EPOCH') end
if ARGV[2] ~= '0-0' and #redis.call('XRANGE', KEYS[2], ARGV[2], ARGV[2]) == 0 then
  local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  return redis.error_reply('HANDSUP_BEHIND ' .. (newest[1] and newest[1][1] or '0-0'))
end
local last = '0-0'
for i = 3, #ARGV, 4 do
  last = redis.call('XADD', KEYS[2], '*',
    'k', ARGV[i], 'd', ARGV[i+1], 'w', ARGV[i+2], 's', ARGV[i+3])
end
return last
"""
# The same check without appending (a worker back on Redis, and once a second for a quiet
# talk): {'ok'}, {'epoch', what Redis holds ('' if none)} or {'behind', its newest entry}.
CHECK = """
local epoch = redis.call('GET', KEYS[1])
if epoch ~= ARGV[1] then return {'epoch', epoch or ''} end
if ARGV[2] ~= '0-0' and #redis.call('XRANGE', KEYS[2], ARGV[2], ARGV[2]) == 0 then
  local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  return {'behind', newest[1] and newest[1][1] or '0-0'}
end
return {'ok'}
"""


def _position(entry_id: str) -> tuple[int, int]:
    millis, _, seq = entry_id.partition("-")
    return int(millis), int(seq or 0)


@dataclass
class SharedInfo:
    """The session as every worker shares it."""

    epoch: str
    room: str
    presenter_key: str
    moderator_key: str
    deck_text: str
    created: bool


class _Bootstrap:
    """A sink for the replay at start-up, before the room exists: the bare session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def resolve(self, deferred: Deferred) -> Command:
        """A presenter move, worked out against the replayed session as the room would."""
        return presenter_command(self.session, deferred.message, deferred.now)

    def apply_command(self, command: Command) -> list[Event]:
        """Apply to the bare session; nobody is connected to hear of it."""
        return self.session.apply(command)

    def applied(self, command: Command, events: list[Event], durable: asyncio.Future[None]) -> None:
        """Nothing to fan out or acknowledge during the replay."""

    def reload(self, deck: Deck) -> object:
        """Serve a deck edit found in the log."""
        return self.session.reload(deck)

    def show_deck_problems(self, problems: list[str]) -> None:
        """No presenter yet to show them to: the room shows the newest once it runs."""

    def notify(
        self, level: Literal["info", "warning", "error"], message: str, details: list[str]
    ) -> None:
        """No presenter yet to tell."""

    def link(self, reachable: bool) -> None:
        """No page yet to tell."""


@dataclass
class _Mirror:
    """The worker's SQLite copy of the applied log, for `handsup export` and the results
    page (and to start again without Redis). It never holds up an acknowledgement."""

    store: SQLiteStore
    skip: int  # accepted commands already in it (a restarted worker replays them again)
    seen: int = 0
    backlog: list[tuple[Command, dict[str, Any] | None]] = field(default_factory=list)


def _redact(store: SQLiteStore, participant: str, written: asyncio.Future[None]) -> None:
    """Once a Forget is in the SQLite copy, overwrite the texts logged before it there."""
    if not written.cancelled() and written.exception() is None:
        try:
            store.redact(participant)
        except Exception:  # the deletion stands in the session; say so, keep serving
            _LOG.exception("could not overwrite a participant's texts in the SQLite copy")


def connect_sync(url: str) -> redis.Redis:
    """A blocking client (start-up and the supervisor)."""
    import redis

    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=CONNECT_TIMEOUT,
    )


def create_or_join(
    url: str,
    *,
    deck_text: str,
    room: str,
    presenter_key: str,
    moderator_key: str,
    wait: float = 15.0,
) -> SharedInfo:
    """The first worker creates the session (SET NX on the epoch); the others read it."""
    client = connect_sync(url)
    try:
        epoch = secrets.token_hex(8)
        if client.set(KEY_EPOCH, epoch, nx=True):
            info = {
                "epoch": epoch,
                "room": room,
                "presenter_key": presenter_key,
                "moderator_key": moderator_key,
                "deck": deck_text,
                "started": time.time(),
            }
            client.set(KEY_SESSION, json.dumps(info))
            return SharedInfo(epoch, room, presenter_key, moderator_key, deck_text, True)
        deadline = time.monotonic() + wait
        while True:  # the creator writes the session just after the epoch
            raw = client.get(KEY_SESSION)
            known = client.get(KEY_EPOCH)
            if raw is not None:
                data = json.loads(raw)
                if data["epoch"] == known:
                    return SharedInfo(
                        data["epoch"],
                        data["room"],
                        data["presenter_key"],
                        data["moderator_key"],
                        data["deck"],
                        False,
                    )
            if time.monotonic() > deadline:
                raise RuntimeError("Redis has a session epoch but no session: another worker died")
            time.sleep(0.05)
    finally:
        client.close()


def forget_session(url: str) -> None:
    """Delete the shared session (`--new-session`): the next worker creates a new one."""
    client = connect_sync(url)
    try:
        client.delete(KEY_EPOCH, KEY_SESSION, KEY_LOG, KEY_PRESENCE)
    finally:
        client.close()


class RedisLog:
    """The command log of a session shared through Redis (see the module's docstring)."""

    def __init__(
        self, url: str, info: SharedInfo, deck_path: Path, mirror: SQLiteStore | None
    ) -> None:
        self.url = url
        self.info = info
        self.deck_path = deck_path
        self.worker = secrets.token_hex(6)
        self.last_id = "0-0"
        self.acked_id = "0-0"  # the newest entry of this worker's that Redis acknowledged
        self.applied = 0  # entries applied: the log position this worker is at
        self.lost = False
        self.away = False
        self.sink: Sink | None = None
        self.deck_text = info.deck_text
        self.others: dict[Role, int] = dict.fromkeys(ROLES, 0)
        self.warnings: list[str] = []  # for the terminal at start-up
        self.on_presence: Callable[[], None] | None = None
        self.counts: Callable[[], dict[Role, int]] | None = None
        self._mirror: _Mirror | None = None
        if mirror is not None:
            session_id = mirror.session_id
            assert session_id is not None
            self._mirror = _Mirror(mirror, len(mirror.commands(session_id)))
        self._seq = 0
        self._last_seq: dict[str, int] = {}  # per submitting worker: retried XADDs apply once
        self._pending: dict[int, tuple[Then | None, asyncio.Future[None]]] = {}
        self._queue: asyncio.Queue[tuple[dict[str, str], asyncio.Future[None]]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._client: redis.asyncio.Redis | None = None

    # Start-up: build the session from the stream.

    def replay(self, session: Session) -> None:
        """Apply every entry in the stream so far to a fresh session (blocking: start-up)."""
        self.sink = _Bootstrap(session)
        client = connect_sync(self.url)
        try:
            while True:
                entries: Any = client.xrange(KEY_LOG, min=f"({self.last_id}", count=BATCH)
                if not entries:
                    break
                for entry_id, fields in entries:
                    self._apply(entry_id, fields)
        finally:
            client.close()

    def attach(self, sink: Sink) -> None:
        """Apply to the room from now on."""
        self.sink = sink

    async def start(self) -> None:
        """Connect, and start reading, writing and publishing presence."""
        import redis.asyncio

        self._client = redis.asyncio.Redis.from_url(
            self.url,
            decode_responses=True,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=CONNECT_TIMEOUT,
        )
        self._queue = asyncio.Queue()
        mirror = self._mirror
        if mirror is not None and mirror.backlog:
            backlog, mirror.backlog = mirror.backlog, []
            written = mirror.store.record([c for c, _ in backlog], [e for _, e in backlog])
            for command, _ in backlog:
                if isinstance(command, Forget):
                    written.add_done_callback(partial(_redact, mirror.store, command.participant))
        if mirror is not None and mirror.store.session_id is not None and self.sink is not None:
            title = self.sink.session.deck.meta.title
            mirror.store.set_deck(mirror.store.session_id, self.deck_text, title)
        for job in (self._read(), self._write(), self._presence()):
            self._tasks.append(asyncio.create_task(job))

    async def close(self) -> None:
        """Stop the tasks; what was not appended is not acknowledged."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._fail_pending("the server is stopping")
        mirror = self._mirror
        if mirror is not None and mirror.store.session_id is not None and not self.lost:
            # Its copy of the session ends with it: `handsup export`, the results page and
            # start-up no longer take it for a live session. The worker started again on
            # this Redis session reopens it (startup.py). Not after a loss: one process
            # resumes that copy (docs/scaling.md), and only an unfinished session is resumed.
            # After a kill -9 it stays unfinished until the worker runs again.
            try:
                mirror.store.end(mirror.store.session_id)
            except Exception:  # stopping anyway: the copy is intact, just not marked ended
                _LOG.exception("could not mark the SQLite copy of the session ended")
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.hdel(KEY_PRESENCE, self.worker)
            await self._client.aclose()

    # Submitting.

    def submit(self, command: Command | Deferred, then: Then | None) -> None:
        """Queue the command for the stream; `then` hears when it comes back."""
        if self.lost:
            if then is not None:
                refused = Refused("log_lost", "the session's shared log was lost; ask the host")
                then(refused, done_future())
            return
        if isinstance(command, Deferred):
            message = command.message.model_dump_json(exclude_none=True)
            self._append(PRESENTER, json.dumps({"message": message, "now": command.now}), then)
            return
        kind, data = encode(command)
        self._append(kind, data, then)

    def edit_deck(self, deck: Deck, text: str) -> None:
        """Append the deck's text: every worker serves it when it comes back."""
        if text != self.deck_text and not self.lost:
            self._append(DECK, text, None)

    def deck_refused(self, problems: list[str]) -> None:
        """Append the problems: every worker's presenters are told (the presenter's page
        may be on any of them)."""
        if not self.lost:
            self._append(REFUSED, json.dumps(problems), None)

    def redact(self, participant: str) -> None:
        """The mirror overwrites the texts when it logs the Forget (see `_mirror_row`)."""

    def _append(self, kind: str, data: str, then: Then | None) -> None:
        assert self._queue is not None, "start() the log first"
        self._seq += 1
        durable: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending[self._seq] = (then, durable)
        fields = {"k": kind, "d": data, "w": self.worker, "s": str(self._seq)}
        self._queue.put_nowait((fields, durable))

    async def _write(self) -> None:
        """Append queued entries in submission order, many per round trip; a batch that
        fails is sent again until Redis takes it (the reader applies a resend once)."""
        assert self._queue is not None and self._client is not None
        from redis.exceptions import ResponseError

        append = self._client.register_script(APPEND)
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            args = [self.info.epoch, ""]
            for fields, _ in batch:
                args += [fields["k"], fields["d"], fields["w"], fields["s"]]
            attempt = 0
            while not self.lost:
                args[1] = self.known()  # what this worker has seen by now, resend included
                try:
                    added: Any = await append(keys=[KEY_EPOCH, KEY_LOG], args=args)
                    if _position(added) > _position(self.acked_id):
                        self.acked_id = added
                    break
                except ResponseError as error:
                    if "HANDSUP_EPOCH" in str(error):
                        self._lose(await self._epoch_now(), "0-0")
                        break
                    if "HANDSUP_BEHIND" in str(error):
                        self._lose(self.info.epoch, str(error).split()[-1])
                        break
                    self._went_away(error)  # loading its file, out of memory: try again
                    await asyncio.sleep(RETRY[-1])
                except Exception as error:  # refused, reset, timed out: away
                    self._went_away(error)
                    await asyncio.sleep(RETRY[min(attempt, len(RETRY) - 1)])
                    attempt += 1
            for _, durable in batch:
                if durable.done():
                    continue
                if self.lost:
                    durable.set_exception(ConnectionError("the shared log was lost"))
                    durable.exception()  # seen: no "never retrieved" noise for the unacked
                else:
                    durable.set_result(None)

    # Reading and applying.

    async def _read(self) -> None:
        assert self._client is not None
        attempt = 0
        while True:
            try:
                found: Any = await self._client.xread(
                    {KEY_LOG: self.last_id}, count=BATCH, block=BLOCK_MS
                )
                if self.away:
                    await self._came_back()
                attempt = 0
            except Exception as error:  # connection refused, reset, loading: all "away"
                self._went_away(error)
                await asyncio.sleep(RETRY[min(attempt, len(RETRY) - 1)])
                attempt += 1
                continue
            if self.lost:
                await asyncio.sleep(RETRY[-1])
                continue
            entries: Any
            for _, entries in found or []:
                for entry_id, fields in entries:
                    self._apply(entry_id, fields)

    def _apply(self, entry_id: str, fields: dict[str, str]) -> None:
        self.last_id = entry_id
        self.applied += 1
        worker, seq = fields.get("w", ""), int(fields.get("s", "0"))
        if seq <= self._last_seq.get(worker, 0):
            return  # a batch sent again after a lost reply: applied once already
        self._last_seq[worker] = seq
        mine = self._pending.pop(seq, None) if worker == self.worker else None
        then, durable = mine if mine is not None else (None, None)
        sink = self.sink
        assert sink is not None
        kind, data = fields["k"], fields["d"]
        if kind == DECK:
            self._reload(sink, data)
            return
        if kind == REFUSED:
            if self._tasks:  # live, not a replay at start-up: a notice for who is connected
                sink.show_deck_problems(json.loads(data))
            return
        try:
            if kind == PRESENTER:
                asked = json.loads(data)
                message = CLIENT_MESSAGE.validate_json(asked["message"])
                command = sink.resolve(Deferred(message, float(asked["now"])))
            else:
                command, _ = decode(kind, data)
            events = sink.apply_command(command)
        except Refused as refused:
            if then is not None:
                then(refused, done_future())
            return
        if worth_logging(events):
            self._mirror_row(command, goto_extra(command, sink.session.deck))
            if not isinstance(sink, _Bootstrap):  # start-up has no sockets (nor event loop)
                sink.applied(command, events, durable if durable is not None else done_future())
        if then is not None and durable is not None:
            then(events, durable)

    def _reload(self, sink: Sink, text: str) -> None:
        if text == self.deck_text:
            return  # several workers saw the same save
        try:
            deck = parse_deck(text, str(self.deck_path))
        except DeckError as error:  # checked by the worker that appended it: not expected
            sink.notify("error", "an edited deck in the log does not parse here", [str(error)])
            return
        self.deck_text = text
        sink.reload(deck)
        mirror = self._mirror
        if mirror is not None and mirror.store.session_id is not None and self._tasks:
            mirror.store.set_deck(mirror.store.session_id, text, deck.meta.title)

    def _mirror_row(self, command: Command, extra: dict[str, Any] | None) -> None:
        mirror = self._mirror
        if mirror is None:
            return
        mirror.seen += 1
        if mirror.seen <= mirror.skip:
            return  # in the mirror already, from this worker's last run
        if not self._tasks:  # start-up: no event loop yet, written once started
            mirror.backlog.append((command, extra))
            return
        written = mirror.store.record([command], [extra])
        if isinstance(command, Forget):
            written.add_done_callback(partial(_redact, mirror.store, command.participant))

    # Redis going away and coming back.

    def _went_away(self, error: BaseException) -> None:
        if self.away:
            return
        self.away = True
        _LOG.error("Redis is unreachable (%s): acknowledging nothing new until it is back", error)
        if self.sink is not None and not self.lost:
            self.sink.notify(
                "warning",
                "the shared log (Redis) is unreachable: votes wait until it is back",
                [f"{type(error).__name__}: {error}"],
            )
            self.sink.link(False)

    def known(self) -> str:
        """The newest entry this worker knows the log holds: the last it applied, or the last
        of its own that Redis acknowledged (not read back yet), whichever is later."""
        if _position(self.acked_id) > _position(self.last_id):
            return self.acked_id
        return self.last_id

    async def _check(self) -> bool:
        """Is Redis's log still this session's, with every entry this worker knows of? If
        not, the log is lost (reported once). One script: atomic against other workers'
        appends (see CHECK)."""
        assert self._client is not None
        check = self._client.register_script(CHECK)  # EVALSHA, loaded again if Redis forgot
        found: Any = await check(keys=[KEY_EPOCH, KEY_LOG], args=[self.info.epoch, self.known()])
        if found[0] == "ok":
            return True
        if found[0] == "epoch":
            self._lose(found[1] or None, "0-0")
        else:
            self._lose(self.info.epoch, found[1])
        return False

    async def _came_back(self) -> None:
        intact = await self._check()
        self.away = False
        if not intact:
            return
        _LOG.warning("Redis is back: carrying on from entry %s", self.last_id)
        if self.sink is not None:
            self.sink.notify("info", "the shared log (Redis) is back", [])
            self.sink.link(True)

    async def _epoch_now(self) -> str | None:
        """The session epoch Redis holds now, for the notice; None also when Redis cannot say
        (this runs in the writer task, which must not die of a dropped connection)."""
        assert self._client is not None
        try:
            epoch = await self._client.get(KEY_EPOCH)
        except Exception:  # gone again: the notice then says Redis no longer has it
            return None
        return str(epoch) if epoch is not None else None

    def _lose(self, epoch: str | None, last: str) -> None:
        if self.lost:
            return  # the writer and the checks may both find it: one notice
        self.lost = True
        why = (
            "Redis no longer has the session (restarted empty, or emptied)"
            if epoch is None
            else "Redis holds another session now"
            if epoch != self.info.epoch
            else f"Redis came back without the newest entries (it has up to {last})"
        )
        details = [
            why,
            f"this worker had applied {self.applied} log entries, up to {self.last_id}"
            + (f" (and had {self.acked_id} acknowledged)" if self.known() != self.last_id else "")
            + "; "
            "what you see is that state, and nothing new is accepted",
            "the data folder's SQLite copy holds what this worker applied: stop every "
            "worker and start again (see docs/scaling.md, 'When Redis loses its data')",
        ]
        _LOG.error("the shared log is lost: %s", why)
        if self.sink is not None:
            self.sink.notify("error", "the shared session log was lost", details)
        self._fail_pending("the shared log was lost")

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for _, durable in pending.values():
            if not durable.done():
                durable.set_exception(ConnectionError(reason))
                durable.exception()  # seen: nothing waits on an entry that never came back

    # Presence across workers.

    def share_presence(self, room: Room) -> None:
        """Make the room's presence counts room-wide: its own sockets plus the others'."""
        hub = room.hub
        self.counts = hub.counts
        self.on_presence = room.tallies.mark_presence

        def everyone() -> dict[Role, int]:
            """The room's counts: this worker's now, the others' as last published."""
            mine = hub.counts()
            return {role: mine[role] + self.others.get(role, 0) for role in mine}

        room.tallies.counts = everyone

    def elsewhere(self) -> int:
        """The other workers' sockets, as they last published them (a connection limit
        counts them with this worker's own)."""
        return sum(self.others.values())

    async def _presence(self) -> None:
        """Publish this worker's counts; sum the others' (each stamped, stale ones dropped).
        Also check the log (epoch, newest known entry): a Redis emptied without a restart
        (FLUSHALL, a failover to an empty or older replica) drops no connection, a client that
        reconnects on its own may not report one, and a quiet talk appends nothing that would
        fail."""
        assert self._client is not None
        while True:
            await asyncio.sleep(PRESENCE_EVERY)
            if self.lost:
                return
            if not self.away:
                try:
                    if not await self._check():
                        return
                except Exception:  # the reader reports Redis away
                    continue
            if self.counts is None:
                continue
            now = time.time()
            mine: dict[str, float] = {"t": now}
            for role, count in self.counts().items():
                mine[role] = count
            try:
                await self._client.hset(KEY_PRESENCE, self.worker, json.dumps(mine))
                everyone = await self._client.hgetall(KEY_PRESENCE)
            except Exception:  # the reader reports Redis away; presence just waits
                continue
            others: dict[Role, int] = dict.fromkeys(ROLES, 0)
            gone = []
            for worker, raw in everyone.items():
                counts = json.loads(raw)
                if now - float(counts.get("t", 0)) > PRESENCE_STALE:
                    gone.append(worker)  # killed: nobody else will take its entry away
                if worker == self.worker or worker in gone:
                    continue
                for role in ROLES:
                    others[role] += int(counts.get(role, 0))
            if gone:
                with contextlib.suppress(Exception):
                    await self._client.hdel(KEY_PRESENCE, *gone)
            if others != self.others:
                self.others = others
                if self.on_presence is not None:
                    self.on_presence()
