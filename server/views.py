"""What each role may see of a session, as typed wire models (no counts: those go in tallies)."""

from __future__ import annotations

from typing import Any

from server.privacy import notice
from server.protocol import (
    AudienceState,
    DisplayState,
    JoinView,
    LeaderboardView,
    LeaderRow,
    OutlineItem,
    PollView,
    PresenterState,
    PrivacyView,
    QaView,
    Role,
    SlideView,
    StateView,
)
from server.session import PollState, PollStatus, Session
from server.text import mask
from slides import ChoicePoll, Slide, SlideKind

LEADERBOARD_TOP = 10


def slide_view(slide: Slide) -> SlideView:
    """The public face of a slide: no speaker notes, no correct answer (it waits for the
    reveal, and comes in the poll's status)."""
    poll = slide.poll
    if isinstance(poll, ChoicePoll) and poll.correct is not None:
        poll = poll.model_copy(update={"correct": None})
    return SlideView(
        index=slide.index,
        id=slide.id,
        kind=slide.kind,
        title=slide.title,
        html=slide.html,
        cells=list(slide.cells) or None,
        url=slide.url,
        image=slide.image,
        poll=poll,
        decor=slide.decor,
    )


def tally_visible(role: Role, state: PollState) -> bool:
    """Whether this role sees a poll's counts now: presenter always, display when live or shown."""
    if role == "presenter":
        return True
    if role == "display":
        return state.revealed or state.poll.results == "live"
    return state.revealed or state.answers.listed


def poll_view(role: Role, state: PollState) -> PollView:
    """A poll's status for this role; the correct answer once revealed (presenter: always)."""
    show_correct = role == "presenter" or state.revealed
    return PollView(
        id=state.poll.id,
        type=state.poll.type,
        status=state.status.value,
        revealed=state.revealed,
        change_vote=getattr(state.poll, "change_vote", False),
        results=state.poll.results,
        counts_visible=tally_visible(role, state),
        correct=getattr(state.poll, "correct", None) if show_correct else None,
        deadline=state.deadline if state.status is PollStatus.OPEN else None,
    )


def leaderboard_view(session: Session) -> LeaderboardView:
    """The quiz's top ten (ties share a rank) and how many played."""
    table = session.standings()
    return LeaderboardView(
        players=len(table),
        top=[
            LeaderRow(rank=s.rank, name=mask(session.name_of(s.participant)), score=s.score)
            for s in table[:LEADERBOARD_TOP]
        ],
    )


def qa_view(session: Session) -> QaView | None:
    """The talk's Q&A settings and the display's overlay, if the talk takes questions."""
    settings = session.deck.meta.qa
    if settings is None:
        return None
    return QaView(
        moderation=settings.moderation,
        anonymous=settings.anonymous,
        overlay=session.questions_overlay,
    )


class Views:
    """Builds role views for one deck, with the slides' public faces computed once."""

    def __init__(self, session: Session, join: JoinView) -> None:
        self.session = session
        self.join = join
        self.slides: list[SlideView] = []
        self.refresh()

    def refresh(self) -> None:
        """Recompute the slides' public faces (after the deck changed)."""
        self.slides = [slide_view(slide) for slide in self.session.deck.slides]

    def state(self, role: Role) -> StateView:
        """Everything `role` may see right now."""
        session = self.session
        current = session.current_poll
        on_board = session.deck.slides[session.position].kind is SlideKind.LEADERBOARD
        common: dict[str, Any] = {
            "position": session.position,
            "total": len(self.slides),
            "slide": self.slides[session.position],
            "poll": poll_view(role, current) if current else None,
            "blackout": session.blackout,
            "title": session.deck.meta.title,
            "leaderboard": leaderboard_view(session) if on_board else None,
            "qa": qa_view(session),
            "lang": session.deck.meta.lang,
            "dir": session.deck.meta.dir,
        }
        if role == "audience":
            meta = session.deck.meta
            privacy = PrivacyView(
                text=meta.privacy, notice=notice(meta), retention_days=meta.retention_days
            )
            return AudienceState(**common, nicknames=meta.nicknames, privacy=privacy)
        join = self.join.model_copy(
            update={"shown": session.join_info, "on_title": session.deck.meta.join_on_title}
        )
        if role == "display":
            return DisplayState(**common, join=join)
        deck = session.deck
        following = session.position + 1
        return PresenterState(
            **common,
            join=join,
            notes=deck.slides[session.position].notes,
            next=self.slides[following] if following < len(self.slides) else None,
            outline=[
                OutlineItem(index=s.index, kind=s.kind, title=s.title or s.text.split("\n")[0])
                for s in deck.slides
            ],
            polls={pid: poll_view(role, state) for pid, state in session.polls.items()},
        )
