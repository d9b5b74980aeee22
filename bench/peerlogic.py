"""The protocol's brain for the comparison peers: the same session rules and the same JSON as
handsup (server.session and server.views), without durability, hub or rate limits.

Each peer (floor_server.py, naive_peer.py, and the Node socket.io peer in its own language)
differs from handsup only in how it moves bytes: the fan-out and the websocket stack.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from server.commands import ClosePoll, GoTo, Join, OpenPoll, Refused, ResetPoll, Reveal, Vote
from server.deckfile import read_deck
from server.kinds.choice import ChoiceLive
from server.protocol import JoinView, Role
from server.session import PollState, Session
from server.views import Views, tally_visible

ROLES = ("audience", "display", "presenter")
DECK = Path(__file__).resolve().parent.parent / "deck.md"
POLL_COMMANDS = {"open": OpenPoll, "close": ClosePoll, "reveal": Reveal, "reset": ResetPoll}


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Outcome:
    """What one client message leads to: replies to the sender, and what to broadcast."""

    replies: list[str] = field(default_factory=list)
    restate: bool = False  # every role's state changed: broadcast it
    tally: str | None = None  # this poll's counts changed


class Talk:
    """One room: the deck, the session, the per-role state text (encoded once per change)."""

    def __init__(self, deck: Path = DECK, room: str = "PEERS", key: str = "peer-key") -> None:
        parsed, _ = read_deck(deck)
        self.session = Session(parsed)
        self.room = room
        self.key = key
        self.views = Views(self.session, JoinView(url="http://127.0.0.1/", room=room, warning=None))
        self._states: dict[str, str] = {}

    def state_text(self, role: str) -> str:
        text = self._states.get(role)
        if text is None:
            state = self.views.state(role).model_dump(mode="json")  # type: ignore[arg-type]
            text = dumps({"type": "state", "state": state})
            self._states[role] = text
        return text

    def tally_text(self, poll: str) -> str:
        state = self.session.polls[poll]
        counts = list(_choice(state).counts)
        return dumps({"type": "tally", "poll": poll, "counts": counts, "voters": state.voters})

    def tally_roles(self, poll: str) -> list[str]:
        state = self.session.polls[poll]
        return [r for r in ROLES if r != "audience" and tally_visible(cast(Role, r), state)]

    def hello(self, role: str, message: dict[str, Any]) -> tuple[list[str], str | None, bool]:
        """(frames to send, participant, admitted) for a hello on a `role` connection."""
        if role == "presenter":
            if message.get("key") != self.key:
                return [_error("bad_key", "the presenter key is missing or wrong")], None, False
            welcome: dict[str, Any] = {"type": "welcome", "role": role, "room": self.room}
            return [dumps(welcome), self.state_text(role)], None, True
        if role == "display":
            welcome = {"type": "welcome", "role": role, "room": self.room}
            return [dumps(welcome), self.state_text(role)], None, True
        if str(message.get("room", "")).upper() != self.room:
            return [_error("bad_room", "there is no room with that code here")], None, False
        participant = message.get("participant")
        if participant not in self.session.participants:
            participant = secrets.token_urlsafe(18)
            self.session.apply(Join(participant))
        votes = {
            pid: _choice(state).votes[participant]
            for pid, state in self.session.polls.items()
            if participant in _choice(state).votes
        }
        welcome = {
            "type": "welcome", "role": role, "room": self.room,
            "participant": participant, "votes": votes,
        }  # fmt: skip
        return [dumps(welcome), self.state_text(role)], participant, True

    def handle(self, role: str, participant: str | None, message: dict[str, Any]) -> Outcome:
        kind = message.get("type")
        out = Outcome()
        try:
            if kind == "ping":
                out.replies.append('{"type":"pong"}')
            elif kind == "vote":
                if role != "audience" or participant is None:
                    raise Refused("forbidden", "only audience connections vote")
                poll, option = str(message["poll"]), int(message["option"])
                vote_id = str(message["vote_id"])
                self.session.apply(Vote(participant, poll, option, vote_id, time.time()))
                recorded = _choice(self.session.polls[poll]).votes.get(participant, option)
                ack = {"type": "vote_ack", "vote_id": vote_id, "poll": poll, "option": recorded}
                out.replies.append(dumps(ack))
                out.tally = poll
            elif role != "presenter":
                raise Refused("forbidden", "only the presenter can control the session")
            elif kind == "goto":
                if self.session.apply(GoTo(int(message["index"]))):
                    self._changed(out)
            elif kind in POLL_COMMANDS:
                current = self.session.current_poll
                named = message.get("poll") or (current.poll.id if current else None)
                if named is None:
                    raise Refused("no_poll", "there is no poll on this slide")
                self.session.apply(POLL_COMMANDS[kind](str(named)))
                self._changed(out)
                out.tally = str(named)
            else:
                raise Refused("unknown_command", f"cannot handle {kind!r}")
        except Refused as refused:
            ref = message.get("vote_id") if kind == "vote" else kind
            out.replies.append(_error(refused.code, refused.reason, ref))
        except (KeyError, ValueError, TypeError) as error:
            out.replies.append(_error("bad_message", str(error)))
        return out

    def _changed(self, out: Outcome) -> None:
        self._states.clear()
        out.restate = True


def _choice(state: PollState) -> ChoiceLive:
    """A poll's votes and counts: the peers speak the choice vote only (the deck's polls)."""
    answers = state.answers
    assert isinstance(answers, ChoiceLive), f"the peers serve choice polls, not {answers.type}"
    return answers


def _error(code: str, message: str, ref: Any = None) -> str:
    return dumps({"type": "error", "code": code, "message": message, "ref": ref})
