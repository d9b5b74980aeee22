"""Multiple choice, and the scored quiz question: one option per participant."""

from __future__ import annotations

from typing import Any

from server.commands import Answer, Refused
from server.kinds.base import LivePoll, Row, Timing
from server.protocol import Role, TallyMessage
from slides import ChoicePoll

# Kahoot's rule, which people know: full points for an answer within half a second, falling
# linearly to half points at the deadline.
FULL_POINTS_WITHIN = 0.5
# Kahoot's answer streak bonus grows with each correct answer in a row, up to five steps (500
# points at 100 a step), so one lucky run cannot outweigh the questions themselves.
STREAK_STEPS = 5


def score(points: int, timing: Timing) -> int:
    """Points for a correct answer given after `timing.elapsed` seconds."""
    if timing.limit is None or timing.elapsed is None or timing.elapsed <= FULL_POINTS_WITHIN:
        return points
    span = max(timing.limit - FULL_POINTS_WITHIN, 1e-9)
    late = min(max(timing.elapsed - FULL_POINTS_WITHIN, 0.0), span) / span
    return round(points * (1 - late / 2))


def streak_bonus(run: int, step: int) -> int:
    """Extra points for a correct answer that is the `run`th correct answer in a row: `step`
    for each correct one before it, at most STREAK_STEPS of them."""
    return step * min(max(run - 1, 0), STREAK_STEPS)


class ChoiceLive(LivePoll[ChoicePoll]):
    """Votes per participant, counts per option, and points when the question is scored."""

    type = "choice"

    def __init__(self, poll: ChoicePoll) -> None:
        super().__init__(poll)
        self.votes: dict[str, int] = {}
        self.counts = [0] * len(poll.options)
        self.points: dict[str, int] = {}

    def read(self, raw: Answer) -> Answer:
        """An option's index."""
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise Refused("bad_answer", "a choice answer is the number of an option")
        if not 0 <= raw < len(self.counts):
            raise Refused("unknown_option", f"there is no option {raw} in this poll")
        return raw

    def submit(self, participant: str, answer: Answer, timing: Timing) -> bool:
        """Count this option for the participant (moving their vote if they had one)."""
        assert isinstance(answer, int)
        previous = self.votes.get(participant)
        if previous == answer:
            return False
        if previous is not None and not self.poll.change_vote:
            raise Refused("vote_locked", "this poll does not allow changing your vote")
        if previous is not None:
            self.counts[previous] -= 1
        self.counts[answer] += 1
        self.votes[participant] = answer
        if self.poll.points is not None:
            right = answer == self.poll.correct
            self.points[participant] = score(self.poll.points, timing) if right else 0
        return True

    def mine(self, participant: str) -> Answer | None:
        """The participant's option."""
        return self.votes.get(participant)

    @property
    def voters(self) -> int:
        """How many voted."""
        return len(self.votes)

    def tally(self, role: Role) -> TallyMessage:
        """Counts per option."""
        return TallyMessage(poll=self.poll.id, counts=list(self.counts), voters=self.voters)

    def rows(self) -> list[Row]:
        """One row per option."""
        return [
            Row(str(i), text, self.counts[i], correct=self.poll.correct == i)
            for i, text in enumerate(self.poll.options)
        ]

    def describe(self, answer: Answer) -> str:
        """The option's text."""
        options = self.poll.options
        return options[answer] if isinstance(answer, int) and 0 <= answer < len(options) else ""

    def carry(self, old: LivePoll[Any]) -> None:
        """Keep votes for options that still exist."""
        if not isinstance(old, ChoiceLive):
            return
        for who, option in old.votes.items():
            if option < len(self.counts):
                self.votes[who] = option
                self.counts[option] += 1
        self.points = {who: p for who, p in old.points.items() if who in self.votes}

    @property
    def scored(self) -> bool:
        """A question with points is scored."""
        return self.poll.points is not None

    def scores(self) -> dict[str, int]:
        """Points per participant (empty when the question is not scored)."""
        return self.points

    def right(self) -> dict[str, bool]:
        """Whether each voter chose the correct option (empty when the question is not
        scored)."""
        if self.poll.points is None:
            return {}
        correct = self.poll.correct
        return {who: option == correct for who, option in self.votes.items()}
