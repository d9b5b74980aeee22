"""Parse deck text into a `Deck`: split, read options, classify each slide, render and sanitise."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pydantic import TypeAdapter

from slides.blocks import Block, all_tokens, infer_kind, joined_text, title, to_blocks
from slides.errors import DeckError, Problem
from slides.model import Cell, Deck, DeckMeta, Slide, SlideKind
from slides.notes import split_notes
from slides.options import (
    FrontMatter,
    SlideOptions,
    key_line,
    parse_front_matter,
    parse_slide_options,
)
from slides.polls import PARSERS, Poll, PollSource
from slides.render import markdown, render
from slides.split import Chunk, RawSlide, split_deck

# One parser for every deck: building it costs more than a small slide, and parsing leaves
# it unchanged.
_MARKDOWN = markdown()
POLL: TypeAdapter[Poll] = TypeAdapter(Poll)
GRID_CELLS = (2, 4)
STEP_CELLS = range(2, 9)


def decode_deck(data: bytes, file: str) -> str:
    """Decode deck bytes as UTF-8, naming the line of the first byte that is not."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DeckError([Problem(file, line, "the deck is not UTF-8 text")]) from None


def parse_deck(text: str, file: str = "deck.md", asset_prefix: str = "/assets/") -> Deck:
    """Parse a whole deck; raise DeckError listing every problem found, with its line."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    if not text.strip():
        raise DeckError([Problem(file, 1, "the deck is empty")])
    raw = split_deck(text)
    if raw.unclosed is not None:
        problems.append(Problem(file, raw.unclosed, "option block is not closed by a `---` line"))
    front = (
        parse_front_matter(raw.front_matter, file, problems)
        if raw.front_matter is not None
        else FrontMatter()
    )
    parser = _SlideParser(file, front, asset_prefix, problems, warnings)
    built = [slide for slide in (parser.slide(r) for r in raw.slides) if slide is not None]
    if not built and not problems:
        problems.append(Problem(file, 1, "the deck has no slides"))
    slides = _assign_ids(built, file, problems)
    if problems:
        raise DeckError(problems)
    meta = DeckMeta(
        title=front.title,
        author=front.author,
        event=front.event,
        date=front.date,
        quiz=front.quiz,
        nicknames=front.nicknames,
        lang=front.lang,
        dir=front.direction(),
        join_on_title=front.join_on_title,
    )
    return Deck(meta=meta, slides=slides, warnings=[str(w) for w in warnings])


class _SlideParser:
    def __init__(
        self,
        file: str,
        front: FrontMatter,
        asset_prefix: str,
        problems: list[Problem],
        warnings: list[Problem],
    ) -> None:
        self.file = file
        self.front = front
        self.asset_prefix = asset_prefix
        self.problems = problems
        self.warnings = warnings
        self.md = _MARKDOWN

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def slide(self, raw: RawSlide) -> _Built | None:
        options = (
            parse_slide_options(raw.options, self.file, self.problems)
            if raw.options is not None
            else SlideOptions()
        )
        body, notes = split_notes(raw.body)
        blocks = to_blocks(self.md.parse(body.text), body.line, self.asset_prefix)
        if not blocks:
            if raw.options is None:
                self.warnings.append(Problem(self.file, raw.line, "warning: empty slide skipped"))
                return None
            self.warnings.append(Problem(self.file, raw.line, "warning: slide has no content"))
        kind = options.layout or (
            SlideKind.POLL
            if options.poll is not None and options.poll.type != "choice"
            else infer_kind(blocks)
        )
        built = _Built(kind=kind, line=raw.line, options=options, notes=notes, chunk=raw.options)
        built.text = joined_text(blocks)
        handler = {
            SlideKind.POLL: self.poll,
            SlideKind.GRID: self.cells,
            SlideKind.STEPS: self.cells,
            SlideKind.LINK: self.link,
            SlideKind.IMAGE: self.image,
        }.get(kind, self.plain)
        handler(built, blocks)
        return built

    def plain(self, built: _Built, blocks: list[Block]) -> None:
        built.title = title(blocks)
        built.html = self.html(blocks)

    def link(self, built: _Built, blocks: list[Block]) -> None:
        self.plain(built, blocks)
        for block in blocks:
            for child in block.inline_children():
                if child.type == "link_open":
                    built.url = str(child.attrGet("href"))
                    return
        self.error(built.line, "a link slide needs a link, e.g. [example.org](https://example.org)")

    def image(self, built: _Built, blocks: list[Block]) -> None:
        self.plain(built, blocks)
        for block in blocks:
            for child in block.inline_children():
                if child.type == "image":
                    built.image = str(child.attrGet("src"))
                    return
        self.error(built.line, "an image slide needs an image, e.g. ![a chart](chart.png)")

    def cells(self, built: _Built, blocks: list[Block]) -> None:
        head: list[Block] = []
        if blocks and blocks[0].type == "heading" and blocks[0].tag == "h1":
            head = [blocks.pop(0)]
        cells: list[Cell] = []
        current: list[Block] = []
        heading = ""
        started = False
        for block in blocks:
            if block.type == "heading":
                if started:
                    cells.append(Cell(heading=heading, html=self.html(current)))
                heading, current, started = block.text, [], True
            elif started:
                current.append(block)
            else:
                head.append(block)
        if started:
            cells.append(Cell(heading=heading, html=self.html(current)))
        built.title = title(head)
        built.html = self.html(head)
        built.cells = cells
        allowed = GRID_CELLS if built.kind is SlideKind.GRID else STEP_CELLS
        if len(cells) not in allowed:
            what = "a grid has 2 or 4" if built.kind is SlideKind.GRID else "steps have 2 to 8"
            self.error(built.line, f"{what} cells (## headings), found {len(cells)}")

    def html(self, blocks: list[Block]) -> str:
        return render(self.md, all_tokens(blocks))

    def poll(self, built: _Built, blocks: list[Block]) -> None:
        settings = built.options.poll
        kind = settings.type if settings else "choice"
        chunk = built.chunk
        defaults = self.front.defaults.poll.model_dump(exclude_none=True)
        source = PollSource(
            line=built.line,
            blocks=blocks,
            settings=settings.kind_settings() if settings else {},
            defaults=defaults,
            error=self.error,
            key_line=lambda key: key_line(chunk, key) if chunk is not None else built.line,
            render=self.html,
            quiz=self.front.quiz,
        )
        parts = PARSERS[kind](source)
        if parts is None:
            return
        built.title = source.title
        built.text = source.text
        built.html = source.html
        built.poll_parts = {"type": kind, "id": settings.id if settings else None, **parts}


@dataclass
class _Built:
    kind: SlideKind
    line: int
    options: SlideOptions
    notes: str
    chunk: Chunk | None = None
    title: str | None = None
    html: str = ""
    text: str = ""
    url: str | None = None
    image: str | None = None
    cells: list[Cell] | None = None
    poll_parts: dict[str, object] | None = None


def slugify(text: str, limit: int = 48) -> str:
    """A lowercase ASCII id from text, cut at a word boundary."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug


def _assign_ids(built: list[_Built], file: str, problems: list[Problem]) -> list[Slide]:
    """Give every slide and poll an id: the deck's own, else one derived from the content."""
    explicit: dict[str, int] = {}
    for item in built:
        poll_id = item.poll_parts.get("id") if item.poll_parts else None
        for given in {item.options.id, poll_id} - {None}:
            if str(given) in explicit:
                problems.append(
                    Problem(
                        file,
                        item.line,
                        f"duplicate id {given!r} (also on line {explicit[str(given)]})",
                    )
                )
            explicit[str(given)] = item.line
    used: set[str] = set(explicit)
    slides: list[Slide] = []
    for index, item in enumerate(built):
        poll = None
        if item.poll_parts is not None:
            parts = dict(item.poll_parts)
            if parts["id"] is None:
                parts["id"] = _unique(slugify(str(parts["question"])) or "poll", used)
            poll = POLL.validate_python(parts)
        slide_id = item.options.id or (poll.id if poll else None)
        if slide_id is None:
            base = slugify(item.title or item.text.split("\n")[0] or "") or item.kind.value
            slide_id = _unique(base, used)
        slides.append(
            Slide(
                index=index,
                id=slide_id,
                kind=item.kind,
                line=item.line,
                title=item.title,
                html=item.html,
                text=item.text,
                notes=item.notes,
                poll=poll,
                cells=item.cells or [],
                url=item.url,
                image=item.image,
            )
        )
    return slides


def _unique(base: str, used: set[str]) -> str:
    candidate, number = base, 2
    while candidate in used:
        candidate, number = f"{base}-{number}", number + 1
    used.add(candidate)
    return candidate
