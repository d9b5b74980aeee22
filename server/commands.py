"""Commands a live session accepts and the events it answers with: plain, immutable data."""

from __future__ import annotations

from dataclasses import dataclass

# What a phone answers: an option or a scale point (int), words (list), or a text (str).
Answer = int | str | list[str]


@dataclass(frozen=True, slots=True)
class Join:
    """A participant joins (or rejoins) the session."""

    participant: str


@dataclass(frozen=True, slots=True)
class GoTo:
    """Show the slide at this 0-based index."""

    index: int


@dataclass(frozen=True, slots=True)
class OpenPoll:
    """Start (or resume) taking votes on a poll; `at` (wall clock) starts a timed poll's clock."""

    poll: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class ClosePoll:
    """Stop taking votes on a poll."""

    poll: str


@dataclass(frozen=True, slots=True)
class Reveal:
    """Show a poll's results to the audience (and the correct answer, if any)."""

    poll: str


@dataclass(frozen=True, slots=True)
class Hide:
    """Hide a poll's results from the audience again."""

    poll: str


@dataclass(frozen=True, slots=True)
class ResetPoll:
    """Forget every vote on a poll and put it back to not started."""

    poll: str


@dataclass(frozen=True, slots=True)
class SetBlackout:
    """Black out the display (or bring it back)."""

    on: bool


@dataclass(frozen=True, slots=True)
class SetJoinInfo:
    """Show or hide the join instructions (QR code, URL, room code) on the display."""

    on: bool


@dataclass(frozen=True, slots=True)
class Vote:
    """A participant answers a poll (an option, words, a text…); `vote_id` is made by the phone
    so retries count once."""

    participant: str
    poll: str
    answer: Answer
    vote_id: str
    at: float


@dataclass(frozen=True, slots=True)
class SetNickname:
    """A participant chooses the name the quiz's leaderboard shows for them (already cleaned
    and made unique by the session)."""

    participant: str
    name: str


@dataclass(frozen=True, slots=True)
class Moderate:
    """The presenter hides, shows or approves one item of a poll (a word, an answer), or
    merges it `into` another (an idea)."""

    poll: str
    action: str
    item: str
    into: str | None = None


@dataclass(frozen=True, slots=True)
class Ask:
    """A participant asks the talk's Q&A a question; `ask_id` is made by the phone so a resend
    asks once. `name` is what they chose to sign it with (None: anonymous)."""

    participant: str
    ask_id: str
    text: str
    name: str | None
    at: float


@dataclass(frozen=True, slots=True)
class Upvote:
    """A participant upvotes a question (`on`), or takes their upvote back."""

    participant: str
    question: str
    on: bool


@dataclass(frozen=True, slots=True)
class ModerateQuestion:
    """A moderator (or the presenter) approves, dismisses, answers, pins or unpins a question."""

    action: str
    question: str


@dataclass(frozen=True, slots=True)
class SetQuestionsOverlay:
    """Show the top questions over whatever slide the display shows (or take them away)."""

    on: bool


@dataclass(frozen=True, slots=True)
class Forget:
    """A participant deletes what they typed: questions, open answers, words, their name."""

    participant: str


Command = (
    Join
    | GoTo
    | OpenPoll
    | ClosePoll
    | Reveal
    | Hide
    | ResetPoll
    | SetBlackout
    | SetJoinInfo
    | Vote
    | Moderate
    | SetNickname
    | Ask
    | Upvote
    | ModerateQuestion
    | SetQuestionsOverlay
    | Forget
)


@dataclass(frozen=True, slots=True)
class ParticipantJoined:
    """A participant was seen for the first time."""

    participant: str


@dataclass(frozen=True, slots=True)
class SlideChanged:
    """The current slide changed."""

    index: int


@dataclass(frozen=True, slots=True)
class PollChanged:
    """A poll's status or visibility changed."""

    poll: str


@dataclass(frozen=True, slots=True)
class TallyChanged:
    """A poll's counts changed."""

    poll: str


@dataclass(frozen=True, slots=True)
class NicknameSet:
    """A participant's leaderboard name changed."""

    participant: str


@dataclass(frozen=True, slots=True)
class DisplayChanged:
    """Blackout or join instructions changed."""


@dataclass(frozen=True, slots=True)
class VoteCast:
    """A vote was taken. `replay` marks a vote id seen before: acknowledged, not counted again.
    `answer` is what the poll now holds for the participant, `previous` what it held before."""

    participant: str
    poll: str
    answer: Answer
    previous: Answer | None
    vote_id: str
    at: float
    replay: bool = False


@dataclass(frozen=True, slots=True)
class QuestionsChanged:
    """The Q&A changed: `participants` whose own list changed (an asker, an upvoter), `public`
    whether what everyone sees may have changed, `question` the one asked (for the ack)."""

    participants: tuple[str, ...]
    public: bool
    question: str | None = None


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What a participant typed is gone (polls in `polls` changed)."""

    participant: str
    polls: tuple[str, ...]


Event = (
    ParticipantJoined
    | SlideChanged
    | PollChanged
    | TallyChanged
    | DisplayChanged
    | VoteCast
    | NicknameSet
    | QuestionsChanged
    | Forgotten
)


class Refused(Exception):
    """A command that cannot be applied; nothing changed. `code` is stable, `reason` is prose."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
