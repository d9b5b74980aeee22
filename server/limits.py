"""Limits that keep one client, or one address, from taking the server down: pure bookkeeping.

Nothing here does I/O or reads a clock: callers pass `now`. `server.gate` and
`server.connection` apply these to sockets; the figures are in docs/security.md.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(slots=True)
class TokenBucket:
    """Messages per second for one connection: `rate` sustained, bursts up to `burst`.

    `strikes` counts messages refused in a row; a client that keeps flooding is disconnected.
    """

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = 0.0
    strikes: int = 0

    def allow(self, now: float) -> bool:
        """Take one token if there is one; False means throttle this message."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.strikes = 0
            return True
        self.strikes += 1
        return False


class Door(Protocol):
    """A socket the limiter counts: an HTTP connection, later the websocket it became."""

    slot: str | None  # the address it is counted under; None once it is not counted

    def evict(self) -> None:
        """Drop the socket at once to make room for a newer one."""
        ...


HEADROOM = 16  # sockets past a cap that are read before being refused (see ConnectionLimiter)
# Seconds after its websocket handshake during which a socket that has not said hello yet is
# not pushed out at a cap. An honest phone says hello a round trip after its 101; pushing one
# out then dropped it unexplained (its redial then pushed out another), while the newcomer,
# which should have been told `server_full`, got in. A socket still sending its request
# (slowloris) has no such shield.
EVICT_AFTER = 1.0
# Waiting sockets looked at, oldest first, for one to push out: all may be shielded (a storm
# of handshakes at the cap), and the newcomer is then refused without a scan of thousands.
SCAN = 64


class ConnectionLimiter:
    """Open sockets in total and per client address, counted from the moment they are accepted.

    A socket counts while it is an HTTP connection (a page load, an upgrade under way) and
    after it became a websocket. Until the room admits it (its hello), it is *waiting*: when a
    cap is reached, the oldest waiting socket is dropped to make room, so sockets that never
    finish their request (slowloris) cannot keep out phones that do. A socket whose request
    was answered (its 101) is shielded for `evict_after` seconds while its hello comes: a
    phone in the middle of its handshake is not dropped for a newcomer, which is refused.

    Two tiers: `arrive` refuses outright only past a cap plus `HEADROOM`, so a socket at the
    cap is still read and can be told why (a phone: `server_full`; a presenter gets in, see
    `admit`).

    With workers sharing one session, `room_total` caps every worker's sockets together:
    this worker's own count plus `elsewhere()`, the others' as they last published them
    (a second old at most; see docs/scaling.md). `total` stays this worker's own cap.
    """

    def __init__(
        self,
        total: int,
        per_address: int,
        headroom: int = HEADROOM,
        room_total: int | None = None,
        evict_after: float = EVICT_AFTER,
    ) -> None:
        self.total = total
        self.per_address = per_address
        self.headroom = headroom
        self.room_total = room_total
        self.evict_after = evict_after
        self.elsewhere: Callable[[], int] = lambda: 0
        self.by_address: Counter[str] = Counter()
        self.count = 0
        # Waiting sockets, about oldest first, and the loop time until which each is shielded.
        self._waiting: dict[Door, float] = {}
        self._waiting_at: dict[str, dict[Door, float]] = {}

    def arrive(self, door: Door, address: str, now: float) -> str | None:
        """Count a socket just accepted at `now`, or say why it is refused (nothing read from
        it yet)."""
        if self.by_address[address] >= self.per_address + self.headroom and not self._evict(
            address, door, now
        ):
            return f"too many connections from one address ({self.per_address})"
        full = self._full(self.headroom - 1)
        if full is not None and not self._evict(None, door, now):
            return full
        door.slot = address
        self.by_address[address] += 1
        self.count += 1
        self._wait(door, -math.inf)
        return None

    def admit(self, door: Door, now: float, *, capped: bool = True) -> str | None:
        """A websocket handshake: None if the socket may stay, else why not. `capped=False`
        skips the total (a presenter must get in to a full hall), never the per-address cap."""
        address = door.slot
        if address is None:
            return None
        # As many waiting sockets go as it takes to be within the cap: sockets are read up to
        # `headroom` past it, so several may be over when one finishes its handshake (pushing
        # out one and letting it in let a hall of 50 admit 51, its screens counted).
        while self.by_address[address] > self.per_address:
            if not self._evict(address, door, now):
                return f"too many connections from one address ({self.per_address})"
        while capped and (full := self._full(0)) is not None:
            if not self._evict(None, door, now):
                return full
        return None

    def _full(self, slack: int) -> str | None:
        """Why the count is past a cap by more than `slack`, or None."""
        if self.count > self.total + slack:
            return f"the server is full ({self.total} connections)"
        room = self.room_total
        if room is not None and self.count + self.elsewhere() > room + slack:
            return f"the room is full ({room} connections on every worker together)"
        return None

    def readdress(self, door: Door, address: str) -> None:
        """Count the socket under another address (the client a trusted proxy names)."""
        old = door.slot
        if old is None or old == address:
            return
        shield = self._waiting.get(door)
        self.release(door)
        door.slot = address
        self.by_address[address] += 1
        self.count += 1
        if shield is not None:
            self._wait(door, shield)

    def replace(self, old: Door, new: Door, now: float) -> None:
        """`new` takes over `old`'s place (an HTTP connection became a websocket at `now`);
        while it has not said hello, it is shielded for `evict_after` seconds."""
        address = old.slot
        if address is None:
            return
        waiting = old in self._waiting
        self._unwait(old)
        old.slot, new.slot = None, address
        if waiting:
            self._wait(new, now + self.evict_after)

    def settle(self, door: Door) -> None:
        """The room admitted this socket: it is not dropped to make room any more."""
        self._unwait(door)

    def release(self, door: Door) -> None:
        """Forget a closed socket (again: nothing)."""
        address = door.slot
        if address is None:
            return
        door.slot = None
        self._unwait(door, address)
        self.count -= 1
        self.by_address[address] -= 1
        if self.by_address[address] <= 0:
            del self.by_address[address]

    def waiting(self) -> int:
        """Sockets not yet admitted by the room."""
        return len(self._waiting)

    def _wait(self, door: Door, shield: float) -> None:
        assert door.slot is not None
        self._waiting[door] = shield
        self._waiting_at.setdefault(door.slot, {})[door] = shield

    def _unwait(self, door: Door, address: str | None = None) -> None:
        if door not in self._waiting:
            return
        del self._waiting[door]
        address = address if address is not None else door.slot
        group = self._waiting_at.get(address or "")
        if group is not None:
            group.pop(door, None)
            if not group:
                del self._waiting_at[address or ""]

    def _evict(self, address: str | None, spare: Door, now: float) -> bool:
        """Drop the oldest waiting socket (of `address`, or any) that is not shielded, never
        `spare`, among the oldest `SCAN`; False if there is none such."""
        group = self._waiting if address is None else self._waiting_at.get(address, {})
        for victim, shield in itertools.islice(group.items(), SCAN):
            if victim is spare or now < shield:
                continue
            self.release(victim)
            victim.evict()
            return True
        return False


@dataclass(slots=True)
class _Record:
    tokens: float
    stamp: float
    offences: int = 0
    last_offence: float = float("-inf")
    blocked_until: float = float("-inf")


class AddressGuard:
    """Per client address: a budget of new connections, and a growing wait after offences.

    The budget is a token bucket (`burst` at once, `rate` a second after that): generous, as a
    whole hall may sit behind one venue NAT and reconnect together. An offence (a flood cut
    off, a request too large or too slow, a wrong key) costs nothing the first `free` times,
    then blocks the address for `first_wait` seconds, doubling up to `max_wait`; offences are
    forgotten after `forget_after` seconds without one.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        free: int = 3,
        first_wait: float = 1.0,
        max_wait: float = 60.0,
        forget_after: float = 120.0,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.free = free
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.forget_after = forget_after
        self._records: dict[str, _Record] = {}

    def _record(self, address: str, now: float) -> _Record:
        record = self._records.get(address)
        if record is None:
            record = self._records[address] = _Record(self.burst, now)
        return record

    def blocked(self, address: str, now: float) -> float:
        """Seconds this address must still wait after its offences (0: none)."""
        record = self._records.get(address)
        return 0.0 if record is None else max(0.0, record.blocked_until - now)

    def connect(self, address: str, now: float) -> float:
        """A new connection from `address`: 0 to let it in (spending from its budget), else
        the seconds it should wait."""
        record = self._record(address, now)
        if now < record.blocked_until:
            return record.blocked_until - now
        record.tokens = min(self.burst, record.tokens + (now - record.stamp) * self.rate)
        record.stamp = now
        if record.tokens >= 1:
            record.tokens -= 1
            return 0.0
        return (1 - record.tokens) / self.rate if self.rate > 0 else self.max_wait

    def offend(self, address: str, now: float) -> float:
        """Note an offence; the seconds the address is now blocked for (0: still free)."""
        record = self._record(address, now)
        if now - record.last_offence > self.forget_after:
            record.offences = 0
        record.offences += 1
        record.last_offence = now
        if record.offences <= self.free:
            return 0.0
        wait = min(self.max_wait, self.first_wait * 2.0 ** (record.offences - self.free - 1))
        record.blocked_until = max(record.blocked_until, now + wait)
        return wait

    def forgive(self, address: str) -> None:
        """Clear this address's offences (the presenter typed the right key at last)."""
        record = self._records.get(address)
        if record is not None:
            record.offences = 0
            record.blocked_until = float("-inf")

    def prune(self, now: float) -> None:
        """Forget addresses with a full budget and no recent offence (bounded memory)."""
        for address, record in list(self._records.items()):
            full = record.tokens + (now - record.stamp) * self.rate >= self.burst
            if full and now - record.last_offence > self.forget_after:
                del self._records[address]

    def __len__(self) -> int:
        return len(self._records)


class AnswerLimiter:
    """Text answers per second for each participant, however many sockets they use.

    Words and open answers are what a troll repeats; a phone answers a person's pace, so a
    few in a burst and then one every couple of seconds is plenty. Buckets that are full
    again are forgotten once there are many, so a big hall does not keep one per phone.
    """

    PRUNE_AT = 20_000

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.buckets: dict[str, TokenBucket] = {}

    def allow(self, participant: str, now: float) -> bool:
        """Take one answer's token for this participant; False: refuse this answer."""
        bucket = self.buckets.get(participant)
        if bucket is None:
            if len(self.buckets) >= self.PRUNE_AT:
                self._prune(now)
            bucket = self.buckets[participant] = TokenBucket(self.rate, self.burst)
        return bucket.allow(now)

    def _prune(self, now: float) -> None:
        full = [
            who
            for who, bucket in self.buckets.items()
            if bucket.tokens + (now - bucket.stamp) * self.rate >= self.burst
        ]
        for who in full:
            del self.buckets[who]
