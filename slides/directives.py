"""Marp directives: comments that set options, `headingDivider`, and `![bg]` background images.

Marp reads `<!-- key: value -->` comments whose keys it defines as settings, not notes. handsup
acts on `headingDivider` (new slides at headings) and sets the rest aside with one warning;
either way such a comment never becomes a speaker note.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import yaml
from markdown_it.token import Token

from slides.blocks import Block
from slides.compat import MARP, UNDERSTOOD, Foreign
from slides.errors import Problem
from slides.split import Chunk, RawSlide, fenced

_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
# `_name` applies to one page, `$name` is Marp's old spelling of a global one.
_DIRECTIVE_LINE = re.compile(r"^\s*[_$]?([A-Za-z]+)\s*:(.*)$")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]|$)")
# Markdown's other horizontal rules, which also end a page in Marp (`---` is split earlier).
_RULER = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|-[ \t]+-[ \t]+-[- \t]*)$")
_BACKGROUND = re.compile(r"!\[bg(?:[ \t][^\]\n]*)?\]\([^)\n]*\)")


def is_directive(content: str) -> bool:
    """Whether a comment's text is a Marp directive (`fit`, or `key: value` lines Marp knows)."""
    if content == "fit":
        return True
    if ":" not in content:
        return False
    lines = content.split("\n")
    first = _DIRECTIVE_LINE.match(lines[0])
    if first is None or first.group(1) not in MARP:
        return False
    for line in lines[1:]:
        match = _DIRECTIVE_LINE.match(line)
        # An indented line continues the value above it (`style: |` and its CSS).
        if line.strip() and not line[0].isspace() and (match is None or match[1] not in MARP):
            return False
    return True


def directive_items(content: str) -> list[tuple[str, str]]:
    """(name, value) of each directive a comment sets, values as written (`_class`, `lead`)."""
    if content == "fit":
        return [("fit", "")]
    items = []
    for line in content.split("\n"):
        if line.strip() and not line[0].isspace():
            name, _, value = line.partition(":")
            items.append((name.strip(), value.strip().strip("'\"")))
    return items


# Marp's `lead` class centres a slide's content: the nearest handsup kind is `title`.
LEAD = "lead"


def slide_class(directives: list[tuple[int, str]], inherited: str) -> tuple[str, str]:
    """This slide's Marp class and the one later slides inherit.

    `class:` holds from its slide on; `_class:` is for its own slide only.
    """
    spot: str | None = None
    current = inherited
    for _, content in directives:
        for name, value in directive_items(content):
            if name == "class":
                current = value
            elif name == "_class":
                spot = value
    return (spot if spot is not None else current), current


def _understood(name: str, value: str) -> bool:
    bare = name.lstrip("_$")
    return bare in UNDERSTOOD or (bare == "class" and value.split() == [LEAD])


def heading_levels(value: Any) -> set[int] | None:
    """The heading levels a `headingDivider` value splits at, or None when it is not valid.

    As in Marp, a number N means every level up to N, a list means exactly those levels.
    """
    if isinstance(value, bool):
        return set() if value is False else None
    if isinstance(value, int) and 1 <= value <= 6:
        return set(range(1, value + 1))
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        levels = {v for v in value if 1 <= v <= 6}
        return levels or None
    return None


def comment_heading_divider(text: str) -> tuple[int, Any] | None:
    """The last `headingDivider` set in a directive comment outside code: (line, value)."""
    if "headingDivider" not in text:
        return None
    found: tuple[int, Any] | None = None
    inside: list[bool] | None = None
    for match in _COMMENT.finditer(text):
        content = match.group(1).strip()
        if "headingDivider" not in content or not is_directive(content):
            continue
        line = text.count("\n", 0, match.start())
        inside = inside if inside is not None else fenced(text.split("\n"))
        if inside[line]:
            continue
        try:
            data = yaml.safe_load(content)
        except yaml.YAMLError:
            continue
        if isinstance(data, dict) and "headingDivider" in data:
            found = (line + 1, data["headingDivider"])
    return found


def divide(slides: list[RawSlide], levels: set[int], rulers: bool = False) -> list[RawSlide]:
    """Start a new slide at each heading of these levels, outside code and comments; with
    `rulers`, also at each `***`, `___` or `- - -` line, as Marp does (the line goes).

    A heading or ruler that is already the first thing on its slide starts no extra one.
    """
    divided: list[RawSlide] = []
    for raw in slides:
        lines = list(raw.body.lines)
        text = raw.body.text
        masked = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n")
        inside = fenced(masked)
        cuts: list[tuple[int, int]] = []  # (first line of the new slide, line after the cut)
        content = False
        for index, line in enumerate(masked):
            if inside[index]:
                content = True
                continue
            heading = _ATX.match(line)
            if heading and len(heading.group(1)) in levels and content:
                cuts.append((index, index))
            elif rulers and _RULER.match(line):
                lines[index] = ""  # a ruler only separates, as `---` does
                if content:
                    cuts.append((index, index + 1))
                continue
            content = content or bool(line.strip())
        if not cuts:
            divided.append(raw if lines == raw.body.lines else _with(raw, lines))
            continue
        first = raw.body.line
        divided.append(replace(raw, body=Chunk(first, lines[: cuts[0][0]])))
        for (_, begin), (end, _) in zip(cuts, [*cuts[1:], (len(lines), 0)], strict=True):
            # A page cut from an included file's slide is still that file's.
            body = Chunk(first + begin, lines[begin:end])
            divided.append(replace(raw, line=first + begin, options=None, body=body))
    return divided


def _with(raw: RawSlide, lines: list[str]) -> RawSlide:
    return replace(raw, body=Chunk(raw.body.line, lines))


def drop_backgrounds(body: Chunk) -> tuple[Chunk, list[int]]:
    """Take Marp `![bg ...](...)` background images out of a body, outside fenced code.

    They decorate a Marp slide (a watermark, a photo behind the text); here they would become
    the slide's main image. Returns the body without them and the lines they were on.
    """
    text = body.text
    if "![bg" not in text:
        return body, []
    inside = fenced(body.lines)
    dropped: list[int] = []
    lines = list(body.lines)
    for index, line in enumerate(lines):
        if inside[index] or "![bg" not in line:
            continue
        kept = _BACKGROUND.sub("", line)
        if kept != line:
            dropped.append(body.line + index)
            lines[index] = kept
    return Chunk(body.line, lines), dropped


def divide_at_headings(
    slides: list[RawSlide], text: str, foreign: Foreign, file: str, warnings: list[Problem]
) -> list[RawSlide]:
    """Apply Marp's `headingDivider`, from the front matter or a directive comment, and, in a
    deck marked `marp: true`, Marp's other page breaks (`***`, `___`, `- - -`)."""
    rulers = foreign.values.get("marp") is True and any(r in text for r in ("***", "___", "- -"))
    setting: tuple[int, Any] | None = None
    if "headingDivider" in foreign.values:
        setting = (1, foreign.values["headingDivider"])
    setting = comment_heading_divider(text) or setting
    levels: set[int] = set()
    if setting is not None:
        line, value = setting
        read = heading_levels(value)
        if read is not None:
            levels = read
        else:
            # Marp ignores a value it cannot read; so does handsup, but it says so.
            warnings.append(
                Problem(
                    file,
                    line,
                    f"warning: headingDivider {value!r} ignored: expected a level 1 to 6 or a list",
                )
            )
    return divide(slides, levels, rulers) if levels or rulers else slides


def ignored_warnings(
    file: str, foreign: Foreign, directives: list[tuple[int, str]], backgrounds: list[int]
) -> list[Problem]:
    """One warning per kind of setting set aside: keys, directive comments, backgrounds."""
    warnings: list[Problem] = []
    tool = foreign.tool or "Marp/Slidev"
    if (
        isinstance(foreign.values.get("src"), str)
        and foreign.includes
        and not foreign.reads_includes
    ):
        warnings.append(
            Problem(
                file,
                min(foreign.includes),
                f"warning: Slidev `src: {foreign.values['src']}` is not read: paste its slides "
                "into this deck",
            )
        )
    if foreign.ignored:
        names = ", ".join(f"{key} (line {line})" for key, line in foreign.ignored.items())
        first = min(foreign.ignored.values())
        warnings.append(
            Problem(file, first, f"warning: {tool} settings with no meaning here, ignored: {names}")
        )
    seen: dict[str, list[int]] = {}
    for line, content in directives:
        for name, value in directive_items(content):
            if not _understood(name, value):
                seen.setdefault(name, []).append(line)
    if seen:
        names = ", ".join(f"{name} ({line_list(lines)})" for name, lines in seen.items())
        first = min(min(lines) for lines in seen.values())
        warnings.append(Problem(file, first, f"warning: Marp directives ignored: {names}"))
    if backgrounds:
        warnings.append(
            Problem(
                file,
                backgrounds[0],
                f"warning: Marp background images (![bg]) are not shown: {line_list(backgrounds)}",
            )
        )
    return warnings


def line_list(lines: list[int]) -> str:
    """Where something was found: 'line 4' or 'lines 4, 9'."""
    return ("line " if len(lines) == 1 else "lines ") + ", ".join(str(n) for n in lines)


_CHECKBOX = re.compile(r"^\[([ xX])\]\s+")


def show_checkboxes(blocks: list[Block]) -> None:
    """Show a checklist's `[ ]` and `[x]` as ☐ and ☑, as Marp and Slidev do with checkboxes."""
    for block in blocks:
        if block.type != "bullet_list" or not block.task_items():
            continue
        for token in block.tokens:
            first = token.children[0] if token.type == "inline" and token.children else None
            if first is not None and first.type == "text":
                first.content = _CHECKBOX.sub(
                    lambda m: "☐ " if m.group(1) == " " else "☑ ", first.content, count=1
                )


_SLOT = re.compile(r"^::[\w-]+::\s*$")


def drop_slots(body: Chunk) -> Chunk:
    """Blank Slidev's slot lines (`::right::`), which place content in a layout's columns."""
    if "::" not in body.text:
        return body
    inside = fenced(body.lines)
    lines = [
        "" if not inside[index] and _SLOT.match(line) else line
        for index, line in enumerate(body.lines)
    ]
    return Chunk(body.line, lines)


_IMAGE_KEYWORD = re.compile(
    r"^(?:(?:w|h|width|height):\S+|(?:blur|brightness|contrast|drop-shadow|grayscale|"
    r"hue-rotate|invert|opacity|saturate|sepia)(?::\S+)?)$"
)
# `w:300` or `width:300px`: a size in pixels, which handsup keeps (at most MAX_IMAGE_SIDE).
_IMAGE_SIZE = re.compile(r"^(w|h|width|height):([1-9][0-9]{0,3})(?:px)?$")
MAX_IMAGE_SIDE = 4000


def size_images(tokens: Iterable[Token], first_line: int) -> list[int]:
    """Read Marp's image keywords out of alt texts: `w:300` and `h:200` (pixels) become the
    image's width and height; filters (`sepia`) and other sizes (`w:50%`) are dropped.

    Here they would be the image's description. Returns the lines where something was dropped.
    """
    dropped: list[int] = []
    for token in tokens:
        if token.type != "inline" or "![" not in token.content:
            continue
        for image in token.children or ():
            if image.type != "image":
                continue
            lost = False
            for child in image.children or ():
                if child.type != "text":
                    continue
                kept = []
                for word in child.content.split(" "):
                    size = _IMAGE_SIZE.match(word)
                    if size and int(size.group(2)) <= MAX_IMAGE_SIDE:
                        side = "width" if size.group(1).startswith("w") else "height"
                        image.attrSet(side, size.group(2))
                    elif _IMAGE_KEYWORD.match(word):
                        lost = True
                    else:
                        kept.append(word)
                child.content = " ".join(kept).strip()
            image.content = "".join(c.content for c in image.children or ())
            if lost:
                dropped.append(first_line + (token.map[0] if token.map else 0))
    return dropped
