"""The deck watcher: a save is served, including one made while the server was starting."""

from __future__ import annotations

import asyncio
from pathlib import Path

from server.app import create_app
from server.room import Room
from server.settings import Settings


async def test_a_save_made_while_the_server_starts_is_served(tmp_path: Path) -> None:
    # The server reads the deck, then starts watching it: a presenter who saves in between
    # (say, a typo fixed as the terminal prints the URLs) must not be left with the old deck.
    deck = tmp_path / "deck.md"
    deck.write_text("# One\n\n---\n\n# Two\n", encoding="utf-8")
    app = create_app(Settings(deck=deck, data_dir=tmp_path / "data"))
    room: Room = app.state.room
    assert len(room.session.deck.slides) == 2
    deck.write_text("# One\n\n---\n\n# Two\n\n---\n\n# Three\n", encoding="utf-8")
    async with app.router.lifespan_context(app), asyncio.timeout(30):
        # The watcher looks once it is watching; no other event says when that is.
        while len(room.session.deck.slides) != 3:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert [s.title for s in room.session.deck.slides] == ["One", "Two", "Three"]
