"""The keepsake carries the deck's own images inside it, and nothing from outside the deck's
folder (as the server's /assets/ route)."""

from __future__ import annotations

import base64
from pathlib import Path

from server.export_html import keepsake
from server.sqlite_store import SQLiteStore

# The smallest PNG there is: one transparent pixel.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg=="
)


def test_the_decks_images_are_inlined_and_nothing_outside_its_folder(tmp_path: Path) -> None:
    talk = tmp_path / "talk"
    talk.mkdir()
    (talk / "chart.png").write_bytes(PIXEL)
    (tmp_path / "secret.png").write_bytes(PIXEL)
    deck = talk / "deck.md"
    text = "# Growth\n\n![the chart](chart.png)\n\n---\n\n# Outside\n\n![no](../secret.png)\n"
    deck.write_text(text, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    store = SQLiteStore(data / "handsup.db")
    store.start(str(deck.resolve()), text, None, "ROOM1", "key")
    store.close_reader()

    document = keepsake(data, None)
    inlined = f'src="data:image/png;base64,{base64.b64encode(PIXEL).decode()}"'
    assert document.count(inlined) == 1  # the chart, from the deck's folder
    assert "/assets/chart.png" not in document
    assert document.count("data:image/png") == 1  # ../secret.png stays a dead link
