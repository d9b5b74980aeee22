"""Parse deck text into a `Deck`: split, read options, classify each slide, render and sanitise."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass

from markdown_it import MarkdownIt
from pydantic import TypeAdapter

from slides.blocks import Block, all_tokens, infer_kind, joined_text, title, to_blocks
from slides.compat import Foreign, first_slide_kind
from slides.directives import (
    LEAD,
    divide_at_headings,
    drop_backgrounds,
    drop_image_keywords,
    drop_slots,
    ignored_warnings,
    line_list,
    show_checkboxes,
    slide_class,
)
from slides.errors import DeckError, Problem
from slides.mistakes import UNCLOSED_COMMENT, mistakes
from slides.model import Cell, Deck, DeckMeta, QaSettings, Slide, SlideKind
from slides.notes import split_notes
from slides.options import (
    FrontMatter,
    QaOptions,
    SlideOptions,
    key_line,
    parse_front_matter,
    parse_slide_options,
)
from slides.polls import PARSERS, Poll, PollSource
from slides.rawhtml import dropped, has_html
from slides.render import markdown, render
from slides.split import Chunk, RawSlide, split_deck

# One parser for every deck: building it costs more than a small slide, and parsing leaves
# it unchanged.
_MARKDOWN = markdown()
POLL: TypeAdapter[Poll] = TypeAdapter(Poll)
GRID_CELLS = (2, 4)
STEP_CELLS = range(2, 9)
# Kinds that only change the look, which Marp's `lead` class may turn into a centred title.
_LEAD_KINDS = {SlideKind.CONTENT, SlideKind.STATEMENT, SlideKind.BULLETS, SlideKind.NUMBERED}


@functools.cache
def _parser(html: bool, math: bool, marp: bool) -> MarkdownIt:
    """The parser for a slide with these features, built once; most slides get `_MARKDOWN`."""
    return markdown(html=html, math=math, marp=marp) if html or math or marp else _MARKDOWN


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
    problems.extend(mistakes(raw, file))
    foreign = Foreign()
    front = (
        parse_front_matter(raw.front_matter, file, problems, foreign, warnings)
        if raw.front_matter is not None
        else FrontMatter()
    )
    raw.slides = divide_at_headings(raw.slides, text, foreign, file, warnings)
    parser = _SlideParser(file, front, asset_prefix, problems, warnings)
    parser.foreign = foreign
    parser.first = raw.slides[0] if raw.slides else None
    built = [slide for slide in (parser.slide(r) for r in raw.slides) if slide is not None]
    if not built and not problems:
        # A Slidev deck can be all `src:` includes, which are not read (yet): say so.
        why = " (its slides are in Slidev `src:` files, not read)" if foreign.includes else ""
        problems.append(Problem(file, 1, f"the deck has no slides{why}"))
    warnings.extend(parser.compat_warnings())
    slides = _assign_ids(built, file, problems)
    if problems:
        raise DeckError(problems, warnings)
    meta = DeckMeta(
        title=front.title,
        author=front.author,
        event=front.event,
        date=front.date,
        quiz=front.quiz_on(),
        streak=front.streak(),
        nicknames=front.nicknames,
        qa=_qa(front.qa),
        privacy=front.privacy.strip() if front.privacy else None,
        retention_days=_days(front.retention),
        lang=front.lang,
        dir=front.direction(),
        join_on_title=front.join_on_title,
    )
    warnings.sort(key=lambda warning: warning.line)
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
        self.foreign = Foreign()
        self.directives: list[tuple[int, str]] = []
        self.backgrounds: list[int] = []
        self.checklists: list[int] = []
        self.image_keywords: list[int] = []
        self.marp_class = ""  # a Marp `class:` directive holds until the next one
        self.first: RawSlide | None = None  # the deck's first slide, for Slidev's cover

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def only_includes(self, options: Chunk) -> bool:
        """Whether this option block holds a Slidev `src:` (the slide is a placeholder)."""
        end = options.line + len(options.lines)
        return any(options.line <= line < end for line in self.foreign.includes)

    def polls_by_checklist(self, options: SlideOptions) -> bool:
        """Whether a task list makes this slide a poll: always, unless the deck is another
        tool's (Marp, Slidev), where only a slide with `poll:` options is one."""
        return options.poll is not None or not self.foreign.other_tool

    def compat_warnings(self) -> list[Problem]:
        """One warning for each kind of Marp or Slidev setting that was set aside."""
        found = ignored_warnings(self.file, self.foreign, self.directives, self.backgrounds)
        if self.image_keywords:
            found.append(
                Problem(
                    self.file,
                    self.image_keywords[0],
                    "warning: Marp image sizes and filters (w:, h:, sepia...) ignored: "
                    + line_list(self.image_keywords),
                )
            )
        if self.checklists:
            lines = ", ".join(str(line) for line in self.checklists)
            where = "slide on line" if len(self.checklists) == 1 else "slides on lines"
            found.append(
                Problem(
                    self.file,
                    self.checklists[0],
                    f"warning: checklists shown as lists, not polls, in this {self.foreign.name} "
                    f"deck ({where} {lines}); give a slide `poll:` options to make a poll",
                )
            )
        return found

    def slide(self, raw: RawSlide) -> _Built | None:
        options = (
            parse_slide_options(raw.options, self.file, self.problems, self.foreign, self.warnings)
            if raw.options is not None
            else SlideOptions()
        )
        found = split_notes(raw.body)
        if found.unclosed_comment is not None:
            self.error(found.unclosed_comment, UNCLOSED_COMMENT)
        self.directives.extend(found.directives)
        if raw is self.first:
            # Front matter directives are the first page's: `class` holds from there on.
            self.marp_class = str(self.foreign.values.get("class") or "")
        marp_class = self.marp_class
        if found.directives:
            marp_class, self.marp_class = slide_class(found.directives, self.marp_class)
        if raw is self.first and isinstance(self.foreign.values.get("_class"), str):
            marp_class = self.foreign.values["_class"]
        body = found.body
        text = body.text
        # Slot lines and Marp's image syntax need `::` or `![`: most slides skip all three.
        if "::" in text or "![" in text:
            body, backgrounds = drop_backgrounds(drop_slots(body))
            self.backgrounds.extend(backgrounds)
            if self.foreign.tool == "Marp":
                body, sized = drop_image_keywords(body)
                self.image_keywords.extend(sized)
            text = body.text
        notes = found.notes
        # Raw HTML and math cost another parser only on the slides that hold some.
        html = has_html(text)
        self.md = _parser(html, "$" in text, self.foreign.values.get("marp") is True)
        blocks = to_blocks(self.md.parse(text), body.line, self.asset_prefix)
        if html:
            for line, what in dropped(all_tokens(blocks), body.line):
                self.warnings.append(
                    Problem(self.file, line, f"warning: raw HTML not shown: {what}")
                )
        if html and all(b.type == "html_block" for b in blocks) and not self.html(blocks):
            blocks = []  # only a <style> or <script>, say: nothing would be shown
        if not blocks and raw.options is not None and self.only_includes(raw.options):
            return None  # a Slidev `src:` placeholder: its warning says what to do
        if not blocks:
            if raw.options is None:
                self.warnings.append(Problem(self.file, raw.line, "warning: empty slide skipped"))
                return None
            self.warnings.append(Problem(self.file, raw.line, "warning: slide has no content"))
        kind = options.layout or self.inferred_kind(raw, options, blocks, marp_class)
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

    def inferred_kind(
        self, raw: RawSlide, options: SlideOptions, blocks: list[Block], marp_class: str
    ) -> SlideKind:
        """The kind of a slide without `layout:`, with what Marp and Slidev decks imply."""
        if options.poll is not None and options.poll.type != "choice":
            return SlideKind.POLL  # a word cloud, open question or scale needs no task list
        kind = infer_kind(blocks)
        if kind is SlideKind.POLL and not self.polls_by_checklist(options):
            # A Marp or Slidev checklist is a list there: it is a poll only where `poll:` says so.
            kind = infer_kind(blocks, polls=False)
            self.checklists.append(raw.line)
            show_checkboxes(blocks)
        if LEAD in marp_class.split() and kind in _LEAD_KINDS:
            kind = SlideKind.TITLE  # Marp's `lead`: centred, like a title slide
        first = first_slide_kind(self.foreign) if raw is self.first else None
        if first is not None and kind in _LEAD_KINDS:
            kind = first  # Slidev's first slide is a cover unless its headmatter says otherwise
        return kind

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
        return render(self.md, all_tokens(blocks), self.asset_prefix, self.md is not _MARKDOWN)

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
            quiz=self.front.quiz_on(),
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


def derived_id(text: str, fallback: str) -> str:
    """An id from a title: its slug, plus a short hash of the title when letters were lost.

    A title in a script without Latin letters (Japanese, Cyrillic...) has no slug; without
    the hash its id would be its kind and position (`poll-2`), so reordering slides mid-talk
    would swap two polls' votes. Accents are not lost letters: `Café` stays `cafe`.
    """
    slug = slugify(text)
    if text.isascii() or not any(
        char.isalpha() and not char.isascii() for char in unicodedata.normalize("NFKD", text)
    ):
        return slug or fallback
    digest = hashlib.blake2s(" ".join(text.split()).encode(), digest_size=4).hexdigest()
    return f"{slug or fallback}-{digest}"


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
                parts["id"] = _unique(derived_id(str(parts["question"]), "poll"), used)
            poll = POLL.validate_python(parts)
        slide_id = item.options.id or (poll.id if poll else None)
        if slide_id is None:
            base = derived_id(item.title or item.text.split("\n")[0] or "", item.kind.value)
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


def _days(retention: str | None) -> int | None:
    """`30d` → 30, `8w` → 56."""
    if retention is None:
        return None
    return int(retention[:-1]) * (7 if retention.endswith("w") else 1)


def _qa(given: bool | QaOptions) -> QaSettings | None:
    """The deck's Q&A settings: `qa: true` takes the defaults, `false` turns it off."""
    if given is False:
        return None
    if given is True:
        return QaSettings()
    return QaSettings(moderation=given.moderation, anonymous=given.anonymous)
