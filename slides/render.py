"""Markdown to sanitised HTML: markdown-it-py (raw HTML off) and then nh3 as a second wall."""

from __future__ import annotations

import re
from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

# Tags a slide body may use; anything else (script, style, iframe, form...) is dropped by nh3.
_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|/)", re.IGNORECASE)


def markdown() -> MarkdownIt:
    """A CommonMark parser with raw HTML disabled and unsafe link schemes refused."""
    return MarkdownIt("js-default")


def sanitise(html: str) -> str:
    """Keep only harmless tags and attributes; links open in a new tab without a referrer."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )


def asset_url(src: str, prefix: str) -> str:
    """Point a relative image path at the server's deck-asset route; leave others alone."""
    if _EXTERNAL.match(src):
        return src
    return prefix + src.removeprefix("./")


def rewrite_images(tokens: Sequence[Token], prefix: str) -> None:
    """Rewrite relative image sources in place so they load from beside the deck."""
    for token in tokens:
        for child in token.children or ():
            if child.type == "image":
                child.attrSet("src", asset_url(str(child.attrGet("src") or ""), prefix))


def render(md: MarkdownIt, tokens: Sequence[Token]) -> str:
    """Render block tokens to sanitised HTML."""
    if not tokens:
        return ""
    return sanitise(md.renderer.render(list(tokens), md.options, {})).strip()


def plain_text(tokens: Sequence[Token]) -> str:
    """The words of some block tokens, without markup, one block per line."""
    parts: list[str] = []
    for token in tokens:
        if token.type != "inline":
            continue
        words: list[str] = []
        for child in token.children or ():
            if child.type in ("text", "code_inline"):
                words.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                words.append(" ")
            elif child.type == "image":
                words.append(child.content)
        parts.append("".join(words).strip())
    return "\n".join(p for p in parts if p)
