"""The interface's catalogues (clients/shared/locales): every language has every string the
English one has, with the same placeholders, and every string the clients ask for exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CLIENTS = Path(__file__).resolve().parent.parent / "clients"
LOCALES = CLIENTS / "shared" / "locales"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# CLDR plural categories: a counted string is `key.<category>`.
PLURAL_FORMS = ("zero", "one", "two", "few", "many", "other")


def catalogue(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def available() -> list[str]:
    """The languages i18n.js offers, as it lists them."""
    source = (CLIENTS / "shared" / "i18n.js").read_text(encoding="utf-8")
    listed = re.search(r"export const AVAILABLE = \[([^\]]*)\]", source)
    assert listed, "i18n.js no longer lists its languages as expected"
    return re.findall(r'"([^"]+)"', listed.group(1))


ENGLISH = catalogue("en")
OTHERS = [lang for lang in available() if lang != "en"]


def plural_base(key: str) -> str | None:
    base, _, form = key.rpartition(".")
    return base if form in PLURAL_FORMS and f"{base}.other" in ENGLISH else None


def test_the_languages_asked_for_are_offered_and_each_has_a_catalogue() -> None:
    assert set(available()) >= {"en", "fr", "de", "es", "cy", "ar"}
    assert {path.stem for path in LOCALES.glob("*.json")} == set(available())


@pytest.mark.parametrize("lang", OTHERS)
def test_a_catalogue_has_every_english_string(lang: str) -> None:
    missing = sorted(set(ENGLISH) - set(catalogue(lang)))
    assert missing == [], f"{lang}.json lacks {missing}"


@pytest.mark.parametrize("lang", OTHERS)
def test_a_catalogue_has_no_stray_strings_and_keeps_the_placeholders(lang: str) -> None:
    for key, text in catalogue(lang).items():
        assert isinstance(text, str) and text.strip(), f"{lang}.json: {key} is empty"
        base = plural_base(key)
        if base is None:
            assert key in ENGLISH, f"{lang}.json: {key} is not an English string"
            wanted = set(PLACEHOLDER.findall(ENGLISH[key]))
            assert set(PLACEHOLDER.findall(text)) == wanted, f"{lang}.json: {key}"
        else:
            # A plural form may spell its number out ("صوتان", two votes) but adds nothing.
            wanted = set(PLACEHOLDER.findall(ENGLISH[f"{base}.other"]))
            assert set(PLACEHOLDER.findall(text)) <= wanted, f"{lang}.json: {key}"


def test_every_string_the_clients_ask_for_is_in_english() -> None:
    asked: set[str] = set()
    for path in CLIENTS.rglob("*.js"):
        source = path.read_text(encoding="utf-8")
        asked |= set(re.findall(r'\b(?:t|parts)\("([\w.]+)"', source))
        # Keys kept in tables (a state's words, a button's label) and asked for later.
        tabled = r'"((?:display|presenter|results|moderate|preview|qa)\.[\w.]+)"'
        for key in re.findall(tabled, source):
            asked.add(f"{key}.other" if f"{key}.other" in ENGLISH else key)
        asked |= {f"{key}.other" for key in re.findall(r'\bplural\("([\w.]+)"', source)}
        asked |= {f"conn.{s}" for s in ("connecting", "live", "reconnecting", "stopped", "waiting")}
    for path in CLIENTS.rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        asked |= set(re.findall(r'data-i18n="([\w.]+)"', source))
        for pairs in re.findall(r'data-i18n-attr="([^"]+)"', source):
            asked |= {pair.split(":")[1] for pair in pairs.split(";")}
    assert len(asked) > 40, "the patterns no longer find the clients' strings"
    assert sorted(asked - set(ENGLISH)) == []
