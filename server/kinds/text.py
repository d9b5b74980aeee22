"""Open text: short free answers, shown as a wall that the presenter curates."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

from server.commands import Answer, Refused
from server.kinds.base import LivePoll, Row, Timing, item
from server.protocol import Role, TallyMessage
from server.text import checked, mask
from slides import TextPoll

# The wall shows the newest answers; the presenter's list goes further back to moderate.
WALL = 60
QUEUE = 200
State = Literal["shown", "hidden", "pending"]


@dataclass
class Entry:
    """One answer: its id (its place in the poll, so a replayed log gives the same ids)."""

    id: str
    participant: str
    text: str
    state: State


class TextLive(LivePoll[TextPoll]):
    """Every answer in the order it came, with the presenter's decisions."""

    type = "text"

    def __init__(self, poll: TextPoll) -> None:
        super().__init__(poll)
        self.answers: list[Entry] = []
        self.by_id: dict[str, Entry] = {}
        # Each participant's answers: what they sent is asked for on every answer (for its
        # ack) and every join, so it must not cost a pass over the whole room's answers.
        self.by_person: dict[str, list[Entry]] = {}

    def read(self, raw: Answer) -> Answer:
        """A text of at most `max_length` characters."""
        if not isinstance(raw, str):
            raise Refused("bad_answer", "an open answer is a text")
        return checked(raw, self.poll.max_length)

    def submit(self, participant: str, answer: Answer, timing: Timing) -> bool:
        """Add the answer, pending approval when the poll says so."""
        assert isinstance(answer, str)
        given = self.by_person.get(participant, [])
        if len(given) >= self.poll.answers:
            limit = self.poll.answers
            raise Refused(
                "answer_limit", f"you can send {limit} answer{'s' if limit > 1 else ''} here"
            )
        state: State = "pending" if self.poll.moderation == "before" else "shown"
        entry = Entry(f"a{len(self.answers) + 1}", participant, answer, state)
        self.answers.append(entry)
        self.by_id[entry.id] = entry
        self.by_person[participant] = [*given, entry]
        return True

    def mine(self, participant: str) -> Answer | None:
        """The participant's answers, whatever became of them."""
        texts = [e.text for e in self.by_person.get(participant, ())]
        return texts or None

    @property
    def voters(self) -> int:
        """How many answered."""
        return len(self.by_person)

    def tally(self, role: Role) -> TallyMessage:
        """The newest shown answers, listed words masked; the presenter sees every state."""
        if role == "presenter":
            chosen = [e for e in self.answers[-QUEUE:] if e.text]
        else:
            shown = (e for e in reversed(self.answers) if e.state == "shown")
            chosen = list(islice(shown, WALL))[::-1]  # newest first: stop at a full wall
        items = [item(e.id, mask(e.text), 1, e.state) for e in chosen]
        return TallyMessage(poll=self.poll.id, voters=self.voters, items=items)

    def moderate(self, action: str, item: str, into: str | None = None) -> bool:
        """Approve a pending answer, hide one from the wall, or show it again."""
        entry = self.by_id.get(item)
        if entry is None or not entry.text:
            raise Refused("unknown_item", "there is no such answer in this poll")
        if action not in ("hide", "show", "approve"):
            raise Refused("unknown_action", "an answer can be hidden, shown or approved")
        state: State = "hidden" if action == "hide" else "shown"
        if entry.state == state:
            return False
        entry.state = state
        return True

    def rows(self) -> list[Row]:
        """Every answer, in the order they came; hidden and unapproved ones marked."""
        return [Row(e.id, e.text, 1, hidden=e.state != "shown") for e in self.answers if e.text]

    def forget(self, participant: str) -> bool:
        """Blank this participant's answers: kept as empty hidden places, so later answers
        keep their ids."""
        mine = self.by_person.pop(participant, [])
        for entry in mine:
            entry.text, entry.participant, entry.state = "", "", "hidden"
        return bool(mine)

    def carry(self, old: LivePoll[Any]) -> None:
        """Keep every answer."""
        if isinstance(old, TextLive):
            self.answers, self.by_id, self.by_person = old.answers, old.by_id, old.by_person
