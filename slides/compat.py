"""Front matter and option keys that Marp and Slidev define, and what handsup does with them.

A deck written for those tools must come over: their keys are read where handsup has a meaning
for them and otherwise set aside with one warning naming them all. A key that neither tool nor
handsup defines stays an error, so typos are still caught.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slides.model import SlideKind

# Marp directives (Marpit, marp-core and marp-cli), as the Marp documentation lists them.
# Global: they apply to the whole deck.
MARP_GLOBAL = {
    "marp", "theme", "style", "headingDivider", "lang", "size", "math",
    "title", "description", "author", "keywords", "url", "image", "transition",
}  # fmt: skip
# Local: they apply to a page and those after it (or, written `_name`, to that page only).
MARP_LOCAL = {
    "paginate", "header", "footer", "class", "backgroundColor", "backgroundImage",
    "backgroundPosition", "backgroundRepeat", "backgroundSize", "color",
}  # fmt: skip
MARP = MARP_GLOBAL | MARP_LOCAL

# Slidev: the deck's headmatter, then what any slide's frontmatter may hold (headmatter too).
SLIDEV_DECK = {
    "title", "titleTemplate", "theme", "addons", "remoteAssets", "download", "codeCopy",
    "author", "info", "highlighter", "twoslash", "lineNumbers", "colorSchema", "routerMode",
    "aspectRatio", "canvasWidth", "selectable", "themeConfig", "fonts", "favicon", "drawings",
    "plantUmlServer", "record", "remote", "css", "presenter", "browserExporter", "htmlAttrs",
    "mdc", "editor", "contextMenu", "wakeLock", "exportFilename", "overviewSnapshots", "monaco",
    "monacoTypesSource", "monacoTypesAdditionalPackages", "monacoTypesIgnorePackages",
    "monacoRunAdditionalDeps", "keywords", "export", "seoMeta", "transition", "defaults",
    "duration", "timer",
}  # fmt: skip
SLIDEV_SLIDE = {
    "layout", "class", "clicks", "clicksStart", "preload", "hide", "disabled", "hideInToc",
    "level", "routeAlias", "zoom", "dragPos", "src", "title", "transition",
    # Props of Slidev's built-in layouts (cover, image-*, iframe-*, two-cols).
    "background", "image", "backgroundSize", "url", "scale", "layoutClass",
}  # fmt: skip

# Keys handsup reads itself; everything else a tool defines is ignored with a warning.
# handsup's own front matter keys (tests/test_compat_decks.py checks this is FrontMatter's
# fields): never taken for another tool's, even where Marp or Slidev has the same name.
HANDSUP_DECK = {
    "title", "author", "event", "date", "defaults", "quiz", "nicknames", "qa", "privacy",
    "retention", "lang", "dir", "join_on_title",
}  # fmt: skip
HANDSUP_SLIDE = {"layout", "id", "poll"}

# Keys of those tools that handsup acts on, so they are not reported as ignored. (`fit` is
# Marp's "scale this heading to fit": handsup fits every slide's text to the screen anyway;
# `math` picks KaTeX or MathJax there: handsup renders every deck's math as MathML.)
UNDERSTOOD = {"marp", "headingDivider", "fit", "math"} | {
    # Shown on the display (slides/decor.py): header and footer lines, page numbers, colours.
    "header", "footer", "paginate", "backgroundColor", "color",
}  # fmt: skip

# Slidev's built-in layouts and the slide kind closest to each; None: infer from the content.
SLIDEV_LAYOUTS: dict[str, SlideKind | None] = {
    "default": None,
    "cover": SlideKind.TITLE,
    "intro": SlideKind.TITLE,
    "section": SlideKind.TITLE,
    "end": SlideKind.TITLE,
    "center": SlideKind.STATEMENT,
    "fact": SlideKind.STATEMENT,
    "statement": SlideKind.STATEMENT,
    "quote": SlideKind.QUOTE,
}
# Layouts that have no kind here: the slide is shown as `content`, with a warning.
SLIDEV_CONTENT_LAYOUTS = {
    "full", "none", "two-cols", "two-cols-header", "image", "image-left", "image-right",
    "iframe", "iframe-left", "iframe-right",
}  # fmt: skip

_KEY = re.compile(r"^([A-Za-z_$][\w$-]*)\s*:")
_KINDS = frozenset(kind.value for kind in SlideKind)


@dataclass
class Foreign:
    """What a deck brought from Marp or Slidev: the tool, and the keys set aside, with lines."""

    tool: str | None = None  # "Marp" or "Slidev", once something only that tool defines is seen
    ignored: dict[str, int] = field(default_factory=dict)  # key -> first line
    values: dict[str, Any] = field(default_factory=dict)  # the deck-wide keys set aside
    lines: dict[str, int] = field(default_factory=dict)  # the line of each of those keys
    includes: set[int] = field(default_factory=set)  # lines of Slidev `src:` keys
    reads_includes: bool = False  # the parser was given a reader: `src:` files are read

    def for_file(self) -> Foreign:
        """The same deck's record for another (included) file: its keys, its lines."""
        return Foreign(
            tool=self.tool, values=self.values, lines=self.lines, reads_includes=self.reads_includes
        )

    @property
    def other_tool(self) -> bool:
        """Whether the front matter shows the deck was written for Marp or Slidev."""
        return self.tool is not None or bool(self.values)

    @property
    def name(self) -> str:
        """The tool, for messages."""
        return self.tool or "Marp/Slidev"


def first_slide_kind(foreign: Foreign) -> SlideKind | None:
    """The kind Slidev gives the first slide: its headmatter `layout:`, else `cover`."""
    if foreign.tool != "Slidev":
        return None
    layout = foreign.values.get("layout", "cover")
    return SLIDEV_LAYOUTS.get(layout) if isinstance(layout, str) else None


def tool_of(keys: set[str]) -> str | None:
    """Which tool a deck's front matter keys come from, when they say so."""
    if "marp" in keys or keys & (MARP - SLIDEV_DECK - SLIDEV_SLIDE - HANDSUP_DECK):
        return "Marp"
    if keys & (SLIDEV_DECK | SLIDEV_SLIDE) - MARP - HANDSUP_DECK:
        return "Slidev"
    return None


def strip_deck_keys(data: dict[str, Any], foreign: Foreign, line_of: Callable[[str], int]) -> None:
    """Take the keys Marp or Slidev define out of front matter data, noting them as ignored."""
    keys = {str(key) for key in data}
    foreign.tool = foreign.tool or tool_of(keys)
    for key in list(data):
        name = str(key)
        if name == "defaults" and isinstance(data[key], dict):
            # Slidev's `defaults` holds slide frontmatter; handsup's holds `poll:` settings.
            for inner in [k for k in data[key] if str(k) in SLIDEV_SLIDE]:
                foreign.ignored.setdefault(f"defaults.{inner}", line_of(name))
                del data[key][inner]
            continue
        if name in HANDSUP_DECK:
            continue
        # Marp's front matter may hold spot directives too (`_class: lead`: the first page).
        spot = name.startswith("_") and name[1:] in MARP_LOCAL
        if name in MARP or name in SLIDEV_DECK or name in SLIDEV_SLIDE or spot:
            value = foreign.values[name] = data.pop(key)
            foreign.lines[name] = line_of(name)
            # Slidev's headmatter is also the first slide's frontmatter: its layout is read.
            first_layout = name == "layout" and isinstance(value, str) and value in SLIDEV_LAYOUTS
            # Marp's `lead` class is read as a layout hint (see slides/directives.py).
            lead = name.lstrip("_") == "class" and value == "lead"
            if name == "src":
                # The headmatter's own include: warned about with the slides' ones.
                foreign.includes.add(line_of(name))
            elif name.removeprefix("_") not in UNDERSTOOD and not first_layout and not lead:
                foreign.ignored.setdefault(name, line_of(name))


def adapt_slide_keys(
    data: dict[str, Any],
    foreign: Foreign,
    line_of: Callable[[str], int],
    notes: list[tuple[int, str]],
) -> None:
    """Read a slide's Slidev keys: `layout:` mapped to a kind, the others set aside."""
    if "poll" in data and data["poll"] is None:
        # A bare `poll:` marks a checklist as a poll, with every setting left to its default.
        data["poll"] = {}
    for key in list(data):
        name = str(key)
        if name == "layout" and isinstance(data[key], str):
            value = data[key]
            # Slidev's `image` layout shows its `image:` key, not an image in the text.
            slidev_image = value == "image" and "image" in data
            if value in _KINDS and not slidev_image:
                continue
            line = line_of(name)
            if value in SLIDEV_LAYOUTS:
                mapped = SLIDEV_LAYOUTS[value]
                if mapped is None:
                    del data[key]
                else:
                    data[key] = mapped.value
            elif value in SLIDEV_CONTENT_LAYOUTS:
                data[key] = SlideKind.CONTENT.value
                notes.append((line, f"Slidev layout {value!r} is shown as 'content'"))
            continue
        if name in HANDSUP_SLIDE:
            continue
        if name == "src" and isinstance(data[key], str):
            # Only Slidev includes files: a deck that does was written for it.
            foreign.tool = foreign.tool or "Slidev"
        if name == "src" and isinstance(data[key], str) and foreign.reads_includes:
            # Read by slides/includes.py: this slide is replaced by that file's slides.
            foreign.includes.add(line_of(name))
            del data[key]
            continue
        if name == "src" and isinstance(data[key], str):
            # Reading other files is the server's job (slides/ reads none): with no reader,
            # say so, rather than show a blank slide with no reason.
            notes.append(
                (
                    line_of(name),
                    f"Slidev `src: {data[key]}` is not read: paste its slides into this deck",
                )
            )
            foreign.includes.add(line_of(name))
            del data[key]
            continue
        if name in SLIDEV_SLIDE or name in MARP_LOCAL:
            foreign.ignored.setdefault(name, line_of(name))
            del data[key]


def key_lines(lines: list[str], first: int) -> dict[str, int]:
    """The line of each top-level `key:` in YAML lines starting at line `first`."""
    found: dict[str, int] = {}
    for offset, line in enumerate(lines):
        match = _KEY.match(line)
        if match:
            found.setdefault(match.group(1), first + offset)
    return found


def unknown_keys(lines: list[str], first: int, known: set[str]) -> list[tuple[int, str]]:
    """Top-level keys no tool defines, found line by line: for YAML that does not parse."""
    return [(line, key) for key, line in key_lines(lines, first).items() if key not in known]


ALL_DECK_KEYS = HANDSUP_DECK | MARP | SLIDEV_DECK | SLIDEV_SLIDE | {f"_{key}" for key in MARP_LOCAL}
ALL_SLIDE_KEYS = HANDSUP_SLIDE | SLIDEV_SLIDE | MARP_LOCAL
