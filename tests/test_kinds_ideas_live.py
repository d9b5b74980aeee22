"""The ideas board on a real server: phones propose and vote over websockets, the presenter
merges and closes proposing, the display ranks; after kill -9 the log replays to exactly the
board that was acknowledged, and the export ranks the ideas without naming who proposed them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.serverproc import start_server
from tests.test_kinds_live import answer, items_become
from tests.test_ws_live import display, phone, presenter
from tests.wsclient import Peer

DECK = Path(__file__).parent / "decks" / "ideas.md"


@pytest.fixture(autouse=True)
async def _close_peers() -> AsyncIterator[None]:
    yield
    await Peer.close_all()


async def open_board(boss: Peer) -> None:
    await boss.send({"type": "goto", "index": 1})
    await boss.send({"type": "open"})
    await boss.until(
        lambda m: m["type"] == "state" and (m["state"]["poll"] or {}).get("status") == "open"
    )


async def test_the_board_survives_kill_9_exactly_and_exports_anonymous_ranks(
    tmp_path: Path,
) -> None:
    server = start_server(DECK, data=tmp_path / "data")
    try:
        boss = await presenter(server)
        screen = await display(server)
        await open_board(boss)
        ann, ann_id = await phone(server)
        bob, _ = await phone(server)
        cat, _ = await phone(server)
        assert (await answer(ann, "board", "Night buses"))["own"][0]["id"] == "i1"
        await answer(bob, "board", "More night buses")
        await answer(cat, "board", "Childcare at meetings")
        await answer(ann, "board", ["i3"])
        await answer(bob, "board", ["i1", "i2", "i3"])
        too_many = await answer(cat, "board", ["i1", "i2", "i3", "i3", "i2", "i1", "i4"])
        assert too_many["code"] == "unknown_idea"
        await answer(cat, "board", ["i2", "i3"])
        await items_become(
            screen, "board",
            [("Childcare at meetings", 3), ("More night buses", 2), ("Night buses", 1)],
        )  # fmt: skip
        await boss.send({"type": "moderate", "action": "merge", "item": "i2", "into": "i1"})
        await boss.send({"type": "moderate", "action": "close_proposing"})
        final = [("Childcare at meetings", 3), ("Night buses", 2)]
        await items_become(screen, "board", final)
        closed = await ann.until(
            lambda m: m["type"] == "tally" and m["poll"] == "board" and m["proposing"] is False
        )
        assert [i["text"] for i in closed["items"]] == ["Night buses", "Childcare at meetings"]
        refused = await answer(ann, "board", "A late idea")
        assert refused["code"] == "proposing_closed"
        ack = await answer(ann, "board", [])  # takes her vote back: acknowledged, so durable
        assert ack["answer"] == []
        # A tie: the idea proposed first goes first.
        final = [("Night buses", 2), ("Childcare at meetings", 2)]
        await items_become(screen, "board", final)
        server.stop(signal.SIGKILL)
        await Peer.close_all()

        port = server.base.rsplit(":", 1)[1]
        server = start_server(DECK, "--port", port, key=None, data=server.data)
        screen = await display(server)
        await items_become(screen, "board", final)
        again, _ = await phone(server, ann_id)
        welcome = again.last("welcome")
        assert welcome["votes"] == {"board": []}
        assert welcome["own"]["board"] == [
            {"id": "i1", "text": "Night buses", "count": 2, "state": "shown"}
        ]
    finally:
        await Peer.close_all()
        server.stop()

    def export(kind: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "export", "--data", str(tmp_path / "data"),
             "--format", kind],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout

    table, as_json, keepsake = await asyncio.gather(
        asyncio.to_thread(export, "csv"),
        asyncio.to_thread(export, "json"),
        asyncio.to_thread(export, "html"),
    )
    rows = [r for r in csv.DictReader(io.StringIO(table)) if r["poll"] == "board"]
    assert [(r["option"], r["text"], r["votes"], r["hidden"], r["state"]) for r in rows] == [
        ("0", "Night buses", "2", "no", "shown"),
        ("1", "Childcare at meetings", "2", "no", "shown"),
        ("2", "More night buses", "0", "yes", "merged into i1"),
    ], "ranked by votes, then by when proposed; the merged duplicate kept and marked"
    poll = next(p for p in json.loads(as_json)["polls"] if p["id"] == "board")
    assert [o["state"] for o in poll["options"]] == ["shown", "shown", "merged into i1"]
    assert ann_id not in as_json and ann_id not in table, "proposers are not named"
    # The keepsake shows the board as the room saw it: the merged duplicate is not on it.
    assert "Childcare at meetings" in keepsake and "More night buses" not in keepsake
