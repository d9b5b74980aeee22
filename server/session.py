"""The live session as a pure state machine: commands in, events out; no I/O, no clock."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, assert_never

from server import text
from server.commands import (
    Ask,
    ClosePoll,
    Command,
    DisplayChanged,
    Event,
    Forget,
    Forgotten,
    GoTo,
    Hide,
    Join,
    Moderate,
    ModerateQuestion,
    NicknameSet,
    OpenPoll,
    ParticipantJoined,
    PollChanged,
    QuestionsChanged,
    Refused,
    ResetPoll,
    Reveal,
    SetBlackout,
    SetJoinInfo,
    SetNickname,
    SetQuestionsOverlay,
    SlideChanged,
    TallyChanged,
    Upvote,
    Vote,
    VoteCast,
)
from server.kinds import LivePoll, Timing, live
from server.kinds.choice import streak_bonus
from server.qa import ACTIONS, QA
from slides import Deck, Poll, QaSettings

NICKNAME_LENGTH = 24
# What the leaderboard calls someone without a nickname (see name_of). A nickname that looks
# like one is numbered like a taken name, so nobody can pass for another player.
_PSEUDONYM = re.compile(r"player [0-9a-f]{4}")


class PollStatus(StrEnum):
    """Where a poll is in its life."""

    IDLE = "idle"
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class PollState:
    """One poll's live state: its life (status, visibility, timer), the vote ids it has seen,
    and its kind's answers."""

    poll: Poll
    slide: int
    status: PollStatus = PollStatus.IDLE
    revealed: bool = False
    # vote id -> participant, so a retried vote is acknowledged but never counted twice.
    vote_ids: dict[str, str] = field(default_factory=dict)
    opened_at: float | None = None
    answers: LivePoll[Any] = field(init=False)

    def __post_init__(self) -> None:
        self.answers = live(self.poll)

    @property
    def voters(self) -> int:
        """How many participants have answered."""
        return self.answers.voters

    @property
    def deadline(self) -> float | None:
        """When a timed poll stops taking answers (wall clock), once it has been opened."""
        if self.poll.timer is None or self.opened_at is None:
            return None
        return self.opened_at + self.poll.timer


@dataclass(frozen=True, slots=True)
class Standing:
    """A place on the leaderboard."""

    rank: int
    participant: str
    score: int


@dataclass(frozen=True)
class ReloadReport:
    """What a deck reload did to the polls: ids whose question or options changed, or vanished."""

    changed: list[str]
    vanished: list[str]
    added: list[str]


class Session:
    """Slide position, poll states, participants and votes of one running talk."""

    def __init__(self, deck: Deck) -> None:
        self.deck = deck
        self._replaying = False
        self.position = 0
        self.blackout = False
        self.join_info = False
        self.participants: set[str] = set()
        self.nicknames: dict[str, str] = {}
        # The talk's Q&A (kept through deck edits, even one that turns it off).
        self.qa = QA(deck.meta.qa or QaSettings())
        self.questions_overlay = False
        self.polls: dict[str, PollState] = {
            slide.poll.id: PollState(slide.poll, slide.index)
            for slide in deck.slides
            if slide.poll is not None
        }

    @property
    def current_poll(self) -> PollState | None:
        """The state of the poll on the current slide, if it has one."""
        poll = self.deck.slides[self.position].poll
        return self.polls[poll.id] if poll is not None else None

    def apply(self, command: Command) -> list[Event]:
        """Apply one command; return what changed, or raise Refused having changed nothing."""
        match command:
            case Vote():
                return self._vote(command)
            case Join(participant):
                if participant in self.participants:
                    return []
                self.participants.add(participant)
                return [ParticipantJoined(participant)]
            case GoTo(index):
                if not 0 <= index < len(self.deck.slides):
                    last = len(self.deck.slides) - 1
                    raise Refused("out_of_range", f"there is no slide {index} (0 to {last})")
                if index == self.position:
                    return []
                self.position = index
                return [SlideChanged(index)]
            case OpenPoll(poll, at):
                state = self._poll(poll)
                if state.status is PollStatus.OPEN:
                    raise Refused("already_open", "voting is already open on this poll")
                state.status = PollStatus.OPEN
                state.opened_at = at
                return [PollChanged(poll)]
            case ClosePoll(poll):
                state = self._poll(poll)
                if state.status is not PollStatus.OPEN:
                    raise Refused("not_open", "voting is not open on this poll")
                state.status = PollStatus.CLOSED
                return [PollChanged(poll)]
            case Reveal(poll):
                state = self._poll(poll)
                if state.revealed:
                    raise Refused("already_revealed", "the results are already shown")
                state.revealed = True
                return [PollChanged(poll)]
            case Hide(poll):
                state = self._poll(poll)
                if not state.revealed:
                    raise Refused("not_revealed", "the results are not shown")
                state.revealed = False
                return [PollChanged(poll)]
            case ResetPoll(poll):
                state = self._poll(poll)
                self.polls[poll] = PollState(state.poll, state.slide)
                return [PollChanged(poll), TallyChanged(poll)]
            case SetBlackout(on):
                if self.blackout == on:
                    return []
                self.blackout = on
                return [DisplayChanged()]
            case SetJoinInfo(on):
                if self.join_info == on:
                    return []
                self.join_info = on
                return [DisplayChanged()]
            case SetNickname(participant, name):
                return self._nickname(participant, name)
            case Moderate(poll, action, item, into):
                state = self._poll(poll)
                changed = state.answers.moderate(action, item, into)
                return [TallyChanged(poll)] if changed else []
            case Ask() | Upvote() | ModerateQuestion() | SetQuestionsOverlay():
                return self._questions(command)
            case Forget(participant):
                return self._forget(participant)
            case _:
                assert_never(command)

    def _forget(self, participant: str) -> list[Event]:
        """Delete what a participant typed, everywhere in the talk: their questions, texts,
        words and nickname. Their choices and ratings are not typed and stay."""
        if participant not in self.participants:
            raise Refused("not_joined", "join the session first")
        polls = tuple(pid for pid, state in self.polls.items() if state.answers.forget(participant))
        changed = self.qa.forget(participant)
        named = self.nicknames.pop(participant, None) is not None
        events: list[Event] = [Forgotten(participant, polls)]
        events += [TallyChanged(pid) for pid in polls]
        if changed:
            events.append(QuestionsChanged(tuple(sorted(changed)), True))
        if named:
            events.append(NicknameSet(participant))
        return events

    @property
    def qa_on(self) -> bool:
        """Whether this talk takes questions."""
        return self.deck.meta.qa is not None

    def _questions(
        self, command: Ask | Upvote | ModerateQuestion | SetQuestionsOverlay
    ) -> list[Event]:
        if not self.qa_on:
            raise Refused("qa_off", "this talk takes no questions")
        qa = self.qa
        match command:
            case Ask(participant, ask_id, asked, name, at):
                if participant not in self.participants:
                    raise Refused("not_joined", "join the session before asking")
                question, new = qa.ask(participant, ask_id, asked, name, at)
                if not new:
                    return []
                return [QuestionsChanged((participant,), question.public, question.id)]
            case Upvote(participant, question_id, on):
                if participant not in self.participants:
                    raise Refused("not_joined", "join the session before upvoting")
                changed = qa.upvote(participant, question_id, on)
                if changed is None:
                    return []
                return [QuestionsChanged((participant, changed.participant), True)]
            case ModerateQuestion(action, question_id):
                if action not in ACTIONS:
                    raise Refused("unknown_action", f"a question cannot be {action!r}")
                changed = qa.moderate(action, question_id)
                return [] if changed is None else [QuestionsChanged((changed.participant,), True)]
            case SetQuestionsOverlay(on):
                if self.questions_overlay == on:
                    return []
                self.questions_overlay = on
                return [DisplayChanged()]
            case _:
                assert_never(command)

    def restore(self, records: Iterable[tuple[Command, dict[str, Any]]]) -> int:
        """Replay recorded commands (after a restart); returns how many no longer apply.

        Votes were accepted when they were cast, so they are replayed without the checks that
        depend on the moment (poll open, poll on screen); slide moves follow the slide's id.
        """
        skipped = 0
        self._replaying = True
        try:
            for command, extra in records:
                if isinstance(command, GoTo) and "slide" in extra:
                    index = self._slide_index(str(extra["slide"]))
                    command = GoTo(index if index is not None else command.index)
                try:
                    self.apply(command)
                except Refused:
                    skipped += 1
        finally:
            self._replaying = False
        return skipped

    def reload(self, deck: Deck) -> ReloadReport:
        """Swap in an edited deck, keeping the state of polls whose ids still match."""
        current = self.deck.slides[self.position].id
        old = self.polls
        self.deck = deck
        self.qa.settings = deck.meta.qa or self.qa.settings
        self.polls = {}
        changed: list[str] = []
        for slide in deck.slides:
            if slide.poll is None:
                continue
            state = PollState(slide.poll, slide.index)
            before = old.get(slide.poll.id)
            if before is not None:
                if before.poll != slide.poll:
                    changed.append(slide.poll.id)
                state.status, state.revealed = before.status, before.revealed
                state.opened_at = before.opened_at
                state.answers.carry(before.answers)
                # A vote id stays known only while its participant's answer is still held:
                # one the edit dropped (an option or scale point gone) would otherwise be
                # acknowledged on a resend as if it still counted.
                held = state.answers.mine
                state.vote_ids = {
                    vote_id: who
                    for vote_id, who in before.vote_ids.items()
                    if held(who) is not None
                }
            self.polls[slide.poll.id] = state
        index = self._slide_index(current)
        self.position = index if index is not None else min(self.position, len(deck.slides) - 1)
        return ReloadReport(
            changed=changed,
            vanished=[pid for pid in old if pid not in self.polls],
            added=[pid for pid in self.polls if pid not in old],
        )

    def _slide_index(self, slide_id: str) -> int | None:
        for slide in self.deck.slides:
            if slide.id == slide_id:
                return slide.index
        return None

    def _poll(self, poll: str) -> PollState:
        state = self.polls.get(poll)
        if state is None:
            raise Refused("unknown_poll", f"there is no poll {poll!r}")
        return state

    def scores(self) -> dict[str, int]:
        """Quiz points per participant, over every scored poll, with the deck's streak bonus."""
        total: Counter[str] = Counter()
        for state in self.polls.values():
            total.update(state.answers.scores())
        if self.deck.meta.streak is not None:
            total.update(self._streak_bonuses(self.deck.meta.streak))
        return dict(total)

    def _streak_bonuses(self, step: int) -> dict[str, int]:
        """Each participant's streak bonus: the scored questions taken in the order they were
        opened, a correct answer extends the participant's run of correct answers and earns
        `streak_bonus` for it; a wrong answer, or none to a question that has closed, ends it.
        A question still open that they have not answered yet leaves the run as it is."""
        asked = sorted(
            (s for s in self.polls.values() if s.answers.scored and s.opened_at is not None),
            key=lambda s: (s.opened_at, s.slide),
        )
        runs: dict[str, int] = {}
        bonuses: dict[str, int] = {}
        for state in asked:
            right = state.answers.right()
            if state.status is PollStatus.CLOSED:
                for who in runs.keys() - right.keys():
                    runs[who] = 0
            for who, correct in right.items():
                run = runs.get(who, 0) + 1 if correct else 0
                runs[who] = run
                if run > 1:  # the first in a run earns no bonus: most answers, in a big hall
                    bonuses[who] = bonuses.get(who, 0) + streak_bonus(run, step)
        return bonuses

    def standings(self) -> list[Standing]:
        """Everyone who answered a scored question, best first; ties share a rank (1, 2, 2, 4)."""
        scores = self.scores()
        ordered = sorted(scores, key=lambda who: (-scores[who], self.name_of(who)))
        table: list[Standing] = []
        for place, who in enumerate(ordered, start=1):
            tied = table and table[-1].score == scores[who]
            table.append(Standing(table[-1].rank if tied else place, who, scores[who]))
        return table

    def name_of(self, participant: str) -> str:
        """The leaderboard's name for someone: their nickname, else a pseudonym that does not
        reveal their token (which is their identity)."""
        name = self.nicknames.get(participant)
        if name is not None:
            return name
        return "Player " + hashlib.sha256(participant.encode()).hexdigest()[:4].upper()

    def _nickname(self, participant: str, name: str) -> list[Event]:
        if self.deck.meta.nicknames == "off":
            raise Refused("nicknames_off", "this talk does not use nicknames")
        if participant not in self.participants:
            raise Refused("not_joined", "join the session before choosing a nickname")
        wanted = text.checked(name, NICKNAME_LENGTH, "nickname")
        taken = {n.casefold() for who, n in self.nicknames.items() if who != participant}
        unique, number = wanted, 2
        while unique.casefold() in taken or _PSEUDONYM.fullmatch(unique.casefold()):
            # "Ann 2": shortened to make room for the number, so a name stays within its length.
            suffix = f" {number}"
            unique = text.clean(wanted[: NICKNAME_LENGTH - len(suffix)]) + suffix
            number += 1
        if self.nicknames.get(participant) == unique:
            return []
        self.nicknames[participant] = unique
        return [NicknameSet(participant)]

    def _vote(self, vote: Vote) -> list[Event]:
        if vote.participant not in self.participants:
            raise Refused("not_joined", "join the session before voting")
        state = self._poll(vote.poll)
        answers = state.answers
        seen = state.vote_ids.get(vote.vote_id)
        if seen is not None:
            if seen != vote.participant:
                raise Refused("duplicate_vote_id", "this vote id was used by someone else")
            current = answers.mine(vote.participant)
            held = current if current is not None else vote.answer
            return [VoteCast(vote.participant, vote.poll, held, held, vote.vote_id, vote.at, True)]
        if not self._replaying:
            if state.status is not PollStatus.OPEN:
                raise Refused("poll_not_open", "voting is not open on this poll")
            if state.slide != self.position:
                raise Refused("poll_not_shown", "this poll is not on the screen")
            deadline = state.deadline
            if deadline is not None and vote.at > deadline:
                raise Refused("too_late", "time is up for this question")
            named = vote.participant in self.nicknames
            if answers.scored and self.deck.meta.nicknames == "required" and not named:
                raise Refused("nickname_required", "choose a nickname before answering the quiz")
        answer = answers.read(vote.answer)
        previous = answers.mine(vote.participant)
        elapsed = None if state.opened_at is None else vote.at - state.opened_at
        changed = answers.submit(vote.participant, answer, Timing(elapsed, state.poll.timer))
        state.vote_ids[vote.vote_id] = vote.participant
        current = answers.mine(vote.participant)
        cast = VoteCast(
            vote.participant, vote.poll, current if current is not None else answer, previous,
            vote.vote_id, vote.at,
        )  # fmt: skip
        return [cast, TallyChanged(vote.poll)] if changed else [cast]
