"""Markdown to sanitised HTML: markdown-it-py and then nh3, whose allow-list is the wall.

Slides without raw HTML use a parser with HTML off. Slides with raw HTML (Marp decks wrap text
in `<div>`, break lines with `<br>`) use one with HTML on: nh3 keeps the structural and inline
tags below and drops everything else, `<script>` and `<style>` with their content.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextvars import ContextVar

import nh3
from markdown_it import MarkdownIt
from markdown_it.parser_block import RuleFuncBlockType
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from slides.math import MATHML_ATTRIBUTES, MATHML_TAGS, render_math

# Tags a slide body may use; anything else (script, style, iframe, form...) is dropped by nh3.
_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "ul",
}  # fmt: skip
# What raw HTML may add: structure and inline text markup, none of which can run or restyle.
_RAW_TAGS = _TAGS | {
    "abbr", "caption", "cite", "dd", "details", "div", "dl", "dt", "figcaption", "figure",
    "ins", "kbd", "mark", "q", "samp", "small", "span", "summary", "tfoot", "u", "var",
}  # fmt: skip
# An image's width and height: Marp's `![w:300](x.png)`, in pixels (slides/directives.py).
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
}
_RAW_TAGS |= MATHML_TAGS
_RAW_ATTRIBUTES = {
    **MATHML_ATTRIBUTES,
    **_ATTRIBUTES,
    "abbr": {"title"},
    "details": {"open"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
_SCHEMES = {"http", "https", "mailto"}
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|/)", re.IGNORECASE)


# Rules that do nothing with raw HTML, linkify and typographer off; dropping them only
# saves the calls (markdown-it tries every block rule on every line).
_IDLE_RULES = ["html_block", "html_inline", "linkify", "replacements", "smartquotes"]
_HTML_RULES = ["html_block", "html_inline"]
# The characters that can start each of these blocks, after the indentation; every other line
# is refused before the call, which is most of markdown-it's block-level time. The rule
# chains a block rule also runs in (to end a paragraph, a list...), as markdown-it names them.
_OPENERS = {
    "fence": "`~",
    "blockquote": ">",
    "hr": "*-_",
    "list": "*-+0123456789",
    "reference": "[",
    "heading": "#",
}
_CHAINS = ("paragraph", "reference", "blockquote", "list")
# Built once: nh3.clean() converts its allow-lists into a new sanitiser on every call.
_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    attributes=_ATTRIBUTES,
    url_schemes=_SCHEMES,
    link_rel="noopener noreferrer",
    set_tag_attribute_values={"a": {"target": "_blank"}},
)
# Where a relative `<img src>` in raw HTML points: the deck's assets, as for markdown images.
_ASSET_PREFIX: ContextVar[str] = ContextVar("asset_prefix", default="/assets/")


_PIXELS = re.compile(r"^[1-9][0-9]{0,3}$")


def _raw_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return asset_url(value, _ASSET_PREFIX.get())
    if tag == "img" and attribute in ("width", "height"):
        # A size in pixels, bounded like Marp's `w:` (a huge one would push the slide away).
        return value if _PIXELS.match(value.strip()) and int(value) <= 4000 else None
    return value


def _own_image_src(tag: str, attribute: str, value: str) -> str | None:
    # Raw `<img>` shows the deck's own images, or an https one as a markdown image may be; not
    # plain http (readable and changeable on the way), `//`, the server's root or data: URLs.
    source = value.strip()
    if tag == "img" and attribute == "src" and _EXTERNAL.match(source):
        return value if source[:8].lower() == "https://" else None
    return value


# Applied to each raw `<img>` tag before the slide's HTML is cleaned: a relative source or an
# https one, as a markdown image may have (the main cleaner still allows http for links).
_RAW_IMG_CLEANER = nh3.Cleaner(
    tags={"img"},
    attributes={"img": {"src", "alt", "title", "width", "height"}},
    attribute_filter=_own_image_src,
    url_schemes={"https"},
)
_IMG_TAG = re.compile(r"<img\b[^>]*>?", re.IGNORECASE)


def _own_images(tokens: Sequence[Token]) -> None:
    """Strip the sources raw `<img>` tags may not have (http, `//`, `/`, data:) in these tokens."""
    for token in tokens:
        pieces = [token] if token.type == "html_block" else []
        if token.type == "inline":
            pieces = [child for child in token.children or () if child.type == "html_inline"]
        for piece in pieces:
            if "<img" in piece.content.lower():
                piece.content = _IMG_TAG.sub(
                    lambda m: str(_RAW_IMG_CLEANER.clean(m.group(0))), piece.content
                )


_RAW_CLEANER = nh3.Cleaner(
    tags=_RAW_TAGS,
    attributes=_RAW_ATTRIBUTES,
    attribute_filter=_raw_attribute,
    url_schemes=_SCHEMES,
    link_rel="noopener noreferrer",
    set_tag_attribute_values={"a": {"target": "_blank"}},
)


def markdown(html: bool = False, math: bool = False, marp: bool = False) -> MarkdownIt:
    """A CommonMark parser with unsafe link schemes refused.

    `html`: raw HTML passes (to the wider allow-list); `math`: `$…$` and `$$…$$` become MathML;
    `marp`: line breaks are kept and bare URLs become links, as Marp renders them.
    """
    md = MarkdownIt("js-default").disable(_IDLE_RULES)
    openers_of = dict(_OPENERS)
    if html:
        md.options["html"] = True
        md.enable(_HTML_RULES)
        openers_of["html_block"] = "<"
    if math:
        # No space inside the dollars and no digit outside them: "$5 and $10" stays text.
        md.use(dollarmath_plugin, allow_space=False, allow_digits=False, renderer=render_math)
    if marp:
        md.options["breaks"] = True
        md.options["linkify"] = True
        md.enable("linkify")
    ruler = md.block.ruler
    rules = dict(zip(ruler.get_active_rules(), ruler.getRules(""), strict=True))
    chains = {chain: ruler.getRules(chain) for chain in _CHAINS}
    for name, openers in openers_of.items():
        rule = rules[name]
        alt = [chain for chain, members in chains.items() if rule in members]
        ruler.at(name, _guarded(rule, openers), {"alt": alt})
    return md


def _guarded(rule: RuleFuncBlockType, openers: str) -> RuleFuncBlockType:
    def guarded(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        pos = state.bMarks[start] + state.tShift[start]
        # Indented code and empty lines stay with the rule itself, as does any opener.
        if (
            pos < state.eMarks[start]
            and state.sCount[start] - state.blkIndent < 4
            and state.src[pos] not in openers
        ):
            return False
        return rule(state, start, end, silent)

    return guarded


def sanitise(html: str, raw: bool = False) -> str:
    """Keep only harmless tags and attributes; links open in a new tab without a referrer.

    `raw`: the HTML came from a parser that lets raw HTML through; use the wider allow-list.
    """
    return str((_RAW_CLEANER if raw else _CLEANER).clean(html))


def asset_url(src: str, prefix: str) -> str:
    """Point a relative image path at the server's deck-asset route; leave others alone."""
    if _EXTERNAL.match(src):
        return src
    return prefix + src.removeprefix("./")


def render(
    md: MarkdownIt, tokens: Sequence[Token], asset_prefix: str = "/assets/", raw: bool = False
) -> str:
    """Render block tokens to sanitised HTML; `raw`: with the wider allow-list (raw HTML, math)."""
    if not tokens:
        return ""
    if raw:
        _own_images(tokens)
    html = md.renderer.render(list(tokens), md.options, {})
    if not raw:
        return sanitise(html).strip()
    reset = _ASSET_PREFIX.set(asset_prefix)
    try:
        return sanitise(html, raw=True).strip()
    finally:
        _ASSET_PREFIX.reset(reset)
