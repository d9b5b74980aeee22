"""`handsup check`, run as the real console script: the seed deck, JSON output and broken decks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("handsup")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "server.cli"]

FORRESTER = "Forrester for DIUS, Aug 2008"
POLLS = [
    (
        "youtube-16-19",
        "How many 16-19 year olds regularly watch videos from YouTube?",
        ["33%", "66%", "75%"],
        FORRESTER,
    ),
    (
        "friends-online",
        "What proportion of young people have friends over while they use the internet?",
        ["20%", "40%", "55%"],
        FORRESTER,
    ),
    (
        "reviews-13-15",
        "How many 13-15s regularly post reviews of products and services online?",
        ["10%", "40%", "55%"],
        FORRESTER,
    ),
    (
        "employer-wikis",
        "What proportion of employers use wikis for business purposes?",
        ["12%", "34%", "50%"],
        "Jigsaw for DIUS, Apr 2009",
    ),
]
LINKS = [
    "https://google.com",
    "https://twitter.com/LordDrayson",
    "https://audioboo.fm/profile/lorddrayson",
    "https://talk.dius.gov.uk/blogs/studentlistening",
    "https://interactive.dius.gov.uk/innovationnation",
    "https://thestudentroom.com/maturestudents",
    "https://altogethernow.ning.com",
    "https://en.community.dell.com",
    "https://couchsurfing.com",
    "https://twitter.com/marilyneb",
    "http://sandbox.dius.gov.uk",
]
KINDS = (
    ["title"]
    + ["poll"] * 4
    + ["statement"] * 3
    + ["bullets", "quote", "bullets", "grid"]
    + ["link"] * 7
    + ["title"]
    + ["steps"] * 3
    + ["numbered", "bullets", "title"]
    + ["link"] * 4
)


def handsup(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=60
    )


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    result = handsup("check", "deck.md", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_check_lists_the_thirty_seed_slides() -> None:
    result = handsup("check", "deck.md")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "Digital engagement: 30 slides, 4 polls"
    assert len(lines) == 31
    assert [line.split()[0] for line in lines[1:]] == [str(n) for n in range(1, 31)]
    assert [line.split()[1] for line in lines[1:]] == KINDS


def test_json_has_every_seed_slide_in_order(seed: dict[str, Any]) -> None:
    assert seed["meta"]["title"] == "Digital engagement"
    assert seed["warnings"] == []
    slides = seed["slides"]
    assert [s["index"] for s in slides] == list(range(30))
    assert [s["kind"] for s in slides] == KINDS
    for slide in slides:
        assert {"index", "id", "kind", "text", "notes"} <= set(slide)
        assert slide["notes"], f"slide {slide['index'] + 1} lost its speaker notes"
    assert len({s["id"] for s in slides}) == 30
    assert slides[0]["title"] == "Digital engagement"
    assert [s["text"] for s in slides[5:8]] == [
        "Social media = conversations",
        "Digital engagement = public service use of social media to discuss ideas with "
        "customers & partners, deliver information and services, or prompt action",
        "Just another channel… but a two-way channel.\nWith new benefits and risks… which puts "
        "more control in the hands of individuals, rather than organisations",
    ]
    assert [s["title"] for s in slides if s["kind"] == "title"] == [
        "Digital engagement",
        "Making it happen",
        "What does the future hold?",
    ]


def test_json_has_the_four_polls_exactly(seed: dict[str, Any]) -> None:
    polls = [s["poll"] for s in seed["slides"] if s["poll"] is not None]
    assert [(p["id"], p["question"], p["options"], p["source"]) for p in polls] == POLLS
    for poll in polls:
        assert poll["type"] == "choice"
        assert poll["correct"] is None
        assert (poll["change_vote"], poll["results"]) == (True, "live")


def test_json_has_the_grid_of_four_ways_to_engage(seed: dict[str, Any]) -> None:
    (grid,) = [s for s in seed["slides"] if s["kind"] == "grid"]
    assert [c["heading"] for c in grid["cells"]] == [
        "Listening",
        "Sharing",
        "Conversing",
        "Collaborating",
    ]
    assert grid["cells"][0]["html"] == (
        "<p>Reading blogs, searching social networks, subscribing to feeds</p>"
    )


def test_json_has_the_steps_ladders(seed: dict[str, Any]) -> None:
    steps = [[c["heading"] for c in s["cells"]] for s in seed["slides"] if s["kind"] == "steps"]
    assert steps == [
        ["Need", "Access", "Capability"],
        ["Awareness", "Interest", "Need"],
        ["Educate", "Enable", "Engage", "Promote"],
    ]


def test_json_has_five_lessons_learned(seed: dict[str, Any]) -> None:
    (lessons,) = [s for s in seed["slides"] if s["title"] == "Lessons learned"]
    assert lessons["kind"] == "numbered"
    assert lessons["html"].count("<li>") == 5
    assert lessons["text"].splitlines()[1:] == [
        "Interactive websites need interactive organisations",
        "Focus on the content, not the platform",
        "Be honest about purpose, scope and boundaries",
        "Moderate sensitively and protect carefully",
        "Make it enjoyable: not a creepy treehouse",
    ]


def test_json_has_the_contact_line(seed: dict[str, Any]) -> None:
    (policy,) = [s for s in seed["slides"] if s["title"] == "Public Sector Innovation policy"]
    assert "Contact: Raj.Sivalingam@dius.gsi.gov.uk" in policy["text"].splitlines()
    assert "Contact: Raj.Sivalingam@dius.gsi.gov.uk" in policy["html"]


def test_json_has_the_link_slides_urls(seed: dict[str, Any]) -> None:
    assert [s["url"] for s in seed["slides"] if s["kind"] == "link"] == LINKS


def test_broken_deck_prints_file_line_message(tmp_path: Path) -> None:
    deck = tmp_path / "talk.md"
    deck.write_text("# Intro\n\n---\nlayout: grid\n---\n## One\n## Two\n## Three\n")
    result = handsup("check", "talk.md", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "talk.md:3: a grid has 2 or 4 cells (## headings), found 3\n"


def test_broken_deck_as_json_for_editors(tmp_path: Path) -> None:
    # An editor runs `check --json` and reads stdout: the errors and warnings with their lines.
    (tmp_path / "talk.md").write_text(
        "# Intro\n\n---\n\n---\n\n# Secret\n\n<!-- The answer is B.\n\n- x\n"
    )
    result = handsup("check", "talk.md", "--json", cwd=tmp_path)
    assert result.returncode == 1
    output = json.loads(result.stdout)
    assert output == {
        "errors": [
            {
                "file": "talk.md",
                "line": 9,
                "message": "`<!--` is never closed by `-->`: close the comment, or the notes "
                "after it would show on every screen",
            }
        ],
        "warnings": [{"file": "talk.md", "line": 4, "message": "empty slide skipped"}],
    }
    assert result.stderr.splitlines() == [
        "talk.md:4: warning: empty slide skipped",
        "talk.md:9: `<!--` is never closed by `-->`: close the comment, or the notes after it "
        "would show on every screen",
    ]


def test_one_slide_one_poll_reads_in_the_singular(tmp_path: Path) -> None:
    (tmp_path / "talk.md").write_text("# Q?\n\n- [ ] Yes\n- [ ] No\n")
    result = handsup("check", "talk.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "talk.md: 1 slide, 1 poll"


def test_every_problem_is_printed_without_a_traceback(tmp_path: Path) -> None:
    deck = tmp_path / "talk.md"
    deck.write_text("---\nthme: x\n---\n# Q?\n\n- [ ] Only\n")
    result = handsup("check", str(deck))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"{deck}:2: unknown deck option 'thme'",
        f"{deck}:6: a poll needs at least 2 options, found 1",
    ]


def test_non_utf8_deck_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "latin1.md").write_bytes("# Intro\n\n---\n\n# Café\n".encode("latin-1"))
    result = handsup("check", "latin1.md", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr == "latin1.md:5: the deck is not UTF-8 text\n"


def test_missing_deck(tmp_path: Path) -> None:
    result = handsup("check", "missing.md", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr == "missing.md:1: cannot read the deck: No such file or directory\n"


def test_warnings_go_to_stderr_and_do_not_fail(tmp_path: Path) -> None:
    (tmp_path / "talk.md").write_text("# One\n\n---\n\n---\n\n# Two\n")
    result = handsup("check", "talk.md", "--json", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == "talk.md:4: warning: empty slide skipped\n"
    output = json.loads(result.stdout)
    assert [s["title"] for s in output["slides"]] == ["One", "Two"]
    assert output["warnings"] == ["talk.md:4: warning: empty slide skipped"]
