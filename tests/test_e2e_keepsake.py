"""The talk as a keepsake: `handsup export --format html` writes one file that opens from disk
with no server, every slide and each poll's final results in it; `--format pdf` prints it."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.serverproc import ROOT, start_server
from tests.test_e2e_results import cast_in_thread
from tests.test_results import QUIZ

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
