"""Text from the audience, made safe to count and to show: normalised, invisible tricks removed,
limited in characters and in bytes. It is always shown as text, never as HTML."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from profanex import Filter

from server.commands import Refused

# Zero-width characters and bidi controls: they hide words from filters and moderators, and an
# override can make a line read backwards on every screen that shows it.
_INVISIBLE = re.compile(
    "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_SPACES = re.compile(r"\s+")
# profanex: the fastest of the word-list filters measured in bench/filter_bench.py (15,000
# entries in 0.03 s), with an allowlist against the Scunthorpe problem. Loaded once.
_FILTER = Filter.from_defaults()
# A character is at most 4 bytes of UTF-8; a text may use at most this many bytes per allowed
# character on average, so a limit in characters cannot be stretched with long sequences.
BYTES_PER_CHARACTER = 4


def clean(text: str) -> str:
    """NFKC-normalised, without invisible or control characters, spaces collapsed, trimmed."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text).strip()


def key(text: str) -> str:
    """What makes two entries the same word: the cleaned text, case-folded."""
    return clean(text).casefold()


def checked(text: str, limit: int, what: str = "answer") -> str:
    """The cleaned text, or Refused if it is empty or longer than `limit` characters (or their
    worth of bytes)."""
    cleaned = clean(text)
    if not cleaned:
        raise Refused("empty_answer", f"the {what} is empty")
    if len(cleaned) > limit or len(cleaned.encode()) > limit * BYTES_PER_CHARACTER:
        raise Refused("too_long", f"an {what} may be at most {limit} characters")
    return cleaned


@lru_cache(maxsize=8192)
def mask(text: str) -> str:
    """The text as screens show it: listed swear words and slurs replaced by asterisks.

    Only what screens see is masked; the data and the export keep what was sent. Cached:
    every tally sends the same top words again.
    """
    return _FILTER.clean(text)
