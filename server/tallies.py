"""Live tallies and presence, throttled: each poll's results encoded once per role and change,
sent to screens at most every `interval` and to phones less often as the room grows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from server.frames import Frame
from server.hub import ROLES, SPREAD_SHARE, Hub
from server.protocol import PresenceMessage, Role, TallyMessage
from server.session import Session
from server.views import tally_visible

# Kinds whose items people type, which a moderator curates: they get the presenter's tally.
TYPED = ("text", "words", "ideas")


class Tallies:
    """Which polls' results changed, and when to send them; the room marks, this flushes."""

    def __init__(self, session: Session, hub: Hub, interval: float) -> None:
        self.session = session
        self.hub = hub
        self.interval = interval
        self._frames: dict[str, Frame] = {}
        self._dirty: set[str] = set()
        self._audience_dirty: set[str] = set()
        self._audience_flush_at = 0.0
        self._presence_dirty = False
        self._flush_at = 0.0
        self._flush_handle: asyncio.Handle | None = None
        self._flush_when = 0.0
        # Connections per role: this process's, or (workers sharing a session) the room's.
        self.counts: Callable[[], dict[Role, int]] = hub.counts

    def forget(self) -> None:
        """Drop every encoded tally (the deck changed under them)."""
        self._frames.clear()

    def frame(self, role: Role, poll: str) -> Frame:
        """The tally this role may see: the results, or (display, results hidden) only how many
        have answered, with empty counts. Encoded once per role and change."""
        cache = f"{poll}:{role}"
        frame = self._frames.get(cache)
        if frame is None:
            state = self.session.polls[poll]
            if tally_visible(role, state):
                message = state.answers.tally(role)
            else:
                message = TallyMessage(poll=poll, counts=[], voters=state.voters)
            frame = Frame(message.model_dump_json(exclude_none=True))
            self._frames[cache] = frame
        return frame

    def mark(self, poll: str) -> None:
        """A poll's results changed: re-encode them and send them soon."""
        for role in ROLES:
            self._frames.pop(f"{poll}:{role}", None)
        self._dirty.add(poll)
        self._schedule_flush()

    def mark_presence(self) -> None:
        """Connections or participants changed: tell the presenters soon."""
        if self._presence_dirty and self._flush_handle is not None:
            return  # already on its way (every phone of a storm marks it)
        self._presence_dirty = True
        self._schedule_flush()

    def _audience_interval(self) -> float:
        # Screens get tallies ten times a second; phones showing results get them less often
        # as the room grows (0.1 s per 500 phones), so a big hall's fan-out stays cheap; and
        # no more often than a waiting poll's kind wants them (an ideas board: once a second).
        phones = len(self.hub.clients["audience"])
        polls = self.session.polls
        kinds = (polls[p].answers.phone_interval for p in self._audience_dirty if p in polls)
        return max(self.interval, phones / 5000, *kinds)

    def _schedule_flush(self, at: float | None = None) -> None:
        # Leading edge: flush at once if the last flush is old enough; trailing edge: the timer
        # fires after the interval so the last change is always shown.
        loop = asyncio.get_running_loop()
        when = max(loop.time(), at if at is not None else self._flush_at + self.interval)
        if self._flush_handle is not None:
            if self._flush_when <= when:
                return
            self._flush_handle.cancel()  # a later audience flush must not hold up the screens
        self._flush_when = when
        self._flush_handle = loop.call_at(when, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        now = asyncio.get_running_loop().time()
        self._flush_at = now
        dirty, self._dirty = self._dirty, set()
        for poll in dirty:
            state = self.session.polls[poll]
            for role in ("presenter", "display"):
                self.hub.broadcast((role,), f"tally:{poll}", self.frame(role, poll))
            if state.poll.type in TYPED:
                self.hub.broadcast(("moderator",), f"tally:{poll}", self.frame("presenter", poll))
            if tally_visible("audience", state):
                self._audience_dirty.add(poll)
        if self._audience_dirty:
            due = self._audience_flush_at + self._audience_interval()
            if now >= due:
                self._audience_flush_at = now
                # Spread over most of the interval: a steady trickle, not a burst of writes
                # that acknowledgements queue behind (`Hub.spread`).
                over = SPREAD_SHARE * self._audience_interval()
                polls, self._audience_dirty = self._audience_dirty, set()
                for poll in polls:
                    frame = self.frame("audience", poll)
                    self.hub.spread(("audience",), f"tally:{poll}", frame, over)
            else:
                self._schedule_flush(due)
        if self._presence_dirty:
            self._presence_dirty = False
            counts = self.counts()
            presence = PresenceMessage(
                audience=counts["audience"],
                display=counts["display"],
                presenter=counts["presenter"],
                participants=len(self.session.participants),
            )
            self.hub.broadcast(("presenter",), "presence", Frame(presence.model_dump_json()))
