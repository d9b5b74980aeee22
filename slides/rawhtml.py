"""Raw HTML in a slide: whether a body has any, and warnings for what the sanitiser drops.

The allow-list in slides/render.py decides what is shown; this module only finds, line by
line, what the author will not see (scripts, styles, frames, event handlers, unsafe URLs,
Vue components) so that `handsup check` can say so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from markdown_it.token import Token

# A tag, a closing tag or a comment-like `<!`: the cheap test that picks the HTML parser.
_HAS_HTML = re.compile(r"<[A-Za-z/]")
_DANGEROUS = re.compile(
    r"<\s*(script|style|link|iframe|object|embed|meta|base|form|frame|frameset|applet|svg|"
    r"template|noscript|input|button|textarea|select)\b",
    re.IGNORECASE,
)
_HANDLER = re.compile(r"\s(on[a-z]+)\s*=", re.IGNORECASE)
_STYLE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
_URL = re.compile(r"""=\s*["']?\s*(javascript|vbscript|data):""", re.IGNORECASE)
# A raw `<img>` whose source is plain http, scheme-relative or the server's root: not shown
# (an https one is, as a markdown image is). `data:` and `javascript:` ones are _URL's.
_FOREIGN_IMG = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']?\s*(?:http:|//|/)""", re.IGNORECASE)
# Vue components as Slidev decks use them: `<Tweet id=.../>`, `<v-click>`, `<Toc />`.
_COMPONENT = re.compile(r"<\s*([A-Z][\w]*|[a-z][a-z0-9]*-[\w-]*)\b")


def has_html(text: str) -> bool:
    """Whether markdown text may hold raw HTML (outside code is for the parser to tell)."""
    return "<" in text and _HAS_HTML.search(text) is not None


def _html_pieces(tokens: Iterable[Token], first_line: int) -> Iterable[tuple[int, str]]:
    for token in tokens:
        line = first_line + (token.map[0] if token.map else 0)
        if token.type == "html_block":
            yield line, token.content
        elif token.type == "inline":
            for child in token.children or ():
                if child.type == "html_inline":
                    yield line, child.content


_FINDERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (_DANGEROUS, lambda m: f"<{m.group(1).lower()}>"),
    (_HANDLER, lambda m: f"{m.group(1).lower()}= handler"),
    (_STYLE, lambda m: "style= attribute"),
    (_URL, lambda m: f"{m.group(1).lower()}: URL"),
    (_FOREIGN_IMG, lambda m: "<img> not from the deck's folder or https"),
    (_COMPONENT, lambda m: f"<{m.group(1)}> (a Vue component)"),
)


def dropped(tokens: Iterable[Token], first_line: int) -> list[tuple[int, str]]:
    """(line, what) for each line whose raw HTML loses something that would run or restyle."""
    found: dict[int, list[str]] = {}
    for line, html in _html_pieces(tokens, first_line):
        for pattern, name in _FINDERS:
            for match in pattern.finditer(html):
                where = line + html.count("\n", 0, match.start())
                found.setdefault(where, []).append(name(match))
    return [(line, ", ".join(dict.fromkeys(found[line]))) for line in sorted(found)]
