"""Ideas board: people propose ideas, then spend a few votes (dots) on them, one per idea.

A phone's answer is either a text (a new idea) or the list of idea ids it puts its dots on:
the whole list each time, so a resent, replayed or two-tab answer can never count a dot
twice, and a dot is taken back by leaving its idea out. The presenter (or a moderator)
approves, hides and merges ideas, and closes proposing while voting goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from server.commands import Answer, Refused
from server.kinds.base import LivePoll, Row, Timing, item
from server.protocol import Role, TallyItem, TallyMessage
from server.text import checked, key, mask
from slides import IdeasPoll

# The projector ranks this many: what reads from the back of a room.
DISPLAY_TOP = 20
# Phones get the best ideas and the newest ones (so a new idea is seen and can rise), not
# the whole board: 500 ideas to 5,000 phones on every vote would be megabytes a second. They
# get them in the order proposed and without counts: people vote on the ideas, not on what
# the room already likes, and a vote sends phones nothing unless the best 30 change.
AUDIENCE_TOP = 30
AUDIENCE_NEW = 10
# The presenter's and moderators' lists: enough to moderate a busy board.
QUEUE = 100
# Phones are told of this many merges (the newest): their votes and ideas follow them.
MERGES = 100
State = Literal["shown", "hidden", "pending"]
ACTIONS = ("approve", "show", "hide", "merge", "close_proposing", "open_proposing")


@dataclass
class Idea:
    """One idea: its id is its place on the board, so a replayed log gives the same ids."""

    id: str
    seq: int
    participant: str
    text: str
    state: State
    voters: set[str] = field(default_factory=set)
    merged_into: str | None = None

    @property
    def votes(self) -> int:
        """How many people put a dot on it."""
        return len(self.voters)


def rank(idea: Idea) -> tuple[int, int]:
    """Most votes first, then the earliest proposed."""
    return (-idea.votes, idea.seq)


class IdeasLive(LivePoll[IdeasPoll]):
    """Every idea in the order proposed, each participant's dots, and whether new ideas are
    still taken."""

    type = "ideas"
    listed = True
    # Phones vote from the list: seeing a new idea a second later costs nothing, while ten
    # frames a second of up to 40 ideas would cost every phone's data plan.
    phone_interval = 1.0

    def __init__(self, poll: IdeasPoll) -> None:
        super().__init__(poll)
        self.ideas: list[Idea] = []
        self.by_id: dict[str, Idea] = {}
        self.by_person: dict[str, list[Idea]] = {}
        self.dots: dict[str, list[str]] = {}
        self.taking_part: set[str] = set()
        self.proposing = True
        # `ranked()` as of the last change: a flush builds a tally per role from one sort
        # (every method that changes an idea or a vote drops it).
        self._ranked: list[Idea] | None = None

    # Answers.

    def read(self, raw: Answer) -> Answer:
        """A new idea (a text of at most `max_length` characters), or the ideas to vote for:
        shown ones, each once (a merged idea counts as the one it joined), at most
        `votes_per_person` of them."""
        if isinstance(raw, str):
            return checked(raw, self.poll.max_length, "idea")
        if not isinstance(raw, list):
            raise Refused("bad_answer", "an idea is a text; votes are a list of idea ids")
        chosen: list[str] = []
        for wanted in raw:
            idea = self._resolve(wanted)
            # A pending or hidden idea reads as no idea at all: asking must not reveal it.
            if idea is None or idea.state != "shown":
                raise Refused("unknown_idea", "there is no such idea on the board")
            if idea.id not in chosen:
                chosen.append(idea.id)
        limit = self.poll.votes_per_person
        if len(chosen) > limit:
            raise Refused("too_many_votes", f"you have {limit} vote{'s' if limit > 1 else ''}")
        return chosen

    def submit(self, participant: str, answer: Answer, timing: Timing) -> bool:
        """Add an idea, or set which ideas this participant votes for."""
        self._ranked = None
        if isinstance(answer, str):
            return self._propose(participant, answer)
        assert isinstance(answer, list)
        before = self.dots.get(participant, [])
        if answer == before:
            return False
        for gone in set(before) - set(answer):
            self.by_id[gone].voters.discard(participant)
        for idea_id in answer:
            self.by_id[idea_id].voters.add(participant)
        self.dots[participant] = list(answer)
        self.taking_part.add(participant)
        return True

    def _propose(self, participant: str, text: str) -> bool:
        if not self.proposing:
            raise Refused("proposing_closed", "new ideas are closed; you can still vote")
        given = self.by_person.get(participant, [])
        if any(key(idea.text) == key(text) for idea in given):
            return False  # the same idea again from the same phone: already on the board
        if len(given) >= self.poll.ideas:
            limit = self.poll.ideas
            raise Refused("idea_limit", f"you can propose {limit} idea{'s' if limit > 1 else ''}")
        state: State = "pending" if self.poll.moderation == "before" else "shown"
        seq = len(self.ideas) + 1
        idea = Idea(f"i{seq}", seq, participant, text, state)
        self.ideas.append(idea)
        self.by_id[idea.id] = idea
        self.by_person[participant] = [*given, idea]
        self.taking_part.add(participant)
        return True

    def mine(self, participant: str) -> Answer | None:
        """The ideas this participant votes for (an empty list: they only proposed)."""
        if participant not in self.taking_part:
            return None
        return list(self.dots.get(participant, []))

    def own(self, participant: str) -> list[TallyItem]:
        """This participant's ideas as they may see them: one that was hidden still reads
        pending (they are not told), one merged away shows as the idea it joined."""
        items = []
        for idea in self.by_person.get(participant, ()):
            if not idea.text:
                continue
            final = self._resolve(idea.id) or idea
            state: State = "shown" if final.state == "shown" else "pending"
            votes = final.votes if state == "shown" else 0
            items.append(item(final.id, mask(idea.text), votes, state))
        return items

    @property
    def voters(self) -> int:
        """How many proposed or voted."""
        return len(self.taking_part)

    # Tallies.

    def ranked(self) -> list[Idea]:
        """The shown ideas, most votes first, then the earliest proposed (a new list)."""
        if self._ranked is None:
            self._ranked = sorted((i for i in self.ideas if i.state == "shown"), key=rank)
        return list(self._ranked)

    def tally(self, role: Role) -> TallyMessage:
        """Phones: the best and the newest shown ideas, in the order proposed, without
        counts; the display: the top ranked; the presenter: the ranked board, the queue of
        pending ideas and the hidden ones."""
        ranked = self.ranked()
        if role == "presenter":
            pending = [i for i in self.ideas if i.state == "pending" and i.text][:QUEUE]
            hidden = [i for i in self.ideas if i.state == "hidden" and i.text and not i.merged_into]
            chosen = [*ranked[:QUEUE], *pending, *hidden[-QUEUE:]]
        elif role == "display":
            chosen = ranked[:DISPLAY_TOP]
        else:
            top = ranked[:AUDIENCE_TOP]
            picked = {i.id for i in top}
            newest = [i for i in reversed(self.ideas) if i.state == "shown" and i.id not in picked]
            listed = sorted([*top, *newest[:AUDIENCE_NEW]], key=lambda i: i.seq)
            items = [item(i.id, mask(i.text)) for i in listed]
            return TallyMessage(
                poll=self.poll.id,
                voters=self.voters,
                items=items,
                proposing=self.proposing,
                merged=self._merges() or None,
            )
        items = [item(i.id, mask(i.text), i.votes, i.state) for i in chosen]
        return TallyMessage(
            poll=self.poll.id, voters=self.voters, items=items, proposing=self.proposing
        )

    # Moderation.

    def moderate(self, action: str, item: str, into: str | None = None) -> bool:
        """Approve, show or hide an idea, merge one into another, or close (open) proposing.

        Hiding an idea hands its dots back to those who gave them. Merging joins an idea's
        voters to the other's: someone who voted for both counts once and gets a dot back."""
        self._ranked = None
        if action == "close_proposing" or action == "open_proposing":
            wanted = action == "open_proposing"
            if self.proposing == wanted:
                return False
            self.proposing = wanted
            return True
        if action not in ACTIONS:
            raise Refused("unknown_action", "an idea can be approved, shown, hidden or merged")
        idea = self._live(item)
        if action == "merge":
            target = self._live(into or "")
            if target is idea:
                raise Refused("bad_merge", "an idea cannot be merged into itself")
            if idea.voters and target.state != "shown":
                # Its votes would go to an idea nobody can see or vote for.
                raise Refused("bad_merge", "merge an idea with votes into one on the board")
            self._merge(idea, target)
            return True
        state: State = "hidden" if action == "hide" else "shown"
        if idea.state == state:
            return False
        idea.state = state
        if state == "hidden":
            self._drop_votes(idea)
        return True

    def _live(self, idea_id: str) -> Idea:
        idea = self.by_id.get(idea_id)
        if idea is None or not idea.text or idea.merged_into is not None:
            raise Refused("unknown_item", "there is no such idea in this poll")
        return idea

    def _merge(self, idea: Idea, target: Idea) -> None:
        for person in idea.voters:
            held = self.dots[person]
            at = held.index(idea.id)
            if target.id in held:
                del held[at]  # voted for both: counted once, the other dot handed back
            else:
                held[at] = target.id
        target.voters |= idea.voters
        idea.voters = set()
        idea.merged_into = target.id
        idea.state = "hidden"

    def _merges(self) -> dict[str, str]:
        """The newest merges: an id merged away -> the idea it means now."""
        merged = [i for i in self.ideas if i.merged_into is not None][-MERGES:]
        return {i.id: final.id for i in merged if (final := self._resolve(i.id)) is not None}

    def _drop_votes(self, idea: Idea) -> None:
        for person in idea.voters:
            self.dots[person].remove(idea.id)
        idea.voters = set()

    def _resolve(self, idea_id: str) -> Idea | None:
        """The idea an id now means: a merged one's id means the idea it joined."""
        idea = self.by_id.get(idea_id)
        while idea is not None and idea.merged_into is not None:
            idea = self.by_id.get(idea.merged_into)
        return idea

    # Exports and deletion.

    def rows(self) -> list[Row]:
        """Every idea, ranked: the shown ones by votes, then those never approved, hidden or
        merged (their votes went to the idea they joined). Proposers are not named."""
        rest = [i for i in self.ideas if i.state != "shown" and i.text]
        return [
            *(Row(i.id, i.text, i.votes, state="shown") for i in self.ranked()),
            *(Row(i.id, i.text, i.votes, hidden=True, state=_state(i)) for i in rest),
        ]

    def describe(self, answer: Answer) -> str:
        """A participant's votes as the ideas' texts (or a proposal as itself)."""
        if isinstance(answer, str):
            return answer
        ideas = [self.by_id.get(str(idea_id)) for idea_id in _as_list(answer)]
        return " · ".join(i.text for i in ideas if i is not None and i.text)

    def summary(self) -> dict[str, float | None]:
        """Nothing beyond the rows: their counts are the votes."""
        return {}

    def forget(self, participant: str) -> bool:
        """Blank this participant's ideas (kept as empty hidden places so later ideas keep
        their ids); the votes on them go back to those who gave them. Their own votes go
        too: they are logged as lists, as words are, and the log's redaction blanks every
        list a person sent, so a replay could not give them back."""
        self._ranked = None
        mine = self.by_person.pop(participant, [])
        for idea in mine:
            self._drop_votes(idea)
            idea.text, idea.participant, idea.state = "", "", "hidden"
        dots = self.dots.pop(participant, [])
        for idea_id in dots:
            self.by_id[idea_id].voters.discard(participant)
        return bool(mine or dots)

    def carry(self, old: LivePoll[Any]) -> None:
        """Keep every idea and vote."""
        self._ranked = None
        if isinstance(old, IdeasLive):
            self.ideas, self.by_id, self.by_person = old.ideas, old.by_id, old.by_person
            self.dots, self.taking_part, self.proposing = old.dots, old.taking_part, old.proposing


def _state(idea: Idea) -> str:
    if idea.merged_into is not None:
        return f"merged into {idea.merged_into}"
    return idea.state


def _as_list(answer: Answer) -> list[Any]:
    return answer if isinstance(answer, list) else [answer]
