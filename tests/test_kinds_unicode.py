"""Cleaning audience text: joiners kept where they join (emoji sequences, Persian, Indic),
every other invisible or bidi control character removed, however it is mixed in."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.text import checked, clean, key, mask

ZWJ, ZWNJ = "\u200d", "\u200c"
# Persian "I want" (mi-khaham): the ZWNJ keeps the prefix mi apart without a space.
WANT = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Format characters that are visible signs (Arabic number signs, end of ayah, Syriac
# abbreviation mark, Kaithi number signs): shown, so kept like any letter.
VISIBLE_FORMAT = set("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2")
VISIBLE_FORMAT |= {"\U000110bd", "\U000110cd"}
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"

KEPT = [
    "👩\u200d💻",  # woman technologist: one emoji, not a woman and a laptop
    "👨\u200d👩\u200d👧\u200d👦",  # a family
    "🏳\ufe0f\u200d🌈",  # rainbow flag: a selector before the joiner
    "👨🏽\u200d💻",  # a skin tone before the joiner
    "❤\ufe0f\u200d🔥",
    ENGLAND,  # a flag made of tags
    "1\ufe0f\u20e3",  # keycap one
    WANT,
    "\u0646\u0645\u06cc\u200c\u062f\u0627\u0646\u0645",  # Persian "I don't know"
    "क्\u200dष",  # Devanagari: ZWJ after the virama picks the half form
    "क्\u200cष",  # and ZWNJ the explicit virama
    "ක්\u200dය",  # Sinhala yansaya
    "ന്\u200dറ",  # Malayalam
]


@pytest.mark.parametrize("text", KEPT)
def test_joiners_that_join_are_kept(text: str) -> None:
    assert clean(text) == text
    assert key(text) == text.casefold()
    assert checked(text, 25) == text
    assert mask(text) == text, "the filter leaves them whole on screens too"


@pytest.mark.parametrize(
    ("sent", "cleaned"),
    [
        ("tr\u200dust", "trust"),  # between Latin letters it only hides the word
        ("tr\u200cust", "trust"),
        ("\u200d👩", "👩"),  # at either end it joins nothing
        ("👩\u200d", "👩"),
        ("👩 \u200d 💻", "👩 💻"),  # next to a space neither
        ("👩\u200c💻", "👩💻"),  # a ZWNJ does not join emoji
        ("👩\u200d\u200d\u200c💻", "👩\u200d💻"),  # a run is one joiner at most
        ("\u0645\u06cc\u200c\u200c\u200c\u062e\u0648\u0627\u0647\u0645", WANT),
        # A zero-width space beside the ZWNJ goes.
        ("\u0645\u06cc\u200c\u200b\u062e\u0648\u0627\u0647\u0645", WANT),
        ("a\u200dب", "aب"),  # joining a Latin and an Arabic letter does nothing
        ("👩\u200dب", "👩ب"),  # nor an emoji and a letter
        ("\u202eevil\u202c", "evil"),  # bidi override
        ("\u2066trust\u2069", "trust"),  # bidi isolate
        ("\u200ftrust\u200e\u061c", "trust"),  # bidi marks
        ("x\U000e0041\U000e0042\U000e0043", "x"),  # tags hiding "ABC" after a letter
        ("\U0001f3f4\U000e0041\U000e007f", "\U0001f3f4"),  # not a subdivision flag's tags
        ("😀" + "\ufe0f" * 5 + "\U000e0101" * 20, "😀\ufe0f"),  # selectors hiding data
        ("\ufe0fx", "x"),  # a selector with nothing to select
        ("e\u200b\u0301", "é"),  # the accent composes once the space between goes
        ("trust\ud800", "trust"),  # a lone surrogate cannot even be encoded
        ("\u3164\u115f", ""),  # Hangul fillers: blank letters
    ],
)
def test_invisible_characters_go(sent: str, cleaned: str) -> None:
    assert clean(sent) == cleaned


def test_every_format_character_is_handled() -> None:
    """Checked against this Python's Unicode database, so a new format character is noticed."""
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        if unicodedata.category(char) != "Cf" or char in VISIBLE_FORMAT:
            continue
        between_latin = clean(f"a{char}b")
        assert between_latin == "ab", f"U+{point:04X} is kept between Latin letters"
        if char not in (ZWJ, ZWNJ):
            assert char not in clean(f"ب{char}ب") and char not in clean(f"👩{char}💻")


# Text built from the characters that matter here, and anything else.
TRICKY = [ZWJ, ZWNJ, "\u200b", "\ufe0f", "\ufe0e", "\U000e0101", "\U000e0067", "\U000e007f",
          "\U0001f3f4", "\u20e3", "\u0301", "\u094d", " ", "\u00a0", "\n", "\ud800", "\ufeff",
          "👩", "💻", "🏽", "क", "ष", "ی", "خ", "a", "B", "ß", "\ufb01", *sorted(BIDI)]  # fmt: skip
texts = st.lists(st.sampled_from(TRICKY) | st.characters(), max_size=40).map("".join)


@settings(max_examples=2000, deadline=None)
@given(texts)
def test_cleaning_is_safe_idempotent_and_never_grows(text: str) -> None:
    cleaned = clean(text)
    assert not BIDI & set(cleaned), "no bidi control ever reaches a screen"
    assert clean(cleaned) == cleaned, "cleaning twice changes nothing"
    assert key(cleaned) == key(text), "so a word is counted the same wherever it is cleaned"
    assert len(cleaned) <= len(unicodedata.normalize("NFKC", text)), "only ever removes"
    cleaned.encode()  # always valid UTF-8: no lone surrogates
    assert cleaned == cleaned.strip() and "  " not in cleaned
    for at, char in enumerate(cleaned):
        if char in (ZWJ, ZWNJ):
            assert 0 < at < len(cleaned) - 1, "a joiner is always between two characters"
            assert cleaned[at + 1] not in (ZWJ, ZWNJ), "never a run of joiners"
            assert not cleaned[at - 1].isspace() and not cleaned[at + 1].isspace()
        elif unicodedata.category(char) == "Cf":
            assert char in VISIBLE_FORMAT or "\U000e0020" <= char <= "\U000e007f"
            if "\U000e0020" <= char <= "\U000e007f":
                assert "\U0001f3f4" in cleaned[:at], "tags only ever follow a black flag"
