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
