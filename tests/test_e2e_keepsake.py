"""The talk as a keepsake: `handsup export --format html` writes one file that opens from disk
with no server, every slide and each poll's final results in it; `--format pdf` prints it."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.serverproc import ROOT, ServerProcess, start_server
from tests.test_e2e_results import cast_in_thread
from tests.test_results import QUIZ
from tests.wsclient import Peer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data folder with one finished talk: three phones voted on the quiz."""
    folder = tmp_path_factory.mktemp("keepsake") / "data"
    server = start_server(QUIZ, data=folder)
    try:
        cast_in_thread(server)
        # The results page links to the same keepsake.
        page = httpx.get(f"{server.base}/api/sessions/1/results.html", params={"key": server.key})
        assert page.status_code == 200 and "attachment" in page.headers["content-disposition"]
        assert "Favourite colour?" in page.text
        assert httpx.get(f"{server.base}/api/sessions/1/results.html").status_code == 401
    finally:
        server.stop()
    yield folder


def export(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "export", "--data", str(data), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_keepsake_opens_from_disk_with_the_final_results(
    data: Path, tmp_path: Path, browser: Browser
) -> None:
    out = tmp_path / "talk.html"
    done = export(data, "--format", "html", "-o", str(out))
    assert done.returncode == 0, done.stderr
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(out.as_uri())
    assert requests == [out.as_uri()]  # self-contained: nothing else is fetched

    expect(page.locator("section.page")).to_have_count(4)  # every slide of the deck
    expect(page.locator("section.page").first).to_contain_text("Welcome")
    colour = page.locator("section.page", has_text="Favourite colour?")
    expect(colour.locator(".bar-count")).to_have_text(["0 · 0%", "3 · 100%", "0 · 0%"])
    expect(colour.locator(".bar-row.correct .bar-label")).to_have_text("Blue ✓")
    expect(colour.locator(".turnout")).to_have_text("3 voted · turnout 100% of participants")
    expect(colour.locator(".poll-source")).to_have_text("Source: a test")
    full = colour.locator(".bar-row.correct .bar-fill").bounding_box()
    track = colour.locator(".bar-row.correct .bar-track").bounding_box()
    assert full and track and full["width"] == pytest.approx(track["width"] - 2, abs=1)
    locked = page.locator("section.page", has_text="Locked in?")
    expect(locked.locator(".bar-count")).to_have_text(["1 · 100%", "0 · 0%"])
    expect(locked.locator(".turnout")).to_have_text("1 voted · turnout 33.3% of participants")
    expect(page.locator(".notes")).to_have_count(0)  # notes only when asked for


def test_the_keepsake_as_pdf_has_a_page_per_slide(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "talk.pdf"
    done = export(data, "--format", "pdf", "-o", str(out))
    assert done.returncode == 0, done.stderr
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 4


WORDS_DECK = """---
title: Words
---

---
poll: {id: cloud, type: words, entries: 3, max_length: 25}
---

# One word for this talk?
"""


async def send_words(server: ServerProcess) -> None:
    """Three phones send words: "tea" three times, "<b>coffee</b>" twice, "cake" once."""
    try:
        boss = await Peer.open(server.ws, "presenter", key=server.key)
        await boss.send({"type": "open"})
        await boss.until(lambda m: m["type"] == "state" and m["state"]["poll"]["status"] == "open")
        sent = (["tea", "<b>coffee</b>"], ["tea"], ["tea", "<b>coffee</b>", "cake"])
        for number, words in enumerate(sent):
            phone = await Peer.open(server.ws, "audience", room=server.room)
            await phone.of_type("welcome")
            vote_id = f"words-{number}"
            await phone.send(
                {"type": "answer", "poll": "cloud", "answer": words, "vote_id": vote_id}
            )
            await phone.of_type("vote_ack")
    finally:
        await Peer.close_all()


def test_the_keepsake_draws_a_word_cloud_with_words_sized_by_count(
    tmp_path: Path, browser: Browser
) -> None:
    deck = tmp_path / "words.md"
    deck.write_text(WORDS_DECK, encoding="utf-8")
    server = start_server(deck, data=tmp_path / "data")
    try:
        worker = threading.Thread(target=asyncio.run, args=(send_words(server),))
        worker.start()
        worker.join()
    finally:
        server.stop()
    out = tmp_path / "talk.html"
    done = export(tmp_path / "data", "--format", "html", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "<script" not in out.read_text(encoding="utf-8")
    page = browser.new_page()
    page.goto(out.as_uri())
    slide = page.locator("section.page", has_text="One word for this talk?")
    words = slide.locator(".cloud-word")
    expect(words.locator(".cloud-text")).to_have_text(["tea", "<b>coffee</b>", "cake"])
    expect(words.locator(".cloud-count")).to_have_text(["3", "2", "1"])
    expect(slide.locator(".bar-row")).to_have_count(0)  # a cloud, not bars
    expect(slide.locator(".cloud b")).to_have_count(0)  # what people typed is text
    expect(slide.locator(".turnout")).to_have_text("3 answered · turnout 100% of participants")
    sizes = words.evaluate_all("nodes => nodes.map(n => parseFloat(getComputedStyle(n).fontSize))")
    assert sizes[0] > sizes[1] > sizes[2] > 0
    assert sizes[0] >= 1.8 * sizes[2]  # three times as many: nearly twice the size
    page.close()
