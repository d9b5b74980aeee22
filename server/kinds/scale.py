"""Rating scale: one whole number per participant, shown as a distribution, mean and median."""

from __future__ import annotations

from typing import Any

from server.commands import Answer, Refused
from server.kinds.base import LivePoll, Row, Timing
from server.protocol import Role, TallyMessage
from slides import ScalePoll


class ScaleLive(LivePoll[ScalePoll]):
    """Ratings per participant and counts per point of the scale."""

    type = "scale"

    def __init__(self, poll: ScalePoll) -> None:
        super().__init__(poll)
        self.ratings: dict[str, int] = {}
        self.counts = [0] * (poll.max - poll.min + 1)

    def read(self, raw: Answer) -> Answer:
        """A point of the scale."""
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise Refused("bad_answer", "a rating is a whole number")
        if not self.poll.min <= raw <= self.poll.max:
            raise Refused(
                "unknown_option", f"a rating here is from {self.poll.min} to {self.poll.max}"
            )
        return raw

    def submit(self, participant: str, answer: Answer, timing: Timing) -> bool:
        """Take (or move) the participant's rating."""
        assert isinstance(answer, int)
        previous = self.ratings.get(participant)
        if previous == answer:
            return False
        if previous is not None and not self.poll.change_vote:
            raise Refused("vote_locked", "this poll does not allow changing your vote")
        if previous is not None:
            self.counts[previous - self.poll.min] -= 1
        self.counts[answer - self.poll.min] += 1
        self.ratings[participant] = answer
        return True

    def mine(self, participant: str) -> Answer | None:
        """The participant's rating."""
        return self.ratings.get(participant)

    @property
    def voters(self) -> int:
        """How many rated."""
        return len(self.ratings)

    def tally(self, role: Role) -> TallyMessage:
        """Counts per point, with the mean and median."""
        figures = self.summary()
        return TallyMessage(
            poll=self.poll.id,
            voters=self.voters,
            counts=list(self.counts),
            mean=figures["mean"],
            median=figures["median"],
        )

    def summary(self) -> dict[str, float | None]:
        """Mean (to two places) and median of the ratings, None while there are none. From the
        counts per point: a tally (ten a second) need not sort every rating in the room."""
        voters = sum(self.counts)
        if not voters:
            return {"mean": None, "median": None}
        low = self.poll.min
        total = sum((low + i) * n for i, n in enumerate(self.counts))
        # The middle rating, or the mean of the two middle ones (as statistics.median does).
        middle = (self._nth((voters - 1) // 2) + self._nth(voters // 2)) / 2
        return {"mean": round(total / voters, 2), "median": float(middle)}

    def _nth(self, rank: int) -> int:
        """The rating at this 0-based place, counting from the lowest."""
        seen = 0
        for i, n in enumerate(self.counts):
            seen += n
            if rank < seen:
                return self.poll.min + i
        raise IndexError(rank)

    def rows(self) -> list[Row]:
        """One row per point of the scale."""
        low = self.poll.min
        return [Row(str(low + i), str(low + i), n) for i, n in enumerate(self.counts)]

    def carry(self, old: LivePoll[Any]) -> None:
        """Keep ratings still inside the (possibly edited) range."""
        if not isinstance(old, ScaleLive):
            return
        for who, rating in old.ratings.items():
            if self.poll.min <= rating <= self.poll.max:
                self.ratings[who] = rating
                self.counts[rating - self.poll.min] += 1
