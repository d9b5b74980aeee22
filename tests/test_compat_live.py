"""A Japanese deck's polls keep their votes when the slides are reordered during the talk."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.serverproc import start_server
from tests.wsclient import Peer

DECKS = Path(__file__).resolve().parent / "decks" / "compat"
SEPARATOR = "\n---\npoll:\n---\n"


async def test_reordering_two_japanese_polls_mid_talk_keeps_each_polls_votes(
    tmp_path: Path,
) -> None:
    # With ids by position (`poll`, `poll-2`), swapping the slides gave each question the
    # other's votes; ids from the titles follow the questions wherever they move.
    deck = tmp_path / "talk.md"
    shutil.copy(DECKS / "japanese.md", deck)
    server = start_server(deck, data=tmp_path / "data")
    try:
        boss = await Peer.open(server.ws, "presenter", key=server.key)
        await boss.send({"type": "goto", "index": 1})
        await boss.send({"type": "open"})
        opened = await boss.until(
            lambda m: m["type"] == "state" and (m["state"]["poll"] or {}).get("status") == "open"
        )
        assert opened["state"]["slide"]["title"] == "好きな言語は?"
        poll_id = opened["state"]["poll"]["id"]
        phone = await Peer.open(server.ws, "audience", room=server.room)
        await phone.of_type("welcome")
        await phone.vote(poll_id, 0)
        await phone.of_type("vote_ack")

        # The presenter swaps the two polls in the file while the talk goes on.
        intro, first, second = deck.read_text(encoding="utf-8").split(SEPARATOR)
        deck.write_text(SEPARATOR.join([intro, second.rstrip("\n"), first + "\n"]))
        notice = await boss.of_type("notice", timeout=10)
        assert notice["level"] == "info"
        state = boss.last("state")["state"]  # sent just before the notice
        # The open poll is the same question, now third, still open, with its one vote.
        assert [item["title"] for item in state["outline"]] == [
            "はじめに",
            "次の会議は?",
            "好きな言語は?",
        ]
        assert (state["position"], state["slide"]["title"]) == (2, "好きな言語は?")
        assert state["poll"] == opened["state"]["poll"]
        tally = await boss.until(lambda m: m["type"] == "tally" and m["poll"] == poll_id)
        assert tally["counts"] == [1, 0]
        # The other question never opened, wherever it now stands.
        others = [p for key, p in state["polls"].items() if key != poll_id]
        assert [p["status"] for p in others] == ["idle"]
    finally:
        server.stop()


async def test_a_served_deck_shows_its_included_slides_and_reloads_when_one_is_saved(
    tmp_path: Path,
) -> None:
    (tmp_path / "pages").mkdir()
    deck = tmp_path / "slides.md"
    deck.write_text("# Opening\n\n---\nsrc: ./pages/part.md\n---\n\n---\n\n# Closing\n")
    part = tmp_path / "pages" / "part.md"
    # In a deck that includes files (a Slidev deck), a poll is a slide that says `poll:`.
    part.write_text("# Part one\n\n---\npoll:\n---\n\n# Which?\n\n- [ ] A\n- [ ] B\n")
    server = start_server(deck, data=tmp_path / "data")
    try:
        boss = await Peer.open(server.ws, "presenter", key=server.key)
        state = (await boss.of_type("state"))["state"]
        titles = [item["title"] for item in state["outline"]]
        assert titles == ["Opening", "Part one", "Which?", "Closing"]
        await boss.send({"type": "goto", "index": 2})
        shown = await boss.until(lambda m: m["type"] == "state" and m["state"]["position"] == 2)
        assert shown["state"]["slide"]["poll"]["options"] == ["A", "B"]

        # Saved mid-talk, the included file is read again: the deck reloads.
        part.write_text("# Part one, revised\n\n---\npoll:\n---\n\n# Which?\n\n- [ ] A\n- [ ] B\n")
        notice = await boss.of_type("notice", timeout=10)
        assert notice["level"] == "info"
        state = boss.last("state")["state"]
        assert [item["title"] for item in state["outline"]][1] == "Part one, revised"

        # A mistake in it is refused, naming the included file and its line.
        part.write_text("# Part one\n\n<!-- the answer is B\n")
        notice = await boss.of_type("notice", timeout=10)
        assert notice["level"] == "error"
        assert "pages/part.md:3: `<!--` is never closed" in str(notice)
    finally:
        server.stop()
