"""Write what the Node socket.io peer serves: every role's view of every slide (all polls idle)
and the polls, as JSON, from the same deck and the same view code as handsup.

Run: .venv/bin/python bench/node_deck.py > bench/node/deck.json (compare.py does it).
"""

from __future__ import annotations

import json
import sys

from peerlogic import ROLES, Talk

from server.commands import GoTo


def export() -> dict[str, object]:
    talk = Talk()
    session = talk.session
    views: dict[str, list[object]] = {role: [] for role in ROLES}
    for index in range(len(session.deck.slides)):
        if index != session.position:
            session.apply(GoTo(index))
        for role in ROLES:
            # As handsup encodes a state (`StateMessage(...).model_dump_json()`).
            views[role].append(talk.views.state(role).model_dump(mode="json"))  # type: ignore[arg-type]
    # The Node peer counts choice votes only: a poll's options are its counters.
    polls = {
        pid: {"slide": state.slide, "options": len(getattr(state.poll, "options", ()))}
        for pid, state in session.polls.items()
    }
    return {"views": views, "polls": polls}


if __name__ == "__main__":
    json.dump(export(), sys.stdout, separators=(",", ":"), ensure_ascii=False)
