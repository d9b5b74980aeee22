"""Limits that keep one client, or one address, from taking the server down: pure bookkeeping."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


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


class ConnectionLimiter:
    """Open connections in total and per client address."""

    def __init__(self, total: int, per_address: int) -> None:
        self.total = total
        self.per_address = per_address
        self.by_address: Counter[str] = Counter()
        self.count = 0

    def admit(self, address: str, *, capped: bool = True) -> str | None:
        """Count a new connection, or say why it is refused. `capped=False` skips the total
        (a presenter must get in to a full hall), never the per-address limit."""
        if capped and self.count >= self.total:
            return f"the server is full ({self.total} connections)"
        if self.by_address[address] >= self.per_address:
            return f"too many connections from one address ({self.per_address})"
        self.by_address[address] += 1
        self.count += 1
        return None

    def release(self, address: str) -> None:
        """Forget a closed connection."""
        self.count -= 1
        self.by_address[address] -= 1
        if self.by_address[address] <= 0:
            del self.by_address[address]


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
