"""Q&A for the whole talk: questions, upvotes and their moderation, as pure state.

Not tied to a slide: the session holds one `QA` when the deck asks for it (`qa:` in the front
matter). Nothing here does I/O or reads a clock; times arrive as arguments. Question ids are
their place in the talk (`q1`, `q2`, …), so a replayed log gives the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, assert_never

from server.commands import Refused
from server.text import checked
from slides import QaSettings

QUESTION_LENGTH = 280
NAME_LENGTH = 40
# What a phone and the display receive: the top of the approved list, never all of it.
TOP = 20
# What a moderator's queue holds at once: the oldest pending first, and the top approved.
QUEUE = 100

State = Literal["pending", "approved", "dismissed", "answered"]
Action = Literal["approve", "dismiss", "answer", "pin", "unpin"]
ACTIONS: tuple[Action, ...] = ("approve", "dismiss", "answer", "pin", "unpin")


@dataclass
class Question:
    """One question: who asked it (their token: never sent to anyone), what, and who upvoted."""

    id: str
    seq: int
    participant: str
    text: str
    name: str | None
    at: float
    state: State
    voters: set[str] = field(default_factory=set)

    @property
    def votes(self) -> int:
        """How many upvoted it."""
        return len(self.voters)

    @property
    def public(self) -> bool:
        """Whether everyone may see it (approved, or answered)."""
        return self.state in ("approved", "answered")


def rank_key(question: Question) -> tuple[int, int]:
    """The order questions are shown in: most upvotes first, then the one asked first."""
    return (-question.votes, question.seq)


class QA:
    """Every question of a talk, with its upvotes and its moderation; at most one pinned."""

    def __init__(self, settings: QaSettings) -> None:
        self.settings = settings
        self.questions: dict[str, Question] = {}
        self.ask_ids: dict[str, str] = {}  # the phone's ask id -> question id: asked once
        self.pinned: str | None = None
        # Per participant, so a phone's own list costs what that phone did, not the room.
        self.asked: dict[str, list[str]] = {}
        self.upvotes: dict[str, set[str]] = {}

    def ask(
        self, participant: str, ask_id: str, text: str, name: str | None, at: float
    ) -> tuple[Question, bool]:
        """Take a question (pending, unless moderation comes after); returns it and whether it
        is new (an ask id seen before returns the question it made, changing nothing)."""
        seen = self.ask_ids.get(ask_id)
        if seen is not None:
            question = self.questions[seen]
            if question.participant != participant:
                raise Refused("duplicate_vote_id", "this ask id was used by someone else")
            return question, False
        cleaned = checked(text, QUESTION_LENGTH, "question")
        given = None
        if name is not None and not self.settings.anonymous and name.strip():
            given = checked(name, NAME_LENGTH, "name")
        state: State = "pending" if self.settings.moderation == "before" else "approved"
        seq = len(self.questions) + 1
        question = Question(f"q{seq}", seq, participant, cleaned, given, at, state)
        self.questions[question.id] = question
        self.ask_ids[ask_id] = question.id
        self.asked.setdefault(participant, []).append(question.id)
        return question, True

    def upvote(self, participant: str, question_id: str, on: bool) -> Question | None:
        """Upvote a question (or take the upvote back); the question if that changed it. Only
        a question everyone sees can be upvoted, and not one's own."""
        question = self.questions.get(question_id)
        if question is None or not question.public:
            # A pending or dismissed question is, to others, no question at all.
            raise Refused("unknown_question", "there is no such question")
        if question.participant == participant:
            raise Refused("own_question", "you cannot upvote your own question")
        if on == (participant in question.voters):
            return None
        mine = self.upvotes.setdefault(participant, set())
        if on:
            question.voters.add(participant)
            mine.add(question.id)
        else:
            question.voters.discard(participant)
            mine.discard(question.id)
        return question

    def moderate(self, action: Action, question_id: str) -> Question | None:
        """Approve, dismiss, mark answered, pin or unpin; the question if that changed it."""
        question = self.questions.get(question_id)
        if question is None:
            raise Refused("unknown_question", "there is no such question")
        match action:
            case "approve":
                return self._move(question, "approved", ("pending", "dismissed", "answered"))
            case "dismiss":
                if self.pinned == question.id:
                    self.pinned = None
                return self._move(question, "dismissed", ("pending", "approved", "answered"))
            case "answer":
                return self._move(question, "answered", ("approved",))
            case "pin":
                if not question.public:
                    raise Refused("not_approved", "only an approved question can be pinned")
                if self.pinned == question.id:
                    return None
                self.pinned = question.id
                return question
            case "unpin":
                if self.pinned != question.id:
                    return None
                self.pinned = None
                return question
            case _:
                assert_never(action)

    def _move(self, question: Question, to: State, allowed: tuple[State, ...]) -> Question | None:
        if question.state == to:
            return None
        if question.state not in allowed:
            raise Refused("bad_transition", f"a {question.state} question cannot be {to}")
        question.state = to
        return question

    def forget(self, participant: str) -> set[str]:
        """Blank this participant's questions (kept as empty dismissed places, so ids stay);
        returns whose own lists changed (theirs, and those who had upvoted them)."""
        mine = self.asked_by(participant)
        changed = {participant} if mine else set()
        for question in mine:
            changed |= question.voters
            question.text, question.name, question.state = "", None, "dismissed"
            for voter in question.voters:
                self.upvotes.get(voter, set()).discard(question.id)
            question.voters.clear()
            if self.pinned == question.id:
                self.pinned = None
        self.asked.pop(participant, None)
        return changed

    def ranked(self) -> list[Question]:
        """Every question everyone may see, in the order they are shown."""
        return sorted((q for q in self.questions.values() if q.public), key=rank_key)

    def pending(self) -> list[Question]:
        """Questions waiting for a moderator, oldest first."""
        return [q for q in self.questions.values() if q.state == "pending"]

    def asked_by(self, participant: str) -> list[Question]:
        """This participant's own questions, whatever became of them."""
        return [self.questions[q] for q in self.asked.get(participant, [])]

    def upvoted_by(self, participant: str) -> list[str]:
        """The ids of the questions this participant upvotes now, oldest question first."""
        return sorted(self.upvotes.get(participant, ()), key=lambda q: self.questions[q].seq)
