"""What each role may see of a session, as JSON-ready dicts (no counts: those go in tallies)."""

from __future__ import annotations

from typing import Any

from server.protocol import Role
from server.session import PollState, PollStatus, Session
from slides import Slide, SlideKind

_NOT_IN_SLIDE = {"correct", "change_vote", "results"}


def slide_view(slide: Slide) -> dict[str, Any]:
    """The public face of a slide: no speaker notes, no correct answer."""
    view: dict[str, Any] = {
        "index": slide.index,
        "id": slide.id,
        "kind": slide.kind.value,
        "title": slide.title,
        "html": slide.html,
    }
    if slide.cells:
        view["cells"] = [cell.model_dump() for cell in slide.cells]
    if slide.url:
        view["url"] = slide.url
    if slide.image:
        view["image"] = slide.image
    if slide.poll:
        # Everything the deck says of the poll but what must wait: the correct answer, and the
        # settings the poll's status carries as they apply now.
        view["poll"] = slide.poll.model_dump(exclude=_NOT_IN_SLIDE)
    return view


def tally_visible(role: Role, state: PollState) -> bool:
    """Whether this role sees a poll's counts now: presenter always, display when live or shown."""
    if role == "presenter":
        return True
    if role == "display":
        return state.revealed or state.poll.results == "live"
    return state.revealed


def poll_view(role: Role, state: PollState) -> dict[str, Any]:
    """A poll's status for this role; the correct answer once revealed (presenter: always)."""
    show_correct = role == "presenter" or state.revealed
    open_now = state.status is PollStatus.OPEN
    return {
        "id": state.poll.id,
        "type": state.poll.type,
        "status": state.status.value,
        "revealed": state.revealed,
        "change_vote": getattr(state.poll, "change_vote", False),
        "results": state.poll.results,
        "counts_visible": tally_visible(role, state),
        "correct": getattr(state.poll, "correct", None) if show_correct else None,
        "deadline": state.deadline if open_now else None,
    }


LEADERBOARD_TOP = 10


def leaderboard_view(session: Session) -> dict[str, Any]:
    """The quiz's top ten (ties share a rank) and how many played."""
    table = session.standings()
    return {
        "players": len(table),
        "top": [
            {"rank": s.rank, "name": session.name_of(s.participant), "score": s.score}
            for s in table[:LEADERBOARD_TOP]
        ],
    }


class Views:
    """Builds role views for one deck, with the slides' public faces computed once."""

    def __init__(self, session: Session, join: dict[str, str | None]) -> None:
        self.session = session
        self.join = join
        self.slides: list[dict[str, Any]] = []
        self.refresh()

    def refresh(self) -> None:
        """Recompute the slides' public faces (after the deck changed)."""
        self.slides = [slide_view(slide) for slide in self.session.deck.slides]

    def state(self, role: Role) -> dict[str, Any]:
        """Everything `role` may see right now."""
        session = self.session
        poll = session.current_poll
        view: dict[str, Any] = {
            "position": session.position,
            "total": len(self.slides),
            "slide": self.slides[session.position],
            "poll": poll_view(role, poll) if poll else None,
            "blackout": session.blackout,
            "title": session.deck.meta.title,
        }
        if session.deck.slides[session.position].kind is SlideKind.LEADERBOARD:
            view["leaderboard"] = leaderboard_view(session)
        if role == "audience":
            view["nicknames"] = session.deck.meta.nicknames
        if role in ("display", "presenter"):
            view["join"] = {**self.join, "shown": session.join_info}
        if role == "presenter":
            deck = session.deck
            following = session.position + 1
            view["notes"] = deck.slides[session.position].notes
            view["next"] = self.slides[following] if following < len(self.slides) else None
            view["outline"] = [
                {"index": s.index, "kind": s.kind.value, "title": s.title or s.text.split("\n")[0]}
                for s in deck.slides
            ]
            view["polls"] = {pid: poll_view(role, state) for pid, state in session.polls.items()}
        return view
