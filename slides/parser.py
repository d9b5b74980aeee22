"""Parse deck text into a `Deck`: split, read options, classify each slide, render and sanitise."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TypeVar

from markdown_it import MarkdownIt
from markdown_it.token import Token

from slides.errors import DeckError, Problem
from slides.model import Cell, ChoicePoll, Deck, DeckMeta, Slide, SlideKind
from slides.options import FrontMatter, SlideOptions, parse_front_matter, parse_slide_options
from slides.render import markdown, plain_text, render, rewrite_images
from slides.split import Chunk, RawSlide, fenced, split_deck

_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
_NOTES_MARKER = re.compile(r"^(?:\?\?\?|Notes?:)\s*(.*)$")
_TASK = re.compile(r"^\[([ xX])\]\s+(.*)$", re.DOTALL)
_SOURCE = re.compile(r"^source:\s*", re.IGNORECASE)
MAX_OPTIONS = 10
GRID_CELLS = (2, 4)
STEP_CELLS = range(2, 9)


T = TypeVar("T")


@dataclass
class _Block:
    """A top-level markdown block: its tokens and its 1-based first line."""

    tokens: list[Token]
    line: int

    @property
    def type(self) -> str:
        return self.tokens[0].type.removesuffix("_open")

    @property
    def tag(self) -> str:
        return self.tokens[0].tag

    def inline_children(self) -> list[Token]:
        inline = [t for t in self.tokens if t.type == "inline"]
        return list(inline[0].children or ()) if len(inline) == 1 else []


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
    meta = DeckMeta(title=front.title, author=front.author, event=front.event, date=front.date)
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
        self.md: MarkdownIt = markdown()

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def slide(self, raw: RawSlide) -> _Built | None:
        options = (
            parse_slide_options(raw.options, self.file, self.problems)
            if raw.options is not None
            else SlideOptions()
        )
        body, notes = _split_notes(raw.body)
        blocks = self.blocks(body)
        if not blocks:
            if raw.options is None:
                self.warnings.append(Problem(self.file, raw.line, "warning: empty slide skipped"))
                return None
            self.warnings.append(Problem(self.file, raw.line, "warning: slide has no content"))
        for block in blocks:
            rewrite_images(block.tokens, self.asset_prefix)
        kind = options.layout or _infer_kind(blocks)
        built = _Built(kind=kind, line=raw.line, options=options, notes=notes)
        built.text = plain_text([t for b in blocks for t in b.tokens])
        handler = {
            SlideKind.POLL: self.poll,
            SlideKind.GRID: self.cells,
            SlideKind.STEPS: self.cells,
            SlideKind.LINK: self.link,
            SlideKind.IMAGE: self.image,
        }.get(kind, self.plain)
        handler(built, blocks)
        return built

    def blocks(self, body: Chunk) -> list[_Block]:
        tokens = self.md.parse(body.text)
        blocks: list[_Block] = []
        for token in tokens:
            if token.level == 0 and token.nesting >= 0 and not blocks_closing(token):
                line = body.line + (token.map[0] if token.map else 0)
                blocks.append(_Block([token], line))
            elif blocks:
                blocks[-1].tokens.append(token)
        return blocks

    def plain(self, built: _Built, blocks: list[_Block]) -> None:
        built.title = _title(blocks)
        built.html = render(self.md, [t for b in blocks for t in b.tokens])

    def link(self, built: _Built, blocks: list[_Block]) -> None:
        self.plain(built, blocks)
        for block in blocks:
            for child in block.inline_children():
                if child.type == "link_open":
                    built.url = str(child.attrGet("href"))
                    return
        self.error(built.line, "a link slide needs a link, e.g. [example.org](https://example.org)")

    def image(self, built: _Built, blocks: list[_Block]) -> None:
        self.plain(built, blocks)
        for block in blocks:
            for child in block.inline_children():
                if child.type == "image":
                    built.image = str(child.attrGet("src"))
                    return
        self.error(built.line, "an image slide needs an image, e.g. ![a chart](chart.png)")

    def cells(self, built: _Built, blocks: list[_Block]) -> None:
        head: list[_Block] = []
        if blocks and blocks[0].type == "heading" and blocks[0].tag == "h1":
            head = [blocks.pop(0)]
        cells: list[Cell] = []
        current: list[_Block] = []
        heading = ""
        started = False
        for block in blocks:
            if block.type == "heading":
                if started:
                    cells.append(Cell(heading=heading, html=self.html(current)))
                heading, current, started = plain_text(block.tokens), [], True
            elif started:
                current.append(block)
            else:
                head.append(block)
        if started:
            cells.append(Cell(heading=heading, html=self.html(current)))
        built.title = _title(head)
        built.html = self.html(head)
        built.cells = cells
        allowed = GRID_CELLS if built.kind is SlideKind.GRID else STEP_CELLS
        if len(cells) not in allowed:
            what = "a grid has 2 or 4" if built.kind is SlideKind.GRID else "steps have 2 to 8"
            self.error(built.line, f"{what} cells (## headings), found {len(cells)}")

    def html(self, blocks: list[_Block]) -> str:
        return render(self.md, [t for b in blocks for t in b.tokens])

    def poll(self, built: _Built, blocks: list[_Block]) -> None:
        lists = [b for b in blocks if b.type == "bullet_list" and _task_items(b) is not None]
        if not lists:
            self.error(built.line, "a poll needs 2 to 10 options as a task list: `- [ ] option`")
            return
        if len(lists) > 1:
            self.error(lists[1].line, "a poll has one list of options; found a second one")
        option_list = lists[0]
        items = _task_items(option_list) or []
        question_block = next((b for b in blocks if b.type == "heading"), None)
        if question_block is None:
            self.error(built.line, "a poll needs its question as a heading above the options")
            return
        source_block = next(
            (b for b in blocks if b.type == "paragraph" and _SOURCE.match(plain_text(b.tokens))),
            None,
        )
        options = [text for _, text, _ in items]
        correct = [index for index, (_, _, is_correct) in enumerate(items) if is_correct]
        self.check_options(items, option_list.line)
        if len(correct) > 1:
            lines = ", ".join(str(items[i][0]) for i in correct)
            self.error(
                items[correct[1]][0], f"a poll has at most one correct option; [x] on lines {lines}"
            )
        settings = built.options.poll
        defaults = self.front.defaults.poll
        change_vote = (
            settings.change_vote if settings and settings.change_vote is not None else None
        )
        results = settings.results if settings and settings.results is not None else None
        built.title = plain_text(question_block.tokens)
        built.poll_parts = dict(
            id=settings.id if settings else None,
            question=built.title,
            options=options,
            correct=correct[0] if len(correct) == 1 else None,
            source=_SOURCE.sub("", plain_text(source_block.tokens)) if source_block else None,
            change_vote=_pick(change_vote, defaults.change_vote, True),
            results=_pick(results, defaults.results, "live"),
        )
        source = built.poll_parts["source"]
        built.text = "\n".join([built.title, *options, *([f"Source: {source}"] if source else [])])
        rest = [b for b in blocks if b not in (option_list, question_block, source_block)]
        built.html = self.html(rest)

    def check_options(self, items: list[tuple[int, str, bool]], line: int) -> None:
        if len(items) < 2:
            self.error(line, f"a poll needs at least 2 options, found {len(items)}")
        if len(items) > MAX_OPTIONS:
            self.error(line, f"a poll has at most {MAX_OPTIONS} options, found {len(items)}")
        seen: dict[str, int] = {}
        for item_line, text, _ in items:
            if not text:
                self.error(item_line, "an option has no text")
                continue
            key = " ".join(text.casefold().split())
            if key in seen:
                self.error(item_line, f"duplicate option {text!r} (also on line {seen[key]})")
            else:
                seen[key] = item_line


@dataclass
class _Built:
    kind: SlideKind
    line: int
    options: SlideOptions
    notes: str
    title: str | None = None
    html: str = ""
    text: str = ""
    url: str | None = None
    image: str | None = None
    cells: list[Cell] | None = None
    poll_parts: dict[str, object] | None = None


def blocks_closing(token: Token) -> bool:
    """True for a closing token (it belongs to the block it closes)."""
    return token.nesting < 0


def _pick(first: T | None, second: T | None, default: T) -> T:
    if first is not None:
        return first
    return second if second is not None else default


def _split_notes(body: Chunk) -> tuple[Chunk, str]:
    """Take speaker notes out of a slide body, keeping line numbers of what remains."""
    notes: list[str] = []
    text = body.text
    # Fenced code shows comments and note markers as written. Find the fences with comments
    # blanked, so that a fence inside a comment (code in the notes) does not count.
    inside = fenced(_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n"))

    def blank(match: re.Match[str]) -> str:
        if inside[text.count("\n", 0, match.start())]:
            return match.group(0)
        notes.append(match.group(1).strip())
        return "\n" * match.group(0).count("\n")

    lines = _COMMENT.sub(blank, text).split("\n")
    for index, line in enumerate(lines):
        marker = None if inside[index] else _NOTES_MARKER.match(line)
        if marker:
            tail = "\n".join([marker.group(1), *lines[index + 1 :]]).strip()
            notes.append(tail)
            lines = lines[:index]
            break
    return Chunk(body.line, lines), "\n\n".join(n for n in notes if n)


def _task_items(block: _Block) -> list[tuple[int, str, bool]] | None:
    """(line, text, checked) per item if every item of this bullet list is a task item."""
    items: list[tuple[int, str, bool]] = []
    depth = 0
    for token in block.tokens:
        if token.type == "list_item_open":
            depth += 1
        elif token.type == "list_item_close":
            depth -= 1
        elif token.type == "inline" and depth == 1 and token.level == 3:
            match = _TASK.match(token.content)
            if not match:
                return None
            line = block.line + (token.map[0] if token.map else 0) - (block.tokens[0].map or [0])[0]
            # The option as plain text, like the question: `**Red**` is shown as "Red".
            words = _TASK.match(plain_text([token])) or match
            items.append((line, " ".join(words.group(2).split()), match.group(1) != " "))
    return items or None


def _title(blocks: list[_Block]) -> str | None:
    for block in blocks:
        if block.type == "heading":
            return plain_text(block.tokens)
    return None


def _is_only(block: _Block, child_type: str) -> bool:
    """True when a paragraph holds just one link (or image) and nothing else but spaces."""
    children = [
        c for c in block.inline_children() if not (c.type == "text" and not c.content.strip())
    ]
    if child_type == "image":
        return len(children) == 1 and children[0].type == "image"
    return (
        len(children) >= 2
        and children[0].type == "link_open"
        and children[-1].type == "link_close"
        and sum(c.type == "link_open" for c in children) == 1
    )


def _infer_kind(blocks: list[_Block]) -> SlideKind:
    """Choose a slide kind from its content when no layout is given."""
    types = [b.type for b in blocks]
    body = [b for b in blocks if b.type != "heading"]
    body_types = [b.type for b in body]
    if any(b.type == "bullet_list" and _task_items(b) for b in blocks):
        return SlideKind.POLL
    if not body:
        return SlideKind.TITLE
    if len(body) == 1 and body[0].type == "paragraph":
        if _is_only(body[0], "image"):
            return SlideKind.IMAGE
        if _is_only(body[0], "link"):
            return SlideKind.LINK
    if body_types[0] == "blockquote" and all(t == "paragraph" for t in body_types[1:]):
        return SlideKind.QUOTE
    if body_types == ["bullet_list"]:
        return SlideKind.BULLETS
    if body_types == ["ordered_list"]:
        return SlideKind.NUMBERED
    if "heading" not in types and all(t == "paragraph" for t in types) and len(types) <= 3:
        return SlideKind.STATEMENT
    return SlideKind.CONTENT


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
            poll = ChoicePoll.model_validate(parts)
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
