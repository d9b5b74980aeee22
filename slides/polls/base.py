"""What every poll kind shares in the deck: the common fields, and what a kind's parser is given."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:  # slides.blocks needs slides.model, which needs the poll kinds
    from slides.blocks import Block

M = TypeVar("M", bound=BaseModel)
_SOURCE = re.compile(r"^source:\s*", re.IGNORECASE)


class PollBase(BaseModel):
    """Fields of every poll, whatever its kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    question: str
    source: str | None = None
    results: Literal["live", "hidden"] = "live"
    # Seconds from opening until voting closes by itself (the server's clock decides).
    timer: float | None = None


class KindSettings(BaseModel):
    """The `poll:` keys every kind accepts besides `id` and `type`; kinds add their own."""

    model_config = ConfigDict(extra="forbid")

    results: Literal["live", "hidden"] | None = None
    timer: float | None = Field(default=None, gt=0, le=3600)


@dataclass
class PollSource:
    """A poll slide as its kind's parser sees it: the blocks, the `poll:` settings and helpers
    to report problems at the right line and to render what is left of the slide."""

    line: int
    blocks: list[Block]
    settings: dict[str, Any]
    defaults: dict[str, Any]
    error: Callable[[int, str], None]
    key_line: Callable[[str], int]
    render: Callable[[list[Block]], str]
    quiz: bool = False
    # Filled by the kind: the slide's title, HTML (what the kind does not use) and plain text.
    title: str | None = None
    html: str = ""
    text: str = ""
    used: list[Block] = field(default_factory=list)

    def question(self) -> Block | None:
        """The first heading: every kind's question."""
        return next((b for b in self.blocks if b.type == "heading"), None)

    def validate(self, model: type[M]) -> M | None:
        """The `poll:` settings read into a kind's settings model; problems at their key's line."""
        try:
            return model.model_validate(self.settings)
        except ValidationError as failure:
            for detail in failure.errors():
                where = [str(part) for part in detail["loc"]]
                name = "poll." + ".".join(where)
                if detail["type"] == "extra_forbidden":
                    message = f"unknown slide option {name!r}"
                else:
                    text = str(detail["msg"]).removeprefix("Value error, ")
                    message = f"{name}: {text}"
                self.error(self.key_line(where[0] if where else ""), message)
            return None

    def pick(self, value: Any, key: str, default: Any) -> Any:
        """A slide's own setting, else the deck's default, else the built-in one."""
        if value is not None:
            return value
        fallback = self.defaults.get(key)
        return fallback if fallback is not None else default

    def source(self) -> str | None:
        """A `Source: …` paragraph, if the slide cites one (it is then not part of the HTML)."""
        block = next(
            (b for b in self.blocks if b.type == "paragraph" and _SOURCE.match(b.text)), None
        )
        if block is None:
            return None
        self.used.append(block)
        return _SOURCE.sub("", block.text)

    def finish(self, question: Block, extra_text: list[str], source: str | None) -> None:
        """Set the title, the text and the HTML of whatever blocks the kind did not use."""
        self.title = question.text
        cited = [f"Source: {source}"] if source else []
        self.text = "\n".join([question.text, *extra_text, *cited])
        used = [question, *self.used]
        self.html = self.render([b for b in self.blocks if b not in used])

    def needs_question(self) -> Block | None:
        """The question heading, or an error saying one is needed."""
        question = self.question()
        if question is None:
            self.error(self.line, "a poll needs its question as a heading")
        return question
