"""The moderator page and the ideas board in the browser's language: a French moderator curates
a French display's board (approve, merge, close proposing) without a word of English or a key
name; an Arabic moderator's page is right to left with no serious accessibility violation; the
Q&A queue shows only for a talk that takes questions."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import PROJECTOR, Devices
from tests.serverproc import ServerProcess, start_server
from tests.test_e2e_axe import violations
from tests.test_e2e_browser import PUBLIC_URL, urls
from tests.test_e2e_screens_i18n import check_language

pytestmark = pytest.mark.browser

# A French talk with two ideas boards and no Q&A.
FRENCH_IDEAS = """\
---
title: Collaborer
lang: fr
---

# Bienvenue

---
poll: {id: libre, type: ideas, votes_per_person: 3}
---

# Comment toucher ceux qui ne viennent jamais aux consultations ?

---
poll: {id: filtre, type: ideas, votes_per_person: 2, moderation: before}
---

# Que doit essayer le prochain projet pilote ?

---

# Merci
"""

# An Arabic talk that takes questions and has an ideas board.
ARABIC_QA = """\
---
title: الحوار
lang: ar
qa: true
---

# مرحبا

---
poll: {id: afkar, type: ideas, votes_per_person: 2, moderation: before}
---

# ماذا نجرب في المشروع القادم؟
"""

# A talk with nothing to moderate: no Q&A, nothing typed.
NOTHING = """\
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
"""

FIRST = "Des ateliers le soir en bibliothèque"
DUPLICATE = "Ateliers du soir"
BOARD = ".ideas-moderate[data-poll=filtre]"


# Given, since a talk with nothing to moderate prints no moderator URL.
MODERATOR_KEY = "moderate-in-every-language-0123"


def serve(tmp_path: Path, text: str) -> ServerProcess:
    deck = tmp_path / "deck.md"
    deck.write_text(text, encoding="utf-8")
    return start_server(
        deck,
        "--public-url",
        PUBLIC_URL,
        "--moderator-key",
        MODERATOR_KEY,
        data=tmp_path / "data",
    )


def moderator_page(devices: Devices, server: ServerProcess, locale: str) -> Page:
    return devices.open(f"{server.base}/moderate?key={MODERATOR_KEY}", locale=locale)


def propose(phone: Page, text: str) -> None:
    phone.get_by_label("Your idea", exact=True).fill(text)
    phone.get_by_role("button", name="Propose").tap()


def test_a_french_moderator_curates_a_french_ideas_board(tmp_path: Path, devices: Devices) -> None:
    server = serve(tmp_path, FRENCH_IDEAS)
    try:
        presenter_url, display_url, phone_url = urls(server)
        presenter = devices.open(presenter_url, locale="fr-FR")
        display = devices.open(display_url, viewport=PROJECTOR, locale="fr-FR")
        moderator = moderator_page(devices, server, "fr-FR")

        # The page is French from the start; a talk without Q&A shows no question queue.
        expect(moderator.locator("html")).to_have_attribute("lang", "fr")
        expect(moderator).to_have_title("Modération · handsup")
        expect(moderator.locator("h1")).to_have_text("Modération")
        expect(moderator.locator("#answers-title")).to_have_text("Réponses, mots et idées")
        board = moderator.locator(BOARD)
        expect(board.locator(".ideas-proposing-toggle")).to_have_text("Clore les propositions")
        expect(board.locator(".moderation-empty")).to_have_text("Pas encore d\u2019idées.")
        expect(board.locator(".ideas-help")).to_have_text(
            "↑↓ choisir · A approuver · D écarter · S afficher · M fusionner, puis M sur "
            "l\u2019idée qu\u2019elle répète · Échap annuler"
        )
        expect(board.locator(".moderation")).to_have_attribute(
            "aria-label", "Idées : en attente de validation, puis par votes"
        )
        expect(moderator.locator("#qa-queue")).to_be_hidden()
        expect(moderator.locator("#qa-queue-title")).to_be_hidden()
        expect(moderator.locator("#nothing")).to_be_hidden()
        check_language(moderator, "fr")
        # The presenter's next slide names the board's rules in French.
        expect(presenter.locator("#next .kind-preview")).to_have_text(
            "Tableau d\u2019idées : idées affichées dès leur arrivée, 3 votes chacun"
        )

        proposer, voter = (devices.open(phone_url, phone=True) for _ in range(2))
        for phone in (proposer, voter):
            phone.get_by_role("button", name="OK").tap()
        presenter.keyboard.press("ArrowRight")
        presenter.keyboard.press("ArrowRight")
        expect(display.locator(".slide")).to_have_attribute("data-index", "2")
        presenter.keyboard.press("o")
        propose(proposer, FIRST)
        propose(voter, DUPLICATE)

        # Both wait for approval, with French states and buttons.
        pending = board.locator(".moderation-item.state-pending")
        expect(pending).to_have_count(2)
        expect(pending.locator(".moderation-state")).to_have_text(["En attente de validation"] * 2)
        expect(pending.first.locator("button")).to_have_text(["Approuver", "Écarter", "Fusionner…"])
        check_language(moderator, "fr")
        # One at a time: a second click before the list redraws would approve the first again.
        for left in (1, 0):
            board.locator(".state-pending [data-moderate=approve]").first.click()
            expect(pending).to_have_count(left)
        shown = board.locator(".moderation-item.state-shown")
        expect(shown).to_have_count(2)
        expect(shown.locator(".moderation-state")).to_have_text(["Au tableau"] * 2)

        # A phone votes; the French display ranks the ideas.
        proposer.locator(".ideas-board .idea", has_text=FIRST).locator(".idea-vote").tap()
        ranked = display.locator(".idea-ranked")
        expect(ranked.locator(".idea-text")).to_have_text([FIRST, DUPLICATE])
        expect(ranked.locator(".idea-count")).to_have_text(["1 vote", "0 vote"])
        expect(display.locator(".ideas-ranking")).to_have_attribute(
            "aria-label", "Idées, les plus votées d\u2019abord"
        )
        check_language(display, "fr")

        # Merging a duplicate: the hint, the cancel and the target buttons are French.
        duplicate = board.locator(".moderation-item", has_text=DUPLICATE)
        original = board.locator(".moderation-item", has_text=FIRST)
        duplicate.get_by_role("button", name="Fusionner…").click()
        expect(board.locator(".ideas-merge-hint")).to_have_text(
            f"Fusion de « {DUPLICATE} » : choisissez l\u2019idée qu\u2019elle répète"
        )
        expect(duplicate.locator("button")).to_have_text(["Annuler la fusion"])
        expect(original.locator("button")).to_have_text(["Fusionner avec celle-ci"])
        check_language(moderator, "fr")
        original.get_by_role("button", name="Fusionner avec celle-ci").click()
        expect(ranked).to_have_count(1)
        expect(board.locator(".ideas-merge-hint")).to_have_text("")

        # Proposing closes; both screens say so in French.
        board.locator(".ideas-proposing-toggle").click()
        expect(display.locator(".ideas-proposing")).to_have_text(
            "Les nouvelles idées sont closes : le vote continue"
        )
        expect(board.locator(".ideas-proposing-toggle")).to_have_text("Rouvrir les propositions")
        original.get_by_role("button", name="Masquer").click()
        expect(original.locator(".moderation-state")).to_have_text("Masqué")
        expect(original.locator("button")).to_have_text(["Afficher"])
        for page in (moderator, display, presenter):
            check_language(page, "fr")
        assert devices.errors == []
    finally:
        server.stop()


def test_an_arabic_moderator_page_is_right_to_left_and_accessible(
    tmp_path: Path, devices: Devices
) -> None:
    server = serve(tmp_path, ARABIC_QA)
    try:
        presenter_url, _, phone_url = urls(server)
        presenter = devices.open(presenter_url)
        moderator = moderator_page(devices, server, "ar")
        expect(moderator.locator("html")).to_have_attribute("lang", "ar")
        expect(moderator.locator("html")).to_have_attribute("dir", "rtl")
        expect(moderator.locator("h1")).to_have_text("الإشراف")
        # This talk takes questions: the queue is there, in Arabic.
        expect(moderator.locator("#qa-queue")).to_be_visible()
        expect(moderator.locator("#qa-queue-title")).to_have_text("الأسئلة · 0 بالانتظار")

        phone = devices.open(phone_url, phone=True)
        phone.get_by_role("button", name="OK").tap()
        phone.get_by_role("button", name="Questions").tap()
        phone.get_by_label("Your question", exact=True).fill("Is the data kept?")
        phone.get_by_role("button", name="Ask", exact=True).tap()
        expect(moderator.locator("#qa-queue-title")).to_have_text("الأسئلة · سؤال واحد بالانتظار")
        presenter.keyboard.press("ArrowRight")
        presenter.keyboard.press("o")
        phone.get_by_role("button", name="Back to the slide").tap()
        propose(phone, "أمسيات في المكتبة")
        board = moderator.locator(".ideas-moderate[data-poll=afkar]")
        expect(board.locator(".moderation-item.state-pending .moderation-state")).to_have_text(
            "بانتظار الموافقة"
        )
        expect(board.locator(".ideas-proposing-toggle")).to_have_text("إغلاق الاقتراحات")
        check_language(moderator, "ar")
        assert violations(moderator) == []
        assert devices.errors == []
    finally:
        server.stop()


def test_a_talk_with_nothing_to_moderate_says_so(tmp_path: Path, devices: Devices) -> None:
    server = serve(tmp_path, NOTHING)
    try:
        moderator = moderator_page(devices, server, "fr-FR")
        expect(moderator.locator("#nothing")).to_have_text(
            "Rien à modérer : cette présentation ne prend pas de questions et n\u2019a ni "
            "question ouverte, ni nuage de mots, ni tableau d\u2019idées."
        )
        expect(moderator.locator("#qa-queue")).to_be_hidden()
        expect(moderator.locator("#answers")).to_be_hidden()
        check_language(moderator, "fr")
        # The presenter edits the deck to take questions: the open page shows the queue.
        deck = tmp_path / "deck.md"
        deck.write_text(NOTHING.replace("lang: fr\n", "lang: fr\nqa: true\n"), encoding="utf-8")
        expect(moderator.locator("#qa-queue-title")).to_have_text("Questions · 0 en attente")
        expect(moderator.locator("#nothing")).to_be_hidden()
    finally:
        server.stop()
