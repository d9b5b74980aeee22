"""Slidev `src:` includes: the included file's slides take the including slide's place, its
problems name it, nothing outside the deck's folder is ever read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.deckfile import MAX_INCLUDE_BYTES, FolderReader, read_deck, read_deck_files
from slides import Deck, DeckError, parse_deck
from slides.includes import IncludeError, resolve, select

ROOT = Path(__file__).resolve().parent.parent


def reader_of(files: dict[str, str]) -> tuple[list[str], object]:
    """A reader over an in-memory folder, and the list of paths it was asked for."""
    asked: list[str] = []

    def read(path: str) -> bytes:
        asked.append(path)
        if path not in files:
            raise IncludeError(f"`{path}` not found in the deck's folder")
        return files[path].encode()

    return asked, read


def parsed(deck: str, files: dict[str, str]) -> Deck:
    _, read = reader_of(files)
    return parse_deck(deck, "talk/slides.md", reader=read)  # type: ignore[arg-type]


def problems(deck: str, files: dict[str, str]) -> list[str]:
    with pytest.raises(DeckError) as caught:
        parsed(deck, files)
    return [str(problem) for problem in caught.value.problems]


DECK = """---
title: Included
highlighter: shiki
---

# Opening

---
src: ./pages/part.md
layout: center
---

This text is ignored, as in Slidev.

---

# Closing
"""
PART = """---
id: first-part
---

# Part one

Hello

---

# Part two

Still here
"""


def test_included_slides_take_the_src_slides_place_with_its_keys_winning() -> None:
    deck = parsed(DECK, {"pages/part.md": PART})
    assert [s.title for s in deck.slides] == ["Opening", "Part one", "Part two", "Closing"]
    # The included file's front matter is its first slide's options (the id); the including
    # slide's `layout: center` applies to each included slide, as Slidev merges frontmatter.
    assert deck.slides[1].id == "first-part"
    assert [s.kind.value for s in deck.slides[1:3]] == ["statement", "statement"]
    assert "ignored" not in " ".join(s.html for s in deck.slides)
    assert not [w for w in deck.warnings if "src" in w]


def test_a_problem_inside_an_included_file_names_that_file_and_line() -> None:
    broken = PART.replace("Still here", "Still here\n\n<!-- the answer is B")
    assert problems(DECK, {"pages/part.md": broken}) == [
        "talk/pages/part.md:15: `<!--` is never closed by `-->`: close the comment, or the "
        "notes after it would show on every screen"
    ]
    bad_option = "---\nlayout: diagonal\n---\n\n# X\n"
    assert problems(DECK, {"pages/part.md": bad_option}) == [
        "talk/pages/part.md:2: unknown layout 'diagonal' (known: title, statement, bullets, "
        "numbered, quote, grid, steps, link, image, poll, leaderboard, questions, content)"
    ]


def test_includes_nest_relative_to_the_including_file() -> None:
    files = {
        "pages/part.md": "# Outer\n\n---\nsrc: inner/deep.md\n---\n",
        "pages/inner/deep.md": "# Deep\n\n<!-- unclosed\n",
    }
    assert problems(DECK, files) == [
        "talk/pages/inner/deep.md:3: `<!--` is never closed by `-->`: close the comment, or the "
        "notes after it would show on every screen"
    ]


def test_a_cycle_is_an_error_naming_it() -> None:
    files = {
        "pages/part.md": "# A\n\n---\nsrc: ./again.md\n---\n",
        "pages/again.md": "# B\n\n---\nsrc: /slides.md\n---\n",
    }
    assert problems(DECK, files) == [
        "talk/pages/again.md:4: `src: /slides.md` includes itself again: "
        "slides.md -> pages/part.md -> pages/again.md -> slides.md"
    ]


def test_includes_nest_a_few_levels_only() -> None:
    files = {f"p{n}.md": f"# P{n}\n\n---\nsrc: p{n + 1}.md\n---\n" for n in range(10)}
    deck = "# Top\n\n---\nsrc: p0.md\n---\n"
    (problem,) = problems(deck, files)
    # slides.md -> p0 -> p1 -> p2 -> p3: four files deep; p3 may include no further.
    assert problem == "talk/p3.md:4: `src: p4.md` nests includes deeper than 4 files"


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("../secrets.md", "`src: ../secrets.md` is outside the deck's folder"),
        ("pages/../../x.md", "`src: pages/../../x.md` is outside the deck's folder"),
        ("https://evil.example/x.md", "`src: https://evil.example/x.md` is a URL"),
        ("//evil.example/x.md", "`src: //evil.example/x.md` is a URL"),
        ("file:///etc/passwd", "`src: file:///etc/passwd` is a URL"),
        ("./missing.md", "`missing.md` not found in the deck's folder"),
    ],
)
def test_paths_out_of_the_folder_urls_and_missing_files_are_errors_at_the_src_line(
    src: str, message: str
) -> None:
    asked, read = reader_of({})
    deck = f"# A\n\n---\nsrc: {src}\n---\n"
    with pytest.raises(DeckError) as caught:
        parse_deck(deck, "slides.md", reader=read)  # type: ignore[arg-type]
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == ("slides.md", 4)
    assert problem.message.startswith(message)
    # Escapes and URLs are refused before the reader is asked for anything.
    assert asked == ([] if "missing" not in src else ["missing.md"])


def test_a_leading_slash_starts_at_the_deck_folder_as_slidevs_project_root() -> None:
    assert resolve("pages", "/shared/end.md") == ("shared/end.md", "")
    assert resolve("pages", "./x.md#2,5-7") == ("pages/x.md", "2,5-7")


def test_a_slide_selection_picks_slides_as_slidev_does() -> None:
    assert select(8, "2,5-7") == [1, 4, 5, 6]
    assert select(3, "") == [0, 1, 2]
    assert select(3, "2-") == [1, 2]
    assert select(3, "3,9") == [2]
    with pytest.raises(IncludeError):
        select(3, "two")
    deck = parsed("# A\n\n---\nsrc: pages/part.md#2\n---\n", {"pages/part.md": PART})
    assert [s.title for s in deck.slides] == ["A", "Part two"]


def test_the_headmatter_src_replaces_the_first_slide() -> None:
    deck = parsed("---\ntheme: seriph\nsrc: pages/part.md\n---\n", {"pages/part.md": PART})
    assert [s.title for s in deck.slides] == ["Part one", "Part two"]


def test_without_a_reader_the_src_slide_is_skipped_with_a_warning() -> None:
    deck = parse_deck(DECK, "slides.md")
    assert [s.title for s in deck.slides] == ["Opening", "Closing"]
    assert any("`src: ./pages/part.md` is not read" in w for w in deck.warnings)


def test_the_stored_text_parses_to_the_same_slides_with_no_files_around(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    poll = "---\nid: vote\npoll:\n  id: vote\n---\n\n# Which?\n\n- [ ] A\n- [ ] B\n"
    (tmp_path / "slides.md").write_text(DECK + "\n---\nsrc: pages/poll.md\n---\n")
    (tmp_path / "pages" / "part.md").write_text(PART)
    (tmp_path / "pages" / "poll.md").write_text(poll)
    deck, text = read_deck(tmp_path / "slides.md")
    again = parse_deck(text, "stored.md")  # results and keepsakes parse the stored text
    assert [(s.id, s.kind, s.title, s.html, s.poll) for s in again.slides] == [
        (s.id, s.kind, s.title, s.html, s.poll) for s in deck.slides
    ]
    assert deck.poll("vote") is not None


def test_the_folder_reader_refuses_links_out_big_files_and_non_files(tmp_path: Path) -> None:
    folder = tmp_path / "talk"
    folder.mkdir()
    (tmp_path / "secret.md").write_text("# Secret\n")
    (folder / "out.md").symlink_to(tmp_path / "secret.md")
    (folder / "big.md").write_bytes(b"x" * (MAX_INCLUDE_BYTES + 1))
    (folder / "dir.md").mkdir()
    os.mkfifo(folder / "pipe.md")
    (folder / "ok.md").write_text("# Fine\n")
    read = FolderReader(folder.resolve())
    assert read("ok.md") == b"# Fine\n"
    for name, why in [
        ("out.md", "leads outside the deck's folder"),
        ("big.md", "is bigger than 1024 KiB"),
        ("dir.md", "is not a file"),
        ("pipe.md", "is not a file"),  # opening a FIFO would wait for a writer forever
        ("../secret.md", "is outside the deck's folder"),
        ("/etc/passwd", "is outside the deck's folder"),
    ]:
        with pytest.raises(IncludeError, match=why):
            read(name)
    (folder / "deck.md").write_text("# A\n\n---\nsrc: out.md\n---\n")
    with pytest.raises(DeckError) as caught:
        read_deck_files(folder / "deck.md")
    assert "leads outside the deck's folder" in str(caught.value)
    assert "Secret" not in str(caught.value)


def test_a_loop_of_links_and_a_folder_reached_through_a_link(tmp_path: Path) -> None:
    folder = tmp_path / "talk"
    folder.mkdir()
    (folder / "a.md").symlink_to(folder / "b.md")
    (folder / "b.md").symlink_to(folder / "a.md")
    (folder / "page.md").write_text("# Included\n")
    (folder / "deck.md").write_text("# A\n\n---\nsrc: a.md\n---\n")
    # A loop is the deck's error at its line, not a crash of `serve` or of the watcher.
    with pytest.raises(DeckError) as caught:
        read_deck_files(folder / "deck.md")
    assert "cannot be followed" in str(caught.value)
    # The deck's folder named through a link still reads its own files.
    (tmp_path / "link").symlink_to(folder)
    assert FolderReader(tmp_path / "link")("page.md") == b"# Included\n"


def test_handsup_check_names_an_error_inside_an_included_file(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "slides.md").write_text(DECK)
    (tmp_path / "pages" / "part.md").write_text(PART + "\n```python\nprint(1)\n")
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "check", "slides.md"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 1
    assert "pages/part.md:15: code fence is not closed" in done.stdout + done.stderr
    (tmp_path / "pages" / "part.md").write_text(PART)
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "check", "slides.md"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Part one" in done.stdout and "Part two" in done.stdout


def test_a_file_included_twice_gives_its_slides_twice_and_each_warning_once() -> None:
    # Slidev's own docs reuse a table of contents this way.
    toc = "# Contents\n\n- [ ] Part 1\n- [ ] Part 2\n\n<!-- _class: lead -->\n"
    deck = parsed(
        "# A\n\n---\nsrc: ./toc.md\n---\n\n---\n\n# B\n\n---\nsrc: ./toc.md\n---\n",
        {"toc.md": "---\nclass: text-center\n---\n\n" + toc},
    )
    assert [s.title for s in deck.slides] == ["A", "Contents", "B", "Contents"]
    assert len({s.id for s in deck.slides}) == 4
    included = [w for w in deck.warnings if w.startswith("talk/toc.md")]
    assert len(included) == len(set(included)) > 0
    # Its checklist is a list, in a deck that includes files as only Slidev does.
    assert any("slide on line 1);" in w for w in included)
