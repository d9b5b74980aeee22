"""The Q&A on the wire: what each role and each phone receives, encoded once, coalesced.

A big room must not send every phone the whole list on every upvote. Every role gets one
`questions` frame (phones and the display: the top 20 and the pinned one), built at most every
`interval` and sent only when its bytes changed, so an upvote far down the list sends phones
nothing. Each phone also gets `my_questions` (its own questions and upvotes) when those
changed, and only once the change is durable.
"""

from __future__ import annotations

import asyncio

from server.frames import Frame
from server.hub import ROLES, SPREAD_SHARE, Client, Hub
from server.protocol import MyQuestionsMessage, QuestionItem, QuestionsMessage, Role
from server.qa import QUEUE, TOP, Question
from server.session import Session
from server.text import mask

# Own lists built per turn of the event loop: each is a few tens of microseconds, and a busy
# second can change a thousand of them; acknowledgements go out between chunks.
MINE_CHUNK = 100


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


def questions_message(session: Session, role: Role) -> QuestionsMessage:
    """The Q&A this role may see: phones and the display only approved or answered
    questions; the presenter and moderators also the queue of pending ones."""
    qa = session.qa
    ranked = qa.ranked()
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
        self._frames: dict[Role, Frame] = {}
        self._dirty = False
        self._mine: set[str] = set()
        self._flush_at = 0.0
        self._handle: asyncio.TimerHandle | None = None

    def frame(self, role: Role) -> Frame:
        """This role's `questions` frame, encoded once per change."""
        frame = self._frames.get(role)
        if frame is None:
            message = questions_message(self.session, role)
            frame = self._frames[role] = Frame(message.model_dump_json(exclude_none=True))
        return frame

    def mine(self, participant: str) -> Frame:
        """One phone's `my_questions` frame."""
        return Frame(my_questions(self.session, participant).model_dump_json())

    def mark(self) -> None:
        """The questions changed: rebuild the role frames soon."""
        self._frames.clear()
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
