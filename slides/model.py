"""The typed deck model the parser produces and the server and clients consume."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from slides.polls import Poll


class SlideKind(StrEnum):
    """What a slide is, chosen by `layout:` or inferred from its content."""

    TITLE = "title"
    STATEMENT = "statement"
    BULLETS = "bullets"
    NUMBERED = "numbered"
    QUOTE = "quote"
    GRID = "grid"
    STEPS = "steps"
    LINK = "link"
    IMAGE = "image"
    POLL = "poll"
    # The quiz's standings: the top ten on the projector, each phone its own score and rank.
    LEADERBOARD = "leaderboard"
    # The audience's questions: the pinned one, or the top approved ones.
    QUESTIONS = "questions"
    CONTENT = "content"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cell(_Frozen):
    """One cell of a grid or one rung of a steps ladder: a heading and its sanitised HTML."""

    heading: str
    html: str


class Decor(_Frozen):
    """What Marp shows around a slide's content: a header and a footer line (sanitised inline
    HTML), its page number, and its text and background colours (validated CSS colours, both
    or neither)."""

    header: str | None = None
    footer: str | None = None
    paginate: bool = False
    background: str | None = None
    color: str | None = None


class Slide(_Frozen):
    """One slide: its kind, its sanitised HTML body, plain text, notes and kind-specific parts."""

    index: int
    id: str
    kind: SlideKind
    line: int
    title: str | None = None
    html: str = ""
    text: str = ""
    notes: str = ""
    poll: Poll | None = None
    cells: list[Cell] = Field(default_factory=list)
    url: str | None = None
    image: str | None = None
    decor: Decor | None = None


class QaSettings(_Frozen):
    """Q&A for the whole talk: `before` holds every question until a moderator approves it,
    `after` shows it at once (a moderator can still dismiss it); `anonymous` takes no names."""

    moderation: Literal["before", "after"] = "before"
    anonymous: bool = False


class DeckMeta(_Frozen):
    """The deck's front matter."""

    title: str | None = None
    author: str | None = None
    event: str | None = None
    date: str | None = None
    # Every choice question with a correct answer is scored, with a leaderboard.
    quiz: bool = False
    # Kahoot's answer streak bonus: points per correct answer in a row before a correct one
    # (at most five of them); None: no bonus.
    streak: int | None = None
    nicknames: Literal["off", "optional", "required"] = "off"
    # None: this talk takes no questions.
    qa: QaSettings | None = None
    # The data notice: the presenter's own words, and days the data is kept (None: until
    # someone deletes it).
    privacy: str | None = None
    retention_days: int | None = None
    # The deck's language (BCP 47) and direction, for `<html lang dir>` on every screen.
    lang: str = "en"
    dir: Literal["ltr", "rtl"] = "ltr"
    # The opening title slide shows how to join (QR code and room code) on the display.
    join_on_title: bool = True


class Deck(_Frozen):
    """A parsed deck: metadata, slides in order, and any warnings worth showing."""

    meta: DeckMeta
    slides: list[Slide]
    warnings: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        """How big the deck is, as people say it: "30 slides, 1 poll"."""
        polls = sum(1 for slide in self.slides if slide.poll is not None)
        return f"{_count(len(self.slides), 'slide')}, {_count(polls, 'poll')}"

    def poll(self, poll_id: str) -> Poll | None:
        """The poll with this id, or None."""
        for slide in self.slides:
            if slide.poll is not None and slide.poll.id == poll_id:
                return slide.poll
        return None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
