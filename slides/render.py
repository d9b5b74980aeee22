"""Markdown to sanitised HTML: markdown-it-py (raw HTML off) and then nh3 as a second wall."""

from __future__ import annotations

import re
from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.parser_block import RuleFuncBlockType
from markdown_it.rules_block import StateBlock
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


# Rules that do nothing with raw HTML, linkify and typographer off; dropping them only
# saves the calls (markdown-it tries every block rule on every line).
_IDLE_RULES = ["html_block", "html_inline", "linkify", "replacements", "smartquotes"]
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


def markdown() -> MarkdownIt:
    """A CommonMark parser with raw HTML disabled and unsafe link schemes refused."""
    md = MarkdownIt("js-default").disable(_IDLE_RULES)
    ruler = md.block.ruler
    rules = dict(zip(ruler.get_active_rules(), ruler.getRules(""), strict=True))
    chains = {chain: ruler.getRules(chain) for chain in _CHAINS}
    for name, openers in _OPENERS.items():
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


def sanitise(html: str) -> str:
    """Keep only harmless tags and attributes; links open in a new tab without a referrer."""
    return str(_CLEANER.clean(html))


def asset_url(src: str, prefix: str) -> str:
    """Point a relative image path at the server's deck-asset route; leave others alone."""
    if _EXTERNAL.match(src):
        return src
    return prefix + src.removeprefix("./")


def render(md: MarkdownIt, tokens: Sequence[Token]) -> str:
    """Render block tokens to sanitised HTML."""
    if not tokens:
        return ""
    return sanitise(md.renderer.render(list(tokens), md.options, {})).strip()
