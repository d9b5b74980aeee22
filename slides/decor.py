"""Marp's header, footer, page numbers and colours: local directives, carried as Marp does.

A local directive (`header: Intro`, in the front matter or a `<!-- -->` comment) holds from
its page on; written `_header` it is for its own page only (a spot directive). Header and
footer text is inline markdown, sanitised like the slides. Colours are taken only when they
match a strict grammar (a colour name, `#hex`, `rgb()`, `hsl()`: never `url()` or anything
that could fetch or run), and only with both the text and the background colour set, so that
the text stays readable: one without the other would meet handsup's own colours.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slides.compat import Foreign
from slides.directives import directive_items
from slides.model import Decor

# The local directives this module shows; Marp's others are set aside (slides/directives.py).
SHOWN = frozenset({"header", "footer", "paginate", "backgroundColor", "color"})

# CSS named colours (CSS Color 4), and `transparent`.
_NAMES = """aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue
    blueviolet brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk
    crimson cyan darkblue darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki
    darkmagenta darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen
    darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink deepskyblue
    dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro ghostwhite
    gold goldenrod gray green greenyellow grey honeydew hotpink indianred indigo ivory khaki
    lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan
    lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen
    lightskyblue lightslategray lightslategrey lightsteelblue lightyellow lime limegreen linen
    magenta maroon mediumaquamarine mediumblue mediumorchid mediumpurple mediumseagreen
    mediumslateblue mediumspringgreen mediumturquoise mediumvioletred midnightblue mintcream
    mistyrose moccasin navajowhite navy oldlace olive olivedrab orange orangered orchid
    palegoldenrod palegreen paleturquoise palevioletred papayawhip peachpuff peru pink plum
    powderblue purple rebeccapurple red rosybrown royalblue saddlebrown salmon sandybrown
    seagreen seashell sienna silver skyblue slateblue slategray slategrey snow springgreen
    steelblue tan teal thistle tomato turquoise violet wheat white whitesmoke yellow
    yellowgreen transparent"""
NAMED_COLOURS = frozenset(_NAMES.split())
_NUMBER = r"[+-]?(?:\d{1,3}(?:\.\d{1,4})?|\.\d{1,4})"
_PERCENT = rf"{_NUMBER}%"
_ALPHA = rf"(?:{_NUMBER}%?)"
_HUE = rf"{_NUMBER}(?:deg|turn|rad|grad)?"
_CHANNEL = rf"(?:{_PERCENT}|{_NUMBER})"
_HEX = re.compile(r"^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$")
# rgb()/rgba() and hsl()/hsla(), comma or space separated, with an optional alpha.
_FUNCTIONS = re.compile(
    rf"^(?:rgba?\(\s*{_CHANNEL}\s*,\s*{_CHANNEL}\s*,\s*{_CHANNEL}\s*(?:,\s*{_ALPHA}\s*)?\)"
    rf"|rgba?\(\s*{_CHANNEL}\s+{_CHANNEL}\s+{_CHANNEL}\s*(?:/\s*{_ALPHA}\s*)?\)"
    rf"|hsla?\(\s*{_HUE}\s*,\s*{_PERCENT}\s*,\s*{_PERCENT}\s*(?:,\s*{_ALPHA}\s*)?\)"
    rf"|hsla?\(\s*{_HUE}\s+{_PERCENT}\s+{_PERCENT}\s*(?:/\s*{_ALPHA}\s*)?\))$"
)


def css_colour(value: object) -> str | None:
    """The colour as written (lowercased), when it is a colour name, #hex, rgb() or hsl()."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    colour = value.strip().lower()
    if colour in NAMED_COLOURS or _HEX.match(colour) or _FUNCTIONS.match(colour):
        return colour
    return None


def _paginate(value: object) -> bool:
    # YAML reads `true`; a comment's value is text. Marp's `skip` and `hold` show no number.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


@dataclass
class DecorState:
    """Marp's local directives as they stand from page to page, and what was set aside."""

    # Renders a header or footer's inline markdown to sanitised HTML.
    render_inline: Callable[[str], str]
    held: dict[str, tuple[Any, int]] = field(default_factory=dict)  # name: (value, line)
    bad_colours: list[tuple[int, str, str]] = field(default_factory=list)  # line, key, value
    lone_colours: set[int] = field(default_factory=set)  # where one was set without the other

    def page(self, front: Foreign | None, directives: list[tuple[int, str]]) -> Decor | None:
        """This page's decor, from the front matter (first page only) and its comments.

        A directive with no `_` holds from here on; with `_`, for this page only.
        """
        if front is None and not directives and not self.held:
            return None  # most slides of most decks: nothing set, nothing held
        spot: dict[str, tuple[Any, int]] = {}
        settings: list[tuple[int, str, Any]] = []
        if front is not None:
            settings.extend(
                (front.lines.get(key, 1), key, value) for key, value in front.values.items()
            )
        for at, content in directives:
            settings.extend((at, name, value) for name, value in directive_items(content))
        for at, name, value in settings:
            bare = name.removeprefix("_")
            if bare not in SHOWN:
                continue
            colour = bare in ("backgroundColor", "color") and value not in (None, "")
            if colour and css_colour(value) is None:
                self.bad_colours.append((at, name, str(value)))
                continue
            (spot if name.startswith("_") else self.held)[bare] = (value, at)
        return self._decor({**self.held, **spot})

    def _decor(self, now: dict[str, tuple[Any, int]]) -> Decor | None:
        if not now:
            return None
        value = {name: held[0] for name, held in now.items()}
        background, color = css_colour(value.get("backgroundColor")), css_colour(value.get("color"))
        if (background is None) != (color is None):
            self.lone_colours.add(now["backgroundColor" if background else "color"][1])
            background = color = None
        header, footer = value.get("header"), value.get("footer")
        decor = Decor(
            header=self.render_inline(str(header)) or None if header else None,
            footer=self.render_inline(str(footer)) or None if footer else None,
            paginate=_paginate(value.get("paginate")),
            background=background,
            color=color,
        )
        return decor if decor != Decor() else None
