"""The key checks, in one place: the presenter socket, the presenter page and the results API
ask for the presenter key; the moderator socket and page for the moderator key."""

from __future__ import annotations

import base64
import hashlib
import hmac


def key_matches(given: str | None, key: str) -> bool:
    """Whether `given` is the key, compared in constant time (no timing hints for guessing)."""
    return hmac.compare_digest((given or "").encode(), key.encode())


def moderator_key(presenter_key: str) -> str:
    """The moderator key when none is given: derived from the presenter key, so it stays the
    same when the session resumes, and tells nothing about the presenter key (a moderator
    cannot move slides)."""
    digest = hmac.new(presenter_key.encode(), b"handsup moderator key", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")
