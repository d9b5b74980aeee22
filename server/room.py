"""A running talk: turns client messages into session commands, records them, fans out results.

The path of a vote: `handle` -> `Session.apply` -> `Store.record` (durable) -> `vote_ack` to
the phone, while the tally is marked dirty and flushed to screens at most every `tally_interval`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from functools import partial
from typing import Literal, assert_never

from server.commands import (
    Answer,
    Ask,
    ClosePoll,
    Command,
    DisplayChanged,
    Event,
    Forget,
    Forgotten,
    Join,
    NicknameSet,
    OpenPoll,
    ParticipantJoined,
    PollChanged,
    QuestionsChanged,
    Refused,
    SetNickname,
    SlideChanged,
    TallyChanged,
    Upvote,
    Vote,
    VoteCast,
)
from server.dispatch import presenter_command
from server.frames import Frame
from server.hub import ROLES, Client, Hub
from server.keys import key_matches
from server.limits import AnswerLimiter
from server.log import CommandLog, Deferred, LocalLog, Outcome, Then
from server.protocol import (
    AnswerMessage,
    AskAck,
    AskMessage,
    ClientMessage,
    ErrorMessage,
    ForgetMessage,
    ForgottenMessage,
    GotoMessage,
    Hello,
    JoinView,
    LinkMessage,
    ModerateMessage,
    ModerateQuestionMessage,
    NicknameMessage,
    NoticeMessage,
    PingMessage,
    PollCommandMessage,
    PongMessage,
    Role,
    ScoreMessage,
    StateMessage,
    StepMessage,
    ToggleMessage,
    UpvoteAck,
    UpvoteMessage,
    VoteAck,
    VoteMessage,
    Welcome,
)
from server.qa_feed import Own, QuestionsFeed
from server.session import PollStatus, ReloadReport, Session, Standing
from server.store import Store
from server.tallies import TYPED, Tallies
from server.views import Views, tally_visible
from slides import Deck, SlideKind

PONG = Frame(PongMessage().model_dump_json())
_LOG = logging.getLogger("handsup.room")


def _acknowledge(client: Client, ack: Frame, durable: asyncio.Future[None]) -> None:
    # The store retries a failed write until it commits; it fails only while shutting down,
    # and then the phone keeps its vote and sends it again to the next run.
    if not durable.cancelled() and durable.exception() is None:
        client.reply(ack)


def _log_failure(durable: asyncio.Future[None]) -> None:
    error = None if durable.cancelled() else durable.exception()
    if error is not None:
        _LOG.error("could not save to the session log: %s", error)


def _audience(client: Client, refusal: str) -> str:
    """The participant behind an audience connection; anyone else is refused with `refusal`."""
    if client.role != "audience" or client.participant is None:
        raise Refused("forbidden", refusal)
    return client.participant


class Denied(Exception):
    """A hello that must not be admitted; the socket is closed with `close_code`."""

    def __init__(self, close_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.close_code = close_code
        self.frame = ErrorMessage(code=code, message=message).model_dump_json()


class Room:
    """One session with its store and hub: the only place commands are applied."""

    def __init__(
        self,
        session: Session,
        store: Store,
        hub: Hub,
        *,
        room_code: str,
        presenter_key: str,
        moderator_key: str | None = None,
        join_url: str,
        join_warning: str | None = None,
        tally_interval: float = 0.1,
        text_limiter: AnswerLimiter | None = None,
        ask_limiter: AnswerLimiter | None = None,
        clock: Callable[[], float],
        log: CommandLog | None = None,
    ) -> None:
        self.session = session
        self.store = store
        # Where commands are ordered and applied: at once here, or through Redis for workers.
        self.log: CommandLog = log if log is not None else LocalLog(store)
        self.hub = hub
        self.room_code = room_code
        self.presenter_key = presenter_key
        self.moderator_key = moderator_key or secrets.token_urlsafe(24)
        self.views = Views(session, JoinView(url=join_url, room=room_code, warning=join_warning))
        self.tallies = Tallies(session, hub, tally_interval)
        self.clock = clock
        self.text_limiter = text_limiter or AnswerLimiter(rate=0.5, burst=6.0)
        # A question a person types: one every ten seconds, after a first two.
        self.ask_limiter = ask_limiter or AnswerLimiter(rate=0.1, burst=2.0)
        self.questions = QuestionsFeed(session, hub, tally_interval)
        self._state_frames: dict[str, Frame] = {}
        self._notice: Frame | None = None
        # While the shared log is unreachable: the "away" frame, for screens that connect.
        self._away: Frame | None = None
        # The quiz standings, worked out once per change (a storm of phones joining while the
        # leaderboard is shown must not sort the whole room for each of them).
        self._standings: dict[str, Standing] | None = None
        self.log.attach(self)

    # Connections.

    def admit(self, client: Client, hello: Hello) -> None:
        """Check a hello, add the client to the hub and give it a welcome and a snapshot."""
        welcome: Welcome
        if client.role == "presenter":
            if not key_matches(hello.key, self.presenter_key):
                raise Denied(4403, "bad_key", "the presenter key is missing or wrong")
            welcome = Welcome(role="presenter", room=self.room_code, now=self.clock())
        elif client.role == "moderator":
            if not key_matches(hello.key, self.moderator_key):
                raise Denied(4403, "bad_key", "the moderator key is missing or wrong")
            # A moderator sees the Q&A and nothing else: no slides, notes or polls.
            curated = {
                pid: state.poll
                for pid, state in self.session.polls.items()
                if state.poll.type in TYPED
            }
            welcome = Welcome(
                role="moderator", room=self.room_code, now=self.clock(), polls=curated
            )
            client.reply(welcome.model_dump_json(exclude_none=True))
            client.offer("questions", self.questions.frame("moderator"))
            for pid, state in self.session.polls.items():  # what people typed, to curate
                if state.poll.type in TYPED:
                    client.offer(f"tally:{pid}", self.tallies.frame("presenter", pid))
            if self._away is not None:
                client.offer("link", self._away)
            self.hub.add(client)
            return
        elif client.role == "audience":
            if (hello.room or "").strip().upper() != self.room_code:
                raise Denied(4404, "bad_room", "there is no room with that code here")
            participant = hello.participant
            if participant is None or participant not in self.session.participants:
                participant = secrets.token_urlsafe(18)
            # No need to wait for the Join to be durable: any vote of this participant is
            # logged after it, and a vote is acknowledged only once it is durable.
            if participant not in self.session.participants:
                self.run(Join(participant))
            client.participant = participant
            votes = {}
            own = {}
            for pid, state in self.session.polls.items():
                mine = state.answers.mine(participant)
                if mine is not None:
                    votes[pid] = mine
                    typed = state.answers.own(participant)
                    if typed:
                        own[pid] = typed
            welcome = Welcome(
                role="audience",
                room=self.room_code,
                participant=participant,
                votes=votes,
                now=self.clock(),
                own=own or None,
            )
        else:
            welcome = Welcome(role="display", room=self.room_code, now=self.clock())
        client.reply(welcome.model_dump_json(exclude_none=True))
        client.offer("state", self._state_frame(client.role))
        if client.role == "audience" and self._on_leaderboard():
            self._send_scores(client)
        if self.session.qa_on:
            client.offer("questions", self.questions.frame(client.role))
            if client.participant is not None:
                client.offer("my_questions", self.questions.mine(client.participant))
        if client.role == "presenter" and self._notice is not None:
            client.offer("notice", self._notice)
        if self._away is not None:
            client.offer("link", self._away)
        poll = self.session.current_poll
        if poll is not None and (client.role != "audience" or tally_visible("audience", poll)):
            client.offer(f"tally:{poll.poll.id}", self.tallies.frame(client.role, poll.poll.id))
        self.hub.add(client)
        self.tallies.mark_presence()

    def leave(self, client: Client) -> None:
        """Forget a disconnected client."""
        self.hub.discard(client)
        self.tallies.mark_presence()

    # Messages.

    def handle(self, client: Client, message: ClientMessage) -> None:
        """Act on one parsed message from an admitted client; refusals become error replies."""
        try:
            self._handle(client, message)
        except Refused as refused:
            self._refuse(client, message, refused)

    def _refuse(self, client: Client, message: ClientMessage, refused: Refused) -> None:
        ref = (
            message.vote_id
            if isinstance(message, VoteMessage | AnswerMessage)
            else message.ask_id
            if isinstance(message, AskMessage)
            else message.upvote_id or message.type
            if isinstance(message, UpvoteMessage)
            else message.type
        )
        reply = ErrorMessage(code=refused.code, message=refused.reason, ref=ref)
        client.reply(reply.model_dump_json())

    def _refused(
        self, client: Client, message: ClientMessage, outcome: Outcome, _: asyncio.Future[None]
    ) -> None:
        if isinstance(outcome, Refused):
            self._refuse(client, message, outcome)

    def _handle(self, client: Client, message: ClientMessage) -> None:
        match message:
            case PingMessage():
                client.reply(PONG)
            case Hello():
                raise Refused("already_welcomed", "this connection has already said hello")
            case VoteMessage() | AnswerMessage():
                participant = _audience(client, "only audience connections vote")
                given = message.option if isinstance(message, VoteMessage) else message.answer
                self._limit_text(participant, message.poll, given, message.vote_id)
                vote = Vote(participant, message.poll, given, message.vote_id, self.clock())
                self.run(vote, partial(self._voted, client, message, participant, given))
            case AskMessage() | UpvoteMessage():
                participant = _audience(client, "only audience connections ask and upvote")
                self._question(client, participant, message)
            case ForgetMessage():
                participant = _audience(
                    client, "only audience connections have something to delete"
                )
                self.run(Forget(participant), partial(self._forget_done, client, message))
            case NicknameMessage():
                participant = _audience(client, "only audience connections choose nicknames")
                self.run(
                    SetNickname(participant, message.name), partial(self._named, client, message)
                )
            case ModerateQuestionMessage() | ModerateMessage() if client.role == "moderator":
                if isinstance(message, ModerateMessage):
                    state = self.session.polls.get(message.poll or "")
                    if state is None or state.poll.type not in TYPED:
                        raise Refused("unknown_poll", "name a poll whose answers are typed")
                self.run(Deferred(message, self.clock()), partial(self._refused, client, message))
            case (
                ModerateQuestionMessage()
                | ModerateMessage()
                | GotoMessage()
                | StepMessage()
                | PollCommandMessage()
                | ToggleMessage()
            ):
                if client.role != "presenter":
                    raise Refused("forbidden", "only the presenter can control the session")
                self.run(Deferred(message, self.clock()), partial(self._refused, client, message))
            case _:
                assert_never(message)

    def _voted(
        self,
        client: Client,
        message: VoteMessage | AnswerMessage,
        participant: str,
        given: Answer,
        outcome: Outcome,
        durable: asyncio.Future[None],
    ) -> None:
        if isinstance(outcome, Refused):
            self._refuse(client, message, outcome)
            return
        answers = self.session.polls[message.poll].answers
        held = answers.mine(participant)
        held = given if held is None else held
        # A choice vote is acknowledged as it always was, with `option`.
        if isinstance(message, VoteMessage) and isinstance(held, int):
            ack = VoteAck(vote_id=message.vote_id, poll=message.poll, option=held)
        else:
            own = answers.own(participant) or None
            ack = VoteAck(vote_id=message.vote_id, poll=message.poll, answer=held, own=own)
        reply = Frame(ack.model_dump_json(exclude_none=True))
        durable.add_done_callback(partial(_acknowledge, client, reply))

    def _named(
        self,
        client: Client,
        message: NicknameMessage,
        outcome: Outcome,
        _: asyncio.Future[None],
    ) -> None:
        if isinstance(outcome, Refused):
            self._refuse(client, message, outcome)
        else:
            self._send_scores(client)  # tells the phone the name it got (made unique)

    def _forget_done(
        self,
        client: Client,
        message: ForgetMessage,
        outcome: Outcome,
        durable: asyncio.Future[None],
    ) -> None:
        if isinstance(outcome, Refused):
            self._refuse(client, message, outcome)
        elif client.participant is not None:
            durable.add_done_callback(partial(self._forgotten, client, client.participant))

    def _question(
        self, client: Client, participant: str, message: AskMessage | UpvoteMessage
    ) -> None:
        """Ask or upvote. Each is acknowledged once durable (an upvote without an id, from an
        older phone, only by the phone's own list, sent once durable: `_mine_durable`)."""
        if isinstance(message, UpvoteMessage):
            upvote = Upvote(participant, message.question, message.on)
            self.run(upvote, partial(self._upvoted, client, message))
            return
        qa = self.session.qa
        resent = qa.ask_ids.get(message.ask_id)
        now = asyncio.get_running_loop().time()
        if resent is None and self.session.qa_on and not self.ask_limiter.allow(participant, now):
            raise Refused("too_fast", "one question every ten seconds, please; wait a moment")
        ask = Ask(participant, message.ask_id, message.text, message.name, self.clock())
        self.run(ask, partial(self._asked, client, message))

    def _asked(
        self,
        client: Client,
        message: AskMessage,
        outcome: Outcome,
        durable: asyncio.Future[None],
    ) -> None:
        # A resend (no events) is acknowledged once the original is durable: the log gives it
        # a future behind everything before it.
        if isinstance(outcome, Refused):
            self._refuse(client, message, outcome)
            return
        question = self.session.qa.ask_ids[message.ask_id]
        ack = Frame(AskAck(ask_id=message.ask_id, question=question).model_dump_json())
        durable.add_done_callback(partial(_acknowledge, client, ack))

    def _upvoted(
        self,
        client: Client,
        message: UpvoteMessage,
        outcome: Outcome,
        durable: asyncio.Future[None],
    ) -> None:
        # A resend (no events: the upvote already holds) is acknowledged too, once the
        # original is durable: the log gives it a future behind everything before it.
        if isinstance(outcome, Refused):
            self._refuse(client, message, outcome)
            return
        if message.upvote_id is None:
            return
        ack = UpvoteAck(upvote_id=message.upvote_id, question=message.question, on=message.on)
        durable.add_done_callback(partial(_acknowledge, client, Frame(ack.model_dump_json())))

    def _limit_text(self, participant: str, poll: str, given: object, vote_id: str) -> None:
        """Refuse a text answer (words, an open answer) beyond this participant's rate. A
        resend of one already taken is not a new answer and always goes through."""
        if not isinstance(given, str | list):
            return  # an option or a scale point: one a poll, nothing to flood a screen with
        state = self.session.polls.get(poll)
        if state is not None and vote_id in state.vote_ids:
            return
        if not self.text_limiter.allow(participant, asyncio.get_running_loop().time()):
            raise Refused("too_fast", "you are sending answers too fast; wait a moment")

    def start(self) -> None:
        """Once the loop runs: timed polls left open by the last run close at their deadline."""
        for poll in self.session.polls:
            self._arm_timer(poll)

    def _arm_timer(self, poll: str) -> None:
        state = self.session.polls.get(poll)
        deadline = state.deadline if state is not None else None
        if state is None or deadline is None or state.status is not PollStatus.OPEN:
            return
        loop = asyncio.get_running_loop()
        loop.call_later(max(0.0, deadline - self.clock()), self._time_up, poll, state.opened_at)

    def _time_up(self, poll: str, opened_at: float | None) -> None:
        # The server's clock decides: voting closes by itself, unless it was closed (and maybe
        # opened again, with a new deadline) meanwhile.
        state = self.session.polls.get(poll)
        if state is not None and state.status is PollStatus.OPEN and state.opened_at == opened_at:
            self.run(ClosePoll(poll))

    def run(self, command: Command | Deferred, then: Then | None = None) -> None:
        """Submit a command to the log, which applies it (here at once; with Redis once it
        comes back in order) and tells `then` its events or refusal, with the future that
        resolves when it is durable (what a vote's acknowledgement waits for)."""
        self.log.submit(command, then)

    def resolve(self, deferred: Deferred) -> Command:
        """A presenter's message as the command it means now (called by the log)."""
        return presenter_command(self.session, deferred.message, deferred.now)

    def apply_command(self, command: Command) -> list[Event]:
        """Apply to this room's copy of the session (called by the log, in log order)."""
        if isinstance(command, Ask | Upvote):  # its own list must not run ahead of the disk
            self.questions.before_change(command.participant)
        return self.session.apply(command)

    def applied(self, command: Command, events: list[Event], durable: asyncio.Future[None]) -> None:
        """Fan out what a command changed, at once: phones need not wait for the disk to see a
        slide, only acknowledgements promise durability."""
        self._standings = None
        if isinstance(command, OpenPoll):
            self._arm_timer(command.poll)
        # Anything logged later (a vote) is durable only after this is.
        self._fan_out(events)
        for event in events:
            if isinstance(event, QuestionsChanged):
                # A phone's own list is its acknowledgement: sent once the change is durable,
                # as it was right after this change (later ones may not be durable yet).
                own = self.questions.changed(event.participants)
                if durable.done():  # already (another worker's entry, read back from Redis)
                    self._mine_durable(own, durable)
                else:
                    durable.add_done_callback(partial(self._mine_durable, own))
        durable.add_done_callback(_log_failure)

    def _forgotten(self, client: Client, participant: str, durable: asyncio.Future[None]) -> None:
        # Once the deletion is logged, the texts logged before it are overwritten too: a
        # replay then finds placeholders, and the deletion after them.
        if durable.cancelled() or durable.exception() is not None:
            return
        try:
            self.log.redact(participant)
        except Exception:  # the deletion stands in the session; say so, keep serving
            _LOG.exception("could not overwrite a participant's texts in the log")
        client.reply(Frame(ForgottenMessage().model_dump_json()))

    def _mine_durable(self, own: dict[str, Own], durable: asyncio.Future[None]) -> None:
        if not durable.cancelled() and durable.exception() is None:
            self.questions.settle(own)

    # Deck edits.

    def edit_deck(self, deck: Deck, text: str) -> None:
        """Serve a saved deck on every copy of the session (through the log)."""
        self.log.edit_deck(deck, text)

    def reload(self, deck: Deck) -> ReloadReport:
        """Serve an edited deck, keeping matching polls' state; tell the presenter what changed."""
        report = self.session.reload(deck)
        self._standings = None
        self.views.refresh()
        self.tallies.forget()
        self.questions.forget()
        self.publish_state()
        details = [f"poll {pid!r} changed" for pid in report.changed]
        details += [
            f"poll {pid!r} is gone from the deck (its votes are kept)" for pid in report.vanished
        ]
        details += [f"poll {pid!r} is new" for pid in report.added]
        self.notify("info", f"deck reloaded: {len(deck.slides)} slides", details)
        return report

    def deck_broken(self, problems: list[str]) -> None:
        """The saved deck has errors: keep the last good one and show the presenters why (on
        every worker: the log carries it)."""
        self.log.deck_refused(problems)

    def show_deck_problems(self, problems: list[str]) -> None:
        """Tell this room's presenters why a saved deck was refused (called by the log)."""
        self.notify(
            "error", "the saved deck has errors; still showing the last good version", problems
        )

    def notify(
        self, level: Literal["info", "warning", "error"], message: str, details: list[str]
    ) -> None:
        """Send the presenters a notice (an error one stays until the next notice)."""
        frame = Frame(
            NoticeMessage(level=level, message=message, details=details).model_dump_json()
        )
        self._notice = frame if level == "error" else None
        self.hub.broadcast(("presenter",), "notice", frame)

    def link(self, reachable: bool) -> None:
        """Tell every screen whether the shared log is reachable: while it is not, each
        page's indicator says "reconnecting" (nothing is acknowledged meanwhile)."""
        frame = Frame(LinkMessage(status="back" if reachable else "away").model_dump_json())
        self._away = None if reachable else frame
        self.hub.broadcast(ROLES, "link", frame)

    # Fan-out.

    def _fan_out(self, events: list[Event]) -> None:
        restate = False
        for event in events:
            match event:
                case TallyChanged(poll):
                    self.tallies.mark(poll)
                case PollChanged(poll):
                    restate = True
                    self.tallies.mark(poll)
                case SlideChanged() | DisplayChanged():
                    restate = True
                case ParticipantJoined():
                    self.tallies.mark_presence()
                case NicknameSet():
                    restate = restate or self._on_leaderboard()
                case QuestionsChanged():
                    self.questions.mark()
                case Forgotten():
                    pass  # the polls and questions it changed come as their own events
                case VoteCast():
                    pass
                case _:
                    assert_never(event)
        if restate:
            self.publish_state()
            if self._on_leaderboard():
                self._send_scores()

    def _on_leaderboard(self) -> bool:
        session = self.session
        return session.deck.slides[session.position].kind is SlideKind.LEADERBOARD

    def _send_scores(self, only: Client | None = None) -> None:
        """Tell each phone (or one) its own quiz standing: a small frame each."""
        session = self.session
        if self._standings is None:
            self._standings = {s.participant: s for s in session.standings()}
        table = self._standings
        clients = [only] if only is not None else list(self.hub.clients["audience"])
        for client in clients:
            who = client.participant
            if who is None:
                continue
            standing = table.get(who)
            message = ScoreMessage(
                name=session.nicknames.get(who),
                score=standing.score if standing else 0,
                rank=standing.rank if standing else None,
                players=len(table),
            )
            client.offer("score", Frame(message.model_dump_json()))

    def publish_state(self) -> None:
        """Send every client its role's view, encoded once per role; unchanged views are not
        sent again (a phone does not need to hear that the join instructions were toggled)."""
        previous, self._state_frames = self._state_frames, {}
        for role in ROLES:
            if role == "moderator":
                continue  # moderators get the questions, never the slides
            frame = self._state_frame(role)
            old = previous.get(role)
            if old is not None and old.text == frame.text:
                self._state_frames[role] = old
                continue
            self.hub.broadcast((role,), "state", frame)
        poll = self.session.current_poll
        if poll is not None:
            self.tallies.mark(poll.poll.id)

    def _state_frame(self, role: Role) -> Frame:
        frame = self._state_frames.get(role)
        if frame is None:
            frame = Frame(StateMessage(state=self.views.state(role)).model_dump_json())
            self._state_frames[role] = frame
        return frame
