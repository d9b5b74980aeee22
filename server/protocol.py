"""Wire messages, both ways, as pydantic models: the contract with every client."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, TypeAdapter

from slides import Cell, Decor, Poll, SlideKind

# A moderator approves questions (the presenter can too) and can do nothing else.
Role = Literal["audience", "display", "presenter", "moderator"]
Token = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PollId = Annotated[str, Field(min_length=1, max_length=64)]
# An answer on the wire: an option or a scale point, a text, or a few words. Each poll's kind
# checks it further (which options exist, how long a text may be).
WireAnswer = Annotated[
    StrictInt
    | Annotated[StrictStr, Field(max_length=2000)]
    | Annotated[list[Annotated[StrictStr, Field(max_length=200)]], Field(max_length=10)],
    Field(union_mode="left_to_right"),
]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Client -> server.


class Hello(_Message):
    """First message on every socket. Audience: room code and stored identity; presenter: key."""

    type: Literal["hello"]
    room: str | None = Field(default=None, max_length=16)
    participant: Token | None = None
    key: str | None = Field(default=None, max_length=128)


class VoteMessage(_Message):
    """Audience: vote for option `option` (0-based) of poll `poll`; `vote_id` made by the phone."""

    type: Literal["vote"]
    poll: PollId
    option: StrictInt = Field(ge=0, le=99)
    vote_id: Token


class AnswerMessage(_Message):
    """Audience: answer poll `poll` of any kind (words, a text, a scale point, an option)."""

    type: Literal["answer"]
    poll: PollId
    answer: WireAnswer
    vote_id: Token


class ModerateMessage(_Message):
    """Presenter (or moderator): hide, show or approve one item of a poll (`poll` omitted: the
    current one); on an ideas board also merge `item` into the idea `into`, or close (open)
    proposing, which names no item."""

    type: Literal["moderate"]
    poll: PollId | None = None
    action: Literal["hide", "show", "approve", "merge", "close_proposing", "open_proposing"]
    item: str = Field(default="", max_length=300)
    into: str | None = Field(default=None, min_length=1, max_length=300)


class AskMessage(_Message):
    """Audience: ask the talk's Q&A a question (at most 280 characters once cleaned), signed
    with `name` if the talk allows names; `ask_id` made by the phone, so a resend asks once."""

    type: Literal["ask"]
    text: str = Field(max_length=2000)
    name: str | None = Field(default=None, max_length=200)
    ask_id: Token


QuestionId = Annotated[str, Field(min_length=1, max_length=16)]


class UpvoteMessage(_Message):
    """Audience: upvote a question everyone sees (`on` false: take the upvote back). With
    `upvote_id` (made by the phone; a resend reuses it) the server answers `upvote_ack` once
    the upvote is durable; without it (older phones) the phone's own list is the only word."""

    type: Literal["upvote"]
    question: QuestionId
    on: bool = True
    upvote_id: Token | None = None


class ModerateQuestionMessage(_Message):
    """Presenter or moderator: approve, dismiss, mark answered, pin or unpin a question."""

    type: Literal["moderate_question"]
    action: Literal["approve", "dismiss", "answer", "pin", "unpin"]
    question: QuestionId


class ForgetMessage(_Message):
    """Audience: delete everything I typed in this talk (questions, open answers, words, my
    name), here and in the stored log. Choices and ratings stay."""

    type: Literal["forget_me"]


class NicknameMessage(_Message):
    """Audience: the name to show for me on the quiz's leaderboard (when the deck asks for
    nicknames); the server cleans it and makes it unique."""

    type: Literal["nickname"]
    name: str = Field(max_length=200)


class GotoMessage(_Message):
    """Presenter: show slide `index` (0-based)."""

    type: Literal["goto"]
    index: int = Field(ge=0, le=100_000)


class StepMessage(_Message):
    """Presenter: next or previous slide."""

    type: Literal["next", "prev"]


class PollCommandMessage(_Message):
    """Presenter: act on a poll (`poll` omitted: the poll on the current slide)."""

    type: Literal["open", "close", "reveal", "hide", "reset"]
    poll: PollId | None = None


class ToggleMessage(_Message):
    """Presenter: black out the display, show the join instructions on it, or show the top
    questions over the slide (`questions_overlay`)."""

    type: Literal["blackout", "join_info", "questions_overlay"]
    on: bool


class PingMessage(_Message):
    """Any client: keep-alive; answered with `pong`."""

    type: Literal["ping"]


ClientMessage = Annotated[
    Hello
    | VoteMessage
    | AnswerMessage
    | ModerateMessage
    | NicknameMessage
    | AskMessage
    | ForgetMessage
    | UpvoteMessage
    | ModerateQuestionMessage
    | GotoMessage
    | StepMessage
    | PollCommandMessage
    | ToggleMessage
    | PingMessage,
    Field(discriminator="type"),
]
CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


# Server -> client.


class Welcome(_Message):
    """Answer to `hello`: who you are. Audience gets its participant token and its answers so
    far, by poll id; `now` is the server's clock, so a phone can show a timed poll's deadline."""

    type: Literal["welcome"] = "welcome"
    role: Role
    room: str
    participant: str | None = None
    votes: dict[str, WireAnswer] = Field(default_factory=dict)
    now: float | None = None
    # By poll id, what this phone typed that others see only once approved (its ideas).
    own: dict[str, list[TallyItem]] | None = None
    # Moderator only: the polls whose answers people type (open questions, word clouds, ideas
    # boards), by id, so the page can name each by its question and curate it as its kind.
    polls: dict[str, Poll] | None = None


class PollView(_Message):
    """A poll's status as a role sees it: `correct` once revealed (the presenter: always),
    `deadline` (server clock) while a timed poll is open."""

    id: str
    type: str
    status: Literal["idle", "open", "closed"]
    revealed: bool
    change_vote: bool
    results: Literal["live", "hidden"]
    counts_visible: bool
    correct: int | None
    deadline: float | None


class SlideView(_Message):
    """A slide's public face: never its notes; its poll without the correct answer."""

    index: int
    id: str
    kind: SlideKind
    title: str | None
    html: str
    cells: list[Cell] | None = None
    url: str | None = None
    image: str | None = None
    poll: Poll | None = None
    # Marp's header, footer, page number and colours, as the deck set them (else null).
    decor: Decor | None = None


class JoinView(_Message):
    """How to join: the URL phones open, the room code, why phones cannot reach the URL (then
    there is no QR code), and whether the display shows it now."""

    url: str | None
    room: str
    warning: str | None
    shown: bool = False
    # The deck's opening title slide carries the QR code and room code (`join_on_title:`).
    on_title: bool = True


class LeaderRow(_Message):
    """A place on the quiz's leaderboard."""

    rank: int
    name: str
    score: int


class LeaderboardView(_Message):
    """The quiz's top ten and how many played."""

    players: int
    top: list[LeaderRow]


class OutlineItem(_Message):
    """A slide in the presenter's go-to list."""

    index: int
    kind: SlideKind
    title: str


class QaView(_Message):
    """The talk's Q&A, when it has one: how questions are moderated, whether askers may sign
    them, and whether the display shows the top questions over the slide now."""

    moderation: Literal["before", "after"]
    anonymous: bool
    overlay: bool


class _StateBase(_Message):
    position: int
    total: int
    slide: SlideView
    poll: PollView | None
    blackout: bool
    title: str | None
    leaderboard: LeaderboardView | None = None
    # The deck's language and direction: every screen sets `<html lang dir>` from them.
    lang: str = "en"
    dir: Literal["ltr", "rtl"] = "ltr"
    qa: QaView | None = None


class PrivacyView(_Message):
    """The data notice a phone shows on joining: the presenter's own words (`text`, if the
    deck has `privacy:`), and what handsup keeps, who sees it and for how long (`notice`,
    always)."""

    text: str | None
    notice: str
    retention_days: int | None


class AudienceState(_StateBase):
    """What a phone sees, whether the deck asks it for a nickname, and the data notice."""

    nicknames: Literal["off", "optional", "required"]
    privacy: PrivacyView | None = None


class DisplayState(_StateBase):
    """What the projector sees: the phone's view and the join instructions."""

    join: JoinView


class PresenterState(DisplayState):
    """What the presenter sees: notes, the next slide, the outline and every poll's status."""

    notes: str
    next: SlideView | None
    outline: list[OutlineItem]
    polls: dict[str, PollView]


# Tried in this order: each has fields the next lacks, and none accepts another's extras.
StateView = Annotated[
    PresenterState | DisplayState | AudienceState, Field(union_mode="left_to_right")
]


class StateMessage(_Message):
    """The whole state this role may see; sent after `welcome` and on every change."""

    type: Literal["state"] = "state"
    state: StateView


class TallyItem(_Message):
    """One word, answer or idea in a tally: `state` is `hidden` or `pending` only for the
    presenter (others never receive such items)."""

    id: str
    text: str
    count: int = 0
    state: Literal["shown", "hidden", "pending"] = "shown"


class TallyMessage(_Message):
    """Live results of one poll, at most about ten a second: `counts` per option or scale
    point, `items` for words and answers, `mean` and `median` for scales. What a kind does not
    use is left out. A display that may not see results gets only `voters`, with empty counts."""

    type: Literal["tally"] = "tally"
    poll: str
    voters: int
    counts: list[int] | None = None
    items: list[TallyItem] | None = None
    mean: float | None = None
    median: float | None = None
    # An ideas board: whether it still takes new ideas (voting goes on either way), and which
    # ideas were merged into which (the latest 100), so a phone's votes follow them.
    proposing: bool | None = None
    merged: dict[str, str] | None = None


class QuestionItem(_Message):
    """One question as a screen shows it: never who asked it, only the name they signed with.
    `state` is `pending` or `dismissed` only in the presenter's queue and in the asker's own
    list (where a dismissed question still reads `pending`)."""

    id: str
    text: str
    name: str | None = None
    votes: int
    state: Literal["pending", "approved", "dismissed", "answered"]


class QuestionsMessage(_Message):
    """The Q&A as a role sees it, at most about ten a second and only when it changed:
    `top`, the first 20 approved or answered questions (most upvotes first, then the oldest),
    `pinned` the one the presenter highlighted, `approved` how many there are in all. The
    presenter and moderators also get `pending`, the oldest 100 questions waiting for
    approval, and `top` goes to 100 (dismissed ones are kept out), and `on`, whether the deck
    takes questions."""

    type: Literal["questions"] = "questions"
    top: list[QuestionItem]
    pinned: QuestionItem | None = None
    approved: int
    pending: list[QuestionItem] | None = None
    waiting: int | None = None
    # Presenter and moderators: whether the deck takes questions at all (a moderator gets no
    # `state`, and its page hides the Q&A queue of a talk that takes none).
    on: bool | None = None


class MyQuestionsMessage(_Message):
    """Audience only: this phone's own questions (whatever their state; a dismissed one reads
    `pending`) and the ids of the questions it upvotes. Sent when either changes."""

    type: Literal["my_questions"] = "my_questions"
    asked: list[QuestionItem]
    upvoted: list[str]


class AskAck(_Message):
    """Your question is in (durable): `question` is its id."""

    type: Literal["ask_ack"] = "ask_ack"
    ask_id: str
    question: str


class UpvoteAck(_Message):
    """Your upvote (`on` false: taking it back) of `question` is in (durable); sent for each
    `upvote` with an `upvote_id`, a resend included, at once and apart from `my_questions`."""

    type: Literal["upvote_ack"] = "upvote_ack"
    upvote_id: str
    question: str
    on: bool


class ForgottenMessage(_Message):
    """Audience only: what you typed is deleted, in the stored log too."""

    type: Literal["forgotten"] = "forgotten"


class PresenceMessage(_Message):
    """Presenter only: who is connected and how many have joined."""

    type: Literal["presence"] = "presence"
    audience: int
    display: int
    presenter: int
    participants: int


class VoteAck(_Message):
    """Your vote is in (durable when the server keeps a store)."""

    type: Literal["vote_ack"] = "vote_ack"
    vote_id: str
    poll: str
    option: int | None = None
    answer: WireAnswer | None = None
    # An ideas board: this phone's own ideas, as it may see them (`Welcome.own`).
    own: list[TallyItem] | None = None


class ScoreMessage(_Message):
    """Audience only, while a leaderboard is on the screen: this phone's own quiz standing
    (`rank` None: it has not answered a scored question)."""

    type: Literal["score"] = "score"
    name: str | None
    score: int
    rank: int | None
    players: int


class ErrorMessage(_Message):
    """Something you sent was refused; the connection carries on unless said otherwise."""

    type: Literal["error"] = "error"
    code: str
    message: str
    ref: str | None = None


class NoticeMessage(_Message):
    """Presenter only: news about the deck, e.g. a reload, or an error in the saved file."""

    type: Literal["notice"] = "notice"
    level: Literal["info", "warning", "error"]
    message: str
    details: list[str] = Field(default_factory=list)


class LinkMessage(_Message):
    """Every role, with several workers: the shared log (Redis) is unreachable ("away": this
    worker acknowledges nothing new, votes wait) or reachable again ("back"). Sent when it
    changes, and after the welcome to a screen that connects while it is away."""

    type: Literal["link"] = "link"
    status: Literal["away", "back"]


class PongMessage(_Message):
    """Answer to `ping`."""

    type: Literal["pong"] = "pong"


ServerMessage = Annotated[
    Welcome
    | StateMessage
    | TallyMessage
    | PresenceMessage
    | QuestionsMessage
    | MyQuestionsMessage
    | AskAck
    | UpvoteAck
    | ForgottenMessage
    | VoteAck
    | ScoreMessage
    | ErrorMessage
    | NoticeMessage
    | LinkMessage
    | PongMessage,
    Field(discriminator="type"),
]
SERVER_MESSAGE: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)


def schema() -> dict[str, Any]:
    """JSON Schema of every message, both directions."""
    return {
        "client_to_server": CLIENT_MESSAGE.json_schema(),
        "server_to_client": SERVER_MESSAGE.json_schema(),
    }
