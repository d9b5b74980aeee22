"""The pages' redial policy, as clients/shared/socket.js has it: full-jitter exponential backoff,
a delay drawn from [0, min(10 s, 0.5 s x 2^attempt)), the attempt counting up after each try."""

from __future__ import annotations

import random

FIRST = 0.5
CAP = 10.0


def delay(attempt: int, rng: random.Random) -> float:
    """Seconds to wait before redial number `attempt` (0 for the first after a drop)."""
    return rng.uniform(0.0, min(CAP, FIRST * 2.0**attempt))
