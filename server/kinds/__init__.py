"""Poll kinds, live: one module per kind, registered here by the `type` its deck model has."""

from __future__ import annotations

from typing import Any

from server.kinds.base import LivePoll, Row, Timing
from server.kinds.choice import ChoiceLive
from server.kinds.ideas import IdeasLive
from server.kinds.scale import ScaleLive
from server.kinds.text import TextLive
from server.kinds.words import WordsLive
from slides import Poll

# A new kind: its module here and in `slides.polls`, and a renderer in clients/shared/kinds/.
KINDS: dict[str, type[LivePoll[Any]]] = {
    kind.type: kind for kind in (ChoiceLive, WordsLive, TextLive, ScaleLive, IdeasLive)
}


def live(poll: Poll) -> LivePoll[Any]:
    """A fresh live state for a deck's poll."""
    return KINDS[poll.type](poll)


__all__ = ["KINDS", "LivePoll", "Row", "Timing", "live"]
