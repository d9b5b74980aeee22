"""The YAML parts of a deck: deck front matter and per-slide options, validated by pydantic."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from slides import compat
from slides.errors import Problem
from slides.model import SlideKind
from slides.polls import PARSERS
from slides.split import Chunk

# libyaml's loader when PyYAML was built with it: several times faster. It reads a few inputs
# differently from the pure-Python loader (tabs after a value, flow collections with `?` or `:`
# inside, tags, block scalars, BOMs and control characters), so it only sees text without them.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)
_FAST_UNSAFE = re.compile(
    r"[^\n\x20-\x7e\u00a0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]|[!|>{}\[\]?]"
)
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# A BCP 47 language tag, loosely: a 2-3 letter language, then subtags (script, region...).
LANG_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
# Languages written right to left (ISO 639 codes); a deck in one of them mirrors by default.
RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"})
M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PollSettings(_Strict):
    """Poll settings a deck may default and a slide may override."""

    change_vote: bool | None = None
    results: Literal["live", "hidden"] | None = None
    moderation: Literal["after", "before"] | None = None


class PollOptions(BaseModel):
    """A slide's `poll:` block: its id and type; the rest is read by the poll's kind."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    type: str = "choice"

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in PARSERS:
            known = ", ".join(PARSERS)
            raise ValueError(f"poll type {value!r} is not supported (supported: {known})")
        return value

    def kind_settings(self) -> dict[str, Any]:
        """The keys this block sets besides `id` and `type`, for the kind to read."""
        return dict(self.model_extra or {})

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        return _check_id(value)


class SlideOptions(_Strict):
    """The option block that may open a slide."""

    layout: SlideKind | None = None
    id: str | None = None
    poll: PollOptions | None = None

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        return _check_id(value)


class Defaults(_Strict):
    """Deck-wide defaults."""

    poll: PollSettings = PollSettings()


class QaOptions(_Strict):
    """`qa:` in the front matter, as a mapping: when questions are moderated, and whether
    askers may give a name."""

    moderation: Literal["before", "after"] = "before"
    anonymous: bool = False


class QuizOptions(_Strict):
    """`quiz:` in the front matter, as a mapping: the quiz is on, with these settings."""

    # Points per correct answer in a row before this one (Kahoot's answer streak bonus);
    # None: no streak bonus.
    streak: int | None = Field(default=None, ge=1, le=10_000)


class FrontMatter(_Strict):
    """The deck's front matter."""

    title: str | None = None
    author: str | None = None
    event: str | None = None
    date: str | None = None
    # Every choice question with a correct option is scored: `quiz: true`, or its settings.
    quiz: bool | QuizOptions = False
    nicknames: Literal["off", "optional", "required"] = "off"
    # Q&A for the whole talk: `qa: true`, or its settings.
    qa: bool | QaOptions = False
    # What phones are told about the data, and how long it is kept (`30d`, `8w`).
    privacy: str | None = Field(default=None, max_length=2000)
    retention: str | None = Field(default=None, pattern=r"^[1-9][0-9]{0,4}[dw]$")
    lang: str = "en"
    dir: Literal["ltr", "rtl"] | None = None
    join_on_title: bool = True
    defaults: Defaults = Defaults()

    @field_validator("lang")
    @classmethod
    def _valid_lang(cls, value: str) -> str:
        if not LANG_PATTERN.match(value):
            raise ValueError(f"{value!r} is not a language tag such as en, fr-CA or ar")
        return value

    def quiz_on(self) -> bool:
        """Whether `quiz:` is on (`true` or a mapping of settings)."""
        return self.quiz is not False

    def streak(self) -> int | None:
        """The quiz's streak bonus step in points, if it has one."""
        return self.quiz.streak if isinstance(self.quiz, QuizOptions) else None

    def direction(self) -> Literal["ltr", "rtl"]:
        """`dir:` as written, else the direction the deck's language is written in."""
        if self.dir is not None:
            return self.dir
        return "rtl" if self.lang.split("-")[0].lower() in RTL_LANGUAGES else "ltr"

    @field_validator("date", mode="before")
    @classmethod
    def _date_as_text(cls, value: object) -> object:
        # YAML reads `date: 2009-04-01` as a date; keep what the author wrote, as text.
        if isinstance(value, datetime.date | int | float):
            return str(value)
        return value


def _check_id(value: str | None) -> str | None:
    if value is not None and not ID_PATTERN.match(value):
        raise ValueError(f"id {value!r} must be letters, digits, '-' or '_' (at most 64)")
    return value


def key_line(chunk: Chunk, key: object) -> int:
    """The line where a top-level or nested key is written, else the block's first line."""
    pattern = re.compile(rf"^\s*{re.escape(str(key))}\s*:")
    for offset, line in enumerate(chunk.lines):
        if pattern.match(line):
            return chunk.line + offset
    return chunk.line


def _load(text: str) -> object:
    if _FAST_LOADER is not None and not _FAST_UNSAFE.search(text):
        try:
            return yaml.load(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            # libyaml words errors differently and places some a line later; the pure-Python
            # loader's messages are the ones users see documented, so it reports the problem.
            pass
    return yaml.load(text, Loader=yaml.SafeLoader)


def _load_yaml(chunk: Chunk, file: str, problems: list[Problem]) -> dict[str, Any] | None:
    try:
        data = _load(chunk.text)
    except yaml.MarkedYAMLError as error:
        loose = _loose(chunk)
        if loose is not None and set(loose) <= compat.MARP:
            return loose
        mark = error.problem_mark or error.context_mark
        line = chunk.line + (mark.line if mark else 0)
        problems.append(Problem(file, line, f"bad YAML: {error.problem or error}"))
        return None
    except yaml.YAMLError as error:
        problems.append(Problem(file, chunk.line, f"bad YAML: {error}"))
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(file, chunk.line, "expected `key: value` lines"))
        return None
    return data


_HEADING = re.compile(r"^#{1,6} \S")
_LOOSE_LINE = re.compile(r"^([A-Za-z_$][\w$-]*)\s*:\s*(.*?)\s*$")


def _loose(chunk: Chunk) -> dict[str, Any] | None:
    """Flat `key: value` lines read as Marp reads them when YAML refuses them.

    Marp's loose YAML takes `header: ![logo](x.png)` or `footer: **bold**` as text; strict
    YAML stops at the `!` or `*`. Each value that YAML reads alone keeps that reading.
    """
    data: dict[str, Any] = {}
    for line in chunk.lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LOOSE_LINE.match(line)
        if match is None:
            return None
        key, value = match.groups()
        try:
            data[key] = yaml.safe_load(value) if value else None
        except yaml.YAMLError:
            data[key] = value.strip("'\"")
    return data


def _markdown_start(chunk: Chunk) -> int | None:
    """The line where a block's slide text seems to begin: after a blank line, not `key:`.

    A front matter or option block whose closing `---` is missing runs on into the slide;
    that text is then read as YAML and gives a confusing YAML or unknown-key message.
    Markdown headings look like YAML comments: one counts when markdown follows it.
    """
    lines = chunk.lines
    for offset in range(1, len(lines)):
        line = lines[offset]
        if lines[offset - 1].strip() or not line.strip() or line[0].isspace():
            continue
        if _HEADING.match(line):
            rest = [ln for ln in lines[offset + 1 :] if ln.strip() and not ln[0].isspace()]
            if any(not ln.startswith("#") and not _LOOSE_LINE.match(ln) for ln in rest):
                return chunk.line + offset
        elif not line.startswith("#") and not _LOOSE_LINE.match(line):
            return chunk.line + offset
    return None


def _validate(
    model: type[M],
    chunk: Chunk,
    file: str,
    problems: list[Problem],
    what: str,
    known: set[str],
    prepare: Callable[[dict[str, Any]], None] | None = None,
) -> M | None:
    before = len(problems)
    result = _checked(model, chunk, file, problems, what, known, prepare)
    if len(problems) > before:
        start = _markdown_start(chunk)
        if start is not None:
            where = "front matter" if what == "deck" else "option block"
            del problems[before:]
            problems.append(
                Problem(
                    file,
                    chunk.line - 1,
                    f"{where} is not closed by a `---` line (the slide seems to start on "
                    f"line {start})",
                )
            )
    return result


def _checked(
    model: type[M],
    chunk: Chunk,
    file: str,
    problems: list[Problem],
    what: str,
    known: set[str],
    prepare: Callable[[dict[str, Any]], None] | None,
) -> M | None:
    before = len(problems)
    data = _load_yaml(chunk, file, problems)
    if data is None:
        # Typos are still worth reporting when the YAML around them is broken.
        for line, key in compat.unknown_keys(chunk.lines, chunk.line, known):
            problems.insert(before, Problem(file, line, f"unknown {what} option {key!r}"))
        return None
    if prepare is not None:
        prepare(data)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            where = [str(part) for part in detail["loc"]]
            key = where[-1] if where else ""
            name = ".".join(where)
            if detail["type"] == "extra_forbidden":
                message = f"unknown {what} option {name!r}"
            elif detail["type"] == "enum" and where == ["layout"]:
                known_kinds = ", ".join(kind.value for kind in SlideKind)
                message = f"unknown layout {detail['input']!r} (known: {known_kinds})"
            else:
                text = str(detail["msg"]).removeprefix("Value error, ")
                message = f"{name}: {text}"
            problems.append(Problem(file, key_line(chunk, key), message))
        return None


def parse_front_matter(
    chunk: Chunk,
    file: str,
    problems: list[Problem],
    foreign: compat.Foreign | None = None,
    warnings: list[Problem] | None = None,
) -> FrontMatter:
    """Validate the deck front matter; problems are appended, defaults returned on error.

    Keys Marp or Slidev define are taken out and noted in `foreign` (when given).
    """
    found = foreign if foreign is not None else compat.Foreign()

    def prepare(data: dict[str, Any]) -> None:
        compat.strip_deck_keys(data, found, lambda key: key_line(chunk, key))

    before = len(problems)
    validated = _validate(FrontMatter, chunk, file, problems, "deck", compat.ALL_DECK_KEYS, prepare)
    if warnings is not None and len(problems) == before:
        warnings.extend(_heading_comments(chunk, file, "front matter"))
    return validated or FrontMatter()


def _heading_comments(chunk: Chunk, file: str, where: str) -> list[Problem]:
    """Warn about a `# Heading` after a blank line: YAML reads it as a comment, so a block
    whose closing `---` is missing can swallow a slide's heading without any error."""
    return [
        Problem(
            file,
            chunk.line + offset,
            f"warning: `{line.strip()}` is read as a YAML comment in the {where}: "
            "is its closing `---` missing?",
        )
        for offset, line in enumerate(chunk.lines)
        if offset and not chunk.lines[offset - 1].strip() and _HEADING.match(line)
    ]


def parse_slide_options(
    chunk: Chunk,
    file: str,
    problems: list[Problem],
    foreign: compat.Foreign | None = None,
    warnings: list[Problem] | None = None,
) -> SlideOptions:
    """Validate one slide's option block; problems are appended, defaults returned on error.

    Slidev keys are read as Slidev means them (a `layout:` it defines maps to a kind) or noted
    in `foreign`; a layout shown differently is a warning (when `warnings` is given).
    """
    found = foreign if foreign is not None else compat.Foreign()
    notes: list[tuple[int, str]] = []

    def prepare(data: dict[str, Any]) -> None:
        compat.adapt_slide_keys(data, found, lambda key: key_line(chunk, key), notes)

    before = len(problems)
    validated = _validate(
        SlideOptions, chunk, file, problems, "slide", compat.ALL_SLIDE_KEYS, prepare
    )
    if warnings is not None:
        warnings.extend(Problem(file, line, f"warning: {text}") for line, text in notes)
        if len(problems) == before:
            warnings.extend(_heading_comments(chunk, file, "option block"))
    return validated or SlideOptions()
