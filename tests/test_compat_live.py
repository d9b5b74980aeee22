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
