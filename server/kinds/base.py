"""What a poll kind does live: read a phone's answer, keep everyone's, tally them per role.

Each kind is one module with one `LivePoll` subclass, registered in `server.kinds`. The session
keeps a poll's life (open, closed, revealed, its timer, vote ids); the kind keeps its answers.
Nothing here does I/O or reads a clock: times arrive as arguments.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from server.commands import Answer, Refused
from server.protocol import Role, TallyItem, TallyMessage
from slides.polls import PollBase

P = TypeVar("P", bound=PollBase)


@dataclass(frozen=True, slots=True)
class Timing:
    """When an answer came, for kinds that score speed: seconds since voting opened, and the
    seconds the question allows (None: untimed)."""

    elapsed: float | None
    limit: float | None


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a poll's final results: an option, a scale point, a word or an answer."""

    key: str
    text: str
    count: int
    correct: bool = False
    hidden: bool = False
    # Where moderation left a typed item (an idea: shown, pending, hidden, merged into …).
    state: str | None = None


class LivePoll(ABC, Generic[P]):
    """One poll's answers. `submit` either changes state and returns, or raises `Refused`
    having changed nothing."""

    type: ClassVar[str]
    # Phones answer by picking among the poll's items (ideas to vote for): they get its
    # tally while it runs, whether or not the results are shown.
    listed: ClassVar[bool] = False
    # Seconds at least between two of its tallies to phones (0: as often as any kind's).
    phone_interval: ClassVar[float] = 0.0

    def __init__(self, poll: P) -> None:
        self.poll = poll

    @abstractmethod
    def read(self, raw: Answer) -> Answer:
        """A phone's answer checked and normalised (what is stored); Refused if it is not one."""

    @abstractmethod
    def submit(self, participant: str, answer: Answer, timing: Timing) -> bool:
        """Take a read answer; False when it changes nothing (the same answer again)."""

    @abstractmethod
    def mine(self, participant: str) -> Answer | None:
        """What this participant has answered, as it would be sent again (None: nothing)."""

    @property
    @abstractmethod
    def voters(self) -> int:
        """How many participants have answered."""

    @abstractmethod
    def tally(self, role: Role) -> TallyMessage:
        """The live results this role may see (the session decides whether it sees any)."""

    @abstractmethod
    def rows(self) -> list[Row]:
        """The final results, one row per option, point, word or answer, for exports."""

    def describe(self, answer: Answer) -> str:
        """An answer as a person reads it in an export."""
        return answer if isinstance(answer, str) else ", ".join(map(str, _as_list(answer)))

    def own(self, participant: str) -> list[TallyItem]:
        """What this participant typed that others see only once approved (their ideas), as
        they may see it; sent with their acknowledgements and on joining."""
        return []

    def moderate(self, action: str, item: str, into: str | None = None) -> bool:
        """Hide, show or approve one item (a word, an answer), or merge it `into` another;
        False when nothing changed."""
        raise Refused("not_moderated", "this kind of poll has nothing to moderate")

    def forget(self, participant: str) -> bool:
        """Delete what this participant typed here (words, texts) at their request; False
        when the kind keeps nothing typed (an option, a rating) or they typed nothing."""
        return False

    def carry(self, old: LivePoll[Any]) -> None:
        """Keep what still fits of an edited poll's answers (after a deck reload)."""

    @property
    def scored(self) -> bool:
        """Whether answers here earn points (a quiz question)."""
        return False

    def scores(self) -> dict[str, int]:
        """Points per participant, for kinds that score (a quiz)."""
        return {}

    def right(self) -> dict[str, bool]:
        """For a scored question: whether each participant who answered got it right (what a
        streak bonus counts)."""
        return {}

    def summary(self) -> dict[str, float | None]:
        """Figures beside the rows for exports (e.g. a scale's mean and median)."""
        return {}


def _as_list(answer: Answer) -> list[Any]:
    return answer if isinstance(answer, list) else [answer]


def item(key: str, text: str, count: int = 0, state: str = "shown") -> TallyItem:
    """A tally item (a word, an answer) for the wire."""
    return TallyItem(id=key, text=text, count=count, state=state)  # type: ignore[arg-type]
