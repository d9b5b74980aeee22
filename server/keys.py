"""The presenter key check, in one place: the presenter socket, the presenter page and the
results API all ask it."""

from __future__ import annotations

import hmac


def key_matches(given: str | None, key: str) -> bool:
    """Whether `given` is the key, compared in constant time (no timing hints for guessing)."""
    return hmac.compare_digest((given or "").encode(), key.encode())
