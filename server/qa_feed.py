"""The Q&A on the wire: what each role and each phone receives, encoded once, coalesced.

A big room must not send every phone the whole list on every upvote. Every role gets one
`questions` frame (phones and the display: the top 20 and the pinned one), built at most every
`interval` and sent only when its bytes changed, so an upvote far down the list sends phones
nothing. Each phone also gets `my_questions` (its own questions and upvotes) when those
changed, and only once the change is durable. That list names only durable questions and
upvotes: an older phone (no `upvote_id`) takes an upvote named there as acknowledged, so while
a newer change is in flight, the list is the one as of the last durable change.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from server.frames import Frame
from server.hub import ROLES, SPREAD_SHARE, Client, Hub
from server.protocol import MyQuestionsMessage, QuestionItem, QuestionsMessage, Role
from server.qa import QUEUE, TOP, Question
from server.session import Session
from server.text import mask

# Own lists built and written per turn of the event loop: ~25-30 µs each (half of it the
# socket write), and a busy second can change a thousand of them; acknowledgements go out
# between chunks. (100 a chunk held the loop 2.5-4.5 ms each, measured 2026-12-08.)
MINE_CHUNK = 30
# The role whose `questions` frame each role shares: what `questions_message` tells apart.
_VIEWS: dict[Role, Role] = {
    "audience": "audience",
    "display": "audience",
    "presenter": "presenter",
    "moderator": "presenter",
}


@dataclass(frozen=True, slots=True)
class Own:
    """Which questions a participant asked and upvotes, at one point of the log."""

    asked: tuple[str, ...]
    upvoted: tuple[str, ...]


def own_of(session: Session, participant: str) -> Own:
    """A participant's own questions and upvotes now."""
    qa = session.qa
    return Own(tuple(qa.asked.get(participant, ())), tuple(qa.upvoted_by(participant)))


def question_item(question: Question, *, asker: bool = False) -> QuestionItem:
    """A question for the wire: listed words masked; for its asker, dismissed reads pending
    (the asker is not told)."""
    state = question.state
    if asker and state == "dismissed":
        state = "pending"
    name = mask(question.name) if question.name else None
    return QuestionItem(
        id=question.id, text=mask(question.text), name=name, votes=question.votes, state=state
    )


def questions_message(
    session: Session, role: Role, ranked: list[Question] | None = None
) -> QuestionsMessage:
    """The Q&A this role may see: phones and the display only approved or answered
    questions; the presenter and moderators also the queue of pending ones. `ranked`: the
    session's `qa.ranked()`, if the caller has it already."""
    qa = session.qa
    ranked = qa.ranked() if ranked is None else ranked
    pinned = qa.questions.get(qa.pinned) if qa.pinned is not None else None
    if role not in ("presenter", "moderator"):
        return QuestionsMessage(
            top=[question_item(q) for q in ranked[:TOP]],
            pinned=question_item(pinned) if pinned is not None else None,
            approved=len(ranked),
        )
    pending = qa.pending()
    return QuestionsMessage(
        top=[question_item(q) for q in ranked[:QUEUE]],
        pinned=question_item(pinned) if pinned is not None else None,
        approved=len(ranked),
        pending=[question_item(q) for q in pending[:QUEUE]],
        waiting=len(pending),
        on=session.qa_on,
    )


def my_questions(session: Session, participant: str) -> MyQuestionsMessage:
    """One phone's own questions and upvotes."""
    qa = session.qa
    return MyQuestionsMessage(
        asked=[question_item(q, asker=True) for q in qa.asked_by(participant)],
        upvoted=qa.upvoted_by(participant),
    )


class QuestionsFeed:
    """Which parts of the Q&A changed, and when to send them; the room marks, this flushes."""

    def __init__(self, session: Session, hub: Hub, interval: float) -> None:
        self.session = session
        self.hub = hub
        self.interval = interval
        self._sent: dict[Role, Frame] = {}
        # Per view (`_VIEWS`), not per role: phones and the display see the same list, the
        # presenter and moderators the same queue, so each is built and encoded once.
        self._frames: dict[Role, Frame] = {}
        self._ranked: list[Question] | None = None  # the ranking the frames were built from
        self._dirty = False
        self._mine: set[str] = set()
        # Participants with a change to their own list not yet durable (how many), and their
        # list as of their last durable change; the rest are durable as the session has them.
        self._unsettled: Counter[str] = Counter()
        self._durable: dict[str, Own] = {}
        self._flush_at = 0.0
        self._handle: asyncio.TimerHandle | None = None

    def frame(self, role: Role) -> Frame:
        """This role's `questions` frame, encoded once per change."""
        view = _VIEWS[role]
        frame = self._frames.get(view)
        if frame is None:
            if self._ranked is None:  # sorted once for every view of this change
                self._ranked = self.session.qa.ranked()
            message = questions_message(self.session, view, self._ranked)
            frame = self._frames[view] = Frame(message.model_dump_json(exclude_none=True))
        return frame

    def mine(self, participant: str) -> Frame:
        """One phone's `my_questions` frame: what of its own is durable."""
        own = self._durable.get(participant)
        if own is None:
            return Frame(my_questions(self.session, participant).model_dump_json())
        questions = self.session.qa.questions
        message = MyQuestionsMessage(
            asked=[question_item(questions[q], asker=True) for q in own.asked if q in questions],
            upvoted=[q for q in own.upvoted if q in questions],
        )
        return Frame(message.model_dump_json())

    def before_change(self, participant: str) -> None:
        """A participant's own command is about to be applied: until it is durable, its list
        stays as it is now (durable: what was applied before is durable first)."""
        if participant not in self._durable:
            self._durable[participant] = own_of(self.session, participant)

    def changed(self, participants: tuple[str, ...]) -> dict[str, Own]:
        """These participants' lists just changed: their lists now, to settle once durable."""
        own = {who: own_of(self.session, who) for who in participants}  # once each
        self._unsettled.update(own.keys())
        return own

    def settle(self, own: dict[str, Own]) -> None:
        """A change is durable (in log order): its lists are what phones may be told."""
        for who, listed in own.items():
            self._unsettled[who] -= 1
            if self._unsettled[who] <= 0:  # nothing newer in flight: the session's own
                del self._unsettled[who]
                self._durable.pop(who, None)
            else:
                self._durable[who] = listed
        self.mark_mine(tuple(own))

    def mark(self) -> None:
        """The questions changed: rebuild the role frames soon."""
        self._frames.clear()
        self._ranked = None
        self._dirty = True
        self._schedule()

    def mark_mine(self, participants: tuple[str, ...]) -> None:
        """These phones' own lists changed (and the change is durable): send them soon."""
        self._mine.update(participants)
        self._schedule()

    def forget(self) -> None:
        """Drop the encoded frames (the deck changed) and send soon what now differs: an edit
        may turn the Q&A on or off (`on`), which a moderator hears only this way."""
        self.mark()

    def _schedule(self) -> None:
        if self._handle is not None:
            return
        loop = asyncio.get_running_loop()
        when = max(loop.time(), self._flush_at + self._interval())
        self._handle = loop.call_at(when, self._flush)

    def _interval(self) -> float:
        # Phones showing the list get it less often as the room grows, as tallies do.
        return max(self.interval, len(self.hub.clients["audience"]) / 5000)

    def _flush(self) -> None:
        self._handle = None
        self._flush_at = asyncio.get_running_loop().time()
        over = SPREAD_SHARE * self._interval()  # a steady trickle, not a burst (`Hub.spread`)
        if self._dirty:
            self._dirty = False
            for role in ROLES:
                frame = self.frame(role)
                sent = self._sent.get(role)
                if sent is not None and sent.text == frame.text:
                    continue  # e.g. an upvote below the top 20, or a question still pending
                self._sent[role] = frame
                self.hub.spread((role,), "questions", frame, over)
        if self._mine:
            wanted, self._mine = self._mine, set()
            # On the next turn, not in this one: the lists above were just built and spread,
            # and acknowledgements due meanwhile go out in between.
            asyncio.get_running_loop().call_soon(self._start_mine, wanted, over)

    def _start_mine(self, wanted: set[str], over: float) -> None:
        """Send these participants' phones their own lists, in chunks spread over `over`."""
        clients = [c for c in self.hub.clients["audience"] if c.participant in wanted]
        if clients:  # whoever changed may have left meanwhile
            self._send_mine(clients, 0, over / -(-len(clients) // MINE_CHUNK))

    def _send_mine(self, clients: list[Client], start: int, gap: float) -> None:
        """Send these phones their own lists, `MINE_CHUNK` at a time, `gap` seconds apart."""
        end = start + MINE_CHUNK
        frames: dict[str, Frame] = {}
        for client in clients[start:end]:
            who = client.participant
            if who is None or client.closed:
                continue
            if who not in frames:
                frames[who] = self.mine(who)
            client.offer("my_questions", frames[who])
        if end < len(clients):
            asyncio.get_running_loop().call_later(gap, self._send_mine, clients, end, gap)
