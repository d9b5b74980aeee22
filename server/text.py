"""Text from the audience, made safe to count and to show: normalised, invisible tricks removed,
limited in characters and in bytes. It is always shown as text, never as HTML."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from profanex import Filter

from server.commands import Refused

# Invisible characters: zero-width spaces, bidi controls (embeddings, overrides, isolates and
# marks), other format characters, controls, blank fillers and lone surrogates. They hide
# words from filters and moderators, make one word count as two, and an override can make a
# line read backwards on every screen that shows it. The joiners (U+200C, U+200D), variation
# selectors and emoji tags are not here: they are kept where they do a job (see _joiners).
_INVISIBLE = re.compile(
    "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5"
    "\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ud800-\udfff"
    "\ufeff\uffa0\ufff9-\ufffb\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a]"
)
ZWNJ = "\u200c"
ZWJ = "\u200d"
_JOINERS = re.compile("[\u200c\u200d]+")
_SPACES = re.compile(r"\s+")
# Variation selectors pick how the character before them is drawn (U+FE0F: as an emoji); one
# is enough, and a run of them is a way to hide a message inside a single emoji.
_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]+")
_SELECTOR = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
# Tag characters are invisible ASCII look-alikes; their one use is a subdivision flag (the
# flag of England is a black flag, the tags g b e n g and a cancel tag). Anywhere else they
# smuggle text no one sees, so only a black flag's short lowercase-and-digit tag run stays.
_TAGS = re.compile("[\U000e0000-\U000e007f]+")
_FLAG_TAGS = re.compile("[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,7}\U000e007f")
BLACK_FLAG = "\U0001f3f4"
# Emoji skin tones: emoji that modify the one before them, so an emoji for a joiner's sake.
_SKIN_TONES = range(0x1F3FB, 0x1F400)
# Scripts whose words need a joiner between letters: Arabic script (Persian, Urdu, Kurdish,
# Pashto write "می‌خواهم" with a ZWNJ), Syriac, N'Ko, Mongolian, Adlam, and the Brahmic
# scripts, where a joiner after a virama picks a conjunct's shape (Hindi, Bengali, Malayalam,
# Sinhala...). Between Latin, Greek or Cyrillic letters a joiner does nothing a reader can
# see, except hide a word from the filter and count one word as two: it goes.
_JOINING_SCRIPTS = (
    (0x0600, 0x08FF),  # Arabic, Syriac, Arabic Supplement, Thaana, N'Ko, Arabic Extended
    (0x0900, 0x0DFF),  # Devanagari to Sinhala
    (0x0F00, 0x109F),  # Tibetan, Myanmar
    (0x1780, 0x18AF),  # Khmer, Mongolian
    (0x1900, 0x1CFF),  # Limbu to Vedic Extensions: Buginese, Tai Tham, Balinese, Javanese...
    (0xA800, 0xABFF),  # Syloti Nagri to Meetei Mayek, Devanagari Extended
    (0xFB50, 0xFDFF),  # Arabic presentation forms A
    (0xFE70, 0xFEFE),  # Arabic presentation forms B
    (0x10D00, 0x10D3F),  # Hanifi Rohingya
    (0x11000, 0x11FFF),  # Brahmi, Kaithi, Sharada, Grantha, Tirhuta... (historic Indic)
    (0x1E900, 0x1E95F),  # Adlam
)


def _in_joining_script(char: str) -> bool:
    """Whether `char` is a letter or mark of a script that uses joiners within words."""
    point = ord(char)
    return unicodedata.category(char)[0] in "LM" and any(
        low <= point <= high for low, high in _JOINING_SCRIPTS
    )


def _is_emoji(char: str) -> bool:
    """Whether `char` can stand on either side of an emoji ZWJ sequence (👩‍💻, 🏳️‍🌈)."""
    return unicodedata.category(char) == "So" or ord(char) in _SKIN_TONES


def _joiner(match: re.Match[str]) -> str:
    """A run of joiners, kept as one where it joins: a ZWJ between emoji, a ZWJ or ZWNJ
    between letters of a script that uses them. Anywhere else it is dropped."""
    text, start, end = match.string, match.start(), match.end()
    before = start - 1
    while before >= 0 and _SELECTOR.fullmatch(text[before]):
        before -= 1  # 🏳️‍🌈: the selector belongs to the flag before the joiner
    if before < 0 or end >= len(text):
        return ""
    left, right, run = text[before], text[end], match.group()
    if _in_joining_script(left) and _in_joining_script(right):
        return run[0]
    if ZWJ in run and _is_emoji(left) and _is_emoji(right):
        return ZWJ
    return ""


def _selectors(match: re.Match[str]) -> str:
    """A run of variation selectors: the first, if it follows something it can select."""
    start = match.start()
    if start == 0:
        return ""
    before = match.string[start - 1]
    if before.isspace() or before in (ZWJ, ZWNJ):
        return ""
    return match.group()[0]


def _tags(match: re.Match[str]) -> str:
    """A run of tag characters: kept only as a subdivision flag's tags after a black flag."""
    start = match.start()
    if start > 0 and match.string[start - 1] == BLACK_FLAG and _FLAG_TAGS.fullmatch(match.group()):
        return match.group()
    return ""


def _tidy(text: str) -> str:
    """One pass of cleaning over NFKC text; clean repeats it until nothing changes."""
    text = _INVISIBLE.sub("", text)
    if text.isascii():
        return _SPACES.sub(" ", text).strip()
    text = _TAGS.sub(_tags, text)
    text = _SELECTORS.sub(_selectors, text)
    text = _JOINERS.sub(_joiner, text)
    # Taking characters out can leave a letter next to an accent it composes with.
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", text).strip()


# profanex: the fastest of the word-list filters measured in bench/filter_bench.py (15,000
# entries in 0.03 s), with an allowlist against the Scunthorpe problem. Loaded once.
_FILTER = Filter.from_defaults()
# A character is at most 4 bytes of UTF-8; a text may use at most this many bytes per allowed
# character on average, so a limit in characters cannot be stretched with long sequences.
BYTES_PER_CHARACTER = 4


def clean(text: str) -> str:
    """NFKC-normalised, without invisible or control characters, spaces collapsed, trimmed.

    Joiners stay where they join (👩‍💻, می‌خواهم) and nowhere else. Cleaning a cleaned text
    changes nothing, so a word counts the same however often it is cleaned.
    """
    text = unicodedata.normalize("NFKC", text)
    while True:
        tidied = _tidy(text)
        if tidied == text:
            return tidied
        text = tidied


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
