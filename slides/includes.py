"""Slidev `src:` includes: a slide whose options say `src: ./pages/x.md` becomes that file's slides.

Pure, like the rest of the parser: the caller passes a reader (server/deckfile.py gives one
confined to the deck's folder). This module resolves each path against the including file's
folder, refuses URLs and paths that leave the deck's folder before asking the reader, bounds
nesting and the text read, and catches cycles. As in Slidev, the including slide's other keys
win over the included slides' own, on every slide included, and `src: x.md#2,5-7` picks slides.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import yaml

from slides.errors import Problem
from slides.mistakes import mistakes
from slides.options import SlideOptions
from slides.split import Chunk, RawSlide, split_deck

# Reads a file given by its path inside the deck's folder (POSIX, normalised, never `..`):
# its bytes, or IncludeError saying why not (missing, too big, a link leading outside...).
IncludeReader = Callable[[str], bytes]

# Includes inside included files, as Slidev allows: a few levels are plenty for a talk.
MAX_DEPTH = 4
# All text read through includes, counting a file each time it is included: a file included
# twice by a file included twice... cannot make the parse take unbounded time.
MAX_INCLUDED_BYTES = 4 * 1024 * 1024

_SRC = re.compile(r"^src\s*:")
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//)")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:(-)\s*(\d*)\s*)?$")


class IncludeError(Exception):
    """A `src:` that cannot be read; the message says why, for the person who wrote it."""


def include_target(raw: RawSlide) -> tuple[int, str] | None:
    """The line and value of a slide's top-level `src:` key, when its option block has one."""
    if raw.options is None:
        return None
    for offset, line in enumerate(raw.options.lines):
        if _SRC.match(line):
            try:
                data = yaml.safe_load(line)
            except yaml.YAMLError:
                return None  # reading the option block says what is wrong
            value = data.get("src") if isinstance(data, dict) else None
            return (raw.options.line + offset, value) if isinstance(value, str) else None
    return None


def resolve(folder: str, src: str) -> tuple[str, str]:
    """The file a `src:` names, as a path inside the deck's folder, and its slide selection.

    `folder` is the including file's folder inside the deck's. A path starting with `/` starts
    at the deck's folder, as Slidev's project root; nothing may lead outside it.
    """
    path, _, selection = src.strip().partition("#")
    if not path:
        raise IncludeError("`src:` names no file")
    if _URL.match(path):
        raise IncludeError(f"`src: {src}` is a URL: only files in the deck's folder are read")
    joined = path.lstrip("/") if path.startswith("/") else posixpath.join(folder, path)
    normal = posixpath.normpath(joined)
    if normal in (".", "..") or normal.startswith(("../", "/")):
        raise IncludeError(f"`src: {src}` is outside the deck's folder: only files in it are read")
    return normal, selection


def select(count: int, selection: str) -> list[int]:
    """0-based indexes of the slides `2,5-7` picks (`all`, `*` or nothing: every slide), in
    order, as Slidev reads it; numbers past the end pick nothing."""
    if selection.strip() in ("", "all", "*"):
        return list(range(count))
    if selection.strip() == "none":
        return []
    picked: set[int] = set()
    for part in re.split(r"[,;]", selection):
        match = _RANGE.match(part)
        if match is None:
            raise IncludeError(f"cannot read the slide selection #{selection} (e.g. #2,5-7)")
        start, dash, end = match.groups()
        last = (int(end) if end else count) if dash else int(start)
        picked.update(range(int(start), last + 1))
    return [number - 1 for number in sorted(picked) if 1 <= number <= count]


def merged(base: SlideOptions | None, top: SlideOptions | None) -> SlideOptions | None:
    """`base` with every key `top` sets replaced by `top`'s, as Slidev merges frontmatter."""
    if base is None or top is None:
        return top if base is None else base
    values = {key: getattr(base, key) for key in base.model_fields_set}
    values.update({key: getattr(top, key) for key in top.model_fields_set})
    return SlideOptions.model_validate(values)


@dataclass
class Expander:
    """Replaces `src:` slides by the slides of the files they name, recursively."""

    reader: IncludeReader
    deck_file: str
    problems: list[Problem]
    warnings: list[Problem]
    # Reads an option block of a file (appending its problems); the including slide's keys.
    read_options: Callable[[Chunk, str], SlideOptions]
    read_bytes: int = 0
    cache: dict[str, str | None] = field(default_factory=dict)

    def name(self, path: str) -> str:
        """How problems name a file inside the deck's folder: next to the deck's own name."""
        return posixpath.join(posixpath.dirname(self.deck_file), path)

    def expand(
        self, slides: list[RawSlide], file: str, folder: str, chain: tuple[str, ...]
    ) -> list[RawSlide]:
        """`slides` (of `file`, in `folder` of the deck's) with each include replaced."""
        out: list[RawSlide] = []
        for raw in slides:
            target = include_target(raw)
            if target is None or raw.options is None:
                out.append(raw)
                continue
            line, src = target
            # The including slide's own keys, read once (they are its file's to report).
            own = self.read_options(raw.options, file)
            lines = [text for text in raw.options.lines if not _SRC.match(text)]
            override = merged(own, raw.override)
            override_lines = [*lines, *raw.override_lines]
            try:
                included = self.include(src, folder, chain)
            except IncludeError as error:
                self.problems.append(Problem(file, line, str(error)))
                continue
            if not included:
                self.warnings.append(Problem(file, line, f"warning: `src: {src}` has no slides"))
            for item in included:
                out.append(
                    replace(
                        item,
                        override=merged(item.override, override),
                        override_lines=[*item.override_lines, *override_lines],
                    )
                )
        return out

    def include(self, src: str, folder: str, chain: tuple[str, ...]) -> list[RawSlide]:
        """The slides `src` names, themselves expanded; IncludeError when it cannot be read."""
        path, selection = resolve(folder, src)
        if path in chain:
            cycle = " -> ".join([*chain[chain.index(path) :], path])
            raise IncludeError(f"`src: {src}` includes itself again: {cycle}")
        if len(chain) > MAX_DEPTH:
            raise IncludeError(f"`src: {src}` nests includes deeper than {MAX_DEPTH} files")
        text = self.text(path)
        if text is None:
            return []  # not UTF-8: said once, at the file's own line
        self.read_bytes += len(text)
        if self.read_bytes > MAX_INCLUDED_BYTES:
            raise IncludeError(
                f"`src: {src}`: included files hold more than {MAX_INCLUDED_BYTES // 2**20} MiB"
            )
        name = self.name(path)
        raw = split_deck(text)
        self.problems.extend(mistakes(raw, name))
        found = list(raw.slides)
        if raw.front_matter is not None:
            # A file's front matter is its first slide's options, as in Slidev.
            after = raw.front_matter.line + len(raw.front_matter.lines) + 1
            body = found[0].body if found else Chunk(after)
            found[:1] = [RawSlide(1, raw.front_matter, body)]
        picked = [replace(found[index], file=name) for index in select(len(found), selection)]
        return self.expand(picked, name, posixpath.dirname(path), (*chain, path))

    def text(self, path: str) -> str | None:
        """A file's text, read once however often it is included."""
        if path not in self.cache:
            data = self.reader(path)
            try:
                self.cache[path] = data.decode("utf-8-sig")
            except UnicodeDecodeError as error:
                line = data.count(b"\n", 0, error.start) + 1
                self.problems.append(Problem(self.name(path), line, "the file is not UTF-8 text"))
                self.cache[path] = None
        return self.cache[path]


def flatten(front_matter: Chunk | None, slides: list[RawSlide]) -> str:
    """One deck text holding every slide, included ones inline with their merged options.

    Stored with the session, it parses, with no files around, to the slides the talk showed
    (results and keepsakes replay votes over it). YAML keeps the last of a repeated key, so
    the including slides' keys, written after the slide's own, win as they did.
    """
    # Always a front matter, so that a first slide's options are not taken for one.
    parts = ["---\n" + (front_matter.text + "\n" if front_matter is not None else "") + "---"]
    for index, raw in enumerate(slides):
        options = [*(raw.options.lines if raw.options else []), *raw.override_lines]
        options = [line for line in options if line.strip()]
        body = raw.body.text
        if options:
            parts.append("---\n" + "\n".join(options) + "\n---\n" + body)
        elif index == 0:
            parts.append(body)
        else:
            parts.append("---\n" + body)
    return "\n".join(parts) + "\n"
