"""Parse deck text into a `Deck`: split, read options, classify each slide, render and sanitise."""

from __future__ import annotations

import functools
import hashlib
import json
import posixpath
import re
import unicodedata
from dataclasses import dataclass, field, replace

from markdown_it import MarkdownIt
from pydantic import TypeAdapter

from slides.blocks import Block, all_tokens, infer_kind, joined_text, title, to_blocks
from slides.compat import Foreign, first_slide_kind
from slides.decor import DecorState
from slides.directives import (
    LEAD,
    divide_at_headings,
    drop_backgrounds,
    drop_slots,
    ignored_warnings,
    line_list,
    show_checkboxes,
    size_images,
    slide_class,
)
from slides.errors import DeckError, Problem
from slides.includes import Expander, IncludeReader, flatten, include_target, merged
from slides.mistakes import UNCLOSED_COMMENT, mistakes
from slides.model import Cell, Deck, DeckMeta, Decor, QaSettings, Slide, SlideKind
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
from slides.render import asset_url, markdown, render
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


def parse_deck(
    text: str,
    file: str = "deck.md",
    asset_prefix: str = "/assets/",
    reader: IncludeReader | None = None,
) -> Deck:
    """Parse a whole deck; raise DeckError listing every problem found, with its line.

    `reader` reads the files Slidev `src:` keys name (see slides/includes.py); without one,
    such slides are skipped with a warning.
    """
    return parse_deck_source(text, file, asset_prefix, reader)[0]


def parse_deck_source(
    text: str,
    file: str = "deck.md",
    asset_prefix: str = "/assets/",
    reader: IncludeReader | None = None,
) -> tuple[Deck, str]:
    """`parse_deck`, and the deck's text with its includes inline: what to store, since it
    parses to the same slides with no files around (`text` itself when nothing was included)."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    if not text.strip():
        raise DeckError([Problem(file, 1, "the deck is empty")])
    raw = split_deck(text)
    problems.extend(mistakes(raw, file))
    foreign = Foreign(reads_includes=reader is not None)
    front = (
        parse_front_matter(raw.front_matter, file, problems, foreign, warnings)
        if raw.front_matter is not None
        else FrontMatter()
    )
    parser = _SlideParser(file, front, asset_prefix, problems, warnings, foreign)
    source = text
    if reader is not None:
        pages = _headmatter_include(raw.slides, foreign)
        if pages is not raw.slides or any(include_target(r) for r in pages):
            expander = Expander(reader, file, problems, warnings, parser.read_options)
            name = posixpath.basename(file)
            raw.slides = expander.expand(pages, file, "", (name,))
            source = flatten(raw.front_matter, raw.slides)
    raw.slides = divide_at_headings(raw.slides, text, foreign, file, warnings)
    parser.first = raw.slides[0] if raw.slides else None
    built = [slide for slide in (parser.slide(r) for r in raw.slides) if slide is not None]
    if not built and not problems:
        # A Slidev deck can be all `src:` includes, which are not read without a reader.
        why = (
            " (its slides are in Slidev `src:` files, not read)"
            if foreign.includes and reader is None
            else ""
        )
        problems.append(Problem(file, 1, f"the deck has no slides{why}"))
    warnings.extend(parser.compat_warnings())
    slides = _assign_ids(built, problems)
    if source is not text:
        # A file included twice (Slidev's docs reuse one) is read twice: say each thing once.
        problems[:] = dict.fromkeys(problems)
        warnings[:] = dict.fromkeys(warnings)
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
    # The deck's own warnings first, then each included file's, each in line order.
    warnings.sort(key=lambda warning: (warning.file != file, warning.file, warning.line))
    deck = Deck(meta=meta, slides=slides, warnings=[str(w) for w in warnings])
    return deck, source


def _headmatter_include(slides: list[RawSlide], foreign: Foreign) -> list[RawSlide]:
    """Slidev's headmatter is also the first slide's frontmatter: a `src:` there replaces the
    first slide, which becomes an include like any other."""
    src = foreign.values.get("src")
    if not isinstance(src, str) or not foreign.includes:
        return slides
    line = min(foreign.includes)
    first = slides[0] if slides else RawSlide(line, None, Chunk(line + 1))
    include = replace(first, options=Chunk(line, [f"src: {json.dumps(src)}"]))
    return [include, *slides[1:]]


@dataclass
class _FileNotes:
    """What one file of the deck set aside, for one warning of each sort per file."""

    foreign: Foreign
    directives: list[tuple[int, str]] = field(default_factory=list)
    backgrounds: list[int] = field(default_factory=list)
    checklists: list[int] = field(default_factory=list)
    image_keywords: list[int] = field(default_factory=list)


class _SlideParser:
    def __init__(
        self,
        file: str,
        front: FrontMatter,
        asset_prefix: str,
        problems: list[Problem],
        warnings: list[Problem],
        foreign: Foreign,
    ) -> None:
        self.deck_file = file
        self.file = file  # the file of the slide being read: the deck's or an included one
        self.front = front
        self.asset_prefix = asset_prefix
        self.problems = problems
        self.warnings = warnings
        self.md = _MARKDOWN
        self.files: dict[str, _FileNotes] = {file: _FileNotes(foreign)}
        self.record = self.files[file]
        self.marp_class = ""  # a Marp `class:` directive holds until the next one
        self.first: RawSlide | None = None  # the deck's first slide, for Slidev's cover
        self.decor = DecorState(self.inline_html)  # Marp's header, footer, page numbers...

    def inline_html(self, text: str) -> str:
        """A Marp header or footer: inline markdown, sanitised as slides are."""
        tokens = _MARKDOWN.parseInline(text)
        for token in tokens:
            for child in token.children or ():
                if child.type == "image":
                    src = str(child.attrGet("src") or "")
                    child.attrSet("src", asset_url(src, self.asset_prefix))
        size_images(tokens, 0)  # `![h:30](logo.png)` in a header is a small logo
        return render(_MARKDOWN, tokens, self.asset_prefix)

    @property
    def foreign(self) -> Foreign:
        """What the current file brought from Marp or Slidev."""
        return self.record.foreign

    def notes_of(self, file: str) -> _FileNotes:
        """The record of one file, made on first use (included files share the deck's tool)."""
        if file not in self.files:
            self.files[file] = _FileNotes(self.files[self.deck_file].foreign.for_file())
        return self.files[file]

    def read_options(self, chunk: Chunk, file: str) -> SlideOptions:
        """Read an option block of one of the deck's files (an including slide's, say)."""
        foreign = self.notes_of(file).foreign
        return parse_slide_options(chunk, file, self.problems, foreign, self.warnings)

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
        """One warning for each kind of Marp or Slidev setting set aside, in each file."""
        found = self.decor_warnings()
        for file, notes in self.files.items():
            # A file included twice is read twice: its lines count once.
            directives = list(dict.fromkeys(notes.directives))
            backgrounds = sorted(set(notes.backgrounds))
            found.extend(ignored_warnings(file, notes.foreign, directives, backgrounds))
            if notes.image_keywords:
                found.append(
                    Problem(
                        file,
                        notes.image_keywords[0],
                        "warning: Marp image filters (sepia...) and sizes not in pixels ignored: "
                        + line_list(sorted(set(notes.image_keywords))),
                    )
                )
            if notes.checklists:
                checklists = sorted(set(notes.checklists))
                lines = ", ".join(str(line) for line in checklists)
                where = "slide on line" if len(checklists) == 1 else "slides on lines"
                found.append(
                    Problem(
                        file,
                        checklists[0],
                        "warning: checklists shown as lists, not polls, in this "
                        f"{notes.foreign.name} deck ({where} {lines}); give a slide `poll:` "
                        "options to make a poll",
                    )
                )
        return found

    def decor_warnings(self) -> list[Problem]:
        """Marp colours not used: not a colour handsup takes, or one without the other."""
        found = [
            Problem(
                self.deck_file,
                line,
                f"warning: {key} {value!r} ignored: a colour is a name, #hex, rgb() or hsl()",
            )
            for line, key, value in self.decor.bad_colours
        ]
        lone = sorted(self.decor.lone_colours)
        if lone:
            found.append(
                Problem(
                    self.deck_file,
                    lone[0],
                    "warning: backgroundColor without color, or color without backgroundColor, "
                    f"ignored ({line_list(lone)}): set both, so that the text stays readable",
                )
            )
        return found

    def slide(self, raw: RawSlide) -> _Built | None:
        self.file = raw.file or self.deck_file
        self.record = self.notes_of(self.file)
        options = (
            self.read_options(raw.options, self.file) if raw.options is not None else SlideOptions()
        )
        if raw.override is not None:
            # Included from a slide whose own keys win (Slidev's frontmatter merging).
            options = merged(options, raw.override) or options
        found = split_notes(raw.body)
        if found.unclosed_comment is not None:
            self.error(found.unclosed_comment, UNCLOSED_COMMENT)
        self.record.directives.extend(found.directives)
        if raw is self.first:
            # Front matter directives are the first page's: `class` holds from there on.
            self.marp_class = str(self.foreign.values.get("class") or "")
        marp_class = self.marp_class
        if found.directives:
            marp_class, self.marp_class = slide_class(found.directives, self.marp_class)
        if raw is self.first and isinstance(self.foreign.values.get("_class"), str):
            marp_class = self.foreign.values["_class"]
        # Front matter directives are the first page's, as in Marp.
        decor = self.decor.page(self.foreign if raw is self.first else None, found.directives)
        body = found.body
        text = body.text
        # Slot lines and Marp's image syntax need `::` or `![`: most slides skip all three.
        if "::" in text or "![" in text:
            body, backgrounds = drop_backgrounds(drop_slots(body))
            self.record.backgrounds.extend(backgrounds)
            text = body.text
        notes = found.notes
        # Raw HTML and math cost another parser only on the slides that hold some.
        html = has_html(text)
        self.md = _parser(html, "$" in text, self.foreign.values.get("marp") is True)
        blocks = to_blocks(self.md.parse(text), body.line, self.asset_prefix)
        if self.foreign.tool == "Marp" and "![" in text:
            self.record.image_keywords.extend(size_images(all_tokens(blocks), body.line))
        if html:
            for line, what in dropped(all_tokens(blocks), body.line):
                self.warnings.append(
                    Problem(self.file, line, f"warning: raw HTML not shown: {what}")
                )
        if html and all(b.type == "html_block" for b in blocks) and not self.html(blocks):
            blocks = []  # only a <style> or <script>, say: nothing would be shown
        if raw.options is not None and self.only_includes(raw.options):
            # A Slidev `src:` slide whose file was not read: its warning says what to do. Its
            # own text is not shown (Slidev ignores it too).
            return None
        if not blocks:
            if raw.options is None:
                self.warnings.append(Problem(self.file, raw.line, "warning: empty slide skipped"))
                return None
            self.warnings.append(Problem(self.file, raw.line, "warning: slide has no content"))
        kind = options.layout or self.inferred_kind(raw, options, blocks, marp_class)
        built = _Built(kind=kind, line=raw.line, options=options, notes=notes, chunk=raw.options)
        built.file = self.file
        built.decor = decor
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
            self.record.checklists.append(raw.line)
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
    file: str = ""
    decor: Decor | None = None


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


def _assign_ids(built: list[_Built], problems: list[Problem]) -> list[Slide]:
    """Give every slide and poll an id: the deck's own, else one derived from the content."""
    explicit: dict[str, int] = {}
    for item in built:
        poll_id = item.poll_parts.get("id") if item.poll_parts else None
        for given in {item.options.id, poll_id} - {None}:
            if str(given) in explicit:
                problems.append(
                    Problem(
                        item.file,
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
                decor=item.decor,
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
