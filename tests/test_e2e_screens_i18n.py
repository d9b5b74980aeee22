"""The display, the presenter's page and the results page in the browser's language, as phones
are: French on a French laptop, Arabic (right to left) on an Arabic one; never a key name, never
an empty label, never an English string left behind."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import PROJECTOR, Devices
from tests.serverproc import ServerProcess, start_server
from tests.test_e2e_browser import PUBLIC_URL, urls

pytestmark = pytest.mark.browser

# An Arabic interface may write its numbers in Arabic-Indic digits.
ONE, TWO, HUNDRED = "(1|\u0661)", "(2|\u0662)", "(100|\u0661\u0660\u0660)"
LOCALES = Path(__file__).resolve().parent.parent / "clients" / "shared" / "locales"
ENGLISH: dict[str, str] = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))


@dataclass
class Talk:
    """A deck in one language and what its screens should say in that language."""

    lang: str
    locale: str
    deck: str
    dir: str
    # What each screen says, by selector: exact text or a pattern.
    presenter: dict[str, str | re.Pattern[str]]
    presenter_open: dict[str, str | re.Pattern[str]]
    display_open: dict[str, str | re.Pattern[str]]
    results: dict[str, str | re.Pattern[str]]
    join: str  # the title slide's "Join at …"


FRENCH = Talk(
    lang="fr",
    locale="fr-FR",
    dir="ltr",
    deck="""\
---
title: Couleurs
lang: fr
---

# Bienvenue

---
poll:
  id: couleur
---

# Couleur préférée ?

- [ ] Rouge
- [x] Bleu

Source: une enquête
""",
    presenter={
        "#position": "Diapositive 1 sur 2",
        "#btn-next": "Suivante →",
        "#btn-open": "Ouvrir le vote O",
        "#poll-status": "Pas de sondage sur cette diapositive",
        "#now-title": "À l\u2019écran maintenant",
        "#next-title": "Suivante",
        "#conn": "En direct",
    },
    presenter_open={
        "#poll-status": "Vote ouvert",
        "#poll-voters": "1 a voté",
        "#poll-visibility": (
            "Résultats en direct à l\u2019écran ; les téléphones les voient une fois révélés"
        ),
        "#presence": re.compile(r"^1 connecté · 1 inscrit · 1 a voté · 1 écran$"),
    },
    display_open={
        ".poll-badge": f"Votez sur {PUBLIC_URL}",
        ".poll-votes": "1 vote",
        ".strip-label": "Code",
    },
    results={
        "#status": "1 sondage, 1 vote",
        "#timeline-title": "Participation au fil du temps",
        ".turnout": re.compile(r"^1 a voté · participation : 100\s% des participants$"),
        ".row.correct .count": re.compile(r"^1 · 100\s%$"),
        ".source": "Source : une enquête",
        ".downloads": re.compile(r"^Télécharger : CSV · Votes \(CSV\) · JSON · La présentation"),
    },
    join=f"Participez sur {PUBLIC_URL}",
)

ARABIC = Talk(
    lang="ar",
    locale="ar",
    dir="rtl",
    deck="""\
---
title: الألوان
lang: ar
---

# مرحبا

---
poll:
  id: colour
---

# ما هو لونك المفضل؟

- [ ] أحمر
- [x] أزرق

Source: استبيان
""",
    presenter={
        "#position": re.compile(rf"^الشريحة {ONE} من {TWO}$"),
        "#btn-next": "التالية →",
        "#btn-open": "فتح التصويت O",
        "#poll-status": "لا استطلاع في هذه الشريحة",
        "#now-title": "على الشاشة الآن",
        "#conn": "مباشر",
    },
    presenter_open={
        "#poll-status": "التصويت مفتوح",
        "#poll-voters": "صوّت شخص واحد",
        "#presence": re.compile(rf"^{ONE} متصل · انضم {ONE} · صوّت شخص واحد · شاشة واحدة$"),
    },
    display_open={
        ".poll-badge": f"صوّت الآن عبر {PUBLIC_URL}",
        ".poll-votes": "صوت واحد",
        ".strip-label": "الرمز",
    },
    results={
        "#status": "استطلاع واحد، صوت واحد",
        "#timeline-title": "المشاركة عبر الوقت",
        ".turnout": re.compile(rf"^صوّت شخص واحد · المشاركة .*{HUNDRED}.* من المشاركين$"),
        ".source": "المصدر: استبيان",
    },
    join=f"انضم عبر {PUBLIC_URL}",
)


@pytest.fixture
def talk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Talk, ServerProcess]]:
    chosen: Talk = request.param
    deck = tmp_path / "deck.md"
    deck.write_text(chosen.deck, encoding="utf-8")
    server = start_server(deck, "--public-url", PUBLIC_URL, data=tmp_path / "data")
    yield chosen, server
    server.stop()


# Everything a person can read or hear on the page: its visible text, its title, and the
# names and descriptions given in attributes.
_READABLE = """() => {
  const named = ["aria-label", "alt", "title", "placeholder"];
  const nodes = [...document.querySelectorAll(named.map((name) => `[${name}]`).join(", "))];
  const attributes = nodes.flatMap((node) => named.map((name) => node.getAttribute(name) ?? ""));
  return [document.title, document.body.innerText, ...attributes].join("\\n");
}"""


def check_translated(page: Page, talk: Talk) -> None:
    """No key name shows, no translated label is empty, and no English interface string that
    this language words differently is left on the page."""
    check_language(page, talk.lang)


def check_language(page: Page, lang: str) -> None:
    """`check_translated` for a page in the interface language `lang`."""
    readable: str = page.evaluate(_READABLE)
    keys = [key for key in ENGLISH if "." in key and re.search(rf"\b{re.escape(key)}\b", readable)]
    assert keys == [], f"key names on the page: {keys}"
    empty = page.evaluate(
        "() => [...document.querySelectorAll('[data-i18n]')].filter((n) => !n.textContent.trim())"
        ".map((n) => n.dataset.i18n)"
    )
    assert empty == []
    ours: dict[str, str] = json.loads((LOCALES / f"{lang}.json").read_text("utf-8"))
    leftover = [
        english
        for key, english in ENGLISH.items()
        if len(english) >= 5
        and "{" not in english
        and ours.get(key) != english
        and re.search(rf"(?<!\w){re.escape(english)}(?!\w)", readable)
    ]
    assert leftover == [], f"English left on the page: {leftover}"


def expect_texts(page: Page, wanted: dict[str, str | re.Pattern[str]]) -> None:
    for selector, text in wanted.items():
        expect(page.locator(selector).first).to_have_text(text)


@pytest.mark.parametrize("talk", [FRENCH, ARABIC], ids=["fr", "ar"], indirect=True)
def test_the_display_presenter_and_results_page_speak_the_browsers_language(
    talk: tuple[Talk, ServerProcess], devices: Devices
) -> None:
    said, server = talk
    presenter_url, display_url, phone_url = urls(server)
    presenter = devices.open(presenter_url, locale=said.locale)
    display = devices.open(
        f"{display_url}?room={server.room}", viewport=PROJECTOR, locale=said.locale
    )
    expect_texts(presenter, said.presenter)
    for page in (presenter, display):
        expect(page.locator("html")).to_have_attribute("lang", said.lang)
        expect(page.locator("html")).to_have_attribute("dir", said.dir)
    check_translated(presenter, said)
    # The title slide's join strip, in the display's language.
    expect(display.locator(".title-join .strip-label")).to_have_text(
        said.display_open[".strip-label"]
    )
    expect(display.locator(".title-join .poll-badge")).to_have_text(said.join)
    expect(display.locator(".title-join .poll-badge bdi")).to_have_text(PUBLIC_URL)
    check_translated(display, said)

    phone = devices.open(phone_url, phone=True)
    presenter.keyboard.press("ArrowRight")
    presenter.keyboard.press("o")
    phone.locator(".choice").nth(1).tap()
    expect_texts(presenter, said.presenter_open)
    expect_texts(display, said.display_open)
    check_translated(presenter, said)
    check_translated(display, said)
    # The go-to dialog names slide kinds in the presenter's language too.
    presenter.keyboard.press("g")
    expect(presenter.locator("#goto-dialog")).to_be_visible()
    check_translated(presenter, said)
    presenter.keyboard.press("Escape")

    results = devices.open(f"{server.base}/results?key={server.key}", locale=said.locale)
    expect_texts(results, said.results)
    expect(results.locator("html")).to_have_attribute("dir", said.dir)
    check_translated(results, said)


QA_DECK = Path(__file__).parent / "decks" / "qa.md"


def test_the_questions_speak_each_screens_language(tmp_path: Path, devices: Devices) -> None:
    """A Welsh phone asks; a French presenter sees it in the queue; the data notice and the
    Q&A panel are Welsh on the phone."""
    server = start_server(QA_DECK, "--public-url", PUBLIC_URL, data=tmp_path / "data")
    try:
        presenter_url, _, phone_url = urls(server)
        presenter = devices.open(presenter_url, locale="fr-FR")
        phone = devices.open(phone_url, phone=True, locale="cy-GB")
        expect(phone.locator("#privacy h2")).to_have_text("Am eich data")
        phone.get_by_role("button", name="Iawn").tap()
        expect(phone.locator("#privacy")).to_be_hidden()
        expect(phone.get_by_role("button", name="Eich data")).to_be_visible()
        phone.get_by_role("button", name="Cwestiynau").tap()
        phone.get_by_label("Eich cwestiwn", exact=True).fill("Pa mor hir?")
        phone.get_by_role("button", name="Gofyn", exact=True).tap()
        expect(phone.locator(".qa-status")).to_have_text(re.compile(r"^Wedi\u2019i anfon\."))
        expect(presenter.locator("#qa-queue-title")).to_have_text("Questions · 1 en attente")
        expect(presenter.locator("#qa-queue .qa-state")).to_have_text(
            "En attente d\u2019approbation"
        )
        presenter.locator("#qa-queue").get_by_role("button", name="Approuver").click()
        expect(presenter.locator("#qa-queue-title")).to_have_text("Questions · 0 en attente")
        expect(phone.locator(".qa-mine .qa-state")).to_have_text(re.compile(r"^Eich un chi · "))
    finally:
        server.stop()
