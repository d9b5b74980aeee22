"""A session's results from its stored log: per poll counts, and anonymised individual votes."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from server.commands import Join, ResetPoll, Vote
from server.qa import rank_key
from server.session import Session
from server.sqlite_store import SessionRow, SQLiteStore
from slides import DeckError, DeckMeta, parse_deck


class OptionResult(BaseModel):
    """One row of a poll's results: an option, a scale point, a word or an answer."""

    index: int
    key: str
    text: str
    votes: int
    percentage: float
    correct: bool
    hidden: bool = False
    # A typed item's moderation (an idea: shown, pending, hidden or merged into another).
    state: str | None = None


class PollResult(BaseModel):
    """One poll's final results."""

    id: str
    type: str
    question: str
    source: str | None
    voters: int
    turnout: float
    options: list[OptionResult]
    mean: float | None = None
    median: float | None = None


class VoteRow(BaseModel):
    """A participant's final vote in a poll, under an anonymous id."""

    poll: str
    participant: str
    option: int | None
    answer: int | str | list[str] | None
    text: str | None
    at: str


class QuestionRow(BaseModel):
    """A question from the talk's Q&A, its asker under an anonymous id, with its moderation."""

    id: str
    text: str
    name: str | None
    votes: int
    state: str
    pinned: bool
    participant: str
    at: str


class SessionInfo(BaseModel):
    """What a stored session was."""

    id: int
    title: str | None
    deck_path: str
    room: str
    started_at: str
    ended_at: str | None
    participants: int


class Results(BaseModel):
    """Everything a presenter takes home from a talk."""

    session: SessionInfo
    polls: list[PollResult]
    votes: list[VoteRow]
    questions: list[QuestionRow] = []
    # The deck's language and direction, so the results read as the slides did.
    lang: str = "en"
    dir: Literal["ltr", "rtl"] = "ltr"


def iso(timestamp: float) -> str:
    """A UTC timestamp, ISO 8601, to the millisecond."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


def anonymise(session_id: int, participant: str) -> str:
    """A stable pseudonym: the same person has the same id within a session's export."""
    digest = hashlib.sha256(f"{session_id}:{participant}".encode()).hexdigest()
    return f"p-{digest[:10]}"


def session_info(row: SessionRow, participants: int) -> SessionInfo:
    """A stored session's description."""
    return SessionInfo(
        id=row.id,
        title=row.title,
        deck_path=row.deck_path,
        room=row.room,
        started_at=iso(row.started_at),
        ended_at=iso(row.ended_at) if row.ended_at else None,
        participants=participants,
    )


def compute(store: SQLiteStore, row: SessionRow) -> Results:
    """Replay a session's log over the deck it ran and tally what the room said."""
    records = store.commands(row.id)
    try:
        deck = parse_deck(row.deck_text, row.deck_path)
    except DeckError:  # stored decks parsed when stored; a newer parser may disagree
        deck = None
    polls: list[PollResult] = []
    participants = {c.participant for c, _ in records if isinstance(c, Join)}
    session = Session(deck) if deck is not None else None
    if session is not None:
        session.restore(records)
        for state in session.polls.values():
            rows = state.answers.rows()
            total = sum(r.count for r in rows if not r.hidden)
            options = [
                OptionResult(
                    index=i,
                    key=r.key,
                    text=r.text,
                    votes=r.count,
                    percentage=round(100 * r.count / total, 1) if total and not r.hidden else 0.0,
                    correct=r.correct,
                    hidden=r.hidden,
                    state=r.state,
                )
                for i, r in enumerate(rows)
            ]
            turnout = round(100 * state.voters / len(participants), 1) if participants else 0.0
            polls.append(
                PollResult(
                    id=state.poll.id,
                    type=state.poll.type,
                    question=state.poll.question,
                    source=state.poll.source,
                    voters=state.voters,
                    turnout=turnout,
                    options=options,
                    **state.answers.summary(),
                )
            )
    # Each person's last vote per poll, from the raw log, so no vote is dropped even for a poll
    # that has since left the deck; what they hold now (all their words, say) from the session.
    final: dict[tuple[str, str], Vote] = {}
    for command, _ in records:
        if isinstance(command, Vote):
            final[(command.poll, command.participant)] = command
        elif isinstance(command, ResetPoll):
            final = {key: vote for key, vote in final.items() if key[0] != command.poll}
    votes: list[VoteRow] = []
    for vote in sorted(final.values(), key=lambda v: v.at):
        held = session.polls.get(vote.poll) if session is not None else None
        answer = held.answers.mine(vote.participant) if held is not None else vote.answer
        if answer is None:  # refused when it was replayed: never counted
            continue
        choice = isinstance(answer, int) and (held is None or held.poll.type == "choice")
        votes.append(
            VoteRow(
                poll=vote.poll,
                participant=anonymise(row.id, vote.participant),
                option=answer if choice and isinstance(answer, int) else None,
                answer=answer,
                text=held.answers.describe(answer) if held is not None else None,
                at=iso(vote.at),
            )
        )
    questions: list[QuestionRow] = []
    if session is not None:
        qa = session.qa
        # Every question, whatever became of it, most upvoted first (as the room saw them).
        for question in sorted(qa.questions.values(), key=rank_key):
            questions.append(
                QuestionRow(
                    id=question.id,
                    text=question.text,
                    name=question.name,
                    votes=question.votes,
                    state=question.state,
                    pinned=qa.pinned == question.id,
                    participant=anonymise(row.id, question.participant),
                    at=iso(question.at),
                )
            )
    meta = deck.meta if deck is not None else DeckMeta()
    return Results(
        session=session_info(row, len(participants)),
        polls=polls,
        votes=votes,
        questions=questions,
        lang=meta.lang,
        dir=meta.dir,
    )


CSV_COLUMNS = [
    "poll", "type", "question", "source", "voters", "turnout", "mean", "median",
    "option", "text", "votes", "percentage", "correct", "hidden", "state",
]  # fmt: skip


def to_csv(results: Results) -> str:
    """One table, one header, as spreadsheets expect: a row per option (scale point, word or
    answer), with its poll's columns repeated on each. Individual votes: `votes_csv`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for poll in results.polls:
        summary = [poll.id, poll.type, poll.question, poll.source or "", poll.voters, poll.turnout,
                   "" if poll.mean is None else poll.mean,
                   "" if poll.median is None else poll.median]  # fmt: skip
        for option in poll.options:
            writer.writerow(
                [*summary, option.index, option.text, option.votes, option.percentage,
                 "yes" if option.correct else "no", "yes" if option.hidden else "no",
                 option.state or ""]
            )  # fmt: skip
    return out.getvalue()


def votes_csv(results: Results) -> str:
    """Each person's final answer per poll, one row each, under an anonymous id."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["poll", "participant", "option", "text", "at"])
    for vote in results.votes:
        chosen = "" if vote.option is None else vote.option
        writer.writerow([vote.poll, vote.participant, chosen, vote.text or "", vote.at])
    return out.getvalue()


def questions_csv(results: Results) -> str:
    """Every question from the room, one row each with its moderation, askers anonymised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["question", "text", "name", "upvotes", "state", "pinned", "participant", "at"])
    for q in results.questions:
        writer.writerow(
            [q.id, q.text, q.name or "", q.votes, q.state, "yes" if q.pinned else "no",
             q.participant, q.at]
        )  # fmt: skip
    return out.getvalue()


# The CSV tables, by the name of their file: one table and one header each.
CSV_TABLES: dict[str, Callable[[Results], str]] = {
    "csv": to_csv,
    "votes.csv": votes_csv,
    "questions.csv": questions_csv,
}


def load(data_dir: Path, session_id: int | None) -> Results:
    """Results of one session in a data folder (default: the newest). LookupError if none."""
    path = data_dir / "handsup.db"
    if not path.exists():
        raise LookupError(f"no handsup data in {data_dir}")
    store = SQLiteStore(path)
    try:
        rows = store.sessions()
        row = next((r for r in rows if session_id in (None, r.id)), None)
        if row is None:
            raise LookupError(
                f"no session {session_id} in {data_dir}" if session_id else "no sessions"
            )
        return compute(store, row)
    finally:
        store.close_reader()
